package dev.gguf4j.tokenizer;

import dev.gguf4j.testing.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Rough single-thread tokenizer throughput on {@code models/kjv7m-test.txt} (not a test). Prints tokens/s and MB/s
 * for encoding (whole file as one string, as llama.cpp's test-tokenizer-0 times it, and line by line) and decoding.
 *
 * <p>{@code java -Dgguf4j.test.shared=... -cp <main>:<test> dev.gguf4j.tokenizer.TokenizerSpeed [seconds]}
 */
public final class TokenizerSpeed {
    private TokenizerSpeed() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3.0;
        String text = Files.readString(TestData.model("kjv7m-test.txt"));
        String[] lines = text.split("\n");
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        for (String v : new String[] {"models/kjv7m-F16.gguf", "tokenizer/ggml-vocab-llama-spm.gguf",
            "tokenizer/ggml-vocab-gpt-2.gguf", "llama-bpe"}) {
            Tokenizer t = v.equals("llama-bpe") ? TokenizerTestInputs.variant("gpt-2:llama-bpe")
                    : Tokenizer.load(v.startsWith("models/") ? TestData.model(v.substring(7))
                            : TestData.golden(v));
            int n = t.encode(text, false, false).length;
            double whole = rate(seconds, () -> t.encode(text, false, false));
            double perLine = rate(seconds, () -> {
                for (String l : lines) {
                    t.encode(l, false, false);
                }
            });
            int[] ids = t.encode(text, false, false);
            double dec = rate(seconds, () -> t.decode(ids));
            System.out.printf("%-40s %7d tokens  encode whole %9.0f tok/s (%5.1f MB/s)  per line %9.0f tok/s"
                    + "  decode %10.0f tok/s%n", Path.of(v).getFileName() + (v.equals("llama-bpe") ? " (gpt-2 vocab)" : ""),
                    n, n * whole, bytes * whole / 1e6, n * perLine, n * dec);
        }
    }

    /** Calls per second. */
    private static double rate(double seconds, Runnable r) {
        r.run();
        long t0 = System.nanoTime();
        int calls = 0;
        long end = t0 + (long) (seconds * 1e9);
        long now;
        do {
            r.run();
            calls++;
            now = System.nanoTime();
        } while (now < end);
        return calls / ((now - t0) / 1e9);
    }
}
