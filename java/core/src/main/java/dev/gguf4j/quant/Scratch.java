package dev.gguf4j.quant;

/**
 * Per-thread work arrays of the quantizers, sized for the largest block (a 256-element super-block), so that
 * quantizing a row allocates nothing once a thread has warmed up.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    static final int QK_K = 256;

    /** Quantized levels of a super-block (C's {@code L}), as the C code's int8_t/uint8_t bytes. */
    final byte[] levels = new byte[QK_K];
    /** Trial levels of one sub-block (C's {@code Laux}). */
    final byte[] levelsAux = new byte[QK_K];
    /** Per-element weights of one sub-block. */
    final float[] weights = new float[QK_K];
    /** Per-sub-block scales, mins, weight sums and their quantized levels. */
    final float[] scales = new float[QK_K / 16];
    final float[] mins = new float[QK_K / 16];
    final float[] sumWeights = new float[QK_K / 16];
    final byte[] scaleLevels = new byte[QK_K / 16];
    final byte[] minLevels = new byte[QK_K / 16];

    private byte[] io = new byte[4096];

    private Scratch() {
    }

    static Scratch get() {
        return LOCAL.get();
    }

    /** A byte buffer of at least {@code size} bytes (contents undefined). */
    byte[] io(int size) {
        if (io.length < size) {
            io = new byte[Math.max(size, io.length * 2)];
        }
        return io;
    }
}
