package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.JavaBackend;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DotKernels on its own: the dots equal the double-precision dot of the dequantized row with the dequantized
 * converted activation (up to float rounding), the convenience and backend entry points agree bit for bit, and
 * the activation converters round as ggml-cpu's x86 code does.
 */
class DotKernelsTest {
    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0,
        GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
        GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS};

    /** Rows of Gaussian values with a random power-of-two scale per 32, an occasional zero block and outlier. */
    private static float[] randomRow(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int b = 0; b < n; b += 32) {
            int s = rnd.nextInt(10);
            float scale = s == 9 ? 0 : Math.scalb(1.0f, s - 4);
            for (int j = b; j < Math.min(n, b + 32); j++) {
                float v = (float) rnd.nextGaussian() * scale;
                x[j] = rnd.nextInt(100) == 0 ? v * 20 : v;
            }
        }
        return x;
    }

    private static int[] sizes(GgmlType type) {
        int qk = Math.max(type.blockSize(), DotKernels.activationQuantizer(type).type().blockSize());
        return qk == 1 ? new int[] {1, 7, 100, 4096} : qk == 32 ? new int[] {32, 96, 4096} : new int[] {256, 1024,
            4096};
    }

    @Test
    void dotMatchesDoubleDotOfDequantizedOperands() {
        SplittableRandom rnd = new SplittableRandom(20240601);
        List<String> report = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : TYPES) {
                double worst = 0;
                for (int n : sizes(type)) {
                    for (int trial = 0; trial < 20; trial++) {
                        long rowBytes = type.bytesFor(n);
                        MemorySegment row = arena.allocate(rowBytes + 3);
                        long off = trial % 4; // unaligned rows too
                        Codecs.of(type).quantize(randomRow(rnd, n), 0, n, null, row, off);
                        float[] x = randomRow(rnd, n);
                        float ours = DotKernels.dot(type, row, off, x, n);

                        QuantizedActivation xq = DotKernels.activationQuantizer(type).quantize(x, 0, n);
                        double[] rs = reference(type, row, off, xq);
                        double ref = rs[0];
                        double scale = rs[1];
                        double err = scale == 0 ? Math.abs(ours - ref) : Math.abs(ours - ref) / scale;
                        worst = Math.max(worst, err);
                        if (!(err <= 2e-6)) {
                            failures.add(String.format(Locale.ROOT, "%s n=%d trial %d: %s vs %s (err %.3g)", type, n,
                                    trial, ours, ref, err));
                        }
                    }
                }
                report.add(String.format(Locale.ROOT, "%-7s max |dot - exact|/sum|w x| = %.3g", type, worst));
            }
        }
        System.out.println("DotKernels vs double dot of dequantized operands:");
        report.forEach(System.out::println);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /**
     * {ref, scale}: the double dot of the dequantized row with the dequantized activation, and the sum of the
     * absolute products; for Q4_1/Q5_1 with ggml's use of Q8_1's rounded {@code s} for the min term.
     */
    static double[] reference(GgmlType type, MemorySegment row, long off, QuantizedActivation xq) {
        int n = xq.size();
        float[] wd = new float[n];
        Codecs.of(type).dequantize(row, off, wd, 0, n);
        float[] xd = new float[n];
        xq.dequantize(xd, 0);
        double ref = 0;
        double scale = 0;
        for (int i = 0; i < n; i++) {
            ref += (double) wd[i] * xd[i];
            scale += Math.abs((double) wd[i] * xd[i]);
        }
        if (type == GgmlType.Q4_1 || type == GgmlType.Q5_1) {
            // ggml multiplies the min by Q8_1's s = fp16(d * sum q), not by sum(d * q): add the difference,
            // which is in ggml's formula, not an error of ours
            int bb = type.blockBytes();
            for (int b = 0; b < n / 32; b++) {
                float m = GgmlFloats.fromHalf(row.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + (long) b * bb + 2)
                        & 0xFFFF);
                long sum = 0;
                for (int j = 0; j < 32; j++) {
                    sum += xq.qs[32 * b + j];
                }
                ref += (double) m * (xq.s[b] - (double) xq.d[b] * sum);
                scale += Math.abs((double) m * xq.s[b]);
            }
        }
        return new double[] {ref, scale};
    }

    @Test
    void dotOfModelRowsMatchesDoubleDot() throws IOException {
        SplittableRandom rnd = new SplittableRandom(99);
        Map<GgmlType, Double> worst = new TreeMap<>();
        List<Path> models;
        try (Stream<Path> s = Files.list(TestData.shared().resolve("models"))) {
            models = s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        for (Path model : models) {
            try (GgufFile f = GgufFile.open(model)) {
                for (GgufTensor t : f.tensors()) {
                    int n = (int) t.rowLength();
                    if (!DotKernels.supports(t.type())
                            || n % DotKernels.activationQuantizer(t.type()).type().blockSize() != 0) {
                        continue;
                    }
                    float[] x = randomRow(rnd, n);
                    QuantizedActivation xq = DotKernels.activationQuantizer(t.type()).quantize(x, 0, n);
                    for (long r : new long[] {0, t.rows() / 2, t.rows() - 1}) {
                        long off = r * t.rowBytes();
                        float ours = DotKernels.dotPrepared(t.type(), t.data(), off, xq);
                        double[] rs = reference(t.type(), t.data(), off, xq);
                        double err = rs[1] == 0 ? Math.abs(ours - rs[0]) : Math.abs(ours - rs[0]) / rs[1];
                        worst.merge(t.type(), err, Math::max);
                        assertTrue(err <= 2e-6, model.getFileName() + " " + t.name() + " row " + r + ": " + ours
                                + " vs " + rs[0]);
                    }
                }
            }
        }
        System.out.println("DotKernels on model rows vs double dot: " + worst);
        assertTrue(worst.size() >= 6, "model tensor types covered: " + worst.keySet());
    }

    @Test
    void entryPointsAgreeBitForBit() {
        SplittableRandom rnd = new SplittableRandom(7);
        int rows = 5;
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : TYPES) {
                int n = 512;
                long rowBytes = type.bytesFor(n);
                MemorySegment w = arena.allocate(rowBytes * rows);
                for (int r = 0; r < rows; r++) {
                    Codecs.of(type).quantize(randomRow(rnd, n), 0, n, null, w, r * rowBytes);
                }
                float[] x = randomRow(rnd, n);
                MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
                MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, rows);
                QuantizedActivation xq = DotKernels.activationQuantizer(type).quantize(x, 0, n);
                float[] expected = new float[rows];
                for (int r = 0; r < rows; r++) {
                    expected[r] = DotKernels.dotPrepared(type, w, r * rowBytes, xq);
                    assertEquals(expected[r], DotKernels.dot(type, w, r * rowBytes, x, n), type + " dot");
                    assertEquals(expected[r], JavaBackend.INSTANCE.dot(type, w.asSlice(r * rowBytes), xs, n),
                            type + " JavaBackend.dot");
                }
                float[] y = new float[rows + 1];
                DotKernels.matvec(type, w, 0, rowBytes, rows, x, n, y, 1);
                assertArrayEquals(expected, java.util.Arrays.copyOfRange(y, 1, rows + 1), type + " matvec");
                DotKernels.matvecPrepared(type, w, 0, rowBytes, rows, xq, y, 0);
                assertArrayEquals(expected, java.util.Arrays.copyOf(y, rows), type + " matvecPrepared");
                JavaBackend.INSTANCE.matvec(type, w, rowBytes, rows, n, xs, ys);
                assertArrayEquals(expected, ys.toArray(ValueLayout.JAVA_FLOAT), type + " JavaBackend.matvec");
                assertTrue(JavaBackend.INSTANCE.supports(type));
            }
        }
    }

    @Test
    void supportedTypesAndErrors() {
        assertEquals(TYPES.length, DotKernels.supportedTypes().size());
        for (GgmlType t : TYPES) {
            assertTrue(DotKernels.supports(t), t.toString());
        }
        assertFalse(DotKernels.supports(GgmlType.Q8_K));
        assertFalse(JavaBackend.INSTANCE.supports(GgmlType.Q8_1));
        assertThrows(UnsupportedTypeException.class,
                () -> DotKernels.dot(GgmlType.Q8_K, MemorySegment.ofArray(new byte[292]), 0, new float[256], 256));
        QuantizedActivation q8k = ActivationQuantizer.Q8_K.quantize(new float[256], 0, 256);
        assertThrows(IllegalArgumentException.class,
                () -> DotKernels.dotPrepared(GgmlType.Q4_0, MemorySegment.ofArray(new byte[144]), 0, q8k));
        assertThrows(IllegalArgumentException.class, () -> ActivationQuantizer.Q8_0.quantize(new float[40], 0, 40));
        assertEquals(ActivationQuantizer.Q8_0, ActivationQuantizer.forWeights(GgmlType.IQ4_NL));
        assertEquals(ActivationQuantizer.Q8_1, ActivationQuantizer.forWeights(GgmlType.Q5_1));
        assertEquals(ActivationQuantizer.Q8_K, ActivationQuantizer.forWeights(GgmlType.IQ4_XS));
    }

    /** A block of 32: one element of |x| = 127 (so id = 1), the rest on .5 ties. */
    private static float[] tiesBlock(int n) {
        float[] x = new float[n];
        float[] ties = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 126.5f};
        for (int b = 0; b < n; b += 32) {
            x[b] = 127;
            for (int j = 1; j < 32; j++) {
                x[b + j] = ties[(j - 1) % ties.length];
            }
        }
        return x;
    }

    @Test
    void q8_0AndQ8_1RoundTiesToEvenAsTheAvx2Code() {
        float[] x = tiesBlock(32);
        byte[] expected = {127, 0, 2, 2, 0, -2, -2, 4, 126};
        for (ActivationQuantizer aq : new ActivationQuantizer[] {ActivationQuantizer.Q8_0, ActivationQuantizer.Q8_1}) {
            QuantizedActivation q = aq.quantize(x, 0, 32);
            for (int j = 0; j < expected.length; j++) {
                assertEquals(expected[j], q.qs[j], aq + " level " + j);
            }
            assertEquals(1.0f, q.d[0]); // fp16(127/127)
            byte[] raw = q.toByteArray();
            assertEquals(aq == ActivationQuantizer.Q8_0 ? 34 : 36, raw.length);
            assertEquals(0x3C00, GgmlFloats.le16(raw, 0));
        }
        QuantizedActivation q1 = ActivationQuantizer.Q8_1.quantize(x, 0, 32);
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            sum += q1.qs[j];
        }
        assertEquals((float) sum, q1.s[0]);
        // roundf would have given 1, 2, 3: what quantize_row_q8_0_ref computes, not what ggml-cpu uses on x86
        assertEquals(1.0f, GgmlFloats.roundf(0.5f));
    }

    @Test
    void q8_KIsTheReferenceQuantizer() {
        float[] x = tiesBlock(256);
        QuantizedActivation q = ActivationQuantizer.Q8_K.quantize(x, 0, 256);
        // max = 127 (the first element), iscale = -1, nearest_int rounds ties to even
        byte[] expected = {-127, 0, -2, -2, 0, 2, 2, -4, -126};
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], q.qs[j], "level " + j);
        }
        assertEquals(-1.0f, q.d[0]);
        int s = 0;
        for (int j = 0; j < 16; j++) {
            s += q.qs[j];
        }
        assertEquals(s, q.bsums[0]);
        byte[] raw = q.toByteArray();
        assertEquals(292, raw.length);
        assertEquals(Float.floatToRawIntBits(-1.0f), GgmlFloats.le32(raw, 0));
        assertEquals(s, (short) GgmlFloats.le16(raw, 260));
        QuantizedActivation zero = ActivationQuantizer.Q8_K.quantize(new float[256], 0, 256);
        assertArrayEquals(new byte[292], zero.toByteArray());
    }

    @Test
    void f16AndBf16ActivationsRoundToNearestEven() {
        float[] x = {1.0f + 0x1p-11f, 1.0f + 0x1p-11f + 0x1p-23f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f};
        QuantizedActivation h = ActivationQuantizer.F16.quantize(x, 0, 4);
        assertEquals(1.0f, h.values[0]);
        assertEquals(1.0f + 0x1p-10f, h.values[1]);
        QuantizedActivation b = ActivationQuantizer.BF16.quantize(x, 0, 4);
        assertEquals(1.0f, b.values[2]);
        assertEquals(1.0f + 0x1p-6f, b.values[3]);
        assertEquals(8, b.byteSize());
    }
}
