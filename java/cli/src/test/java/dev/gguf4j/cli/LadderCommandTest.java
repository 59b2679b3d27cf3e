package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gguf4j ladder} on the bundled stories260K (F32; its n_ff 172 fits no block: Q8_0 is skipped with
 * llama-quantize's reason, Q6_K measured with fallback types); its bad input. The figures themselves are checked
 * against llama.cpp in core's LadderTest.
 */
class LadderCommandTest {
    @TempDir
    Path dir;

    private Path text() throws Exception {
        return Files.writeString(dir.resolve("text.txt"), ("Once upon a time, there was a little girl named Lily."
                + " She loved to play outside in the park. ").repeat(30));
    }

    @Test
    void printsTheTableAndWritesTheFiles() throws Exception {
        Path out = dir.resolve("ladder");
        String model = TestData.model("stories260K.gguf").toString();
        MainTest.Result r = MainTest.run("ladder", "-m", model, "-f", text().toString(), "--types", "Q8_0,q6_k", "-c",
                "32", "--chunks", "2", "-p", "8", "-n", "4", "-r", "1", "-t", "1", "-o", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("| type | MiB | bpw | PPL | mean KLD | KLD 99% | same top % | pp t/s | tg t/s |"),
                r.out());
        assertTrue(r.out().contains("\n| F32 | 1.13 | 32.00 | "), r.out());
        assertTrue(r.out().contains("\n| Q6_K (36 fallback) | "), r.out());
        assertTrue(r.out().contains("\nskipped Q8_0: tensor 'blk.0.ffn_down.weight': row length 172 is not a multiple"
                + " of 32"), r.out());
        assertTrue(r.err().contains("gguf4j: Q8_0: skipped: tensor 'blk.0.ffn_down.weight'"), r.err());
        assertTrue(r.err().contains("gguf4j: Q6_K: quantizing\n") && r.err().contains("Q6_K: chunk 2/2"), r.err());
        for (String f : new String[] {"ladder.json", "ladder.md", "ladder.svg", "base.json", "base.kld",
            "type-Q6_K.json"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(!Files.exists(out.resolve("stories260K-Q6_K.gguf")), "the quantized model is deleted");
        // a rerun reuses everything
        r = MainTest.run("ladder", "-m", model, "-f", text().toString(), "--types", "Q8_0,q6_k", "-c", "32",
                "--chunks", "2", "-p", "8", "-n", "4", "-r", "1", "-t", "1", "-o", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("gguf4j: Q6_K: from an earlier run") && !r.err().contains("quantizing"), r.err());
    }

    /** {@code --search better --calibration}: a TYPE+gptq rung, quantized with GPTQ (its file says so), measured. */
    @Test
    void calibratedRungsAreGptq() throws Exception {
        Path out = dir.resolve("ladder");
        String model = TestData.model("stories260K.gguf").toString();
        MainTest.Result r = MainTest.run("ladder", "-m", model, "-f", text().toString(), "--types", "Q6_K", "-c",
                "32", "--chunks", "2", "-p", "0", "-n", "0", "-t", "1", "--search", "better", "--calibration",
                text().toString(), "--calibration-ctx", "32", "--calibration-chunks", "2", "--keep", "-o",
                out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("\n| Q6_K (36 fallback) | "), r.out());
        assertTrue(r.out().contains("\n| Q6_K+gptq (36 fallback) | "), r.out());
        assertTrue(!r.out().contains("+better"), r.out());
        assertTrue(r.err().contains("gguf4j: Q6_K+gptq: quantizing\n") && r.err().contains("Q6_K+gptq: chunk 2/2"),
                r.err());
        assertTrue(Files.isRegularFile(out.resolve("type-Q6_K+gptq.json")));
        assertTrue(Files.readString(out.resolve("ladder.svg")).contains(">Q6_K+gptq</text>"));
        try (GgufFile g = GgufFile.open(out.resolve("stories260K-Q6_K+gptq.gguf"))) {
            assertEquals(dev.gguf4j.quantize.ModelQuantizer.SEARCH_VALUE_GPTQ,
                    g.metadata().getString("gguf4j.quantize.search"));
        }
        try (GgufFile g = GgufFile.open(out.resolve("stories260K-Q6_K.gguf"))) {
            assertTrue(g.metadata().findString("gguf4j.quantize.search").isEmpty(), "the reference rung");
        }
    }

    @Test
    void refusesBadInput() throws Exception {
        String model = TestData.model("stories260K.gguf").toString();
        String t = text().toString();
        MainTest.Result r = MainTest.run("ladder", "-f", t);
        assertEquals(2, r.status());
        assertTrue(r.err().contains("-m BASE.gguf"), r.err());
        r = MainTest.run("ladder", "-m", model);
        assertEquals(2, r.status());
        assertTrue(r.err().contains("-f FILE"), r.err());
        r = MainTest.run("ladder", "-m", model, "-f", t, "--types", "Q4_K_M,Q7_K");
        assertEquals(2, r.status());
        assertEquals("gguf4j: ladder: --types: unknown type 'Q7_K' (quantize --help lists the types)\n", r.err());
        assertEquals(2, MainTest.run("ladder", "-m", model, "-f", t, "--chunks", "0").status());
        r = MainTest.run("ladder", "-m", model, "-f", t, "-o", t);
        assertEquals(2, r.status());
        assertTrue(r.err().contains("exists and is not a folder"), r.err());
        r = MainTest.run("ladder", "-m", model, "-f", t, "--calibration", t);
        assertEquals(2, r.status());
        assertEquals("gguf4j: ladder: --calibration needs --search better (it makes the +better rungs with GPTQ)\n",
                r.err());
        r = MainTest.run("ladder", "-m", model, "-f", t, "--search", "better", "--calibration-chunks", "4");
        assertEquals(2, r.status());
        assertEquals("gguf4j: ladder: --calibration-chunks needs --calibration\n", r.err());
        Path missing = dir.resolve("no-such-calibration");
        r = MainTest.run("ladder", "-m", model, "-f", t, "--search", "better", "--calibration", missing.toString());
        assertTrue(r.status() != 0 && r.err().equals("gguf4j: error: --calibration " + missing + ": does not exist\n"),
                r.status() + " " + r.err());
        r = MainTest.run("ladder", "-m", model, "-f", t, "--search", "better", "--calibration", t,
                "--calibration-ctx", "1");
        assertEquals(2, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("--calibration-ctx"), r.err());
        MainTest.Result help = MainTest.run("ladder", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--calibration TEXT|FILE") && help.out().contains("(default 256, 64)"), help.out());
    }
}
