package dev.gguf4j.quant;

import static dev.gguf4j.quant.GgmlFloats.halfAt;
import static dev.gguf4j.quant.GgmlFloats.le32;
import static dev.gguf4j.quant.GgmlFloats.putHalf;
import static dev.gguf4j.quant.GgmlFloats.putLe32;
import static dev.gguf4j.quant.GgmlFloats.truncToInt;
import static dev.gguf4j.quant.GgmlFloats.u8;

import dev.gguf4j.types.GgmlType;

/**
 * The 32-element block types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0. Without importance weights each follows
 * {@code quantize_row_*_ref}; with them, {@code quantize_row_*_impl} (Q8_0 ignores them, as ggml does).
 */
final class LegacyCodecs {
    private LegacyCodecs() {
    }

    static final int QK = 32;

    /** sigma2 of the _impl quantizers: mean square of the whole row. */
    static float rowSigma2(float[] x, int xo, int n) {
        float sumX2 = 0;
        for (int j = 0; j < n; ++j) {
            sumX2 += x[xo + j] * x[xo + j];
        }
        return sumX2 / n;
    }

    /** weight[j] = qw[j] * sqrtf(sigma2 + x[j]^2), the imatrix weighting of every _impl quantizer. */
    static void imatrixWeights(float[] x, int xo, float[] qw, int qwo, float sigma2, float[] w, int n) {
        for (int j = 0; j < n; ++j) {
            float xj = x[xo + j];
            w[j] = qw[qwo + j] * (float) Math.sqrt(sigma2 + xj * xj);
        }
    }

    /** Symmetric types (Q4_0, Q5_0): x = d * (q - 2^(bits-1)), d and 16 packed low nibbles, Q5_0 adds qh. */
    static final class Symmetric extends BlockCodec {
        private final int nmax;     // 8 or 16
        private final boolean fiveBit;
        private final int qsAt;

        Symmetric(GgmlType type, int bits) {
            super(type);
            this.nmax = 1 << (bits - 1);
            this.fiveBit = bits == 5;
            this.qsAt = fiveBit ? 6 : 2;
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = halfAt(q, qo);
            int qh = fiveBit ? le32(q, qo + 2) : 0;
            for (int j = 0; j < QK / 2; ++j) {
                int b = u8(q, qo + qsAt + j);
                int h0 = ((qh >>> j) << 4) & 0x10;
                int h1 = (qh >>> (j + 12)) & 0x10;
                y[yo + j] = (((b & 0x0F) | h0) - nmax) * d;
                y[yo + j + QK / 2] = (((b >> 4) | h1) - nmax) * d;
            }
        }

        @Override
        void encodeRow(float[] x, int xo, int n, float[] qw, byte[] y, Scratch s) {
            float sigma2 = qw != null ? rowSigma2(x, xo, n) : 0;
            for (int ib = 0; ib < n / QK; ++ib) {
                int xb = xo + ib * QK;
                int yb = ib * blockBytes;
                if (qw == null) {
                    encodeRef(x, xb, y, yb, s.levels);
                } else {
                    imatrixWeights(x, xb, qw, ib * QK, sigma2, s.weights, QK);
                    float d = QuantMath.makeQxQuants(QK, nmax, x, xb, s.levels, 0, s.weights, 0);
                    putHalf(y, yb, d);
                    pack(s.levels, y, yb);
                }
            }
        }

        private void encodeRef(float[] x, int xb, byte[] y, int yb, byte[] lv) {
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < QK; j++) {
                float v = x[xb + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -nmax;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putHalf(y, yb, d);
            float offset = nmax + 0.5f;
            int top = 2 * nmax - 1;
            for (int j = 0; j < QK; ++j) {
                // (uint8_t) MIN(top, (int8_t)(x*id + offset))
                lv[j] = (byte) Math.min(top, (byte) truncToInt(x[xb + j] * id + offset));
            }
            pack(lv, y, yb);
        }

        private void pack(byte[] lv, byte[] y, int yb) {
            packNibbles(lv, fiveBit, y, yb + qsAt, yb + 2);
        }
    }

    /**
     * Packs 32 uint8_t levels: element j in the low and j+16 in the high nibble of byte j; for 5-bit types the
     * fifth bits go to the little-endian u32 at {@code qhAt}. 4-bit types store {@code l0 | l1 << 4} unmasked,
     * 5-bit types mask the nibbles, as the C code does.
     */
    static void packNibbles(byte[] lv, boolean fiveBit, byte[] y, int qsAt, int qhAt) {
        int qh = 0;
        for (int j = 0; j < QK / 2; ++j) {
            int xi0 = lv[j] & 0xFF;
            int xi1 = lv[j + QK / 2] & 0xFF;
            if (fiveBit) {
                y[qsAt + j] = (byte) ((xi0 & 0x0F) | (xi1 & 0x0F) << 4);
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            } else {
                y[qsAt + j] = (byte) (xi0 | xi1 << 4);
            }
        }
        if (fiveBit) {
            putLe32(y, qhAt, qh);
        }
    }

    /** Types with a min (Q4_1, Q5_1): x = d * q + m, d and m as f16, 16 packed low nibbles, Q5_1 adds qh. */
    static final class WithMin extends BlockCodec {
        private final int nmax;     // 15 or 31
        private final boolean fiveBit;
        private final int qsAt;

        WithMin(GgmlType type, int bits) {
            super(type);
            this.nmax = (1 << bits) - 1;
            this.fiveBit = bits == 5;
            this.qsAt = fiveBit ? 8 : 4;
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = halfAt(q, qo);
            float m = halfAt(q, qo + 2);
            int qh = fiveBit ? le32(q, qo + 4) : 0;
            for (int j = 0; j < QK / 2; ++j) {
                int b = u8(q, qo + qsAt + j);
                int h0 = ((qh >>> j) << 4) & 0x10;
                int h1 = (qh >>> (j + 12)) & 0x10;
                y[yo + j] = ((b & 0x0F) | h0) * d + m;
                y[yo + j + QK / 2] = ((b >> 4) | h1) * d + m;
            }
        }

        @Override
        void encodeRow(float[] x, int xo, int n, float[] qw, byte[] y, Scratch s) {
            float sigma2 = qw != null ? rowSigma2(x, xo, n) : 0;
            byte[] lv = s.levels;
            for (int ib = 0; ib < n / QK; ++ib) {
                int xb = xo + ib * QK;
                int yb = ib * blockBytes;
                if (qw == null) {
                    float min = Float.MAX_VALUE;
                    float max = -Float.MAX_VALUE;
                    for (int j = 0; j < QK; j++) {
                        float v = x[xb + j];
                        if (v < min) {
                            min = v;
                        }
                        if (v > max) {
                            max = v;
                        }
                    }
                    float d = (max - min) / nmax;
                    float id = d != 0 ? 1.0f / d : 0.0f;
                    putHalf(y, yb, d);
                    putHalf(y, yb + 2, min);
                    for (int j = 0; j < QK; ++j) {
                        int l = truncToInt((x[xb + j] - min) * id + 0.5f);
                        // Q4_1: (uint8_t) MIN(15, (int8_t) v); Q5_1: (uint8_t) v
                        lv[j] = fiveBit ? (byte) l : (byte) Math.min(nmax, (byte) l);
                    }
                } else {
                    imatrixWeights(x, xb, qw, ib * QK, sigma2, s.weights, QK);
                    float d = QuantMath.makeQkxQuants(QK, nmax, x, xb, s.weights, 0, lv, 0, s.mins, 0,
                            s.levelsAux, -0.9f, 0.05f, 36, false);
                    putHalf(y, yb, d);
                    putHalf(y, yb + 2, -s.mins[0]);
                }
                packNibbles(lv, fiveBit, y, yb + qsAt, yb + 4);
            }
        }
    }

    /** Q8_0: x = d * q, d as f16 and 32 int8 levels; quantize_row_q8_0_ref with or without weights. */
    static final class Q8_0 extends BlockCodec {
        Q8_0() {
            super(GgmlType.Q8_0);
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            float d = halfAt(q, qo);
            for (int j = 0; j < QK; ++j) {
                y[yo + j] = q[qo + 2 + j] * d;
            }
        }

        @Override
        void encodeRow(float[] x, int xo, int n, float[] qw, byte[] y, Scratch s) {
            for (int ib = 0; ib < n / QK; ++ib) {
                int xb = xo + ib * QK;
                int yb = ib * blockBytes;
                float amax = 0.0f;
                for (int j = 0; j < QK; j++) {
                    amax = GgmlFloats.cmax(amax, Math.abs(x[xb + j]));
                }
                float d = amax / 127;
                float id = d != 0 ? 1.0f / d : 0.0f;
                putHalf(y, yb, d);
                for (int j = 0; j < QK; ++j) {
                    y[yb + 2 + j] = (byte) truncToInt(GgmlFloats.roundf(x[xb + j] * id));
                }
            }
        }
    }
}
