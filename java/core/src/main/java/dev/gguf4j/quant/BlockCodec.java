package dev.gguf4j.quant;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A block-quantized type: rows are whole blocks of {@link GgmlType#blockSize()} elements stored in
 * {@link GgmlType#blockBytes()} bytes each. Subclasses decode one block and encode one row from and to a
 * {@code byte[]}; this class moves the bytes between memory segments and that array, and checks arguments.
 */
abstract class BlockCodec implements TypeCodec {
    /** Blocks decoded per bulk copy out of the source segment. */
    private static final int DEQUANT_CHUNK_BYTES = 16 * 1024;

    final GgmlType type;
    final int qk;
    final int blockBytes;

    BlockCodec(GgmlType type) {
        this.type = type;
        this.qk = type.blockSize();
        this.blockBytes = type.blockBytes();
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    /** Decodes the block at {@code q[qo..qo+blockBytes)} into {@code y[yo..yo+qk)}. */
    abstract void decodeBlock(byte[] q, int qo, float[] y, int yo);

    /**
     * Encodes the row {@code x[xo..xo+n)} into {@code y[0..)} as ggml_quantize_chunk does for one row.
     * {@code qw} is null or the row's importance weights, {@code qw[0..n)}.
     */
    abstract void encodeRow(float[] x, int xo, int n, float[] qw, byte[] y, Scratch s);

    @Override
    public final void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n) {
        checkRow(n);
        Objects.checkFromIndexSize(dstOffset, n, dst.length);
        int nb = n / qk;
        int chunk = Math.max(1, DEQUANT_CHUNK_BYTES / blockBytes);
        byte[] buf = Scratch.get().io(Math.min(chunk, nb) * blockBytes);
        for (int b = 0; b < nb; b += chunk) {
            int m = Math.min(chunk, nb - b);
            MemorySegment.copy(src, JAVA_BYTE, srcOffset + (long) b * blockBytes, buf, 0, m * blockBytes);
            for (int k = 0; k < m; k++) {
                decodeBlock(buf, k * blockBytes, dst, dstOffset + (b + k) * qk);
            }
        }
    }

    @Override
    public boolean canQuantize() {
        return true;
    }

    @Override
    public final void quantize(float[] src, int srcOffset, int n, float[] importance, MemorySegment dst,
            long dstOffset) {
        if (!canQuantize()) {
            throw new UnsupportedTypeException(type, "quantization");
        }
        checkRow(n);
        Objects.checkFromIndexSize(srcOffset, n, src.length);
        if (importance != null && importance.length < n) {
            throw new IllegalArgumentException("importance has " + importance.length + " weights for a row of " + n);
        }
        int rowBytes = n / qk * blockBytes;
        Scratch s = Scratch.get();
        byte[] out = s.io(rowBytes);
        encodeRow(src, srcOffset, n, importance, out, s);
        MemorySegment.copy(out, 0, dst, JAVA_BYTE, dstOffset, rowBytes);
    }

    final void checkRow(int n) {
        if (n < 0 || n % qk != 0) {
            throw new IllegalArgumentException(n + " elements are not a whole number of " + type.ggmlName()
                    + " blocks of " + qk);
        }
    }
}
