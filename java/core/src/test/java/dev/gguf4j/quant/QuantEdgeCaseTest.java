package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Seeded randomized round trips with per-type error bounds, and the behaviour documented on {@link Codecs}
 * for zero, denormal, tiny and non-finite input, unsupported types and bad arguments. (Exactness against ggml
 * is GoldenQuantVectorsTest's, GgmlCrossCheckTest's and LlamaQuantizeOutputsTest's job.)
 */
class QuantEdgeCaseTest {
    static final GgmlType[] QUANTIZABLE = {GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
        GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
        GgmlType.IQ4_NL, GgmlType.IQ4_XS};

    /**
     * Worst relative RMS error (rmse / rms(x)) and worst max |error| / max |x| per 32 elements over the random
     * rows below, with some margin over what ggml's algorithms give (measured: F16 0.0002/0.0005, BF16
     * 0.0018/0.0039, Q8_0 0.006/0.0043, Q6_K 0.019/0.047, Q5_0 0.045/0.082, Q5_1 0.040/0.067, Q5_K 0.039/0.082,
     * Q4_0 0.092/0.162, Q4_1 0.083/0.134, Q4_K 0.077/0.143, IQ4_NL 0.080/0.160, IQ4_XS 0.081/0.170, Q3_K
     * 0.159/0.383, Q2_K 0.313/0.713).
     */
    static final Map<GgmlType, double[]> BOUNDS = new EnumMap<>(Map.ofEntries(
            Map.entry(GgmlType.F16, new double[] {0.00025, 0.0005}),
            Map.entry(GgmlType.BF16, new double[] {0.0022, 0.0040}),
            Map.entry(GgmlType.Q8_0, new double[] {0.0075, 1.0 / 254 + 1.0 / 2048}), // d/2 + 127 * f16 error of d
            Map.entry(GgmlType.Q6_K, new double[] {0.024, 0.07}),
            Map.entry(GgmlType.Q5_0, new double[] {0.057, 0.125}),
            Map.entry(GgmlType.Q5_1, new double[] {0.050, 0.10}),
            Map.entry(GgmlType.Q5_K, new double[] {0.050, 0.12}),
            Map.entry(GgmlType.Q4_0, new double[] {0.115, 0.24}),
            Map.entry(GgmlType.Q4_1, new double[] {0.105, 0.20}),
            Map.entry(GgmlType.Q4_K, new double[] {0.096, 0.21}),
            Map.entry(GgmlType.IQ4_NL, new double[] {0.10, 0.24}),
            Map.entry(GgmlType.IQ4_XS, new double[] {0.10, 0.25}),
            Map.entry(GgmlType.Q3_K, new double[] {0.20, 0.57}),
            Map.entry(GgmlType.Q2_K, new double[] {0.39, 0.95})));

    static byte[] quantize(GgmlType type, float[] x, float[] qw) {
        byte[] q = new byte[(int) type.bytesFor(x.length)];
        Codecs.of(type).quantize(x, 0, x.length, qw, MemorySegment.ofArray(q), 0);
        return q;
    }

    static float[] dequantize(GgmlType type, byte[] q, int n) {
        float[] y = new float[n];
        Codecs.of(type).dequantize(MemorySegment.ofArray(q), 0, y, 0, n);
        return y;
    }

    static float[] roundTrip(GgmlType type, float[] x, float[] qw) {
        return dequantize(type, quantize(type, x, qw), x.length);
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
        "Q6_K", "IQ4_NL", "IQ4_XS"})
    void randomRowsStayWithinErrorBounds(GgmlType type) {
        double[] bound = BOUNDS.get(type);
        for (int seed = 0; seed < 120; seed++) {
            Random r = new Random(seed * 31L + type.id());
            int n = 256 * (1 + r.nextInt(4));
            float scale = (float) Math.pow(10, r.nextInt(6) - 2); // 0.01 .. 1000: f16 scales stay normal
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (seed % 2 == 0 ? r.nextGaussian() : r.nextDouble() * 2 - 1) * scale;
            }
            float[] qw = null;
            if (seed % 3 != 0) {
                qw = new float[n];
                for (int i = 0; i < n; i++) {
                    qw[i] = (float) r.nextDouble() + 0.01f;
                }
            }
            float[] y = roundTrip(type, x, qw);
            double se = 0;
            double sx = 0;
            for (int i = 0; i < n; i++) {
                se += (double) (x[i] - y[i]) * (x[i] - y[i]);
                sx += (double) x[i] * x[i];
            }
            double rel = Math.sqrt(se / sx);
            assertTrue(rel <= bound[0], type + " seed " + seed + ": relative rms error " + rel);
            for (int b = 0; b < n; b += 32) {
                double amax = 0;
                double maxErr = 0;
                for (int i = b; i < b + 32; i++) {
                    amax = Math.max(amax, Math.abs(x[i]));
                    maxErr = Math.max(maxErr, Math.abs(x[i] - y[i]));
                }
                assertTrue(maxErr <= bound[1] * amax, type + " seed " + seed + " elements " + b + "..: max error "
                        + maxErr + " for max |x| " + amax);
            }
        }
    }

    @Test
    void f16AndBf16AreRoundedToNearest() {
        Random r = new Random(7);
        for (int k = 0; k < 10000; k++) {
            float x = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(20) - 10));
            float h = roundTrip(GgmlType.F16, new float[] {x}, null)[0];
            double halfUlp16 = Math.abs(h) >= 0x1p-14f ? Math.ulp(h) * 8192 / 2 : 0x1p-25;
            assertTrue(Math.abs(x - h) <= halfUlp16, x + " -> " + h);
            float b = roundTrip(GgmlType.BF16, new float[] {x}, null)[0];
            assertTrue(Math.abs(x - b) <= Math.ulp(b) * 65536 / 2, x + " -> " + b);
        }
    }

    /** All-zero rows (+0 or -0, with or without weights, zero weights too) decode to zeros in every type. */
    @Test
    void zeroRowsDecodeToZero() {
        for (GgmlType type : QUANTIZABLE) {
            for (float z : new float[] {0.0f, -0.0f}) {
                float[] x = new float[512];
                Arrays.fill(x, z);
                for (float[] qw : new float[][] {null, CrossCheckInputs.imatrix(1, 512), new float[512]}) {
                    for (float v : roundTrip(type, x, qw)) {
                        assertEquals(0.0f, Math.abs(v), type + " " + z);
                    }
                }
            }
        }
    }

    /**
     * Rows too small for an f16 scale (denormals, 1e-20, below GROUP_MAX_EPS) decode to zeros in every block
     * type and F16; BF16 keeps them (same exponent range as F32, no flush to zero). The one exception is ggml's
     * too: with importance weights, a row of denormals overflows make_qp_quants' inverse scale in Q2_K, Q4_K and
     * Q5_K, whose super-blocks then decode to NaN.
     */
    @Test
    void denormalAndTinyRowsDecodeToZeroInBlockTypes() {
        for (int kind : new int[] {4, 7, 12}) { // denormal, onedenormal, tiny
            float[] x = CrossCheckInputs.row(kind, 512);
            for (GgmlType type : QUANTIZABLE) {
                for (float[] qw : new float[][] {null, CrossCheckInputs.imatrix(1, 512)}) {
                    float[] y = roundTrip(type, x, qw);
                    boolean nanInGgml = kind == 4 && qw != null
                            && (type == GgmlType.Q2_K || type == GgmlType.Q4_K || type == GgmlType.Q5_K);
                    for (int i = 0; i < y.length; i++) {
                        if (nanInGgml) {
                            assertTrue(Float.isNaN(y[i]), type + " element " + i);
                        } else if (type == GgmlType.BF16) {
                            assertEquals(GgmlFloats.fromBf16(GgmlFloats.toBf16(x[i])), y[i]);
                        } else {
                            assertEquals(0.0f, Math.abs(y[i]), type + " kind " + kind + " element " + i);
                        }
                    }
                }
            }
        }
        assertEquals(0x1p-130f, roundTrip(GgmlType.BF16, new float[] {0x1p-130f}, null)[0]); // a denormal survives
    }

    /**
     * A NaN or infinity is contained to the unit ggml derives a scale from: the element (F16, BF16), the block
     * of 32 (Q4_0..Q8_0 unweighted, Q8_0 always, IQ4_NL) or the super-block of 256 (k-quants, IQ4_XS); the
     * importance-weighted Q4_0/Q4_1/Q5_0/Q5_1 weigh by the whole row's mean square, so there the whole row may
     * change. Nothing throws.
     */
    @Test
    void nonFiniteValuesStayInTheirBlock() {
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.intBitsToFloat(0xFFC12345)};
        float[] clean = CrossCheckInputs.row(0, 1024);
        for (GgmlType type : QUANTIZABLE) {
            for (float[] qw : new float[][] {null, CrossCheckInputs.imatrix(1, 1024)}) {
                boolean legacyWeighted = qw != null && (type == GgmlType.Q4_0 || type == GgmlType.Q4_1
                        || type == GgmlType.Q5_0 || type == GgmlType.Q5_1);
                int unit = type.blockSize() == 1 ? 1 : type.blockSize();
                byte[] expected = quantize(type, clean, qw);
                for (float s : specials) {
                    for (int p : new int[] {0, 37, 300, 1023}) {
                        float[] x = clean.clone();
                        x[p] = s;
                        byte[] q = quantize(type, x, qw);
                        dequantize(type, q, x.length); // must not throw either
                        if (legacyWeighted) {
                            continue;
                        }
                        int unitBytes = (int) type.bytesFor(unit);
                        int from = p / unit * unitBytes;
                        for (int i = 0; i < q.length; i++) {
                            if (i < from || i >= from + unitBytes) {
                                assertEquals(expected[i], q[i], type + " " + s + " at " + p + ": byte " + i);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Rows of nothing but NaN or infinities quantize without error; F16/BF16 keep them. */
    @Test
    void allNonFiniteRows() {
        for (int kind : new int[] {10, 11, 15, 9}) { // allnan, halfnan, infs, nearmax
            float[] x = CrossCheckInputs.row(kind, 512);
            for (GgmlType type : QUANTIZABLE) {
                for (float[] qw : new float[][] {null, CrossCheckInputs.imatrix(2, 512),
                    CrossCheckInputs.imatrix(3, 512)}) {
                    float[] y = roundTrip(type, x, qw);
                    assertEquals(512, y.length);
                }
            }
            float[] h = roundTrip(GgmlType.F16, x, null);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.isNaN(x[i]), Float.isNaN(h[i]));
                if (Float.isInfinite(x[i])) {
                    assertEquals(x[i], h[i]);
                }
            }
        }
        // F16: every NaN becomes the quiet 0x7E00 with its sign; decoding keeps sign and payload, quiet
        byte[] q = quantize(GgmlType.F16, new float[] {Float.intBitsToFloat(0xFF812345)}, null);
        assertArrayEquals(new byte[] {0x00, (byte) 0xFE}, q);
        float[] y = dequantize(GgmlType.F16, new byte[] {0x01, 0x7C}, 1); // signalling f16 NaN
        assertEquals(0x7FC02000, Float.floatToRawIntBits(y[0]));
    }

    @Test
    void quantizingIsIndependentOfWhatCameBefore() {
        for (GgmlType type : QUANTIZABLE) {
            float[] a = CrossCheckInputs.row(0, 512);
            float[] b = CrossCheckInputs.row(13, 512);
            float[] qw = CrossCheckInputs.imatrix(2, 512);
            byte[] first = quantize(type, a, qw);
            quantize(type, b, null);
            quantize(type, CrossCheckInputs.row(10, 512), qw);
            assertArrayEquals(first, quantize(type, a, qw), type.toString());
        }
    }

    @Test
    void offsetsAndRowsApi() {
        for (GgmlType type : QUANTIZABLE) {
            float[] rows = new float[3 * 256];
            Random r = new Random(type.id());
            for (int i = 0; i < rows.length; i++) {
                rows[i] = (float) r.nextGaussian();
            }
            int rowBytes = (int) type.bytesFor(256);
            byte[] all = new byte[7 + 3 * rowBytes];
            TypeCodec c = Codecs.of(type);
            c.quantizeRows(rows, 0, 3, 256, null, MemorySegment.ofArray(all), 7);
            for (int row = 0; row < 3; row++) {
                byte[] one = new byte[rowBytes];
                c.quantize(rows, row * 256, 256, null, MemorySegment.ofArray(one), 0);
                assertArrayEquals(one, Arrays.copyOfRange(all, 7 + row * rowBytes, 7 + (row + 1) * rowBytes));
                float[] y = new float[5 + 256];
                c.dequantize(MemorySegment.ofArray(all), 7 + (long) row * rowBytes, y, 5, 256);
                assertArrayEquals(dequantize(type, one, 256), Arrays.copyOfRange(y, 5, 5 + 256));
            }
        }
    }

    @Test
    void threadsDoNotShareState() throws Exception {
        List<float[]> inputs = new ArrayList<>();
        for (int k = 0; k < 24; k++) {
            // kind 14 mixes two NaN payloads: which one survives an operation may differ between interpreted and
            // JIT-compiled code (the documented limit in Codecs), so it cannot show thread interference
            if (k % 18 != 14) {
                inputs.add(CrossCheckInputs.row(k % 18, 512));
            }
        }
        float[] qw = CrossCheckInputs.imatrix(1, 512);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q3_K, GgmlType.IQ4_XS, GgmlType.Q4_0}) {
            List<byte[]> expected = new ArrayList<>();
            for (float[] x : inputs) {
                expected.add(quantize(type, x, qw));
            }
            try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
                List<Future<byte[]>> results = new ArrayList<>();
                for (int rep = 0; rep < 8; rep++) {
                    for (float[] x : inputs) {
                        results.add(pool.submit(() -> quantize(type, x, qw)));
                    }
                }
                for (int i = 0; i < results.size(); i++) {
                    assertArrayEquals(expected.get(i % inputs.size()), results.get(i).get(), type.toString());
                }
            }
        }
    }

    @Test
    void unsupportedTypesSayNotSupportedYet() {
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_1, GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ2_S,
            GgmlType.IQ3_XXS, GgmlType.IQ3_S, GgmlType.IQ1_S, GgmlType.IQ1_M, GgmlType.TQ1_0, GgmlType.TQ2_0,
            GgmlType.MXFP4, GgmlType.I8, GgmlType.F64}) {
            assertFalse(Codecs.supports(t));
            UnsupportedTypeException e = assertThrows(UnsupportedTypeException.class, () -> Codecs.of(t));
            assertTrue(e.getMessage().contains("not supported yet"), e.getMessage());
            assertEquals(t, e.type());
        }
        TypeCodec q8k = Codecs.of(GgmlType.Q8_K);
        assertFalse(q8k.canQuantize());
        assertFalse(Codecs.supportsQuantize(GgmlType.Q8_K));
        UnsupportedTypeException e = assertThrows(UnsupportedTypeException.class,
                () -> q8k.quantize(new float[256], 0, 256, null, MemorySegment.ofArray(new byte[292]), 0));
        assertTrue(e.getMessage().contains("not supported yet"));
        for (GgmlType t : QUANTIZABLE) {
            assertTrue(Codecs.supportsQuantize(t), t.toString());
        }
        assertTrue(Codecs.supportsQuantize(GgmlType.F32));
    }

    @Test
    void badArguments() {
        TypeCodec q4k = Codecs.of(GgmlType.Q4_K);
        MemorySegment dst = MemorySegment.ofArray(new byte[4096]);
        assertThrows(IllegalArgumentException.class, () -> q4k.quantize(new float[300], 0, 300, null, dst, 0));
        assertThrows(IllegalArgumentException.class, () -> q4k.quantize(new float[256], 0, 256, new float[10], dst, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> q4k.quantize(new float[256], 1, 256, null, dst, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> q4k.quantize(new float[256], 0, 256, null, dst, 4000));
        assertThrows(IllegalArgumentException.class, () -> q4k.dequantize(dst, 0, new float[64], 0, 64));
        assertThrows(IndexOutOfBoundsException.class, () -> q4k.dequantize(dst, 0, new float[256], 1, 256));
        assertThrows(IndexOutOfBoundsException.class, () -> q4k.dequantize(dst, 4000, new float[256], 0, 256));
        TypeCodec f16 = Codecs.of(GgmlType.F16);
        assertThrows(IndexOutOfBoundsException.class, () -> f16.dequantize(dst, 0, new float[3], 0, 4));
    }
}
