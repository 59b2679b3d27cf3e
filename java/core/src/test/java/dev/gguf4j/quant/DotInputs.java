package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The inputs of the vec_dot oracle ({@code jdot.c}, see DotKernelsVsGgmlTest), generated bit for bit the same
 * way: splitmix64, exact float operations only (or single IEEE operations, identical in C and Java).
 */
final class DotInputs {
    static final int N = 4096;
    /** Rows per type: 0..7 quantized from {@link #weightRow}; 8..11 {@link #randomRow} for quantized types. */
    static final int ROWS = 12;
    static final int QUANTIZED_ROWS = 8;
    static final String[] KINDS = {"normal", "ties", "outliers", "sparse", "nonfinite"};

    private long state;

    private DotInputs(long seed) {
        state = seed;
    }

    private long next() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private float unif() {
        return (float) ((int) (next() >>> 40) - 8388608) * 0x1p-23f;
    }

    private int below(int n) {
        return (int) Long.remainderUnsigned(next(), n);
    }

    private float normalish() {
        float a = unif();
        float b = unif();
        float c = unif();
        float d = unif();
        return (((a + b) + c) + d) * 0.05f;
    }

    /** Weight row {@code r}: per 32-block a scale 2^(s-3), s = below(8), s == 7 making the block zero. */
    static float[] weightRow(int r) {
        DotInputs g = new DotInputs(0xD0770000L + r);
        float[] x = new float[N];
        for (int b = 0; b < N / 32; b++) {
            int s = g.below(8);
            float scale = s == 7 ? 0.0f : Math.scalb(1.0f, s - 3);
            for (int j = 0; j < 32; j++) {
                x[32 * b + j] = g.normalish() * scale;
            }
        }
        return x;
    }

    /** Byte offsets of the f16 scales in a block of {@code type}; null for the element-wise types. */
    static int[] halfOffsets(GgmlType type) {
        return switch (type) {
            case Q4_0, Q5_0, Q8_0, IQ4_NL, IQ4_XS -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> null;
        };
    }

    /**
     * Row {@code r} of the quantized {@code type} made of random bytes, each f16 scale then set to a random
     * finite +-[2^-10, 2^-6): every bit pattern of levels and sub-block scales, but no NaN or infinite scale.
     */
    static void randomRow(GgmlType type, int r, MemorySegment dst, long offset) {
        DotInputs g = new DotInputs(0xB10C0000L + type.id() * 16L + r);
        int rowBytes = (int) type.bytesFor(N);
        byte[] b = new byte[rowBytes];
        for (int i = 0; i < rowBytes; i++) {
            b[i] = (byte) (g.next() >>> 56);
        }
        int bb = type.blockBytes();
        for (int blk = 0; blk < rowBytes / bb; blk++) {
            for (int o : halfOffsets(type)) {
                int h = 0x1400 + g.below(0x1000) + (g.below(2) != 0 ? 0x8000 : 0);
                GgmlFloats.putLe16(b, blk * bb + o, h);
            }
        }
        MemorySegment.copy(b, 0, dst, java.lang.foreign.ValueLayout.JAVA_BYTE, offset, rowBytes);
    }

    /** All {@link #ROWS} weight rows of {@code type}, as the oracle made them, at {@code dst[0..)}. */
    static void weights(GgmlType type, MemorySegment dst) {
        long rowBytes = type.bytesFor(N);
        for (int r = 0; r < ROWS; r++) {
            if (r >= QUANTIZED_ROWS && halfOffsets(type) != null) {
                randomRow(type, r, dst, r * rowBytes);
            } else {
                Codecs.of(type).quantize(weightRow(r), 0, N, null, dst, r * rowBytes);
            }
        }
    }

    /** Activation of kind {@code kind} (index into {@link #KINDS}). */
    static float[] activation(int kind) {
        DotInputs g = new DotInputs(0xAC700000L + kind);
        float[] x = new float[N];
        switch (kind) {
            case 0 -> {
                for (int b = 0; b < N / 32; b++) {
                    float scale = Math.scalb(1.0f, g.below(9) - 4);
                    for (int j = 0; j < 32; j++) {
                        x[32 * b + j] = g.normalish() * scale;
                    }
                }
            }
            case 1 -> {
                for (int b = 0; b < N / 32; b++) {
                    x[32 * b] = g.below(2) != 0 ? 127.0f : -127.0f;
                    for (int j = 1; j < 32; j++) {
                        x[32 * b + j] = (float) (g.below(255) - 127) * 0.5f;
                    }
                }
            }
            case 2 -> {
                for (int i = 0; i < N; i++) {
                    float v = g.normalish();
                    x[i] = g.below(64) == 0 ? v * 100.0f : v;
                }
            }
            case 3 -> {
                for (int b = 0; b < N / 32; b++) {
                    int k = g.below(5);
                    int p = g.below(32);
                    for (int j = 0; j < 32; j++) {
                        float v = g.normalish();
                        x[32 * b + j] = switch (k) {
                            case 0 -> 0.0f;
                            case 1 -> v * 0x1p-130f;
                            case 2 -> j == p ? v : 0.0f;
                            case 3 -> v * 0x1p-100f;
                            default -> v;
                        };
                    }
                }
            }
            case 4 -> {
                for (int i = 0; i < N; i++) {
                    x[i] = g.normalish();
                }
                x[g.below(N)] = Float.intBitsToFloat(0x7FC12345);
                x[g.below(N)] = Float.intBitsToFloat(0xFFC00000);
                x[g.below(N)] = Float.POSITIVE_INFINITY;
                x[g.below(N)] = Float.NEGATIVE_INFINITY;
                x[g.below(N)] = Float.intBitsToFloat(0x7F800001);
            }
            default -> throw new IllegalArgumentException("kind " + kind);
        }
        return x;
    }
}
