package dev.gguf4j.quant;

import static dev.gguf4j.quant.GgmlFloats.halfAt;
import static dev.gguf4j.quant.GgmlFloats.le16;
import static dev.gguf4j.quant.GgmlFloats.nearestInt;
import static dev.gguf4j.quant.GgmlFloats.putHalf;
import static dev.gguf4j.quant.GgmlFloats.putLe16;
import static dev.gguf4j.quant.GgmlFloats.u8;
import static dev.gguf4j.quant.QuantMath.IQ4NL_VALUES;
import static dev.gguf4j.quant.QuantMath.iq4nlIndex;

import dev.gguf4j.types.GgmlType;

/**
 * IQ4_NL (blocks of 32, one f16 scale) and IQ4_XS (super-blocks of 256, f16 scale and 8 6-bit sub-scales):
 * 4-bit indices into the non-linear table {@code kvalues_iq4nl}. Both quantize with ggml's
 * {@code quantize_row_iq4_nl_impl} with {@code ntry = 7}, which is what {@code quantize_iq4_nl}/{@code _xs}
 * (hence ggml_quantize_chunk) use with and without importance weights.
 */
final class Iq4Codecs {
    private Iq4Codecs() {
    }

    private static final int BLOCK = 32;
    private static final int NTRY = 7;

    static final class Iq4Codec extends BlockCodec {
        private final boolean xs;
        private final int qsAt;

        Iq4Codec(GgmlType type) {
            super(type);
            this.xs = type == GgmlType.IQ4_XS;
            this.qsAt = xs ? 8 : 2;
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = halfAt(q, qo);
            int scalesH = xs ? le16(q, qo + 2) : 0;
            for (int ib = 0; ib < qk / BLOCK; ++ib) {
                float dl = d;
                if (xs) {
                    int ls = ((u8(q, qo + 4 + ib / 2) >> 4 * (ib % 2)) & 0xF) | ((scalesH >> 2 * ib) & 3) << 4;
                    dl = d * (ls - 32);
                }
                int qs = qo + qsAt + 16 * ib;
                int out = yo + BLOCK * ib;
                for (int j = 0; j < 16; ++j) {
                    int b = u8(q, qs + j);
                    y[out + j] = dl * IQ4NL_VALUES[b & 0xF];
                    y[out + j + 16] = dl * IQ4NL_VALUES[b >> 4];
                }
            }
        }

        @Override
        void encodeRow(float[] x, int xo, int n, float[] qw, byte[] y, Scratch s) {
            for (int ibl = 0; ibl < n / qk; ++ibl) {
                encodeSuperBlock(x, xo + ibl * qk, qw, ibl * qk, y, ibl * blockBytes, s);
            }
        }

        /** quantize_row_iq4_nl_impl(qk, 32, ..., ntry = 7). */
        private void encodeSuperBlock(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s) {
            int[] values = IQ4NL_VALUES;
            byte[] L = s.levels;
            float[] weight = s.weights;
            float[] scales = s.scales;
            int nb = qk / BLOCK;

            float sigma2 = 0;
            for (int j = 0; j < qk; ++j) {
                sigma2 += x[xo + j] * x[xo + j];
            }
            sigma2 *= 2.f / qk;

            float maxScale = 0;
            float amaxScale = 0;
            for (int ib = 0; ib < nb; ++ib) {
                int xb = xo + ib * BLOCK;
                if (qw != null) {
                    LegacyCodecs.imatrixWeights(x, xb, qw, qwo + ib * BLOCK, sigma2, weight, BLOCK);
                } else {
                    for (int j = 0; j < BLOCK; ++j) {
                        weight[j] = x[xb + j] * x[xb + j];
                    }
                }
                float amax = 0;
                float max = 0;
                for (int j = 0; j < BLOCK; ++j) {
                    float ax = Math.abs(x[xb + j]);
                    if (ax > amax) {
                        amax = ax;
                        max = x[xb + j];
                    }
                }
                if (amax < QuantMath.GROUP_MAX_EPS) {
                    scales[ib] = 0;
                    continue;
                }
                float d = -max / values[0];
                float id = 1 / d;
                float sumqx = 0;
                float sumq2 = 0;
                for (int j = 0; j < BLOCK; ++j) {
                    float xj = x[xb + j];
                    int l = iq4nlIndex(id * xj);
                    L[ib * BLOCK + j] = (byte) l;
                    float q = values[l];
                    float w = weight[j];
                    sumqx += w * q * xj;
                    sumq2 += w * q * q;
                }
                d = sumqx / sumq2;
                float best = d * sumqx;
                for (int itry = -NTRY; itry <= NTRY; ++itry) {
                    id = (itry + values[0]) / max;
                    sumqx = 0;
                    sumq2 = 0;
                    for (int j = 0; j < BLOCK; ++j) {
                        float xj = x[xb + j];
                        float q = values[iq4nlIndex(id * xj)];
                        float w = weight[j];
                        sumqx += w * q * xj;
                        sumq2 += w * q * q;
                    }
                    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                        d = sumqx / sumq2;
                        best = d * sumqx;
                    }
                }
                scales[ib] = d;
                float absD = Math.abs(d);
                if (absD > amaxScale) {
                    amaxScale = absD;
                    maxScale = d;
                }
            }

            if (nb > 1) {
                int scalesH = 0;
                float d = -maxScale / 32;
                putHalf(y, yo, d);
                float id = d != 0 ? 1 / d : 0.f;
                for (int ib = 0; ib < nb; ++ib) {
                    int l = QuantMath.clamp(nearestInt(id * scales[ib]), -32, 31);
                    float dl = d * l;
                    float idl = dl != 0 ? 1 / dl : 0.f;
                    int xb = xo + ib * BLOCK;
                    for (int j = 0; j < BLOCK; ++j) {
                        L[ib * BLOCK + j] = (byte) iq4nlIndex(idl * x[xb + j]);
                    }
                    l += 32;
                    int lLow = l & 0xF;
                    int lHigh = l >> 4;
                    if (ib % 2 == 0) {
                        y[yo + 4 + ib / 2] = (byte) lLow;
                    } else {
                        y[yo + 4 + ib / 2] |= (byte) (lLow << 4);
                    }
                    scalesH |= lHigh << 2 * (ib % 8);
                }
                putLe16(y, yo + 2, scalesH);
            } else {
                putHalf(y, yo, scales[0]);
                float id = scales[0] != 0 ? 1 / scales[0] : 0;
                for (int j = 0; j < qk; ++j) {
                    L[j] = (byte) iq4nlIndex(id * x[xo + j]);
                }
            }

            for (int i = 0; i < qk / 32; ++i) {
                for (int j = 0; j < 16; ++j) {
                    y[yo + qsAt + 16 * i + j] = (byte) (L[32 * i + j] | L[32 * i + 16 + j] << 4);
                }
            }
        }
    }
}
