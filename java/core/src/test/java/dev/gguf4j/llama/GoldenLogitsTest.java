package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.Backends;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import java.lang.foreign.ValueLayout;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward pass against llama.cpp (c392e50): for every golden file in ../shared/golden, the logits at every
 * prompt position and the 200-token greedy continuation.
 */
class GoldenLogitsTest {

    static Stream<String> goldens() throws Exception {
        return TestData.goldenFiles("", ".golden.gguf").stream().map(p -> p.getFileName().toString());
    }

    /** Max |Δ| over a position's logits, relative to that position's logit range, and top-1 agreement. */
    @ParameterizedTest
    @MethodSource("goldens")
    void logitsAndGreedyMatchLlamaCpp(String goldenName) throws Exception {
        try (GgufFile g = GgufFile.open(TestData.golden(goldenName))) {
            check(goldenName, g, TestData.model(g.metadata().getString("golden.model_file")));
        }
    }

    /** Checks one golden file against the model at {@code modelPath}; returns the worst max|Δ|/range. */
    static double check(String goldenName, GgufFile g, java.nio.file.Path modelPath) throws Exception {
        return check(goldenName, g, modelPath, LlamaSession.KvType.F16, tolerance(goldenName), false);
    }

    /**
     * @param tolerance     max |Δ| per position relative to its logit range
     * @param promptNearTie whether top-1 may differ at a prompt position where llama.cpp's own top two logits
     *                      are within {@link #NEAR_TIE} of the range (random-weight models, whose logits are flat)
     */
    static double check(String goldenName, GgufFile g, java.nio.file.Path modelPath, LlamaSession.KvType kvType,
            double tolerance, boolean promptNearTie) throws Exception {
        return check(goldenName, g, modelPath, kvType, tolerance, promptNearTie, 0, -1, -1);
    }

    /**
     * As above, each session {@code contextLength} positions long (what llama.cpp's context was, where the result
     * depends on it: Phi-3.5's LongRoPE factor choice; 0: prompt + greedy tokens), greedy tokens allowed to part
     * from llama.cpp's where its token is within {@code nearTieMargin} of the range of our top logit
     * ({@code nearTieMargin} &lt; 0: {@link #NEAR_TIE} for quantized goldens, twice the tolerance otherwise), at
     * most {@code allowedFlips} times per prompt ({@code allowedFlips} &lt; 0: a tenth of the continuation for
     * quantized goldens, 2 otherwise).
     */
    static double check(String goldenName, GgufFile g, java.nio.file.Path modelPath, LlamaSession.KvType kvType,
            double tolerance, boolean promptNearTie, int contextLength, double nearTieMargin, int allowedFlips)
            throws Exception {
        try (LlamaModel model = LlamaModel.load(modelPath)) {
            int prompts = (int) g.metadata().getLong("golden.prompt_count");
            double worst = 0;
            for (int p = 0; p < prompts; p++) {
                int[] tokens = g.requireTensor("prompt." + p + ".tokens").data().toArray(ValueLayout.JAVA_INT);
                GgufTensor logits = g.requireTensor("prompt." + p + ".logits");
                int[] greedy = g.requireTensor("prompt." + p + ".greedy").data().toArray(ValueLayout.JAVA_INT);
                int vocab = model.config().vocab();
                try (LlamaSession s = new LlamaSession(model, Backends.select(),
                        Math.max(contextLength, tokens.length + greedy.length), 2,
                        kvType)) {
                    float[] last = null;
                    for (int i = 0; i < tokens.length; i++) {
                        last = s.forward(tokens[i]);
                        float[] want = new float[vocab];
                        MemorySegmentCopy.copy(logits, i * (long) vocab, want);
                        double range = range(want);
                        double maxDiff = 0;
                        for (int j = 0; j < vocab; j++) {
                            maxDiff = Math.max(maxDiff, Math.abs(want[j] - last[j]));
                        }
                        worst = Math.max(worst, maxDiff / range);
                        int top = argmax(want);
                        int mine = argmax(last);
                        if (promptNearTie && top != mine && (want[top] - want[mine]) / range < NEAR_TIE) {
                            System.out.printf("%s prompt %d pos %d: top-1 near-tie (llama.cpp's margin %.2e of the"
                                    + " range)%n", goldenName, p, i, (want[top] - want[mine]) / range);
                        } else {
                            assertEquals(top, mine, goldenName + " prompt " + p + " pos " + i + " top-1");
                        }
                        assertTrue(maxDiff / range < tolerance, goldenName + " prompt " + p + " pos " + i
                                + ": max |Δ| " + maxDiff + " = " + (maxDiff / range) + " of the logit range " + range);
                    }
                    // Greedy continuation, token for token, always fed llama.cpp's token so that every step
                    // compares the same sequence. Our argmax must be llama.cpp's token except at a near-tie: where
                    // llama.cpp's token is within the logits' own error of our top logit. F32/F16 weights: the
                    // same operations in another float summation order (llama.cpp's SIMD width, ours per kernel
                    // variant), so its logits and ours differ by up to the position tolerance each, and a flip
                    // needs a margin below twice that. Quantized weights: activations are quantized to 8 bits as
                    // ggml does, so a last-bit difference upstream can move one rounding step and change a logit
                    // by ~1e-3 of the range (NEAR_TIE).
                    double nearTie = nearTieMargin >= 0 ? nearTieMargin
                            : goldenName.contains("Q") ? NEAR_TIE : 2 * tolerance;
                    int agreed = 0;
                    for (int i = 0; i < greedy.length; i++) {
                        int mine = argmax(last);
                        if (mine != greedy[i]) {
                            double margin = (last[mine] - last[greedy[i]]) / range(last);
                            assertTrue(margin < nearTie, goldenName + " prompt " + p + ": greedy token "
                                    + i + " is " + mine + ", llama.cpp chose " + greedy[i] + ", which is " + margin
                                    + " of the logit range below ours: not a near-tie (< " + nearTie + ")");
                            System.out.printf("%s prompt %d: near-tie at token %d, margin %.2e of the range%n",
                                    goldenName, p, i, margin);
                        } else {
                            agreed++;
                        }
                        last = s.forward(greedy[i]);
                    }
                    System.out.printf("%s prompt %d: greedy agrees for %d of %d tokens (the rest near-ties)%n",
                            goldenName, p, agreed, greedy.length);
                    int allowed = allowedFlips >= 0 ? allowedFlips : goldenName.contains("Q") ? greedy.length / 10 : 2;
                    assertTrue(greedy.length - agreed <= allowed, goldenName + " prompt " + p + ": "
                            + (greedy.length - agreed) + " near-tie flips in " + greedy.length + " tokens (at most "
                            + allowed + ")");
                }
            }
            System.out.printf("%s: worst max|Δ|/range %.2e%n", goldenName, worst);
            return worst;
        }
    }

    /**
     * Where greedy decoding may part from llama.cpp's with quantized weights: our logit of llama.cpp's token is
     * within this fraction of the logit range of our top logit (seen: 8e-5 to 2.7e-3 on the quantized goldens).
     */
    static final double NEAR_TIE = 5e-3;

    /**
     * Max |Δ| per position relative to its logit range. F32 weights: the same operations as llama.cpp in another
     * summation order (and exact expf where ggml uses a SIMD approximation): 3e-4 (worst seen 1.7e-4, with an F16
     * KV cache). F16 weights: activations are rounded to F16 before every dot product, as ggml does, so a last-bit
     * difference upstream can move one F16 rounding (2^-11 relative) and the effect grows through the layers:
     * 1e-3 (worst seen 4.6e-4 on kjv7m with every kernel variant's float rows summed in 32 float lanes; 1.3e-4
     * when the scalar reference summed in double, which only happened to land nearer; the all-F32 qwen2 test shows
     * the arithmetic itself agrees to 3e-7). Quantized weights: activations are quantized to 8 bits, so the same
     * effect is 16 times larger: 1.5e-2 (worst seen 9.5e-3). Top-1 must agree at every prompt position.
     */
    static double tolerance(String golden) {
        return golden.contains("Q") ? 1.5e-2 : golden.contains("F16") ? 1e-3 : 3e-4;
    }

    static double range(float[] v) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float f : v) {
            lo = Math.min(lo, f);
            hi = Math.max(hi, f);
        }
        return hi - lo;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    static final class MemorySegmentCopy {
        static void copy(GgufTensor t, long fromElement, float[] dst) {
            java.lang.foreign.MemorySegment.copy(t.data(), ValueLayout.JAVA_FLOAT, fromElement * 4, dst, 0, dst.length);
        }
    }
}
