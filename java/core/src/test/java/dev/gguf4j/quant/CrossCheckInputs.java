package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;

/** The inputs of {@code ggml-crosscheck.c}, generated bit for bit the same way (splitmix64, exact float ops). */
final class CrossCheckInputs {
    private long state;

    private CrossCheckInputs(long seed) {
        state = seed;
    }

    long next() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [-1, 1), exactly representable. */
    float unif() {
        return (float) ((int) (next() >>> 40) - 8388608) * 0x1p-23f;
    }

    /** Unsigned 64-bit remainder, as C's {@code next64() % n}. */
    int below(int n) {
        return (int) Long.remainderUnsigned(next(), n);
    }

    float normalish() {
        float a = unif();
        float b = unif();
        float c = unif();
        float d = unif();
        return (((a + b) + c) + d) * 0.05f;
    }

    /** Row of edge kind {@code kind} (index into GgmlCrossCheckTest.KINDS). */
    static float[] row(int kind, int n) {
        CrossCheckInputs g = new CrossCheckInputs(0x5EED0000L + kind);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = g.normalish();
        }
        int p1 = g.below(n);
        int p2 = g.below(n);
        float nan = Float.intBitsToFloat(0x7FC00000);
        switch (kind) {
            case 0 -> { }
            case 1 -> x[p1] = nan;
            case 2 -> x[p1] = Float.POSITIVE_INFINITY;
            case 3 -> x[p1] = Float.NEGATIVE_INFINITY;
            case 4 -> fill(x, i -> g.unif() * 0x1p-130f);
            case 5 -> fill(x, i -> 0.0f);
            case 6 -> fill(x, i -> -0.0f);
            case 7 -> {
                fill(x, i -> 0.0f);
                x[p1] = 0x1p-149f * 3;
            }
            case 8 -> fill(x, i -> g.unif() * 3.0e38f);
            case 9 -> fill(x, i -> g.unif() >= 0 ? Float.MAX_VALUE : -Float.MAX_VALUE);
            case 10 -> fill(x, i -> nan);
            case 11 -> {
                for (int i = 0; i < n; i += 2) {
                    x[i] = nan;
                }
            }
            case 12 -> fill(x, i -> g.unif() * 1e-20f);
            case 13 -> x[p1] = 1e30f;
            case 14 -> {
                x[p1] = Float.intBitsToFloat(0x7F800001);
                x[p2] = Float.intBitsToFloat(0xFFC12345);
            }
            case 15 -> fill(x, i -> i % 2 != 0 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
            case 16 -> {
                x[p1] = Float.POSITIVE_INFINITY;
                x[p1 ^ 1] = Float.NEGATIVE_INFINITY;
            }
            case 17 -> fill(x, i -> (float) (g.below(33) - 16) * 0.5f);
            default -> throw new IllegalArgumentException("kind " + kind);
        }
        return x;
    }

    /** Importance weights of kind 1 (positive), 2 (sparse, a quarter zero) or 3 (all zero). */
    static float[] imatrix(int kind, int n) {
        CrossCheckInputs g = new CrossCheckInputs(0x1A7A0000L + kind);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = switch (kind) {
                case 1 -> Math.abs(g.unif()) * 4.0f + 0.001f;
                case 2 -> g.below(4) == 0 ? 0.0f : Math.abs(g.unif());
                default -> 0.0f;
            };
        }
        return w;
    }

    /** Random block bytes for {@code type} (every byte, scales included, random). */
    static byte[] randomBytes(GgmlType type, int size) {
        CrossCheckInputs g = new CrossCheckInputs(0xB17E5000L + type.id());
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (g.next() >>> 56);
        }
        return b;
    }

    private interface IntToFloat {
        float at(int i);
    }

    private static void fill(float[] x, IntToFloat f) {
        for (int i = 0; i < x.length; i++) {
            x[i] = f.at(i);
        }
    }
}
