package dev.gguf4j.cli;

import static dev.gguf4j.cli.TestFiles.assertNoJavaInternals;
import static dev.gguf4j.cli.TestFiles.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.gguf4j.gguf.GgufValue;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every user error is one line naming what is at fault (flag, file, key, value, limit), status 2 for bad usage
 * and 1 for failures, never a stack trace: one regression test per stack trace that issue 10 found. Runs on the
 * bundled model only (no ../shared).
 */
class UserErrorsTest {
    @TempDir
    Path dir;

    /** Values refused when the arguments are parsed, naming the flag, the value and the range. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "run --top-p 2            | --top-p 2 | [0, 1]",
        "run --min-p 2            | --min-p 2 | [0, 1]",
        "run --min-p -0.5         | --min-p -0.5 | [0, 1]",
        "run --temp NaN           | --temp NaN | finite",
        "run --temp Infinity      | --temp Infinity | finite",
        "run --repeat-penalty 0   | --repeat-penalty 0 | > 0",
        "run -t 100000            | -t 100000 | [0, 512]",
        "run -n -1                | -n -1 | must be in [0, 2147483647]",
        "run -c -5                | -c -5 | must be in [0, 2147483647]",
        "run -n 99999999999       | -n 99999999999 | must be in [0, 2147483647]",
        "run -n x                 | -n x | whole number",
        "run --top-k              | --top-k needs a value | run",
        "run --frobnicate         | unknown argument '--frobnicate' | run",
        "perplexity -c 1 -f x     | -c 1 | [2, 2147483647]",
        "perplexity --chunks 0 -f x | --chunks 0 | -1",
        "bench -r 0               | -r 0 | [1, 2147483647]",
        "bench -t 1,x             | -t x | [0, 512]",
        "bench -p -1              | -p -1 | must be in [0, 2147483646]",
        "quantize a b Q4_0 --threads 0 | --threads 0 | [1, 512]",
        "quantize a b Q7_K        | unknown TYPE 'Q7_K' | quantize --help",
        "quantize a b             | expected INPUT OUTPUT TYPE | got 2",
        "quantize a b Q4_0 --bogus | unknown option '--bogus' | quantize",
        "info a b                 | unexpected argument 'b' | info",
        "frobnicate               | unknown command 'frobnicate' | help",
    })
    void badValuesAreUsageErrors(String command, String part1, String part2) {
        MainTest.Result r = MainTest.run(command.trim().split("\\s+"));
        assertOneLine(r, 2, part1.trim(), part2.trim());
    }

    @Test
    void emptyStopStringIsAUsageError() {
        assertOneLine(MainTest.run("run", "-n", "3", "--stop", ""), 2, "--stop", "empty");
    }

    @Test
    void runMinusNZeroPrintsThePrompt() {
        MainTest.Result r = MainTest.run("run", "-p", "Once upon a time", "-n", "0", "-t", "1");
        assertEquals(0, r.status(), r.err());
        assertEquals("Once upon a time\n", r.out());
        assertTrue(r.err().contains("generated 0 tokens"), r.err());
    }

    /** stories260K was trained with 128 tokens: prompt + -n 200 is past it: one warning line, as llama.cpp. */
    @Test
    void contextPastTheTrainingContextWarns() {
        MainTest.Result r = MainTest.run("run", "-p", "Once", "-n", "200", "--temp", "0", "-t", "1");
        assertEquals(0, r.status(), r.err());
        List<String> warnings = r.err().lines().filter(l -> l.contains("warning")).toList();
        assertEquals(1, warnings.size(), r.err());
        assertTrue(warnings.getFirst().contains("exceeds the model's training context (128, llama.context_length)"),
                r.err());
        r = MainTest.run("run", "-p", "Once", "-n", "20", "--temp", "0", "-t", "1");
        assertEquals(0, r.status(), r.err());
        assertFalse(r.err().contains("warning"), r.err());
    }

    @Test
    void modelPathsAreCheckedFirst() throws Exception {
        assertOneLine(MainTest.run("run", "-m", dir.toString(), "-n", "1"), 1, dir.toString(), "is a directory");
        assertOneLine(MainTest.run("info", dir.toString()), 1, dir.toString(), "is a directory");
        Path missing = dir.resolve("missing.gguf");
        for (String cmd : List.of("run", "tokenize", "perplexity", "bench")) {
            List<String> args = new java.util.ArrayList<>(List.of(cmd, "-m", missing.toString()));
            if (!cmd.equals("run") && !cmd.equals("bench")) {
                Path text = Files.writeString(dir.resolve("t.txt"), "hello");
                args.addAll(cmd.equals("tokenize") ? List.of("-p", "x") : List.of("-f", text.toString()));
            }
            assertOneLine(MainTest.run(args.toArray(String[]::new)), 1, "model " + missing, "does not exist");
        }
        assertOneLine(MainTest.run("quantize", missing.toString(), dir.resolve("o.gguf").toString(), "Q8_0"), 1,
                "INPUT " + missing, "does not exist");
        Path garbage = Files.write(dir.resolve("garbage.gguf"), new byte[] {1, 2, 3});
        MainTest.Result r = MainTest.run("run", "-m", garbage.toString(), "-n", "1");
        assertOneLine(r, 1, garbage.toString());
    }

    @Test
    void textFilesAreCheckedFirst() throws Exception {
        Path missing = dir.resolve("missing.txt");
        assertOneLine(MainTest.run("perplexity", "-f", missing.toString()), 1, "-f " + missing, "does not exist");
        assertOneLine(MainTest.run("tokenize", "-f", missing.toString()), 1, "-f " + missing, "does not exist");
        assertOneLine(MainTest.run("perplexity", "-f", dir.toString()), 1, dir.toString(), "is a directory");
        Path binary = Files.write(dir.resolve("binary.txt"), new byte[] {'a', 'b', 'c', (byte) 0xff, 'd'});
        assertOneLine(MainTest.run("perplexity", "-f", binary.toString()), 1, binary.toString(), "not UTF-8",
                "0xff at offset 3");
        // llama-tokenize reads the bytes as they are: not an error there
        MainTest.Result r = MainTest.run("tokenize", "-f", binary.toString(), "--ids");
        assertEquals(0, r.status(), r.err());
    }

    @Test
    void quantizeOutputIsCheckedBeforeQuantizing() throws Exception {
        String in = TestFiles.bundled().toString();
        Path sub = Files.createDirectory(dir.resolve("sub"));
        assertOneLine(MainTest.run("quantize", in, sub.toString(), "Q8_0"), 1, "OUTPUT " + sub, "is a directory");
        Path noDir = dir.resolve("nope").resolve("o.gguf");
        assertOneLine(MainTest.run("quantize", in, noDir.toString(), "Q8_0"), 1, "OUTPUT " + noDir,
                "the folder " + dir.resolve("nope") + " does not exist");
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(ro), "running as root: permissions do not apply");
            MainTest.Result r = MainTest.run("quantize", in, ro.resolve("o.gguf").toString(), "Q8_0");
            assertOneLine(r, 1, "OUTPUT " + ro.resolve("o.gguf"), "cannot write in the folder " + ro);
            assertTrue(r.out().isEmpty(), "quantized before refusing: " + r.out());
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /**
     * Broken hyper-parameters: quantize refuses the file before writing anything, and run refuses it with the
     * same key, both naming the file, the key and the value (one check: Hyperparameters).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "llama.block_count            | UINT32 | 0          | [1, 512]",
        "llama.block_count            | UINT32 | 2000000000 | [1, 512]",
        "llama.block_count            | INT32  | -1         | [1, 512]",
        "llama.block_count            | UINT64 | 4294967296 | [1, 512]",
        "llama.attention.head_count   | UINT32 | 0          | [1, 64]",
        "llama.attention.head_count   | UINT32 | 3          | does not divide llama.embedding_length 64",
        "llama.attention.head_count   | INT32  | -8         | [1, 64]",
        "llama.attention.head_count   | UINT32 | 2147483648 | [1, 64]",
        "llama.attention.head_count_kv | UINT32 | 3         | does not divide llama.attention.head_count 8",
        "llama.attention.head_count_kv | UINT32 | 16        | [1, 8]",
        "llama.context_length         | UINT32 | 0          | [1, 2147483647]",
        "llama.embedding_length       | INT32  | -64        | [1, 2147483647]",
        "llama.rope.dimension_count   | UINT32 | 16         | [2, head size 8]",
        "llama.rope.dimension_count   | UINT32 | 3          | [2, head size 8]",
        "llama.expert_count           | UINT32 | 100000     | [0, 256]",
        "llama.feed_forward_length    | UINT32 | 0          | [1, 2147483647]",
    })
    void brokenHyperparametersAreRefusedByQuantizeAndRun(String key, String type, String value, String limit)
            throws Exception {
        long v = Long.parseLong(value);
        GgufValue gv = switch (type) {
            case "UINT32" -> GgufValue.ofUInt32(v);
            case "INT32" -> GgufValue.ofInt32((int) v);
            default -> GgufValue.ofUInt64(v);
        };
        Map<String, GgufValue> change = new HashMap<>();
        change.put(key, gv);
        Path bad = TestFiles.withMetadata(dir.resolve("bad.gguf"), change);
        Path out = dir.resolve("out.gguf");
        MainTest.Result q = MainTest.run("quantize", bad.toString(), out.toString(), "Q8_0");
        assertOneLine(q, 1, bad.toString(), key, value, limit);
        assertTrue(q.out().isEmpty(), q.out());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("bad.gguf"), s.map(p -> p.getFileName().toString()).toList());
        }
        assertOneLine(MainTest.run("quantize", bad.toString(), out.toString(), "Q8_0", "--dry-run"), 1, key);
        assertOneLine(MainTest.run("run", "-m", bad.toString(), "-n", "1"), 1, bad.toString(), key, value);
    }

    /** An override cannot make a model run refuses either. */
    @Test
    void overridesAreCheckedToo() throws Exception {
        Path out = dir.resolve("o.gguf");
        MainTest.Result r = MainTest.run("quantize", TestFiles.bundled().toString(), out.toString(), "F16",
                "--override-kv", "llama.block_count=int:0");
        assertOneLine(r, 1, "with --override-kv: llama.block_count: value 0 is outside [1, 512]");
        assertFalse(Files.exists(out));
    }

    /** A bug (an exception gguf4j did not mean to throw): one line naming the class and where the trace went. */
    @Test
    void internalErrorsPrintOneLineAndWriteTheTrace() throws Exception {
        System.setProperty("gguf4j.crash.dir", dir.toString());
        try {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int st = Main.internalError(new IllegalStateException("boom"), false, new String[] {"run", "-n", "1"},
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            String e = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, st);
            assertEquals(1, e.lines().count(), e);
            assertTrue(e.startsWith("gguf4j: internal error: java.lang.IllegalStateException: boom; full trace in "
                    + dir), e);
            Path trace = Path.of(e.substring(e.indexOf("full trace in ") + 14).strip());
            String t = Files.readString(trace);
            assertTrue(t.contains("command line: gguf4j run -n 1") && t.contains("\tat dev.gguf4j.cli.UserErrorsTest"),
                    t);
            err.reset();
            Main.internalError(new IllegalStateException("boom"), true, new String[] {"run"},
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("\tat dev.gguf4j.cli.UserErrorsTest"));
        } finally {
            System.clearProperty("gguf4j.crash.dir");
        }
    }

    @Test
    void debugFlagIsAccepted() {
        MainTest.Result r = MainTest.run("--debug", "info", "--json");
        assertEquals(0, r.status(), r.err());
        r = MainTest.run("--debug");
        assertEquals(2, r.status());
        assertNoJavaInternals(MainTest.run("--debug", "run", "--top-p", "2"));
    }
}
