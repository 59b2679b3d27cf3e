package dev.gguf4j.quant;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * One weight type's {@code vec_dot}: the dot product of one row of weights with an activation vector already
 * converted to the type's {@code vec_dot_type}. {@link DotKernels} holds one per supported type.
 */
interface DotKernel {

    /** The weight type. */
    GgmlType type();

    /** The converter to the weight type's {@code vec_dot_type}. */
    ActivationQuantizer activation();

    /** dot(row of {@code x.size()} weights at {@code row[offset..]}, {@code x}). */
    float dot(MemorySegment row, long offset, QuantizedActivation x, Work w);

    /** f16 bits to float for all 65536 patterns, as ggml-cpu's {@code ggml_table_f32_f16} lookup. */
    float[] HALF = halfTable();

    private static float[] halfTable() {
        float[] t = new float[1 << 16];
        for (int h = 0; h < t.length; h++) {
            t[h] = GgmlFloats.fromHalf(h);
        }
        return t;
    }

    /** GGML_FP16_TO_FP32 of the little-endian f16 at {@code b[i]}. */
    static float half(byte[] b, int i) {
        return HALF[(b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8];
    }

    /** A block type: the row is copied to a per-thread array, then dotted block by block. */
    abstract class Blocks implements DotKernel {
        final GgmlType type;
        final ActivationQuantizer activation;
        final int blockBytes;

        Blocks(GgmlType type) {
            this.type = type;
            this.activation = ActivationQuantizer.forWeights(type);
            this.blockBytes = type.blockBytes();
        }

        @Override
        public final GgmlType type() {
            return type;
        }

        @Override
        public final ActivationQuantizer activation() {
            return activation;
        }

        @Override
        public final float dot(MemorySegment row, long offset, QuantizedActivation x, Work w) {
            int nb = x.n / type.blockSize();
            int bytes = nb * blockBytes;
            byte[] q = w.row(bytes);
            MemorySegment.copy(row, JAVA_BYTE, offset, q, 0, bytes);
            return dotBlocks(q, nb, x, w);
        }

        /** The dot of the {@code nb} blocks at {@code q[0..)} with {@code x}. */
        abstract float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w);
    }

    /** Per-thread work arrays of the kernels. */
    final class Work {
        private byte[] row = new byte[16 * 1024];
        private float[] floats = new float[0];
        private short[] shorts = new short[0];
        /** Unpacked levels of one k-quant super-block. */
        final byte[] levels = new byte[256];
        /** Scales per 16 elements of one k-quant super-block. */
        final int[] scales16 = new int[16];
        /** ggml's generic k-quant kernels' {@code aux32[8]} and {@code sums[8]}. */
        final int[] aux32 = new int[8];
        final float[] sums = new float[8];
        /** The activation of {@link DotKernels#dot} (not of dotPrepared, whose caller owns it). */
        final QuantizedActivation activation = new QuantizedActivation();

        byte[] row(int size) {
            if (row.length < size) {
                row = new byte[Math.max(size, 2 * row.length)];
            }
            return row;
        }

        float[] floats(int size) {
            if (floats.length < size) {
                floats = new float[size];
            }
            return floats;
        }

        short[] shorts(int size) {
            if (shorts.length < size) {
                shorts = new short[size];
            }
            return shorts;
        }
    }
}
