package dev.gguf4j.quant;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * An activation vector converted to a weight type's {@code vec_dot_type} by an {@link ActivationQuantizer}: what
 * ggml's {@code mul_mat} writes to its work buffer before it calls {@code vec_dot} on every weight row.
 *
 * <p>Holds both ggml's bytes ({@link #copyBytes}, byte-identical to ggml's {@code from_float}) and the unpacked
 * form the dot kernels read (int8 levels, block scales as floats). Reusable: quantizing into it again resizes
 * it; it allocates only when it grows. Not thread-safe: one per thread (or per matvec).
 */
public final class QuantizedActivation {
    private static final int QK_K = 256;

    GgmlType type;
    int n;
    int byteSize;

    /** ggml's bytes of the converted vector, {@code byteSize} of them. */
    byte[] raw = new byte[0];
    /** F32, F16, BF16: the values as floats (F16 and BF16 widened exactly). */
    float[] values = new float[0];
    /** Q8_0, Q8_1, Q8_K: the int8 levels, {@code n} of them. */
    byte[] qs = new byte[0];
    /** Q8_0, Q8_1: the f16 block scale widened; Q8_K: the f32 super-block scale. One per block. */
    float[] d = new float[0];
    /** Q8_1: the f16 {@code s} (d times the sum of the block's levels) widened. */
    float[] s = new float[0];
    /** Q8_K: the 16 sums of 16 levels of each super-block (ggml's int16 {@code bsums}). */
    short[] bsums = new short[0];

    public QuantizedActivation() {
    }

    /** The {@code vec_dot_type} it holds (F32, F16, BF16, Q8_0, Q8_1 or Q8_K); null before the first use. */
    public GgmlType type() {
        return type;
    }

    /** Number of elements. */
    public int size() {
        return n;
    }

    /** Size of ggml's encoding, in bytes. */
    public int byteSize() {
        return byteSize;
    }

    /** Copies ggml's bytes (little-endian, as {@code from_float} writes them) to {@code dst} at {@code offset}. */
    public void copyBytes(MemorySegment dst, long offset) {
        MemorySegment.copy(raw, 0, dst, JAVA_BYTE, offset, byteSize);
    }

    /** ggml's bytes, as a new array. */
    public byte[] toByteArray() {
        return Arrays.copyOf(raw, byteSize);
    }

    /**
     * The values the kernels multiply with: the element itself (F32), its exact widening (F16, BF16), or
     * {@code d * q} (the Q8 types, as ggml's dequantizer of that type computes it).
     */
    public void dequantize(float[] dst, int offset) {
        Objects.checkFromIndexSize(offset, n, dst.length);
        if (type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.BF16) {
            System.arraycopy(values, 0, dst, offset, n);
            return;
        }
        int qk = type.blockSize();
        for (int i = 0; i < n; i++) {
            dst[offset + i] = d[i / qk] * qs[i];
        }
    }

    /** Sets the type and size and makes room; called by the quantizers before they write. */
    void reset(GgmlType vecDotType, int elements) {
        int qk = vecDotType.blockSize();
        if (elements < 0 || elements % qk != 0) {
            throw new IllegalArgumentException(elements + " elements are not a whole number of "
                    + vecDotType.ggmlName() + " blocks of " + qk);
        }
        type = vecDotType;
        n = elements;
        byteSize = (int) vecDotType.bytesFor(elements);
        int nb = elements / qk;
        if (raw.length < byteSize) {
            raw = new byte[byteSize];
        }
        if (qk == 1) {
            if (values.length < elements) {
                values = new float[elements];
            }
            return;
        }
        if (qs.length < elements) {
            qs = new byte[elements];
        }
        if (d.length < nb) {
            d = new float[nb];
        }
        if (vecDotType == GgmlType.Q8_1 && s.length < nb) {
            s = new float[nb];
        }
        if (vecDotType == GgmlType.Q8_K && bsums.length < nb * (QK_K / 16)) {
            bsums = new short[nb * (QK_K / 16)];
        }
    }
}
