package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * GPTQ's column loop has two implementations that must write the same bytes: libgguf4j's {@code g4j_gptq_block}
 * (each kernel variant) and the Java loop of {@link Gptq} (used where the native library is not loaded). Checked on
 * rows of 512 with a factor from a correlated Gram matrix, and with the identity factor, for every type GPTQ covers.
 * (Whether the bytes are good is GptqTest's question: product error against ggml's reference quantizer.)
 */
class GptqLoopTest {
    static final GgmlType[] TYPES = {GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};

    @Test
    void nativeAndJavaLoopsWriteTheSameBytes() {
        int n = 512;
        int rows = 24;
        SplittableRandom r = new SplittableRandom(7);
        // X: 2000 tokens whose columns are correlated (a shared component per group of 16), as activations are
        int tokens = 2000;
        double[] g = new double[n * n];
        double[] x = new double[n];
        for (int t = 0; t < tokens; t++) {
            double common = r.nextGaussian();
            for (int i = 0; i < n; i++) {
                x[i] = (i % 16 == 0 ? common : 0.5 * common) + r.nextGaussian() * (1 + (i % 7));
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    g[i * n + j] += x[i] * x[j];
                }
            }
        }
        float[] u = Gptq.factor(g, n, Gptq.DAMP);
        assertNotNull(u);
        assertEquals(Gptq.packedSize(n), u.length);
        float[] w = new float[rows * n];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02 + (i % 97 == 0 ? 0.2 : 0));
        }
        try (Arena arena = Arena.ofConfined()) {
            for (float[] factor : new float[][] {u, Gptq.IDENTITY}) {
                for (GgmlType type : TYPES) {
                    long bytes = type.bytesFor(n) * rows;
                    MemorySegment a = arena.allocate(bytes);
                    MemorySegment b = arena.allocate(bytes);
                    Gptq.codec(type, factor, n, true).quantizeRows(w, 0, rows, n, null, a, 0);
                    Gptq.codec(type, factor, n, false).quantizeRows(w, 0, rows, n, null, b, 0);
                    String what = type + (factor == Gptq.IDENTITY ? " identity" : "");
                    assertArrayEquals(b.toArray(ValueLayout.JAVA_BYTE), a.toArray(ValueLayout.JAVA_BYTE), what);
                    // and the identity's squared error is no worse than ggml's reference search's (it starts from
                    // ggml's choice with weights 1 and only re-chooses levels where that lowers the error)
                    if (factor == Gptq.IDENTITY) {
                        MemorySegment ref = arena.allocate(bytes);
                        Codecs.of(type).quantizeRows(w, 0, rows, n, null, ref, 0);
                        assertTrue(sse(type, a, w, rows, n) <= sse(type, ref, w, rows, n) * 1.0001, what);
                    }
                }
            }
        }
    }

    private static double sse(GgmlType type, MemorySegment q, float[] w, int rows, int n) {
        float[] dec = new float[n];
        double e = 0;
        for (int r = 0; r < rows; r++) {
            Codecs.of(type).dequantize(q, r * type.bytesFor(n), dec, 0, n);
            for (int i = 0; i < n; i++) {
                double d = dec[i] - w[r * n + i];
                e += d * d;
            }
        }
        return e;
    }

    @Test
    void packedTriangleIndexing() {
        for (int n : new int[] {1, 2, 3, 256, 5632}) {
            assertEquals(0, Gptq.packedIndex(n, 0, 0));
            assertEquals(n, Gptq.packedIndex(n, 1, 1)); // row 0 holds n entries
            assertEquals(Gptq.packedSize(n) - 1, Gptq.packedIndex(n, n - 1, n - 1));
            assertEquals(n, Gptq.packedOrder(Gptq.packedSize(n)));
        }
        assertEquals(-1, Gptq.packedOrder(4));
    }
}
