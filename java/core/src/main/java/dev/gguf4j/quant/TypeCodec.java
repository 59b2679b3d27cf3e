package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Conversion between F32 and one ggml tensor type, bit-for-bit as ggml does it.
 *
 * <p>Rows are {@code n} elements, a multiple of the type's block size. Encoded bytes are read from and written
 * to memory segments (mapped files, off-heap buffers or {@code MemorySegment.ofArray(byte[])}), little-endian.
 * Implementations are stateless and thread-safe. See {@link Codecs} for the supported types, the exactness
 * guarantees and what comes out for NaN, infinite, denormal and all-zero input.
 */
public interface TypeCodec {

    GgmlType type();

    /**
     * ggml's {@code to_float}: decodes {@code n} elements starting at byte {@code srcOffset} of {@code src}.
     *
     * @throws IllegalArgumentException if {@code n} is not a whole number of blocks
     */
    void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n);

    /** Whether {@link #quantize} is implemented for this type. */
    boolean canQuantize();

    /**
     * ggml's reference quantizer of one row ({@code ggml_quantize_chunk} for one row): encodes
     * {@code src[srcOffset .. srcOffset+n)} to {@code dst} at byte {@code dstOffset}. {@code importance} is the
     * importance matrix column weights ({@code quant_weights}, {@code n} floats) or null.
     *
     * @throws dev.gguf4j.types.UnsupportedTypeException if {@link #canQuantize()} is false
     * @throws IllegalArgumentException if {@code n} is not a whole number of blocks or {@code importance} is
     *     shorter than {@code n}
     */
    void quantize(float[] src, int srcOffset, int n, float[] importance, MemorySegment dst, long dstOffset);

    /**
     * {@code ggml_quantize_chunk} for {@code nrows} consecutive rows of {@code nPerRow} elements: row {@code r} is
     * {@code src[srcOffset + r*nPerRow ..)} and goes to byte {@code dstOffset + r*rowBytes}. {@code importance}
     * ({@code nPerRow} floats, or null) applies to every row.
     */
    default void quantizeRows(float[] src, int srcOffset, int nrows, int nPerRow, float[] importance,
            MemorySegment dst, long dstOffset) {
        long rowBytes = type().bytesFor(nPerRow);
        for (int r = 0; r < nrows; r++) {
            quantize(src, srcOffset + r * nPerRow, nPerRow, importance, dst, dstOffset + r * rowBytes);
        }
    }
}
