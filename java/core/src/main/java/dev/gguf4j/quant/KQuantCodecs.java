package dev.gguf4j.quant;

import static dev.gguf4j.quant.GgmlFloats.halfAt;
import static dev.gguf4j.quant.GgmlFloats.nearestInt;
import static dev.gguf4j.quant.GgmlFloats.putHalf;
import static dev.gguf4j.quant.GgmlFloats.u8;
import static dev.gguf4j.quant.QuantMath.clamp;

import dev.gguf4j.types.GgmlType;
import java.util.Arrays;

/**
 * The k-quants: super-blocks of 256 with 16 or 8 sub-block scales. Without importance weights each type follows
 * {@code quantize_row_*_K_ref}; with them, {@code quantize_row_*_K_impl} (ggml_quantize_chunk's choice).
 */
final class KQuantCodecs {
    private KQuantCodecs() {
    }

    static final int QK_K = 256;

    /** A k-quant: one super-block at a time, from the reference or the importance-weighted quantizer. */
    abstract static class KCodec extends BlockCodec {
        KCodec(GgmlType type) {
            super(type);
        }

        @Override
        final void encodeRow(float[] x, int xo, int n, float[] qw, byte[] y, Scratch s) {
            for (int i = 0; i < n / QK_K; ++i) {
                if (qw == null) {
                    encodeRef(x, xo + i * QK_K, y, i * blockBytes, s);
                } else {
                    encodeWeighted(x, xo + i * QK_K, qw, i * QK_K, y, i * blockBytes, s);
                }
            }
        }

        abstract void encodeRef(float[] x, int xo, byte[] y, int yo, Scratch s);

        abstract void encodeWeighted(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s);
    }

    /** Sum of squares of a super-block (float accumulation in element order). */
    static float sumSquares(float[] x, int xo, int n) {
        float s = 0;
        for (int j = 0; j < n; ++j) {
            s += x[xo + j] * x[xo + j];
        }
        return s;
    }

    /** Packs 256 2-bit levels: byte {@code j/4 + l} of each 128-half holds levels l, l+32, l+64, l+96. */
    static void pack2Bit(byte[] L, byte[] y, int qsAt) {
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                y[qsAt + j / 4 + l] = (byte) (L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ Q2_K

    /** Q2_K: scales[16] (4-bit scale | 4-bit min), qs[64], d, dmin; x = d*sc*q - dmin*m. */
    static final class Q2_K extends KCodec {
        private static final int SCALES = 0;
        private static final int QS = 16;
        private static final int D = 80;
        private static final int DMIN = 82;

        Q2_K() {
            super(GgmlType.Q2_K);
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = halfAt(q, qo + D);
            float min = halfAt(q, qo + DMIN);
            int is = 0;
            int out = yo;
            for (int n = 0; n < QK_K; n += 128) {
                int qb = qo + QS + n / 4;
                for (int shift = 0; shift < 8; shift += 2) {
                    for (int half = 0; half < 32; half += 16) {
                        int sc = u8(q, qo + SCALES + is++);
                        float dl = d * (sc & 0xF);
                        float ml = min * (sc >> 4);
                        for (int l = 0; l < 16; ++l) {
                            y[out++] = dl * ((u8(q, qb + half + l) >> shift) & 3) - ml;
                        }
                    }
                }
            }
        }

        @Override
        void encodeRef(float[] x, int xo, byte[] y, int yo, Scratch s) {
            byte[] L = s.levels;
            float[] w = s.weights;
            float[] scales = s.scales;
            float[] mins = s.mins;
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < QK_K / 16; ++j) {
                for (int l = 0; l < 16; ++l) {
                    w[l] = Math.abs(x[xo + 16 * j + l]);
                }
                scales[j] = QuantMath.makeQkxQuants(16, 3, x, xo + 16 * j, w, 0, L, 16 * j, mins, j, s.levelsAux,
                        -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin) {
                    maxMin = mins[j];
                }
            }
            if (maxScale > 0) {
                float iscale = 15.f / maxScale;
                for (int j = 0; j < QK_K / 16; ++j) {
                    y[yo + SCALES + j] = (byte) nearestInt(iscale * scales[j]);
                }
                putHalf(y, yo + D, maxScale / 15.f);
            } else {
                Arrays.fill(y, yo + SCALES, yo + SCALES + 16, (byte) 0);
                putHalf(y, yo + D, 0.f);
            }
            if (maxMin > 0) {
                float iscale = 15.f / maxMin;
                for (int j = 0; j < QK_K / 16; ++j) {
                    y[yo + SCALES + j] |= (byte) (nearestInt(iscale * mins[j]) << 4);
                }
                putHalf(y, yo + DMIN, maxMin / 15.f);
            } else {
                putHalf(y, yo + DMIN, 0.f);
            }
            requantize(x, xo, y, yo, halfAt(y, yo + D), halfAt(y, yo + DMIN), L);
            pack2Bit(L, y, yo + QS);
        }

        @Override
        void encodeWeighted(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s) {
            byte[] L = s.levels;
            float[] w = s.weights;
            float[] scales = s.scales;
            float[] mins = s.mins;
            float[] sw = s.sumWeights;
            float sigma2 = sumSquares(x, xo, QK_K) / QK_K;
            for (int j = 0; j < QK_K / 16; ++j) {
                LegacyCodecs.imatrixWeights(x, xo + 16 * j, qw, qwo + 16 * j, sigma2, w, 16);
                float sum = 0;
                for (int l = 0; l < 16; ++l) {
                    sum += w[l];
                }
                sw[j] = sum;
                scales[j] = QuantMath.makeQkxQuants(16, 3, x, xo + 16 * j, w, 0, L, 16 * j, mins, j, s.levelsAux,
                        -0.9f, 0.05f, 36, false);
            }
            float dm = QuantMath.makeQpQuants(QK_K / 16, 15, scales, s.scaleLevels, sw);
            float mm = QuantMath.makeQpQuants(QK_K / 16, 15, mins, s.minLevels, sw);
            putHalf(y, yo + D, dm);
            putHalf(y, yo + DMIN, mm);
            for (int j = 0; j < QK_K / 16; ++j) {
                y[yo + SCALES + j] = (byte) ((s.scaleLevels[j] & 0xFF) | (s.minLevels[j] & 0xFF) << 4);
            }
            requantize(x, xo, y, yo, halfAt(y, yo + D), halfAt(y, yo + DMIN), L);
            pack2Bit(L, y, yo + QS);
        }

        private static void requantize(float[] x, int xo, byte[] y, int yo, float dAll, float mAll, byte[] L) {
            for (int j = 0; j < QK_K / 16; ++j) {
                int sc = u8(y, yo + SCALES + j);
                float d = dAll * (sc & 0xF);
                if (d == 0) {
                    continue;
                }
                float dm = mAll * (sc >> 4);
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt((x[xo + 16 * j + ii] + dm) / d);
                    L[16 * j + ii] = (byte) clamp(l, 0, 3);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ Q3_K

    /** Q3_K: hmask[32], qs[64], scales[12] (16 signed 6-bit), d; x = d*(sc-32)*(q - 4*!h). */
    static final class Q3_K extends KCodec {
        private static final int HMASK = 0;
        private static final int QS = 32;
        private static final int SCALES = 96;
        private static final int D = 108;

        Q3_K() {
            super(GgmlType.Q3_K);
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float dAll = halfAt(q, qo + D);
            int is = 0;
            int out = yo;
            int m = 1;
            for (int n = 0; n < QK_K; n += 128) {
                int qb = qo + QS + n / 4;
                for (int shift = 0; shift < 8; shift += 2) {
                    for (int half = 0; half < 32; half += 16) {
                        float dl = dAll * QuantMath.scaleQ3K(q, qo + SCALES, is++);
                        for (int l = 0; l < 16; ++l) {
                            int hi = (q[qo + HMASK + half + l] & m) != 0 ? 0 : 4;
                            y[out++] = dl * (((u8(q, qb + half + l) >> shift) & 3) - hi);
                        }
                    }
                    m <<= 1;
                }
            }
        }

        @Override
        void encodeRef(float[] x, int xo, byte[] y, int yo, Scratch s) {
            byte[] L = s.levels;
            float[] scales = s.scales;
            float maxScale = 0;
            float amax = 0;
            for (int j = 0; j < QK_K / 16; ++j) {
                scales[j] = QuantMath.makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j);
                float scale = Math.abs(scales[j]);
                if (scale > amax) {
                    amax = scale;
                    maxScale = scales[j];
                }
            }
            Arrays.fill(y, yo + SCALES, yo + SCALES + 12, (byte) 0);
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < QK_K / 16; ++j) {
                    byte l = (byte) nearestInt(iscale * scales[j]);
                    l = (byte) (clamp(l, -32, 31) + 32);
                    QuantMath.putScaleQ3K(y, yo + SCALES, j, l);
                }
                putHalf(y, yo + D, 1 / iscale);
            } else {
                putHalf(y, yo + D, 0.f);
            }
            finish(x, xo, y, yo, L, s);
        }

        @Override
        void encodeWeighted(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s) {
            byte[] L = s.levels;
            float[] w = s.weights;
            float[] scales = s.scales;
            float[] sw = s.sumWeights;
            float sigma2 = 2 * sumSquares(x, xo, QK_K) / QK_K;
            for (int j = 0; j < QK_K / 16; ++j) {
                LegacyCodecs.imatrixWeights(x, xo + 16 * j, qw, qwo + 16 * j, sigma2, w, 16);
                float sumw = 0;
                for (int l = 0; l < 16; ++l) {
                    sumw += w[l];
                }
                sw[j] = sumw;
                scales[j] = QuantMath.makeQxQuants(16, 4, x, xo + 16 * j, L, 16 * j, w, 0);
            }
            Arrays.fill(y, yo + SCALES, yo + SCALES + 12, (byte) 0);
            float dBlock = QuantMath.makeQxQuants(QK_K / 16, 32, scales, 0, s.scaleLevels, 0, sw, 0);
            for (int j = 0; j < QK_K / 16; ++j) {
                QuantMath.putScaleQ3K(y, yo + SCALES, j, s.scaleLevels[j]);
            }
            putHalf(y, yo + D, dBlock);
            finish(x, xo, y, yo, L, s);
        }

        /** Requantizes with the stored scales, then splits levels into hmask and 2-bit qs. */
        private static void finish(float[] x, int xo, byte[] y, int yo, byte[] L, Scratch s) {
            float dAll = halfAt(y, yo + D);
            for (int j = 0; j < QK_K / 16; ++j) {
                float d = dAll * QuantMath.scaleQ3K(y, yo + SCALES, j);
                if (d == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(x[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (clamp(l, -4, 3) + 4);
                }
            }
            Arrays.fill(y, yo + HMASK, yo + HMASK + QK_K / 8, (byte) 0);
            int m = 0;
            int hm = 1;
            for (int j = 0; j < QK_K; ++j) {
                if (L[j] > 3) {
                    y[yo + HMASK + m] |= (byte) hm;
                    L[j] -= 4;
                }
                if (++m == QK_K / 8) {
                    m = 0;
                    hm <<= 1;
                }
            }
            pack2Bit(L, y, yo + QS);
        }
    }

    // ---------------------------------------------------------------------------------------- Q4_K and Q5_K

    /**
     * Q4_K and Q5_K: d, dmin, scales[12] (8 6-bit scales and mins), [qh[32] for Q5_K], qs[128];
     * x = d*sc*q - dmin*m over 8 sub-blocks of 32.
     */
    static final class Q45_K extends KCodec {
        private static final int D = 0;
        private static final int DMIN = 2;
        private static final int SCALES = 4;
        private static final int QH = 16;

        private final boolean fiveBit;
        private final int nmax;
        private final int qsAt;
        private final float refRmin;
        private final int refSteps;

        Q45_K(GgmlType type) {
            super(type);
            this.fiveBit = type == GgmlType.Q5_K;
            this.nmax = fiveBit ? 31 : 15;
            this.qsAt = fiveBit ? 48 : 16;
            this.refRmin = fiveBit ? -0.5f : -1.f;
            this.refSteps = fiveBit ? 15 : 20;
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = halfAt(q, qo + D);
            float min = halfAt(q, qo + DMIN);
            int out = yo;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0, is = 0; j < QK_K; j += 64, is += 2) {
                float d1 = d * QuantMath.scaleK4(is, q, qo + SCALES);
                float m1 = min * QuantMath.minK4(is, q, qo + SCALES);
                float d2 = d * QuantMath.scaleK4(is + 1, q, qo + SCALES);
                float m2 = min * QuantMath.minK4(is + 1, q, qo + SCALES);
                int ql = qo + qsAt + j / 2;
                if (fiveBit) {
                    for (int l = 0; l < 32; ++l) {
                        y[out++] = d1 * ((u8(q, ql + l) & 0xF) + ((q[qo + QH + l] & u1) != 0 ? 16 : 0)) - m1;
                    }
                    for (int l = 0; l < 32; ++l) {
                        y[out++] = d2 * ((u8(q, ql + l) >> 4) + ((q[qo + QH + l] & u2) != 0 ? 16 : 0)) - m2;
                    }
                    u1 <<= 2;
                    u2 <<= 2;
                } else {
                    for (int l = 0; l < 32; ++l) {
                        y[out++] = d1 * (u8(q, ql + l) & 0xF) - m1;
                    }
                    for (int l = 0; l < 32; ++l) {
                        y[out++] = d2 * (u8(q, ql + l) >> 4) - m2;
                    }
                }
            }
        }

        @Override
        void encodeRef(float[] x, int xo, byte[] y, int yo, Scratch s) {
            byte[] L = s.levels;
            float[] w = s.weights;
            float[] scales = s.scales;
            float[] mins = s.mins;
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < QK_K / 32; ++j) {
                float sumX2 = sumSquares(x, xo + 32 * j, 32);
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int l = 0; l < 32; ++l) {
                    w[l] = avX + Math.abs(x[xo + 32 * j + l]);
                }
                scales[j] = QuantMath.makeQkxQuants(32, nmax, x, xo + 32 * j, w, 0, L, 32 * j, mins, j, s.levelsAux,
                        refRmin, 0.1f, refSteps, false);
                if (scales[j] > maxScale) {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin) {
                    maxMin = mins[j];
                }
            }
            float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
            float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
            for (int j = 0; j < QK_K / 32; ++j) {
                int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
                int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
                QuantMath.putScaleMinK4(y, yo + SCALES, j, ls, lm);
            }
            putHalf(y, yo + D, maxScale / 63.f);
            putHalf(y, yo + DMIN, maxMin / 63.f);
            finish(x, xo, y, yo, L, s);
        }

        @Override
        void encodeWeighted(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s) {
            byte[] L = s.levels;
            float[] w = s.weights;
            float[] scales = s.scales;
            float[] mins = s.mins;
            float[] sw = s.sumWeights;
            float sigma2 = 2 * sumSquares(x, xo, QK_K) / QK_K;
            for (int j = 0; j < QK_K / 32; ++j) {
                LegacyCodecs.imatrixWeights(x, xo + 32 * j, qw, qwo + 32 * j, sigma2, w, 32);
                float sumw = 0;
                for (int l = 0; l < 32; ++l) {
                    sumw += w[l];
                }
                sw[j] = sumw;
                scales[j] = QuantMath.makeQkxQuants(32, nmax, x, xo + 32 * j, w, 0, L, 32 * j, mins, j, s.levelsAux,
                        -0.9f, 0.05f, 36, false);
            }
            float dBlock = QuantMath.makeQpQuants(QK_K / 32, 63, scales, s.scaleLevels, sw);
            float mBlock = QuantMath.makeQpQuants(QK_K / 32, 63, mins, s.minLevels, sw);
            for (int j = 0; j < QK_K / 32; ++j) {
                int ls = s.scaleLevels[j] & 0xFF;
                int lm = s.minLevels[j] & 0xFF;
                if (fiveBit) { // quantize_row_q5_K_impl clamps, quantize_row_q4_K_impl does not
                    ls = Math.min(63, ls);
                    lm = Math.min(63, lm);
                }
                QuantMath.putScaleMinK4(y, yo + SCALES, j, ls, lm);
            }
            putHalf(y, yo + D, dBlock);
            putHalf(y, yo + DMIN, mBlock);
            finish(x, xo, y, yo, L, s);
        }

        /** Requantizes with the stored 6-bit scales and mins, then packs the levels. */
        private void finish(float[] x, int xo, byte[] y, int yo, byte[] L, Scratch s) {
            float dAll = halfAt(y, yo + D);
            float mAll = halfAt(y, yo + DMIN);
            for (int j = 0; j < QK_K / 32; ++j) {
                float d = dAll * QuantMath.scaleK4(j, y, yo + SCALES);
                if (d == 0) {
                    continue;
                }
                float dm = mAll * QuantMath.minK4(j, y, yo + SCALES);
                for (int ii = 0; ii < 32; ++ii) {
                    int l = nearestInt((x[xo + 32 * j + ii] + dm) / d);
                    L[32 * j + ii] = (byte) clamp(l, 0, nmax);
                }
            }
            if (fiveBit) {
                Arrays.fill(y, yo + QH, yo + QH + QK_K / 8, (byte) 0);
                int m1 = 1;
                int m2 = 2;
                for (int n = 0; n < QK_K; n += 64) {
                    int ql = yo + qsAt + n / 2;
                    for (int j = 0; j < 32; ++j) {
                        int l1 = L[n + j] & 0xFF;
                        if (l1 > 15) {
                            l1 -= 16;
                            y[yo + QH + j] |= (byte) m1;
                        }
                        int l2 = L[n + j + 32] & 0xFF;
                        if (l2 > 15) {
                            l2 -= 16;
                            y[yo + QH + j] |= (byte) m2;
                        }
                        y[ql + j] = (byte) (l1 | l2 << 4);
                    }
                    m1 <<= 2;
                    m2 <<= 2;
                }
            } else {
                for (int n = 0; n < QK_K; n += 64) {
                    int ql = yo + qsAt + n / 2;
                    for (int l = 0; l < 32; ++l) {
                        y[ql + l] = (byte) ((L[n + l] & 0xFF) | (L[n + l + 32] & 0xFF) << 4);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ Q6_K

    /** Q6_K: ql[128], qh[64], scales[16] int8, d; x = d*sc*(q-32). */
    static final class Q6_K extends KCodec {
        private static final int QL = 0;
        private static final int QH = 128;
        private static final int SCALES = 192;
        private static final int D = 208;

        Q6_K() {
            super(GgmlType.Q6_K);
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = halfAt(q, qo + D);
            for (int n = 0; n < QK_K; n += 128) {
                int ql = qo + QL + n / 2;
                int qh = qo + QH + n / 4;
                int sc = qo + SCALES + n / 16;
                for (int l = 0; l < 32; ++l) {
                    int is = l / 16;
                    int h = u8(q, qh + l);
                    int q1 = ((u8(q, ql + l) & 0xF) | ((h >> 0) & 3) << 4) - 32;
                    int q2 = ((u8(q, ql + l + 32) & 0xF) | ((h >> 2) & 3) << 4) - 32;
                    int q3 = ((u8(q, ql + l) >> 4) | ((h >> 4) & 3) << 4) - 32;
                    int q4 = ((u8(q, ql + l + 32) >> 4) | ((h >> 6) & 3) << 4) - 32;
                    y[yo + n + l] = d * q[sc + is] * q1;
                    y[yo + n + l + 32] = d * q[sc + is + 2] * q2;
                    y[yo + n + l + 64] = d * q[sc + is + 4] * q3;
                    y[yo + n + l + 96] = d * q[sc + is + 6] * q4;
                }
            }
        }

        @Override
        void encodeRef(float[] x, int xo, byte[] y, int yo, Scratch s) {
            encode(x, xo, null, 0, y, yo, s);
        }

        @Override
        void encodeWeighted(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s) {
            encode(x, xo, qw, qwo, y, yo, s);
        }

        /** quantize_row_q6_K_ref and _impl differ only in the weights given to make_qx_quants. */
        private void encode(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s) {
            byte[] L = s.levels;
            float[] scales = s.scales;
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                float scale = QuantMath.makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib, qw, qwo + 16 * ib);
                scales[ib] = scale;
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < QuantMath.GROUP_MAX_EPS) {
                Arrays.fill(y, yo, yo + blockBytes, (byte) 0);
                return;
            }
            float iscale = -128.f / maxScale;
            putHalf(y, yo + D, 1 / iscale);
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                y[yo + SCALES + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            }
            float dAll = halfAt(y, yo + D);
            for (int j = 0; j < QK_K / 16; ++j) {
                float d = dAll * y[yo + SCALES + j];
                if (d == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(x[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (clamp(l, -32, 31) + 32);
                }
            }
            for (int j = 0; j < QK_K; j += 128) {
                int ql = yo + QL + j / 2;
                int qh = yo + QH + j / 4;
                for (int l = 0; l < 32; ++l) {
                    int l1 = L[j + l];
                    int l2 = L[j + l + 32];
                    int l3 = L[j + l + 64];
                    int l4 = L[j + l + 96];
                    y[ql + l] = (byte) ((l1 & 0xF) | (l3 & 0xF) << 4);
                    y[ql + l + 32] = (byte) ((l2 & 0xF) | (l4 & 0xF) << 4);
                    y[qh + l] = (byte) (l1 >> 4 | (l2 >> 4) << 2 | (l3 >> 4) << 4 | (l4 >> 4) << 6);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ Q8_K

    /** Q8_K (dequantization only, as ggml_quantize_chunk has no Q8_K): d f32, qs[256] int8, bsums[16]. */
    static final class Q8_K extends KCodec {
        Q8_K() {
            super(GgmlType.Q8_K);
        }

        @Override
        public boolean canQuantize() {
            return false;
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = Float.intBitsToFloat(GgmlFloats.le32(q, qo));
            for (int j = 0; j < QK_K; ++j) {
                y[yo + j] = d * q[qo + 4 + j];
            }
        }

        @Override
        void encodeRef(float[] x, int xo, byte[] y, int yo, Scratch s) {
            throw new AssertionError();
        }

        @Override
        void encodeWeighted(float[] x, int xo, float[] qw, int qwo, byte[] y, int yo, Scratch s) {
            throw new AssertionError();
        }
    }
}
