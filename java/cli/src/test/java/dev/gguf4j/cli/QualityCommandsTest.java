package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.quantize.Imatrix;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gguf4j imatrix} and {@code perplexity --kl-divergence[-base]} on the bundled model; their bad input. */
class QualityCommandsTest {
    @TempDir
    Path dir;

    private Path text(int sentences) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            b.append("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ");
        }
        return Files.writeString(dir.resolve("text.txt"), b.toString());
    }

    @Test
    void imatrixWritesWhatQuantizeReads() throws Exception {
        Path out = dir.resolve("m.dat");
        MainTest.Result r = MainTest.run("imatrix", "-f", text(20).toString(), "-c", "32", "--chunks", "3", "-o",
                out.toString(), "-t", "1");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("[1]") && r.out().contains("[3]") && r.out().contains("Final estimate: PPL = "),
                r.out());
        Imatrix m = Imatrix.read(out);
        assertEquals(3, m.chunks());
        assertEquals(5 * 7, m.entries().size()); // stories260K: 5 layers x q, k, v, output, gate, up, down
        assertEquals(64, m.forTensor("blk.0.attn_q.weight").orElseThrow().length);
        assertEquals(text(20).toString(), m.dataset());
        // quantize reads it (stories260K's n_ff 172 takes no block type: F16, which loads the matrix all the same)
        r = MainTest.run("quantize", TestData.model("stories260K.gguf").toString(), dir.resolve("q.gguf").toString(),
                "F16", "--imatrix", out.toString());
        assertEquals(0, r.status(), r.err());
        // --process-output adds output.weight
        r = MainTest.run("imatrix", "-f", text(20).toString(), "-c", "32", "--chunks", "2", "-o", out.toString(),
                "--process-output", "-t", "1");
        assertEquals(0, r.status(), r.err());
        assertEquals(5 * 7 + 1, Imatrix.read(out).entries().size());
    }

    @Test
    void imatrixRefusesATextShorterThanTwoChunks() throws Exception {
        Path t = Files.writeString(dir.resolve("short.txt"), "Once upon a time");
        MainTest.Result r = MainTest.run("imatrix", "-f", t.toString(), "-o", dir.resolve("m.dat").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().matches("gguf4j: error: -f " + java.util.regex.Pattern.quote(t.toString())
                + ": the text tokenizes to \\d+ tokens; imatrix with -c 512 needs at least 1024 \\(a longer text or a"
                + " smaller -c\\)\\n"), r.err());
        assertEquals(2, MainTest.run("imatrix", "-o", "x.dat").status());
        assertTrue(MainTest.run("imatrix", "-o", "x.dat").err().contains("-f FILE"));
        assertEquals(2, MainTest.run("imatrix", "-f", t.toString(), "--chunks", "0").status());
    }

    @Test
    void klDivergenceOfAModelFromItsOwnBaseIsZero() throws Exception {
        Path base = dir.resolve("base.kld");
        MainTest.Result r = MainTest.run("perplexity", "-f", text(30).toString(), "-c", "32", "-t", "1",
                "--kl-divergence-base", base.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.size(base) > 0);
        r = MainTest.run("perplexity", "--kl-divergence", "--kl-divergence-base", base.toString(), "-t", "1");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("chunk             PPL               ln(PPL(Q)/PPL(base))"), r.out());
        assertTrue(r.out().contains("====== KL divergence statistics ======"), r.out());
        assertTrue(r.out().contains("Same top p: 100.000 ± 0.000 %"), r.out());
        String kld = r.out().lines().filter(l -> l.startsWith("Mean    KLD:")).findFirst().orElseThrow();
        double v = Double.parseDouble(kld.substring(12).trim().split(" ")[0]);
        assertTrue(Math.abs(v) < 1e-4, kld); // only the file's 16-bit rounding of the log-probabilities
        // -f with the same text agrees with the file's tokens; -c other than the file's is refused
        assertEquals(0, MainTest.run("perplexity", "--kl-divergence", "--kl-divergence-base", base.toString(), "-f",
                text(30).toString(), "-t", "1").status());
        MainTest.Result c = MainTest.run("perplexity", "--kl-divergence", "--kl-divergence-base", base.toString(),
                "-c", "64");
        assertEquals(2, c.status());
        assertTrue(c.err().contains("was made with -c 32"), c.err());
    }

    @Test
    void klDivergenceRefusesWhatItCannotCompare() throws Exception {
        MainTest.Result r = MainTest.run("perplexity", "--kl-divergence", "-f", "x.txt");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--kl-divergence needs --kl-divergence-base FILE"), r.err());
        Path other = TestData.root().resolve("tests/golden/quality/kjv7m-F16-c256-2.kld");
        r = MainTest.run("perplexity", "--kl-divergence", "--kl-divergence-base", other.toString());
        assertEquals(1, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(other + ": base logits of a model with a vocabulary of 4096 tokens; ")
                && r.err().contains("stories260K.gguf has 512: the base file was made with another model"), r.err());
        Path bad = Files.writeString(dir.resolve("bad.kld"), "not a base file at all");
        r = MainTest.run("perplexity", "--kl-divergence", "--kl-divergence-base", bad.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("does not start with \"_logits_\""), r.err());
    }
}
