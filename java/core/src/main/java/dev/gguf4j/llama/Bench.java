package dev.gguf4j.llama;

import dev.gguf4j.engine.LlamaSession;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * llama-bench's two speed tests on a loaded model: pp (prompt processing: {@code nPrompt} random tokens in
 * batches of 512) and tg (text generation: {@code nGen} random tokens one at a time), each from a fresh session,
 * one warm-up run then {@code reps} timed runs. {@code gguf4j bench} and {@code gguf4j ladder} both measure with it.
 */
public final class Bench {
    /** llama-bench's n_batch: a pp test's prompt goes in batches of this many tokens. */
    public static final int BATCH = 512;

    private Bench() {
    }

    /** The timed runs of one test: nanoseconds and tokens/s per repetition. */
    public record Measurement(int nPrompt, int nGen, List<Long> nanos, List<Double> tokensPerSecond) {
        public Measurement {
            nanos = List.copyOf(nanos);
            tokensPerSecond = List.copyOf(tokensPerSecond);
        }

        public double avgTs() {
            return tokensPerSecond.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        }

        /** Sample standard deviation of the tokens/s (0 for one repetition), as llama-bench prints it. */
        public double stddevTs() {
            double avg = avgTs();
            return Math.sqrt(tokensPerSecond.stream().mapToDouble(v -> (v - avg) * (v - avg)).sum()
                    / Math.max(1, tokensPerSecond.size() - 1));
        }

        public double avgNs() {
            return nanos.stream().mapToLong(Long::longValue).average().orElse(0);
        }

        public double stddevNs() {
            double avg = avgNs();
            return Math.sqrt(nanos.stream().mapToDouble(v -> (v - avg) * (v - avg)).sum()
                    / Math.max(1, nanos.size() - 1));
        }
    }

    /** Runs one test: pp when {@code nPrompt > 0}, else tg of {@code nGen} tokens (random tokens, fixed seed). */
    public static Measurement measure(Llama llama, int nPrompt, int nGen, int reps) {
        if ((nPrompt > 0) == (nGen > 0)) {
            throw new IllegalArgumentException("one of nPrompt, nGen must be > 0, the other 0: " + nPrompt + ", " + nGen);
        }
        if (reps < 1) {
            throw new IllegalArgumentException("reps < 1: " + reps);
        }
        SplittableRandom rnd = new SplittableRandom(1234);
        int vocab = llama.config().vocab();
        List<Double> ts = new ArrayList<>();
        List<Long> ns = new ArrayList<>();
        int n = nPrompt > 0 ? nPrompt : nGen;
        for (int r = -1; r < reps; r++) {
            try (LlamaSession s = llama.newSession()) {
                long t0 = System.nanoTime();
                if (nPrompt > 0) {
                    for (int from = 0; from < n; from += BATCH) {
                        int[] batch = new int[Math.min(BATCH, n - from)];
                        for (int i = 0; i < batch.length; i++) {
                            batch[i] = rnd.nextInt(vocab);
                        }
                        s.forwardBatch(batch, false);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        s.forward(rnd.nextInt(vocab));
                    }
                }
                long dt = System.nanoTime() - t0;
                if (r >= 0) {
                    ns.add(dt);
                    ts.add(n / (dt / 1e9));
                }
            }
        }
        return new Measurement(nPrompt, nGen, ns, ts);
    }
}
