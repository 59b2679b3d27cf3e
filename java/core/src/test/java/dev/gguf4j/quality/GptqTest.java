package dev.gguf4j.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.quant.Gptq;
import dev.gguf4j.quant.TypeCodec;
import dev.gguf4j.quantize.Imatrix;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GPTQ ({@link Gptq}) on the trained model kjv7m with real activations: the Gram matrices' diagonals against
 * llama-imatrix c392e50's importance matrix of the same text (an independent tool's sums of x^2), and, on real
 * weights, the error of the matrix product on held-out activations (other chunks of the text than those GPTQ saw)
 * lower than with ggml's reference quantizer's blocks, both decoded by the reference dequantizer (checked against
 * ggml's bytes in GoldenQuantVectorsTest), so the bytes GPTQ writes are valid blocks of the type.
 */
class GptqTest {
    static final int CTX = 256;
    static GramCollector calibration; // chunks 0..9 of kjv7m-test.txt
    static GramCollector heldOut; // chunks 10..17

    @BeforeAll
    static void collect() throws Exception {
        String text = Files.readString(TestData.model("kjv7m-test.txt"));
        try (Llama llama = Llama.load(TestData.model("kjv7m-F16.gguf"), LlamaOptions.DEFAULTS.withThreads(2)
                .withContextLength(CTX))) {
            int[] tokens = llama.tokenizer().encode(text, true, false);
            calibration = GramCollector.collect(llama, tokens, CTX, 10);
            heldOut = GramCollector.collect(llama, Arrays.copyOfRange(tokens, 10 * CTX, 18 * CTX), CTX, 8);
        }
    }

    @Test
    void gramDiagonalsAreLlamaImatrixSums() throws Exception {
        // llama-imatrix stores sum(x^2) / count * ncall per column (count = tokens, ncall = 10 chunks), and
        // Imatrix.read divides by ncall as llama-quantize does: the mean of x^2 over the tokens
        Imatrix im = Imatrix.read(ImatrixCollectorTest.GOLDEN);
        int checked = 0;
        double worst = 0;
        for (var e : im.entries().entrySet()) {
            double[] g = calibration.gram(e.getKey());
            assertNotNull(g, e.getKey());
            float[] v = e.getValue();
            int n = v.length;
            assertEquals((long) n * n, g.length, e.getKey());
            assertEquals(10L * CTX, calibration.tokens(e.getKey()), e.getKey());
            for (int j = 0; j < n; j++) {
                double want = (double) v[j] * (10 * CTX);
                worst = Math.max(worst, Math.abs(g[j * n + j] - want) / want);
            }
            checked++;
        }
        assertEquals(42, checked); // 6 layers x 7 matrices
        assertTrue(worst < 1e-3, "max relative difference " + worst); // float sums in both (see the imatrix test)
        // the shared inputs: q/k/v one matrix, gate/up one matrix
        assertEquals("blk.2.attn_q.weight", calibration.owner("blk.2.attn_v.weight"));
        assertEquals("blk.2.ffn_gate.weight", calibration.owner("blk.2.ffn_up.weight"));
    }

    @Test
    void lowerProductErrorOnHeldOutActivationsThanTheReference() throws Exception {
        try (GgufFile f = GgufFile.open(TestData.model("kjv7m-F16.gguf")); Arena arena = Arena.ofConfined()) {
            for (String name : new String[] {"blk.1.attn_q.weight", "blk.4.ffn_down.weight"}) {
                GgufTensor t = f.requireTensor(name);
                int n = Math.toIntExact(t.rowLength());
                int rows = Math.toIntExact(t.rows());
                float[] w = new float[rows * n];
                Codecs.of(t.type()).dequantize(t.data(), 0, w, 0, rows * n);
                float[] u = Gptq.factor(calibration.gram(name), n, Gptq.DAMP);
                assertNotNull(u, name);
                double[] h = heldOut.gram(name);
                for (GgmlType type : new GgmlType[] {GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K,
                        GgmlType.Q6_K}) {
                    double ref = productError(Codecs.of(type), w, rows, n, h, arena);
                    double ours = productError(Gptq.codec(type, u, n), w, rows, n, h, arena);
                    System.out.printf("%s %s: held-out product error GPTQ / reference = %.3f%n", name, type,
                            ours / ref);
                    assertTrue(ours < 0.85 * ref, name + " " + type + ": " + ours + " vs reference " + ref);
                }
            }
        }
    }

    /** sum over rows of e H e^T, e = the row decoded (by the reference dequantizer) minus the row. */
    private static double productError(TypeCodec codec, float[] w, int rows, int n, double[] h, Arena arena) {
        long rowBytes = codec.type().bytesFor(n);
        MemorySegment q = arena.allocate(rowBytes * rows);
        codec.quantizeRows(w, 0, rows, n, null, q, 0);
        float[] dec = new float[n];
        double[] e = new double[n];
        double total = 0;
        for (int r = 0; r < rows; r++) {
            Codecs.of(codec.type()).dequantize(q, r * rowBytes, dec, 0, n);
            for (int i = 0; i < n; i++) {
                assertTrue(Float.isFinite(dec[i]));
                e[i] = dec[i] - w[r * n + i];
            }
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += h[i * n + j] * e[j];
                }
                total += e[i] * s;
            }
        }
        return total;
    }
}
