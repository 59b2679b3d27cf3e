package dev.gguf4j.quant;

import static dev.gguf4j.quant.DotKernel.half;

import dev.gguf4j.types.GgmlType;
import java.util.Arrays;

/**
 * The dot products of the k-quants and IQ4_XS with Q8_K activations, as ggml-cpu's generic code (the
 * {@code #else} branch of each {@code ggml_vec_dot_*_q8_K}) computes them, in plain IEEE single precision
 * without fused multiply-add.
 *
 * <p>Q3_K, Q4_K, Q5_K and Q6_K share one shape ({@link Lanes}): the super-block's levels are unpacked to
 * int8 ({@code aux8}), multiplied with the Q8_K levels and scaled by the sub-block scale into eight integer lanes
 * ({@code aux32[l]} gets the elements {@code i} with {@code i % 8 == l}), and the lanes go into eight float
 * accumulators, {@code sums[l] += d * aux32[l]} with {@code d = fp16(x.d) * y.d}, which are added to
 * {@code sumf} in lane order at the very end. Q4_K and Q5_K also subtract {@code dmin * sumi} from {@code sumf}
 * per super-block, {@code sumi} being the Q8_K {@code bsums} weighted by the sub-block mins. Q2_K and IQ4_XS
 * accumulate one float per super-block or sub-block instead (see each).
 */
final class KQuantDotKernels {
    private KQuantDotKernels() {
    }

    private static final int QK_K = 256;

    /**
     * {@code aux32[l] = sum over the 16-element groups j of scales16[j] * sum of a[i] * y[yo+i]} over the
     * elements {@code i} of group j with {@code i % 8 == l}: the integer part of the generic kernels.
     */
    static void laneSums(byte[] a, byte[] y, int yo, int[] scales16, int[] aux32) {
        int s0 = 0;
        int s1 = 0;
        int s2 = 0;
        int s3 = 0;
        int s4 = 0;
        int s5 = 0;
        int s6 = 0;
        int s7 = 0;
        for (int g = 0; g < QK_K / 8; g++) {
            int scale = scales16[g >> 1];
            int i = 8 * g;
            int k = yo + i;
            s0 += scale * (y[k] * a[i]);
            s1 += scale * (y[k + 1] * a[i + 1]);
            s2 += scale * (y[k + 2] * a[i + 2]);
            s3 += scale * (y[k + 3] * a[i + 3]);
            s4 += scale * (y[k + 4] * a[i + 4]);
            s5 += scale * (y[k + 5] * a[i + 5]);
            s6 += scale * (y[k + 6] * a[i + 6]);
            s7 += scale * (y[k + 7] * a[i + 7]);
        }
        aux32[0] = s0;
        aux32[1] = s1;
        aux32[2] = s2;
        aux32[3] = s3;
        aux32[4] = s4;
        aux32[5] = s5;
        aux32[6] = s6;
        aux32[7] = s7;
    }

    /** The lane-accumulating kernels: Q3_K, Q4_K, Q5_K, Q6_K. */
    abstract static class Lanes extends DotKernel.Blocks {
        private final int dAt;

        Lanes(GgmlType type, int dAt) {
            super(type);
            this.dAt = dAt;
        }

        /** Unpacks super-block {@code o}'s levels to {@code a[0..256)} and its scales per 16 to {@code sc}. */
        abstract void unpack(byte[] q, int o, byte[] a, int[] sc);

        /** Q4_K, Q5_K: {@code sumf - dmin * sumi} of super-block {@code ib}; the others return {@code sumf}. */
        float mins(byte[] q, int o, QuantizedActivation x, int ib, float sumf) {
            return sumf;
        }

        @Override
        final float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            float[] sums = w.sums;
            int[] aux32 = w.aux32;
            Arrays.fill(sums, 0);
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * blockBytes;
                unpack(q, o, w.levels, w.scales16);
                laneSums(w.levels, x.qs, ib * QK_K, w.scales16, aux32);
                float d = half(q, o + dAt) * x.d[ib];
                for (int l = 0; l < 8; l++) {
                    sums[l] += d * aux32[l];
                }
                sumf = mins(q, o, x, ib, sumf);
            }
            for (int l = 0; l < 8; l++) {
                sumf += sums[l];
            }
            return sumf;
        }
    }

    /**
     * Q3_K x Q8_K ({@code ggml_vec_dot_q3_K_q8_K}): levels {@code ((qs >> shift) & 3) - (hmask bit ? 0 : 4)},
     * signed 6-bit scales {@code sc - 32} per 16.
     */
    static final class Q3_K extends Lanes {
        Q3_K() {
            super(GgmlType.Q3_K, 108);
        }

        @Override
        void unpack(byte[] q, int o, byte[] a, int[] sc) {
            int bit = 0; // of hmask: 1 << bit is the C code's m
            for (int j = 0; j < QK_K; j += 128) {
                int q3 = o + 32 + j / 4;
                for (int shift = 0; shift < 8; shift += 2) {
                    int at = j + 16 * shift;
                    for (int l = 0; l < 32; l++) {
                        // q - (hmask bit ? 0 : 4)
                        a[at + l] = (byte) (((q[q3 + l] >> shift) & 3) - 4 + ((q[o + l] >> bit & 1) << 2));
                    }
                    bit++;
                }
            }
            for (int j = 0; j < 16; j++) {
                sc[j] = QuantMath.scaleQ3K(q, o + 96, j);
            }
        }
    }

    /**
     * Q4_K x Q8_K ({@code ggml_vec_dot_q4_K_q8_K}) and Q5_K x Q8_K ({@code ggml_vec_dot_q5_K_q8_K}): levels
     * {@code nibble (+ 16 if the qh bit is set)}, 6-bit scales and mins per 32; {@code sumf -= dmin * sumi}
     * with {@code dmin = fp16(x.dmin) * y.d} and {@code sumi = sum of bsums[j] * min[j/2]}.
     */
    static final class Q45_K extends Lanes {
        private final boolean fiveBit;
        private final int qsAt;

        Q45_K(GgmlType type) {
            super(type, 0);
            this.fiveBit = type == GgmlType.Q5_K;
            this.qsAt = fiveBit ? 48 : 16;
        }

        @Override
        void unpack(byte[] q, int o, byte[] a, int[] sc) {
            int qs = o + qsAt;
            for (int j = 0; j < 4; j++) {
                int at = 64 * j;
                int qj = qs + 32 * j;
                if (fiveBit) { // + 16 where qh's bit 2j (low nibbles) or 2j+1 (high nibbles) is set
                    for (int l = 0; l < 32; l++) {
                        int h = q[o + 16 + l] >> 2 * j;
                        a[at + l] = (byte) ((q[qj + l] & 0xF) | (h & 1) << 4);
                        a[at + 32 + l] = (byte) ((q[qj + l] & 0xFF) >> 4 | (h & 2) << 3);
                    }
                } else {
                    for (int l = 0; l < 32; l++) {
                        a[at + l] = (byte) (q[qj + l] & 0xF);
                        a[at + 32 + l] = (byte) ((q[qj + l] & 0xFF) >> 4);
                    }
                }
            }
            for (int j = 0; j < 8; j++) {
                int s = QuantMath.scaleK4(j, q, o + 4);
                sc[2 * j] = s;
                sc[2 * j + 1] = s;
            }
        }

        @Override
        float mins(byte[] q, int o, QuantizedActivation x, int ib, float sumf) {
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                sumi += x.bsums[16 * ib + j] * QuantMath.minK4(j / 2, q, o + 4);
            }
            float dmin = half(q, o + 2) * x.d[ib];
            return sumf - dmin * sumi;
        }
    }

    /**
     * Q6_K x Q8_K ({@code ggml_vec_dot_q6_K_q8_K}): levels {@code (ql nibble | qh 2 bits << 4) - 32}, int8
     * scales per 16.
     */
    static final class Q6_K extends Lanes {
        Q6_K() {
            super(GgmlType.Q6_K, 208);
        }

        @Override
        void unpack(byte[] q, int o, byte[] a, int[] sc) {
            for (int j = 0; j < QK_K; j += 128) {
                int ql = o + j / 2;
                int qh = o + 128 + j / 4;
                for (int l = 0; l < 32; l++) {
                    int h = q[qh + l] & 0xFF;
                    int lo = q[ql + l] & 0xFF;
                    int hi = q[ql + l + 32] & 0xFF;
                    a[j + l] = (byte) (((lo & 0xF) | (h & 3) << 4) - 32);
                    a[j + l + 32] = (byte) (((hi & 0xF) | (h >> 2 & 3) << 4) - 32);
                    a[j + l + 64] = (byte) (((lo >> 4) | (h >> 4 & 3) << 4) - 32);
                    a[j + l + 96] = (byte) (((hi >> 4) | (h >> 6 & 3) << 4) - 32);
                }
            }
            for (int j = 0; j < 16; j++) {
                sc[j] = q[o + 192 + j];
            }
        }
    }

    /**
     * Q2_K x Q8_K ({@code ggml_vec_dot_q2_K_q8_K}): one integer {@code isum} per super-block (2-bit levels times
     * 4-bit scales) and {@code summs} (bsums times 4-bit mins); {@code sumf += dall * isum - dmin * summs} with
     * {@code dall = y.d * fp16(x.d)}, {@code dmin = y.d * fp16(x.dmin)}.
     */
    static final class Q2_K extends DotKernel.Blocks {
        Q2_K() {
            super(GgmlType.Q2_K);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++) {
                int o = ib * 84;
                int summs = 0;
                for (int j = 0; j < 16; j++) {
                    summs += x.bsums[16 * ib + j] * ((q[o + j] & 0xFF) >> 4);
                }
                float dall = x.d[ib] * half(q, o + 80);
                float dmin = x.d[ib] * half(q, o + 82);
                int isum = 0;
                int is = 0;
                for (int k = 0; k < 2; k++) {
                    int q2 = o + 16 + 32 * k;
                    for (int shift = 0; shift < 8; shift += 2) {
                        int y8 = ib * QK_K + 128 * k + 16 * shift;
                        for (int h = 0; h < 32; h += 16) {
                            int d = q[o + is++] & 0xF;
                            int isuml = 0;
                            for (int l = 0; l < 16; l++) {
                                isuml += y[y8 + h + l] * ((q[q2 + h + l] >> shift) & 3);
                            }
                            isum += d * isuml;
                        }
                    }
                }
                sumf += dall * isum - dmin * summs;
            }
            return sumf;
        }
    }

    /**
     * IQ4_XS x Q8_K ({@code ggml_vec_dot_iq4_xs_q8_K}): levels {@code kvalues_iq4nl[nibble]}; per sub-block of 32
     * {@code sumf += (d4d8 * (ls - 32)) * (sumi1 + sumi2)} with {@code d4d8 = fp16(x.d) * y.d} and {@code ls} the
     * 6-bit sub-block scale.
     */
    static final class IQ4_XS extends DotKernel.Blocks {
        IQ4_XS() {
            super(GgmlType.IQ4_XS);
        }

        @Override
        float dotBlocks(byte[] q, int nb, QuantizedActivation x, Work w) {
            byte[] y = x.qs;
            int[] kv = QuantMath.IQ4NL_VALUES;
            float sumf = 0;
            for (int ibl = 0; ibl < nb; ibl++) {
                int o = ibl * 136;
                float d4d8 = half(q, o) * x.d[ibl];
                int h = GgmlFloats.le16(q, o + 2);
                int qs = o + 8;
                int y8 = ibl * QK_K;
                for (int ib = 0; ib < 8; ib++) {
                    int sl = q[o + 4 + ib / 2] & 0xFF;
                    int ls = ib % 2 == 0 ? (sl & 0xF) | ((h << 4) & 0x30) : (sl >> 4) | ((h << 2) & 0x30);
                    if (ib % 2 == 1) {
                        h >>= 4;
                    }
                    float dl = d4d8 * (ls - 32);
                    int sumi1 = 0;
                    int sumi2 = 0;
                    for (int j = 0; j < 16; j++) {
                        int b = q[qs + j] & 0xFF;
                        sumi1 += y[y8 + j] * kv[b & 0xF];
                        sumi2 += y[y8 + j + 16] * kv[b >> 4];
                    }
                    sumf += dl * (sumi1 + sumi2);
                    qs += 16;
                    y8 += 32;
                }
            }
            return sumf;
        }
    }
}
