package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code gguf4j quantize} as a user runs it, against llama-quantize's outputs in ../shared/models. */
class QuantizeCommandTest {

    @ParameterizedTest
    @CsvSource({"stories260K-pad256.gguf, stories260K-pad256-Q6_K.gguf, Q6_K",
        "kjv7m-F16.gguf, kjv7m-Q4_K_M.gguf, q4_k_m", "kjv7m-F16.gguf, kjv7m-Q2_K.gguf, Q2_K"})
    void sameBytesAsLlamaQuantize(String in, String golden, String type, @TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.gguf");
        MainTest.Result r = MainTest.run("quantize", TestData.model(in).toString(), out.toString(), type,
                "--threads", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("quant size  =") && r.out().contains("wall time"), r.out());
        assertArrayEquals(Files.readAllBytes(TestData.model(golden)), Files.readAllBytes(out),
                out + " differs from " + golden);
    }

    @Test
    void dryRunPrintsThePlanAndWritesNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.gguf");
        MainTest.Result r = MainTest.run("quantize", TestData.model("kjv7m-F16.gguf").toString(),
                out.toString(), "Q4_K_M", "--dry-run");
        assertEquals(0, r.status(), r.err());
        // every planned type is the one llama-quantize chose in kjv7m-Q4_K_M.gguf
        try (GgufFile golden = GgufFile.open(TestData.model("kjv7m-Q4_K_M.gguf"))) {
            int planned = 0;
            for (String line : r.out().lines().toList()) {
                String name = line.split("\\s+")[0];
                if (golden.tensor(name).isPresent()) {
                    String[] afterShape = line.substring(line.indexOf(']') + 1).trim().split("\\s+"); // from, to, ...
                    assertEquals(golden.requireTensor(name).type().toString(), afterShape[1], line);
                    planned++;
                }
            }
            assertEquals(golden.tensors().size(), planned, r.out());
        }
        assertFalse(Files.exists(out));
    }

    /**
     * {@code --search better}: the same types and sizes as llama-quantize's file, other bytes, the metadata key, which
     * {@code info} shows; a bad value is a usage error.
     */
    @Test
    void betterSearchKeepsTheLayoutAndSaysSo(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("better.gguf");
        MainTest.Result r = MainTest.run("quantize", TestData.model("stories260K-pad256.gguf").toString(),
                out.toString(), "Q4_K_M", "--search", "better", "--threads", "2");
        assertEquals(0, r.status(), r.err());
        try (GgufFile g = GgufFile.open(TestData.model("stories260K-pad256-Q4_K_M.gguf")); GgufFile o = GgufFile.open(out)) {
            for (var t : g.tensors()) {
                assertEquals(t.type(), o.requireTensor(t.name()).type(), t.name());
                assertEquals(t.byteSize(), o.requireTensor(t.name()).byteSize(), t.name());
            }
            assertEquals("better-1", o.metadata().getString("gguf4j.quantize.search"));
        }
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(TestData.model("stories260K-pad256-Q4_K_M.gguf")),
                Files.readAllBytes(out)));
        MainTest.Result info = MainTest.run("info", out.toString());
        assertEquals(0, info.status(), info.err());
        assertTrue(info.out().contains("quant search:    better-1"), info.out());
        r = MainTest.run("quantize", TestData.model("stories260K-pad256.gguf").toString(),
                dir.resolve("x.gguf").toString(), "Q4_K_M", "--search", "best");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--search best: expected reference or better"), r.err());
    }

    @Test
    void badArgumentsAreClear(@TempDir Path dir) {
        String in = TestData.model("stories260K-pad256.gguf").toString();
        MainTest.Result r = MainTest.run("quantize", in, dir.resolve("o.gguf").toString(), "Q7_K");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("unknown TYPE 'Q7_K'"), r.err());
        r = MainTest.run("quantize", in, in, "Q8_0");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("must not be the input"), r.err());
        r = MainTest.run("quantize", TestData.model("kjv7m-Q8_0.gguf").toString(),
                dir.resolve("o.gguf").toString(), "Q4_0");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("requantizing from type q8_0 is disabled") && r.err().contains("--allow-requantize"),
                r.err());
        r = MainTest.run("quantize", in, dir.resolve("o.gguf").toString(), "Q8_0", "--override-kv", "x.y=banana:1");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("invalid type in KV override"), r.err());
    }

    /**
     * SIGKILL in the middle of writing: no output file appears, only the temporary file, named with the killed
     * process's id; the next run for the same output removes it.
     */
    @Test
    void killedRunLeavesNoOutput(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.gguf");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "dev.gguf4j.cli.Main", "quantize",
                TestData.model("kjv7m-F32.gguf").toString(), out.toString(), "Q2_K", "--threads", "1")
                .redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean writing = false;
        while (!writing && p.isAlive() && System.nanoTime() < deadline) {
            try (Stream<Path> s = Files.list(dir)) {
                writing = s.anyMatch(f -> f.getFileName().toString().endsWith(".partial") && f.toFile().length() > 0);
            }
            Thread.sleep(5);
        }
        assertTrue(writing, "the run never started writing: " + Files.readString(dir.resolve("log.txt")));
        p.destroyForcibly().waitFor(); // SIGKILL
        assertFalse(Files.exists(out), "a killed run left " + out);
        List<String> names;
        try (Stream<Path> s = Files.list(dir)) {
            names = s.map(f -> f.getFileName().toString()).filter(n -> !n.equals("log.txt")).toList();
        }
        assertEquals(1, names.size(), names.toString());
        assertTrue(names.getFirst().matches("\\.out\\.gguf\\." + p.pid() + "\\.[0-9a-f]+\\.partial"), names.toString());
        // the next run (any input) for the same output
        MainTest.Result r = MainTest.run("quantize", TestData.model("stories260K-pad256.gguf").toString(),
                out.toString(), "Q8_0");
        assertEquals(0, r.status(), r.err());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("log.txt", "out.gguf"), s.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }
}
