package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufValueType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded, time-bounded fuzzing of the command line: garbled argument lists for every command, and
 * {@code quantize} on copies of the bundled model whose metadata is mutated (counts, types, huge and negative
 * integers, removed and added keys). Every run must end with status 0, 1 or 2, without a stack trace, an exception
 * class or an internal error on stderr; a failure says so in at most a few lines and leaves no output file (and no
 * temporary file) behind. Needs only the bundled model.
 *
 * <p>{@code -Dgguf4j.fuzz.seconds=N} (default 6, per test) bounds each test; {@code -Dgguf4j.fuzz.seed=S} changes
 * the seed. Case {@code i} is the same for the same seed, whatever the time budget; a failure names it.
 */
class CliFuzzTest {
    private static final long SEED = Long.getLong("gguf4j.fuzz.seed", 0x636c_6966_757a_7aL);
    private static final double SECONDS = Double.parseDouble(System.getProperty("gguf4j.fuzz.seconds", "6"));
    private static final int MAX_CASES = 5000;

    @TempDir
    static Path dir;
    static Path model;
    static Path text;
    static Path garbage;
    static Path binary;
    static Path outDir;

    @BeforeAll
    static void files() throws IOException {
        model = TestFiles.bundled();
        text = Files.writeString(dir.resolve("text.txt"), "Once upon a time, there was a little girl named Lily."
                + " She liked to play in the park with her ball.\n");
        garbage = Files.write(dir.resolve("garbage.gguf"), "GGUF\3\0\0\0garbage".getBytes(StandardCharsets.UTF_8));
        binary = Files.write(dir.resolve("binary.txt"), new byte[] {'h', 'i', (byte) 0xc3, 0x28, 0, (byte) 0xff});
        outDir = Files.createDirectory(dir.resolve("out"));
    }

    // ---- argument lists ------------------------------------------------------------------------------------

    private static final String[] COMMANDS = {"run", "info", "tokenize", "perplexity", "bench", "quantize", "imatrix",
        "calibrate", "--version", "help", "--debug", "", "-", "runn", "QUANTIZE"};
    private static final String[] INTS = {"0", "1", "2", "-1", "-2", "2147483647", "-2147483648", "2147483648",
        "99999999999", "1.5", "1e3", "0x10", " 3", "x", "", "NaN", "auto", "1,2", ","};
    private static final String[] FLOATS = {"0", "0.5", "1", "2", "-1", "-0.0", "NaN", "-NaN", "Infinity",
        "-Infinity", "1e39", "3.4e38", "1e-45", "0x1p3", "1f", "x", "", "--top-k"};
    private static final String[] WORDS = {"", "-", "--", "-x", "--=", "--help", "-h", "\0", "\n", "é", "🦙",
        "%s%n", "--no-mmap", "--mlock", "--json", "--tensors", "--ids", "--no-bos", "--dry-run", "--pure",
        "Q4_0", "COPY", "q8_0", "Q7_K", "f32", "iq4_nl", "Q4_K_M", "-ngl", "auto", "x".repeat(2000)};

    /** Options per command, with the kind of value each takes ("" for flags). */
    private static final Map<String, Map<String, String>> OPTIONS = Map.of(
            "run", Map.ofEntries(Map.entry("-m", "path"), Map.entry("-p", "word"), Map.entry("-n", "small"),
                    Map.entry("--temp", "float"), Map.entry("--top-k", "int"), Map.entry("--top-p", "float"),
                    Map.entry("--min-p", "float"), Map.entry("--repeat-penalty", "float"),
                    Map.entry("--seed", "int"), Map.entry("-c", "ctx"), Map.entry("-t", "small"),
                    Map.entry("-ngl", "int"), Map.entry("--stop", "word"), Map.entry("--no-mmap", ""),
                    Map.entry("--mlock", ""), Map.entry("--no-repack", ""), Map.entry("-h", "")),
            "info", Map.of("--tensors", "", "--json", "", "", "path"),
            "tokenize", Map.of("-m", "path", "-p", "word", "-f", "path", "--ids", "", "--no-bos", ""),
            "perplexity", Map.of("-m", "path", "-f", "path", "-c", "small", "-t", "small", "--chunks", "small",
                    "--no-mmap", "", "--kl-divergence", "", "--kl-divergence-base", "path"),
            "imatrix", Map.of("-m", "path", "-f", "path", "-o", "path", "-c", "small", "-t", "small", "--chunks",
                    "small", "--process-output", ""),
            "calibrate", Map.of("-m", "path", "-f", "path", "-o", "path", "-c", "small", "-t", "small", "--chunks",
                    "small"),
            "bench", Map.of("-m", "path", "-p", "small", "-n", "small", "-r", "reps", "-t", "list", "-ngl", "list",
                    "--json", "", "-o", "word", "--no-mmap", "", "--no-repack", ""),
            "quantize", Map.ofEntries(Map.entry("", "path"), Map.entry("--imatrix", "path"),
                    Map.entry("--include-weights", "word"), Map.entry("--exclude-weights", "word"),
                    Map.entry("--output-tensor-type", "word"), Map.entry("--token-embedding-type", "word"),
                    Map.entry("--leave-output-tensor", ""), Map.entry("--pure", ""),
                    Map.entry("--allow-requantize", ""), Map.entry("--override-kv", "kv"),
                    Map.entry("--threads", "small"), Map.entry("--dry-run", "")));

    /** Quick defaults first (later arguments override them), so that every case stays fast. */
    private static final Map<String, List<String>> PREFIX = Map.of("run", List.of("-n", "3", "-t", "1"),
            "bench", List.of("-p", "4", "-n", "2", "-r", "1", "-t", "1"), "perplexity", List.of("-f", "TEXT", "-t",
                    "1"), "imatrix", List.of("-f", "TEXT", "-t", "1", "-o", "OUT"),
            "calibrate", List.of("-m", "MODEL", "-f", "TEXT", "-t", "1", "-o", "OUT", "-c", "16", "--chunks", "2"),
            "quantize", List.of("MODEL", "OUT", "Q8_0", "--threads", "1"));

    private static String value(Random r, String kind) {
        return switch (kind) {
            case "path" -> pick(r, "MODEL", "MODEL", "TEXT", "GARBAGE", "BINARY", "DIR", "MISSING", "OUT", "", "\0");
            // values that stay quick when valid; the huge ones must be refused, not run
            case "small" -> pick(r, "0", "1", "2", "3", "-1", "2147483647", "-2147483648", "99999999999", "x", "",
                    "1.5");
            case "reps" -> pick(r, "0", "1", "2", "-1", "99999999999", "x", ""); // a valid 2^31 - 1 runs for ages
            case "ctx" -> pick(r, "0", "1", "2", "8", "-1", "2147483647", "x");
            case "int" -> pick(r, INTS);
            case "float" -> pick(r, FLOATS);
            case "list" -> pick(r, "1", "0,1", "1,,2", ",", "x", "-1", "513", "auto", "0,auto", "99");
            case "kv" -> pick(r, "a.b=int:1", "a.b=str:x", "a.b=bool:maybe", "a.b=float:NaN", "=int:1", "a.b",
                    "a.b=banana:1", "llama.block_count=int:0", "general.alignment=int:3", "a.b=int:99999999999");
            default -> pick(r, WORDS);
        };
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... options) {
        return options[r.nextInt(options.length)];
    }

    private static String resolve(String a) {
        return switch (a) {
            case "MODEL" -> model.toString();
            case "TEXT" -> text.toString();
            case "GARBAGE" -> garbage.toString();
            case "BINARY" -> binary.toString();
            case "DIR" -> dir.toString();
            case "MISSING" -> dir.resolve("missing.gguf").toString();
            case "OUT" -> outDir.resolve("o.gguf").toString();
            default -> a;
        };
    }

    static List<String> argumentCase(long seed) {
        Random r = new Random(seed);
        String command = pick(r, COMMANDS);
        List<String> args = new ArrayList<>();
        if (command.equals("--debug")) {
            command = pick(r, "run", "info", "quantize");
            args.add("--debug");
        }
        args.add(command);
        Map<String, String> options = OPTIONS.getOrDefault(command, Map.of());
        args.addAll(PREFIX.getOrDefault(command, List.of()));
        int n = r.nextInt(7);
        List<String> names = new ArrayList<>(options.keySet());
        names.sort(null); // the map's order is not stable; the case must be
        for (int i = 0; i < n; i++) {
            int what = r.nextInt(10);
            if (what < 7 && !names.isEmpty()) {
                String o = names.get(r.nextInt(names.size()));
                if (!o.isEmpty()) {
                    args.add(o);
                }
                String kind = options.get(o);
                if (!kind.isEmpty() && r.nextInt(10) > 0) {
                    args.add(value(r, kind));
                }
            } else if (what < 9) {
                args.add(pick(r, WORDS));
            } else if (args.size() > 1) {
                args.remove(1 + r.nextInt(args.size() - 1)); // a missing value, a flag without its option
            }
        }
        return args.stream().map(CliFuzzTest::resolve).toList();
    }

    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a case that hangs fails the test
    void garbledArgumentsNeverCrash() throws IOException {
        long deadline = System.nanoTime() + (long) (SECONDS * 1e9);
        int cases = 0;
        for (int i = 0; i < MAX_CASES && System.nanoTime() < deadline; i++, cases++) {
            List<String> args = argumentCase(SEED + i);
            clearOutDir();
            MainTest.Result res = MainTest.run(args.toArray(String[]::new));
            check("case " + i + " (seed " + SEED + "): gguf4j " + args, res);
        }
        System.out.println("CliFuzzTest: " + cases + " argument lists");
        assertTrue(cases > 0);
    }

    // ---- quantize on mutated metadata ----------------------------------------------------------------------

    private static final String[] SHAPE_KEYS = {"llama.block_count", "llama.attention.head_count",
        "llama.attention.head_count_kv", "llama.embedding_length", "llama.context_length",
        "llama.feed_forward_length", "llama.rope.dimension_count", "llama.expert_count", "llama.expert_used_count",
        "llama.attention.key_length", "general.architecture", "general.alignment", "general.file_type",
        "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon"};

    private static GgufValue mutant(Random r) {
        return switch (r.nextInt(9)) {
            case 0, 1 -> GgufValue.ofUInt32(pick(r, 0L, 1L, 2L, 3L, 4L, 7L, 8L, 16L, 63L, 64L, 65L, 128L, 511L, 512L,
                    513L, 65536L, (1L << 31) - 1, 1L << 31, (1L << 32) - 1));
            case 2 -> GgufValue.ofInt32(pick(r, -1, -8, -64, Integer.MIN_VALUE, 0, 5));
            case 3 -> GgufValue.ofUInt64(pick(r, 1L << 32, -1L, Long.MIN_VALUE, 5L, 1L << 40));
            case 4 -> new GgufValue(GgufValueType.INT64, pick(r, -1L, Long.MIN_VALUE, 1L << 33, 8L));
            case 5 -> GgufValue.ofFloat32(pick(r, Float.NaN, 1.5f, -0.0f, Float.POSITIVE_INFINITY, 8f));
            case 6 -> GgufValue.ofString(pick(r, "", "llama", "qwen2", "mamba", "gpt2", "x\u0000y", "8"));
            case 7 -> GgufValue.ofBool(r.nextBoolean());
            default -> GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.UINT32, pick(r, new long[0],
                    new long[] {8}, new long[] {8, 8, 8, 8, 8}, new long[] {0, 8, 8, 8, 8},
                    new long[] {8, 8, 8, 8, 8, 8, 8}, new long[] {3, 3, 3, 3, 3})));
        };
    }

    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void quantizeOnMutatedMetadataNeverCrashes() throws IOException {
        List<String> keys;
        try (GgufFile f = GgufFile.open(model)) {
            keys = new ArrayList<>(f.metadata().asMap().keySet());
        }
        long deadline = System.nanoTime() + (long) (SECONDS * 1e9);
        int cases = 0;
        int refused = 0;
        for (int i = 0; i < MAX_CASES && System.nanoTime() < deadline; i++, cases++) {
            Random r = new Random(SEED ^ (0x9e3779b97f4a7c15L * (i + 1)));
            Map<String, GgufValue> change = new HashMap<>();
            StringBuilder what = new StringBuilder();
            for (int m = 0, n = 1 + r.nextInt(2); m < n; m++) {
                String key = r.nextInt(4) > 0 ? pick(r, SHAPE_KEYS) : keys.get(r.nextInt(keys.size()));
                GgufValue v = r.nextInt(8) == 0 ? null : mutant(r);
                if (key.equals("general.alignment") && v != null && v.value() instanceof Long l && l > 1024) {
                    v = GgufValue.ofUInt32(64); // a valid 2^31 alignment is gigabytes of padding: slow, not hostile
                }
                change.put(key, v);
                what.append(' ').append(key).append('=').append(v == null ? "(removed)" : v.summary());
            }
            Path in = dir.resolve("mutant.gguf");
            try {
                TestFiles.withMetadata(in, change);
            } catch (dev.gguf4j.gguf.GgufWriteException e) {
                continue; // not a file GGUF can hold (e.g. a bad general.alignment): nothing to quantize
            }
            clearOutDir();
            // the bundled model's 172-wide ffn rows take only the float types (and COPY) in every tensor
            String type = pick(r, "F16", "F16", "F32", "BF16", "COPY", "Q8_0", "Q4_K_M");
            List<String> args = List.of("quantize", in.toString(), outDir.resolve("o.gguf").toString(), type,
                    "--threads", "1");
            MainTest.Result res = MainTest.run(args.toArray(String[]::new));
            check("case " + i + " (seed " + SEED + "):" + what + " -> gguf4j " + args, res);
            refused += res.status() == 0 ? 0 : 1;
        }
        System.out.println("CliFuzzTest: " + cases + " mutated models quantized, " + refused + " refused");
        assertTrue(cases > 0);
    }

    // ---- the checks ----------------------------------------------------------------------------------------

    private static void clearOutDir() throws IOException {
        try (Stream<Path> s = Files.list(outDir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void check(String what, MainTest.Result res) throws IOException {
        String err = res.err();
        if (res.status() < 0 || res.status() > 2) {
            throw new AssertionError(what + ": status " + res.status() + "\n" + err);
        }
        boolean debug = what.contains("gguf4j [--debug"); // --debug: stack traces wanted, bugs still not
        if (err.contains("internal error") || (!debug && (err.contains("\tat ") || err.contains("Exception")
                || err.contains("java.lang") || err.contains("java.io")))) {
            throw new AssertionError(what + ": Java internals on stderr:\n" + err);
        }
        List<String> outDirFiles;
        try (Stream<Path> s = Files.list(outDir)) {
            outDirFiles = s.map(p -> p.getFileName().toString()).toList();
        }
        if (res.status() != 0) {
            // the progress lines of quantize ("[   1/  48] ...") aside, a failure is a few lines at most
            long lines = debug ? 1 : err.lines().filter(l -> !l.startsWith("[")).count();
            boolean usage = err.startsWith("usage: gguf4j") && res.status() == 2; // no command given
            if (!usage && (lines > 4 || !err.lines().reduce((a, b) -> b).orElse("").startsWith("gguf4j: "))) {
                throw new AssertionError(what + ": " + lines + " lines on stderr:\n" + err);
            }
            if (!outDirFiles.isEmpty()) {
                throw new AssertionError(what + ": failed (status " + res.status() + ") but left " + outDirFiles
                        + "\n" + err);
            }
        } else if (outDirFiles.stream().anyMatch(n -> n.endsWith(".partial"))) {
            throw new AssertionError(what + ": left a temporary file: " + outDirFiles);
        }
    }
}
