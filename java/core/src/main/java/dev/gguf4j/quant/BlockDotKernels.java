package dev.gguf4j.quant;

import static dev.gguf4j.quant.DotKernel.half;

import dev.gguf4j.types.GgmlType;

/**
 * The dot products of the 32-element block types with Q8_0 or Q8_1 activations, as ggml-cpu's generic code
 * (the scalar loop at the end of each {@code ggml_vec_dot_*}) computes them: an exact integer sum per block,
 * then one float multiply-add per block in ggml's operand order, accumulated in a float from block 0 up. Every
 * float operation is plain IEEE single precision, no fused multiply-add (what a build without {@code -march}
 * does; the SIMD kernels of an AVX2 build sum the same per-block terms in another order and with FMA).
 */
final class BlockDotKernels {
    private BlockDotKernels() {
    }

    /**
     * Q4_0 x Q8_0 ({@code ggml_vec_dot_q4_0_q8_0}): levels {@code (nibble - 8)};
     * {@code sumf += sumi * d_x * d_y}, evaluated as {@code (sumi * d_x) * d_y}.
     */
    static final class Q4_0 extends DotKernel.Blocks {
        Q4_0() {
            super(GgmlType.Q4_0);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * 18;
                int yo = ib * 32;
                int sumi0 = 0;
                int sumi1 = 0;
                for (int j = 0; j < 16; j++) {
                    int b = q[o + 2 + j] & 0xFF;
                    sumi0 += ((b & 0xF) - 8) * y[yo + j];
                    sumi1 += ((b >> 4) - 8) * y[yo + j + 16];
                }
                sumf += (sumi0 + sumi1) * half(q, o) * x.d[ib];
            }
            return sumf;
        }
    }

    /**
     * Q4_1 x Q8_1 ({@code ggml_vec_dot_q4_1_q8_1}): levels {@code nibble};
     * {@code sumf += (d_x * d_y) * sumi + m_x * s_y}.
     */
    static final class Q4_1 extends DotKernel.Blocks {
        Q4_1() {
            super(GgmlType.Q4_1);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * 20;
                int yo = ib * 32;
                int sumi0 = 0;
                int sumi1 = 0;
                for (int j = 0; j < 16; j++) {
                    int b = q[o + 4 + j] & 0xFF;
                    sumi0 += (b & 0xF) * y[yo + j];
                    sumi1 += (b >> 4) * y[yo + j + 16];
                }
                sumf += half(q, o) * x.d[ib] * (sumi0 + sumi1) + half(q, o + 2) * x.s[ib];
            }
            return sumf;
        }
    }

    /**
     * Q5_0 x Q8_0 ({@code ggml_vec_dot_q5_0_q8_0}): levels {@code (nibble | fifth bit << 4) - 16};
     * {@code sumf += (d_x * d_y) * sumi}.
     */
    static final class Q5_0 extends DotKernel.Blocks {
        Q5_0() {
            super(GgmlType.Q5_0);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * 22;
                int yo = ib * 32;
                int qh = GgmlFloats.le32(q, o + 2);
                int sumi0 = 0;
                int sumi1 = 0;
                for (int j = 0; j < 16; j++) {
                    int b = q[o + 6 + j] & 0xFF;
                    int x0 = ((b & 0xF) | ((qh >>> j) << 4 & 0x10)) - 16;
                    int x1 = ((b >> 4) | (qh >>> (j + 12) & 0x10)) - 16;
                    sumi0 += x0 * y[yo + j];
                    sumi1 += x1 * y[yo + j + 16];
                }
                sumf += half(q, o) * x.d[ib] * (sumi0 + sumi1);
            }
            return sumf;
        }
    }

    /**
     * Q5_1 x Q8_1 ({@code ggml_vec_dot_q5_1_q8_1}): levels {@code nibble | fifth bit << 4};
     * {@code sumf += (d_x * d_y) * sumi + m_x * s_y}.
     */
    static final class Q5_1 extends DotKernel.Blocks {
        Q5_1() {
            super(GgmlType.Q5_1);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * 24;
                int yo = ib * 32;
                int qh = GgmlFloats.le32(q, o + 4);
                int sumi0 = 0;
                int sumi1 = 0;
                for (int j = 0; j < 16; j++) {
                    int b = q[o + 8 + j] & 0xFF;
                    int x0 = (b & 0xF) | ((qh >>> j) << 4 & 0x10);
                    int x1 = (b >> 4) | (qh >>> (j + 12) & 0x10);
                    sumi0 += x0 * y[yo + j];
                    sumi1 += x1 * y[yo + j + 16];
                }
                sumf += half(q, o) * x.d[ib] * (sumi0 + sumi1) + half(q, o + 2) * x.s[ib];
            }
            return sumf;
        }
    }

    /** Q8_0 x Q8_0 ({@code ggml_vec_dot_q8_0_q8_0}): {@code sumf += sumi * (d_x * d_y)}. */
    static final class Q8_0 extends DotKernel.Blocks {
        Q8_0() {
            super(GgmlType.Q8_0);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * 34;
                int yo = ib * 32;
                int sumi = 0;
                for (int j = 0; j < 32; j++) {
                    sumi += q[o + 2 + j] * y[yo + j];
                }
                sumf += sumi * (half(q, o) * x.d[ib]);
            }
            return sumf;
        }
    }

    /**
     * IQ4_NL x Q8_0 ({@code ggml_vec_dot_iq4_nl_q8_0}): levels {@code kvalues_iq4nl[nibble]};
     * {@code sumf += (d_y * d_x) * (sumi1 + sumi2)}.
     */
    static final class IQ4_NL extends DotKernel.Blocks {
        IQ4_NL() {
            super(GgmlType.IQ4_NL);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            int[] kv = QuantMath.IQ4NL_VALUES;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * 18;
                int yo = ib * 32;
                int sumi1 = 0;
                int sumi2 = 0;
                for (int j = 0; j < 16; j++) {
                    int b = q[o + 2 + j] & 0xFF;
                    sumi1 += y[yo + j] * kv[b & 0xF];
                    sumi2 += y[yo + j + 16] * kv[b >> 4];
                }
                sumf += x.d[ib] * half(q, o) * (sumi1 + sumi2);
            }
            return sumf;
        }
    }
}
