package dev.gguf4j.quant;

import static dev.gguf4j.quant.GgmlFloats.nearestInt;

/**
 * The scale searches shared by ggml's quantizers ({@code make_qx_quants}, {@code make_q3_quants},
 * {@code make_qkx2_quants}/{@code make_qkx3_quants}, {@code make_qp_quants}, {@code best_index_int8}) and the
 * 6-bit scale packings of the k-quants. Each follows the C operation order exactly (float accumulation, no
 * fused multiply-add, C's comparison semantics with NaN), so results are bit-identical to ggml.
 *
 * <p>Levels are written to {@code byte[]} arrays as the C code's {@code int8_t}/{@code uint8_t} arrays hold them
 * (stores wrap modulo 256); readers pick the signedness the C code uses.
 */
final class QuantMath {
    /** GROUP_MAX_EPS: below this a group counts as all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    private QuantMath() {
    }

    /**
     * {@code make_qx_quants} with {@code rmse_type == 1}: symmetric levels {@code L = nmax + l}, l in
     * [-nmax, nmax-1], weighted by {@code qw} (or x^2 when {@code qw} is null), trying 18 scale perturbations.
     * Returns the scale.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xo, byte[] L, int lo, float[] qw, int qwo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) {
                L[lo + i] = 0;
            }
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xo + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            L[lo + i] = (byte) (l + nmax);
            float w = qw != null ? qw[qwo + i] : xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
                float w = qw != null ? qw[qwo + i] : xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; ++i) {
                    int l = nearestInt(iscale * x[xo + i]);
                    L[lo + i] = (byte) (nmax + clamp(l, -nmax, nmax - 1));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * {@code make_q3_quants} with {@code do_rmse}: x^2-weighted levels refined one element at a time (at most 5
     * passes). Levels {@code L = nmax + l}. Returns the scale.
     */
    static float makeQ3Quants(int n, int nmax, float[] x, int xo, byte[] L, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) {
                L[lo + i] = 0;
            }
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xo + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            L[lo + i] = (byte) l;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; ++itry) {
            int nChanged = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                int li = L[lo + i];
                float w = xi * xi;
                float slx = sumlx - w * xi * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int newL = clamp(nearestInt(xi * sl2 / slx), -nmax, nmax - 1);
                    if (newL != li) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[lo + i] = (byte) newL;
                            sumlx = slx;
                            suml2 = sl2;
                            ++nChanged;
                        }
                    }
                }
            }
            if (nChanged == 0) {
                break;
            }
        }
        for (int i = 0; i < n; ++i) {
            L[lo + i] = (byte) (L[lo + i] + nmax);
        }
        return sumlx / suml2;
    }

    /**
     * {@code make_qkx2_quants} / {@code make_qkx3_quants} with explicit weights (the two are the same function
     * then): asymmetric levels {@code L in [0, nmax]} with a min, searched over {@code nstep+1} scales from
     * {@code rmin}. Writes {@code -min} to {@code theMin[mo]} and returns the scale.
     */
    static float makeQkxQuants(int n, int nmax, float[] x, int xo, float[] weights, int wo, byte[] L, int lo,
            float[] theMin, int mo, byte[] Laux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = weights[wo];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; ++i) {
            float xi = x[xo + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[wo + i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; ++i) {
                L[lo + i] = 0;
            }
            theMin[mo] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xo + i];
            int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
            L[lo + i] = (byte) l;
            float diff = scale * l + min - xi;
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestMad += weights[wo + i] * diff;
        }
        if (nstep < 1) {
            theMin[mo] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
                Laux[i] = (byte) l;
                float w = weights[wo + i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * xi;
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * (Laux[i] & 0xFF) + thisMin - x[xo + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    mad += weights[wo + i] * diff;
                }
                if (mad < bestMad) {
                    System.arraycopy(Laux, 0, L, lo, n);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[mo] = -min;
        return scale;
    }

    /**
     * {@code make_qp_quants}: non-negative levels {@code L in [0, nmax]} (stored as uint8_t) for non-negative
     * values (the sub-block scales or mins of a super-block), weighted by {@code qw}. Returns the scale.
     */
    static float makeQpQuants(int n, int nmax, float[] x, byte[] L, float[] qw) {
        float max = 0;
        for (int i = 0; i < n; ++i) {
            max = GgmlFloats.cmax(max, x[i]);
        }
        if (max == 0) {
            for (int i = 0; i < n; ++i) {
                L[i] = 0;
            }
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; ++i) {
            L[i] = (byte) nearestInt(iscale * x[i]);
        }
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; ++i) {
            float diff = x[i] - scale * (L[i] & 0xFF);
            bestMse += qw[i] * diff * diff;
        }
        for (int is = -4; is <= 4; ++is) {
            if (is == 0) {
                continue;
            }
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; ++i) {
                int l = Math.min(nmax, nearestInt(iscaleIs * x[i]));
                float diff = x[i] - scaleIs * l;
                mse += qw[i] * diff * diff;
            }
            if (mse < bestMse) {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = Math.min(nmax, nearestInt(iscale * x[i]));
            L[i] = (byte) l;
            float w = qw[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; ++itry) {
            int nChanged = 0;
            for (int i = 0; i < n; ++i) {
                float w = qw[i];
                int li = L[i] & 0xFF;
                float slx = sumlx - w * x[i] * li;
                float sl2 = suml2 - w * li * li;
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, nearestInt(x[i] * sl2 / slx));
                    if (newL != li) {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[i] = (byte) newL;
                            sumlx = slx;
                            suml2 = sl2;
                            ++nChanged;
                        }
                    }
                }
            }
            if (nChanged == 0) {
                break;
            }
        }
        return sumlx / suml2;
    }

    /** The 16 non-linear levels of IQ4_NL and IQ4_XS ({@code kvalues_iq4nl}). */
    static final int[] IQ4NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /**
     * {@code best_index_int8(16, kvalues_iq4nl, x)}, branch-free: the number of thresholds {@code <= x}, where
     * threshold k is the least float that {@link #bestIndexInt8} maps to k or above (it is monotone in x), so
     * the result is the same for every float; NaN maps to 15 as in C.
     */
    static int iq4nlIndex(float x) {
        if (x != x) {
            return 15;
        }
        float[] t = IQ4NL_THRESHOLDS;
        int i = x >= t[8] ? 8 : 0;
        i = x >= t[i + 4] ? i + 4 : i;
        i = x >= t[i + 2] ? i + 2 : i;
        return x >= t[i + 1] ? i + 1 : i;
    }

    /** IQ4NL_THRESHOLDS[k] (k = 1..15): least float with bestIndexInt8(IQ4NL_VALUES, x) >= k; [0] is -inf. */
    static final float[] IQ4NL_THRESHOLDS = thresholds(IQ4NL_VALUES);

    private static float[] thresholds(int[] val) {
        float[] t = new float[val.length];
        t[0] = Float.NEGATIVE_INFINITY;
        for (int k = 1; k < val.length; k++) {
            int lo = ordinal(val[k - 1]); // maps to k-1
            int hi = ordinal(val[k]);     // maps to k
            while ((long) hi - lo > 1) {
                int mid = (int) (((long) lo + hi) >> 1);
                if (bestIndexInt8(val, fromOrdinal(mid)) >= k) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            t[k] = fromOrdinal(hi);
        }
        return t;
    }

    /** Floats in order as ints (-0.0 and 0.0 both 0). */
    private static int ordinal(float f) {
        int b = Float.floatToRawIntBits(f);
        return b >= 0 ? b : -(b & 0x7FFFFFFF);
    }

    private static float fromOrdinal(int o) {
        return o >= 0 ? Float.intBitsToFloat(o) : Float.intBitsToFloat(0x80000000 | -o);
    }

    /** {@code best_index_int8}: index of the sorted level nearest to {@code x} (ties to the upper one). */
    static int bestIndexInt8(int[] val, float x) {
        int n = val.length;
        if (x <= val[0]) {
            return 0;
        }
        if (x >= val[n - 1]) {
            return n - 1;
        }
        int ml = 0;
        int mu = n - 1;
        while (mu - ml > 1) {
            int mav = (ml + mu) / 2;
            if (x < val[mav]) {
                mu = mav;
            } else {
                ml = mav;
            }
        }
        return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
    }

    static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    // ---- 6-bit scale/min packing of Q4_K and Q5_K (12 bytes for 8 sub-blocks)

    /** {@code get_scale_min_k4}: the 6-bit scale of sub-block {@code j}. */
    static int scaleK4(int j, byte[] q, int o) {
        return j < 4 ? q[o + j] & 63 : (q[o + j + 4] & 0xF) | ((q[o + j - 4] & 0xFF) >> 6) << 4;
    }

    /** {@code get_scale_min_k4}: the 6-bit min of sub-block {@code j}. */
    static int minK4(int j, byte[] q, int o) {
        return j < 4 ? q[o + j + 4] & 63 : (q[o + j + 4] & 0xFF) >> 4 | ((q[o + j] & 0xFF) >> 6) << 4;
    }

    /**
     * Stores the uint8_t levels {@code ls}, {@code lm} of sub-block {@code j} as Q4_K/Q5_K quantizers do; blocks
     * must be stored in order j = 0..7.
     */
    static void putScaleMinK4(byte[] q, int o, int j, int ls, int lm) {
        if (j < 4) {
            q[o + j] = (byte) ls;
            q[o + j + 4] = (byte) lm;
        } else {
            q[o + j + 4] = (byte) ((ls & 0xF) | (lm & 0xF) << 4);
            q[o + j - 4] |= (byte) ((ls >> 4) << 6);
            q[o + j] |= (byte) ((lm >> 4) << 6);
        }
    }

    // ---- 6-bit signed scales of Q3_K (16 sub-blocks in 12 bytes)

    /** Stores level {@code l} (0..63 as an int8_t) of sub-block {@code j}; {@code q[o..o+12)} must start zeroed. */
    static void putScaleQ3K(byte[] q, int o, int j, int l) {
        if (j < 8) {
            q[o + j] = (byte) (l & 0xF);
        } else {
            q[o + j - 8] |= (byte) ((l & 0xF) << 4);
        }
        l >>= 4;
        q[o + j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
    }

    /** The signed scale (level - 32) of sub-block {@code j} of Q3_K, as int8_t. */
    static int scaleQ3K(byte[] q, int o, int j) {
        int sc = j < 8 ? q[o + j] & 0xF : (q[o + j - 8] & 0xFF) >> 4;
        return (byte) ((sc | (((q[o + 8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3) << 4) - 32);
    }
}
