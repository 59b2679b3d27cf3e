/*
 * quantize_impl.h - the k-quant row quantizers of g4j_quantize_rows, written once and compiled per variant.
 *
 * Each includer defines Q_SUFFIX (the function-name suffix) and three batch searches, each over 8 consecutive
 * sub-blocks of n elements (x[8*n], levels L[8*n], one result per sub-block):
 *   q_qx8(n, nmax, x, w, L, scales)          make_qx_quants, rmse_type 1 (w NULL: weights x^2)
 *   q_q38(n, nmax, x, L, scales)             make_q3_quants with do_rmse
 *   q_qkx8(n, nmax, x, w, L, scales, mins, rmin, rdelta, nstep, use_mad)   make_qkx2/3_quants (mins[j] = -min)
 * Every float operation happens in the order ggml's scalar reference code (llama.cpp c392e50, ggml-quants.c)
 * performs it, with no contraction (-ffp-contract=off), so the bytes equal ggml_quantize_chunk's; the vector
 * variant runs the 8 sub-blocks in the 8 lanes, each lane doing exactly the scalar sequence.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "g4j_internal.h"

#define QK_K 256
#define GROUP_MAX_EPS 1e-15f

#define Q_CAT2(a, b) a##b
#define Q_CAT(a, b) Q_CAT2(a, b)
#define Q_FN(name) Q_CAT(name, Q_SUFFIX)

static inline int q_nearest_int(float fval) {
    float val = fval + 12582912.f;
    int i;
    memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

static inline int q_clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The largest |x[i]| (first on ties) and, in *max, that element with its sign: the scalar twin of quantize_avx2.c's
 * v_absmax, as ggml's group quantizers search it. */
static inline float q_absmax(int n, const float *x, float *max) {
    float amax = 0;
    *max = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            *max = x[i];
        }
    }
    return amax;
}

/* The batch searches (defined by the includer). */
static void q_qx8(int n, int nmax, const float *x, const float *w, int8_t *L, float *scales);
static void q_q38(int n, int nmax, const float *x, int8_t *L, float *scales);
static void q_qkx8(int n, int nmax, const float *x, const float *w, uint8_t *L, float *scales, float *mins,
                   float rmin, float rdelta, int nstep, int use_mad);
static void q_q8_0_row(const float *x, int64_t nb, g4j_block_q8_0 *y);
static void q_ref32_row(int32_t type, const float *x, int64_t nb, void *dst);
static void q_iq4nl8(const float *x, const float *qw, g4j_block_iq4_nl *y);

static inline float q_half(g4j_half h) { return g4j_half_to_float(h); }
static inline g4j_half q_to_half(float f) { return g4j_float_to_half(f); }

/* make_qp_quants: levels in [0, nmax] for non-negative x, weighted by qw. */
static float q_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw) {
    float max = 0;
    for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i]; /* C's MAX(max, x[i]) */
    if (max == 0) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = nmax / max;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)q_nearest_int(iscale * x[i]);
    float scale = 1 / iscale;
    float best_mse = 0;
    for (int i = 0; i < n; ++i) {
        float diff = x[i] - scale * L[i];
        best_mse += qw[i] * diff * diff;
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0) continue;
        float iscale_is = (0.1f * is + nmax) / max;
        float scale_is = 1 / iscale_is;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            int l = q_nearest_int(iscale_is * x[i]);
            l = l < nmax ? l : nmax;
            float diff = x[i] - scale_is * l;
            mse += qw[i] * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = q_nearest_int(iscale * x[i]);
        l = l < nmax ? l : nmax;
        L[i] = (uint8_t)l;
        float w = qw[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            float w = qw[i];
            float slx = sumlx - w * x[i] * L[i];
            float sl2 = suml2 - w * L[i] * L[i];
            if (slx > 0 && sl2 > 0) {
                int new_l = q_nearest_int(x[i] * sl2 / slx);
                new_l = new_l < nmax ? new_l : nmax;
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (uint8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    return sumlx / suml2;
}

/* make_qx_quants (rmse_type 1) for one group, scalar: the Q3_K super-block scale search. */
__attribute__((unused)) static float q_make_qx_quants(int n, int nmax, const float *x, int8_t *L, const float *qw) {
    float max;
    const float amax = q_absmax(n, x, &max);
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = q_clamp(q_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = qw ? qw[i] : x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = q_clamp(q_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = qw ? qw[i] : x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                int l = q_nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + q_clamp(l, -nmax, nmax - 1));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* make_q3_quants with do_rmse, one group, scalar. */
__attribute__((unused)) static float q_make_q3_quants(int n, int nmax, const float *x, int8_t *L) {
    float max;
    const float amax = q_absmax(n, x, &max);
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = q_clamp(q_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                int new_l = q_clamp(q_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; ++i) L[i] = (int8_t)(L[i] + nmax);
    return sumlx / suml2;
}

/* make_qkx2_quants / make_qkx3_quants with explicit weights, one group, scalar; *the_min = -min. */
__attribute__((unused)) static float q_make_qkx_quants(int n, int nmax, const float *x, const float *weights,
                                                       uint8_t *L, float *the_min, float rmin, float rdelta,
                                                       int nstep, int use_mad) {
    uint8_t Laux[32];
    float min = x[0];
    float max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_mad = 0;
    for (int i = 0; i < n; ++i) {
        int l = q_clamp(q_nearest_int(iscale * (x[i] - min)), 0, nmax);
        L[i] = (uint8_t)l;
        float diff = scale * l + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_mad += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = q_clamp(q_nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float mad = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                mad += weights[i] * diff;
            }
            if (mad < best_mad) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_mad = mad;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

static inline float q_sum_squares(const float *x, int n) {
    float s = 0;
    for (int j = 0; j < n; ++j) s += x[j] * x[j];
    return s;
}

/* The imatrix-derived weights of quantize_row_*_impl: qw[j] * sqrt(sigma2 + x[j]^2). */
static inline void q_imatrix_weights(const float *x, const float *qw, float sigma2, float *w, int n) {
    for (int j = 0; j < n; ++j) w[j] = qw[j] * sqrtf(sigma2 + x[j] * x[j]);
}

static inline void q_pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
}

/* ---- Q2_K ---- */

static void Q_FN(q2_k_requantize)(const float *x, g4j_block_q2_K *y, uint8_t *L) {
    const float d_all = q_half(y->d), m_all = q_half(y->dmin);
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = d_all * (y->scales[j] & 0xF);
        if (!d) continue;
        const float dm = m_all * (y->scales[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) {
            int l = q_nearest_int((x[16 * j + ii] + dm) / d);
            L[16 * j + ii] = (uint8_t)q_clamp(l, 0, 3);
        }
    }
    q_pack_2bit(L, y->qs);
}

static void Q_FN(q2_k_block)(const float *x, const float *qw, g4j_block_q2_K *y) {
    uint8_t L[QK_K];
    float w[QK_K];
    float scales[QK_K / 16], mins[QK_K / 16];
    if (!qw) {
        for (int l = 0; l < QK_K; ++l) w[l] = fabsf(x[l]);
        for (int j = 0; j < QK_K / 16; j += 8)
            q_qkx8(16, 3, x + 16 * j, w + 16 * j, L + 16 * j, scales + j, mins + j, -0.5f, 0.1f, 15, 1);
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = 15.f / max_scale;
            for (int j = 0; j < QK_K / 16; ++j) y->scales[j] = (uint8_t)q_nearest_int(iscale * scales[j]);
            y->d = q_to_half(max_scale / 15.f);
        } else {
            memset(y->scales, 0, 16);
            y->d = q_to_half(0.f);
        }
        if (max_min > 0) {
            float iscale = 15.f / max_min;
            for (int j = 0; j < QK_K / 16; ++j) y->scales[j] |= (uint8_t)(q_nearest_int(iscale * mins[j]) << 4);
            y->dmin = q_to_half(max_min / 15.f);
        } else {
            y->dmin = q_to_half(0.f);
        }
    } else {
        float sw[QK_K / 16];
        uint8_t Ls[QK_K / 16], Lm[QK_K / 16];
        const float sigma2 = q_sum_squares(x, QK_K) / QK_K;
        for (int j = 0; j < QK_K / 16; ++j) {
            q_imatrix_weights(x + 16 * j, qw + 16 * j, sigma2, w + 16 * j, 16);
            float sumw = 0;
            for (int l = 0; l < 16; ++l) sumw += w[16 * j + l];
            sw[j] = sumw;
        }
        for (int j = 0; j < QK_K / 16; j += 8)
            q_qkx8(16, 3, x + 16 * j, w + 16 * j, L + 16 * j, scales + j, mins + j, -0.9f, 0.05f, 36, 0);
        const float dm = q_make_qp_quants(QK_K / 16, 15, scales, Ls, sw);
        const float mm = q_make_qp_quants(QK_K / 16, 15, mins, Lm, sw);
        y->d = q_to_half(dm);
        y->dmin = q_to_half(mm);
        for (int j = 0; j < QK_K / 16; ++j) y->scales[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
    }
    Q_FN(q2_k_requantize)(x, y, L);
}

/* ---- Q3_K ---- */

static inline void q_put_scale_q3(uint8_t *sc, int j, int l) {
    if (j < 8) sc[j] = (uint8_t)(l & 0xF);
    else sc[j - 8] |= (uint8_t)((l & 0xF) << 4);
    l >>= 4;
    sc[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
}

static inline int q_scale_q3(const uint8_t *sc, int j) {
    int s = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
    return (int8_t)((s | ((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4) - 32);
}

static void Q_FN(q3_k_finish)(const float *x, g4j_block_q3_K *y, int8_t *L) {
    const float d_all = q_half(y->d);
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = d_all * q_scale_q3(y->scales, j);
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = q_nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(q_clamp(l, -4, 3) + 4);
        }
    }
    memset(y->hmask, 0, QK_K / 8);
    for (int j = 0; j < QK_K; ++j) {
        const int hi = L[j] >> 2; /* L in [0, 7] */
        y->hmask[j % (QK_K / 8)] |= (uint8_t)(hi << (j / (QK_K / 8)));
        L[j] = (int8_t)(L[j] & 3);
    }
    q_pack_2bit((const uint8_t *)L, y->qs);
}

static void Q_FN(q3_k_block)(const float *x, const float *qw, g4j_block_q3_K *y) {
    int8_t L[QK_K];
    float scales[QK_K / 16];
    memset(y->scales, 0, 12);
    if (!qw) {
        for (int j = 0; j < QK_K / 16; j += 8) q_q38(16, 4, x + 16 * j, L + 16 * j, scales + j);
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        if (max_scale) {
            float iscale = -32.f / max_scale;
            for (int j = 0; j < QK_K / 16; ++j) {
                int8_t l = (int8_t)q_nearest_int(iscale * scales[j]);
                l = (int8_t)(q_clamp(l, -32, 31) + 32);
                q_put_scale_q3(y->scales, j, l);
            }
            y->d = q_to_half(1 / iscale);
        } else {
            y->d = q_to_half(0.f);
        }
    } else {
        float w[QK_K], sw[QK_K / 16];
        int8_t Ls[QK_K / 16];
        const float sigma2 = 2 * q_sum_squares(x, QK_K) / QK_K;
        for (int j = 0; j < QK_K / 16; ++j) {
            q_imatrix_weights(x + 16 * j, qw + 16 * j, sigma2, w + 16 * j, 16);
            float sumw = 0;
            for (int l = 0; l < 16; ++l) sumw += w[16 * j + l];
            sw[j] = sumw;
        }
        for (int j = 0; j < QK_K / 16; j += 8) q_qx8(16, 4, x + 16 * j, w + 16 * j, L + 16 * j, scales + j);
        const float d_block = q_make_qx_quants(QK_K / 16, 32, scales, Ls, sw);
        for (int j = 0; j < QK_K / 16; ++j) q_put_scale_q3(y->scales, j, Ls[j]);
        y->d = q_to_half(d_block);
    }
    Q_FN(q3_k_finish)(x, y, L);
}

/* ---- Q4_K and Q5_K ---- */

static inline int q_scale_k4(const uint8_t *q, int j) {
    return j < 4 ? q[j] & 63 : (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
}

static inline int q_min_k4(const uint8_t *q, int j) {
    return j < 4 ? q[j + 4] & 63 : (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
}

static inline void q_put_scale_min_k4(uint8_t *q, int j, int ls, int lm) {
    if (j < 4) {
        q[j] = (uint8_t)ls;
        q[j + 4] = (uint8_t)lm;
    } else {
        q[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
        q[j - 4] |= (uint8_t)((ls >> 4) << 6);
        q[j] |= (uint8_t)((lm >> 4) << 6);
    }
}

/* Both types: scales/mins of 8 sub-blocks of 32 into d, dmin, sc[12]; then the levels with the stored scales. */
static void Q_FN(q45_k_block)(const float *x, const float *qw, int five, g4j_half *pd, g4j_half *pdmin, uint8_t *sc,
                              uint8_t *L) {
    const int nmax = five ? 31 : 15;
    float w[QK_K];
    float scales[QK_K / 32], mins[QK_K / 32];
    if (!qw) {
        for (int j = 0; j < QK_K / 32; ++j) {
            const float sum_x2 = q_sum_squares(x + 32 * j, 32);
            const float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; ++l) w[32 * j + l] = av_x + fabsf(x[32 * j + l]);
        }
        q_qkx8(32, nmax, x, w, L, scales, mins, five ? -0.5f : -1.f, 0.1f, five ? 15 : 20, 0);
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QK_K / 32; ++j) {
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
        const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
        for (int j = 0; j < QK_K / 32; ++j) {
            uint8_t ls = (uint8_t)q_nearest_int(inv_scale * scales[j]);
            uint8_t lm = (uint8_t)q_nearest_int(inv_min * mins[j]);
            ls = ls < 63 ? ls : 63;
            lm = lm < 63 ? lm : 63;
            q_put_scale_min_k4(sc, j, ls, lm);
        }
        *pd = q_to_half(max_scale / 63.f);
        *pdmin = q_to_half(max_min / 63.f);
    } else {
        float sw[QK_K / 32];
        uint8_t Ls[QK_K / 32], Lm[QK_K / 32];
        const float sigma2 = 2 * q_sum_squares(x, QK_K) / QK_K;
        for (int j = 0; j < QK_K / 32; ++j) {
            q_imatrix_weights(x + 32 * j, qw + 32 * j, sigma2, w + 32 * j, 32);
            float sumw = 0;
            for (int l = 0; l < 32; ++l) sumw += w[32 * j + l];
            sw[j] = sumw;
        }
        q_qkx8(32, nmax, x, w, L, scales, mins, -0.9f, 0.05f, 36, 0);
        const float d_block = q_make_qp_quants(QK_K / 32, 63, scales, Ls, sw);
        const float m_block = q_make_qp_quants(QK_K / 32, 63, mins, Lm, sw);
        for (int j = 0; j < QK_K / 32; ++j) {
            int ls = Ls[j], lm = Lm[j];
            if (five) { /* quantize_row_q5_K_impl clamps, quantize_row_q4_K_impl does not */
                ls = ls < 63 ? ls : 63;
                lm = lm < 63 ? lm : 63;
            }
            q_put_scale_min_k4(sc, j, ls, lm);
        }
        *pd = q_to_half(d_block);
        *pdmin = q_to_half(m_block);
    }
    const float d_all = q_half(*pd), m_all = q_half(*pdmin);
    for (int j = 0; j < QK_K / 32; ++j) {
        const float d = d_all * q_scale_k4(sc, j);
        if (!d) continue;
        const float dm = m_all * q_min_k4(sc, j);
        for (int ii = 0; ii < 32; ++ii) {
            int l = q_nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)q_clamp(l, 0, nmax);
        }
    }
}

static void Q_FN(q4_k_block)(const float *x, const float *qw, g4j_block_q4_K *y) {
    uint8_t L[QK_K];
    memset(y->scales, 0, sizeof y->scales);
    Q_FN(q45_k_block)(x, qw, 0, &y->d, &y->dmin, y->scales, L);
    for (int n = 0; n < QK_K; n += 64)
        for (int l = 0; l < 32; ++l) y->qs[n / 2 + l] = (uint8_t)(L[n + l] | (L[n + l + 32] << 4));
}

static void Q_FN(q5_k_block)(const float *x, const float *qw, g4j_block_q5_K *y) {
    uint8_t L[QK_K];
    memset(y->scales, 0, sizeof y->scales);
    Q_FN(q45_k_block)(x, qw, 1, &y->d, &y->dmin, y->scales, L);
    memset(y->qh, 0, QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < QK_K; n += 64) {
        uint8_t *ql = y->qs + n / 2;
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j];
            if (l1 > 15) {
                l1 -= 16;
                y->qh[j] |= m1;
            }
            int l2 = L[n + j + 32];
            if (l2 > 15) {
                l2 -= 16;
                y->qh[j] |= m2;
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 = (uint8_t)(m1 << 2);
        m2 = (uint8_t)(m2 << 2);
    }
}

/* ---- Q6_K ---- */

static void Q_FN(q6_k_block)(const float *x, const float *qw, g4j_block_q6_K *y) {
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int ib = 0; ib < QK_K / 16; ib += 8)
        q_qx8(16, 32, x + 16 * ib, qw ? qw + 16 * ib : NULL, L + 16 * ib, scales + ib);
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
        const float abs_scale = fabsf(scales[ib]);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scales[ib];
        }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
        memset(y, 0, sizeof *y);
        return;
    }
    float iscale = -128.f / max_scale;
    y->d = q_to_half(1 / iscale);
    for (int ib = 0; ib < QK_K / 16; ++ib) {
        int v = q_nearest_int(iscale * scales[ib]);
        y->scales[ib] = (int8_t)(v < 127 ? v : 127);
    }
    const float d_all = q_half(y->d);
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = d_all * y->scales[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = q_nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(q_clamp(l, -32, 31) + 32);
        }
    }
    for (int j = 0; j < QK_K; j += 128) {
        uint8_t *ql = y->ql + j / 2;
        uint8_t *qh = y->qh + j / 4;
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = (uint8_t)(L[j + l] & 0xF), q2 = (uint8_t)(L[j + l + 32] & 0xF);
            const uint8_t q3 = (uint8_t)(L[j + l + 64] & 0xF), q4 = (uint8_t)(L[j + l + 96] & 0xF);
            ql[l] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4)
                              | ((L[j + l + 96] >> 4) << 6));
        }
    }
}

/* ---- the blocks of 32: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 ---- */

/* 32 levels to nibbles (element j low, j + 16 high), and for 5-bit types the fifth bits to *qh (little-endian). */
static inline void q_pack_nibbles(const uint8_t *L, int five, uint8_t *qs, uint8_t *qh) {
    uint32_t h = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t a = L[j], b = L[j + 16];
        if (five) {
            qs[j] = (uint8_t)((a & 0x0F) | ((b & 0x0F) << 4));
            h |= (uint32_t)((a & 0x10) >> 4) << j;
            h |= (uint32_t)((b & 0x10) >> 4) << (j + 16);
        } else {
            qs[j] = (uint8_t)(a | (b << 4));
        }
    }
    if (five) memcpy(qh, &h, 4);
}

/* C's roundf (halfway cases away from zero) for |v| < 2^23, inline: v - trunc(v) is exact there. */
static inline float q_roundf(float v) {
    const float t = (float)(int)v;
    const float r = v - t;
    return r >= 0.5f ? t + 1.0f : r <= -0.5f ? t - 1.0f : t;
}

/* quantize_row_q8_0_ref, scalar. */
__attribute__((unused)) static void q_q8_0_row_scalar(const float *x, int64_t nb, g4j_block_q8_0 *y) {
    for (int64_t i = 0; i < nb; ++i) {
        const float *xb = x + 32 * i;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float v = fabsf(xb[j]);
            amax = amax > v ? amax : v; /* MAX(amax, v) */
        }
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = q_to_half(d);
        for (int j = 0; j < 32; ++j) y[i].qs[j] = (int8_t)q_roundf(xb[j] * id);
    }
}

/* quantize_row_q4_0_ref / q5_0_ref for one block: levels into L. Returns d. */
static inline float q_sym_ref(const float *x, int nmax, uint8_t *L) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++) {
        const float v = x[j];
        if (amax < fabsf(v)) {
            amax = fabsf(v);
            max = v;
        }
    }
    const float d = max / -nmax;
    const float id = d ? 1.0f / d : 0.0f;
    const float offset = nmax + 0.5f;
    const int top = 2 * nmax - 1;
    for (int j = 0; j < 32; ++j) {
        const int8_t v = (int8_t)(x[j] * id + offset);
        L[j] = (uint8_t)(v < top ? v : top);
    }
    return d;
}

/* quantize_row_q4_1_ref / q5_1_ref for one block. */
static inline void q_min_ref(const float *x, int nmax, uint8_t *L, float *pd, float *pmin) {
    float min = 3.402823466e+38f, max = -3.402823466e+38f;
    for (int j = 0; j < 32; j++) {
        const float v = x[j];
        if (v < min) min = v;
        if (v > max) max = v;
    }
    const float d = (max - min) / nmax;
    const float id = d ? 1.0f / d : 0.0f;
    for (int j = 0; j < 32; ++j) {
        const float v = (x[j] - min) * id + 0.5f;
        if (nmax == 31) {
            L[j] = (uint8_t)v;
        } else {
            const int8_t l = (int8_t)v;
            L[j] = (uint8_t)(l < nmax ? l : nmax);
        }
    }
    *pd = d;
    *pmin = min;
}

/* quantize_row_q4_0_ref .. q5_1_ref for one block of 32 (type Q4_0, Q4_1, Q5_0 or Q5_1) into y, scalar. */
static inline void q_ref32_block_scalar(int32_t type, const float *xb, uint8_t *y) {
    const int five = type == G4J_TYPE_Q5_0 || type == G4J_TYPE_Q5_1;
    const int sym = type == G4J_TYPE_Q4_0 || type == G4J_TYPE_Q5_0;
    const int nmax = sym ? (five ? 16 : 8) : (five ? 31 : 15);
    uint8_t L[32];
    float d, m = 0;
    if (sym) d = q_sym_ref(xb, nmax, L);
    else q_min_ref(xb, nmax, L, &d, &m);
    g4j_half hd = q_to_half(d);
    memcpy(y, &hd, 2);
    if (sym) {
        q_pack_nibbles(L, five, y + (five ? 6 : 2), y + 2);
    } else {
        g4j_half hm = q_to_half(m);
        memcpy(y + 2, &hm, 2);
        q_pack_nibbles(L, five, y + (five ? 8 : 4), y + 4);
    }
}

static inline size_t q_block32_bytes(int32_t type) {
    return type == G4J_TYPE_Q4_0 ? sizeof(g4j_block_q4_0) : type == G4J_TYPE_Q4_1 ? sizeof(g4j_block_q4_1)
           : type == G4J_TYPE_Q5_0 ? sizeof(g4j_block_q5_0) : sizeof(g4j_block_q5_1);
}

/* nb blocks of Q4_0 .. Q5_1 without importance weights, scalar. */
__attribute__((unused)) static void q_ref32_row_scalar(int32_t type, const float *x, int64_t nb, void *dst) {
    const size_t bsize = q_block32_bytes(type);
    for (int64_t i = 0; i < nb; ++i) q_ref32_block_scalar(type, x + 32 * i, (uint8_t *)dst + i * bsize);
}

/* ---- IQ4_NL (quantize_iq4_nl: quantize_row_iq4_nl_impl with super_block_size = block_size = 32, ntry 7) ---- */

/* best_index_int8(16, kvalues_iq4nl, x) */
static inline int q_best_index_iq4nl(float x) {
    const int8_t *val = g4j_iq4nl_values;
    if (x <= val[0]) return 0;
    if (x >= val[15]) return 15;
    int ml = 0, mu = 15;
    while (mu - ml > 1) {
        const int mav = (ml + mu) / 2;
        if (x < val[mav]) mu = mav;
        else ml = mav;
    }
    return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

/* One block of 32, scalar. The levels the search finds are recomputed from the final scale (ntry > 0), so only
 * the scale is kept from it. */
__attribute__((unused)) static void q_iq4nl_block_scalar(const float *x, const float *qw, g4j_block_iq4_nl *y) {
    const int8_t *values = g4j_iq4nl_values;
    float sigma2 = 0;
    for (int j = 0; j < 32; ++j) sigma2 += x[j] * x[j];
    sigma2 *= 2.f / 32;
    float weight[32];
    if (qw) {
        for (int j = 0; j < 32; ++j) weight[j] = qw[j] * sqrtf(sigma2 + x[j] * x[j]);
    } else {
        for (int j = 0; j < 32; ++j) weight[j] = x[j] * x[j];
    }
    float max;
    const float amax = q_absmax(32, x, &max);
    float scale = 0;
    if (amax >= GROUP_MAX_EPS) {
        float d = -max / values[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < 32; ++j) {
            const float q = values[q_best_index_iq4nl(id * x[j])], w = weight[j];
            sumqx += w * q * x[j];
            sumq2 += w * q * q;
        }
        d = sumqx / sumq2;
        float best = d * sumqx;
        for (int itry = -7; itry <= 7; ++itry) {
            id = (itry + values[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < 32; ++j) {
                const float q = values[q_best_index_iq4nl(id * x[j])], w = weight[j];
                sumqx += w * q * x[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scale = d;
    }
    y->d = q_to_half(scale);
    const float id = scale ? 1 / scale : 0;
    uint8_t L[32];
    for (int j = 0; j < 32; ++j) L[j] = (uint8_t)q_best_index_iq4nl(id * x[j]);
    for (int j = 0; j < 16; ++j) y->qs[j] = (uint8_t)(L[j] | (L[16 + j] << 4));
}

/* One row of a 32-block type (n a multiple of 32). Without importance weights: q_ref32_row (q_q8_0_row for Q8_0);
 * with them the weighted searches run 8 blocks at a time (q_qx8/q_qkx8), the last n/32 % 8 blocks one at a time. */
static void Q_FN(q_row32)(int32_t type, const float *x, int64_t n, const float *qw, void *dst) {
    const int64_t nb = n / 32;
    const int five = type == G4J_TYPE_Q5_0 || type == G4J_TYPE_Q5_1;
    const int sym = type == G4J_TYPE_Q4_0 || type == G4J_TYPE_Q5_0;
    const int nmax = sym ? (five ? 16 : 8) : (five ? 31 : 15);
    if (type == G4J_TYPE_Q8_0) {
        q_q8_0_row(x, nb, dst);
        return;
    }
    if (!qw) {
        q_ref32_row(type, x, nb, dst);
        return;
    }
    const size_t bsize = q_block32_bytes(type);
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    const float sigma2 = sum_x2 / n;
    uint8_t L[256];
    float w[256], d[8], m[8];
    for (int64_t ib = 0; ib < nb;) {
        const int k = nb - ib >= 8 ? 8 : 1; /* blocks this step */
        const float *xb = x + 32 * ib;
        q_imatrix_weights(xb, qw + 32 * ib, sigma2, w, 32 * k);
        if (sym) {
            if (k == 8) q_qx8(32, nmax, xb, w, (int8_t *)L, d);
            else d[0] = q_make_qx_quants(32, nmax, xb, (int8_t *)L, w);
        } else {
            if (k == 8) q_qkx8(32, nmax, xb, w, L, d, m, -0.9f, 0.05f, 36, 0);
            else d[0] = q_make_qkx_quants(32, nmax, xb, w, L, &m[0], -0.9f, 0.05f, 36, 0);
            for (int b = 0; b < k; ++b) m[b] = -m[b]; /* the search gives -min */
        }
        for (int b = 0; b < k; ++b) {
            uint8_t *y = (uint8_t *)dst + (size_t)(ib + b) * bsize;
            const uint8_t *Lb = L + 32 * b;
            g4j_half hd = q_to_half(d[b]);
            memcpy(y, &hd, 2);
            if (sym) {
                q_pack_nibbles(Lb, five, y + (five ? 6 : 2), y + 2);
            } else {
                g4j_half hm = q_to_half(m[b]);
                memcpy(y + 2, &hm, 2);
                q_pack_nibbles(Lb, five, y + (five ? 8 : 4), y + 4);
            }
        }
        ib += k;
    }
}

/* One row of n (a multiple of the type's block: 256 for the k-quants, 32 for Q4_0 .. Q8_0) floats to type (also F32
 * and BF16, plain conversions); qw is NULL or the row's n importance weights. */
static int Q_FN(q_row)(int32_t type, const float *x, int64_t n, const float *qw, void *dst) {
    const int64_t nb = n / QK_K;
    switch (type) {
    case G4J_TYPE_Q2_K:
        for (int64_t i = 0; i < nb; ++i) Q_FN(q2_k_block)(x + i * QK_K, qw ? qw + i * QK_K : NULL, (g4j_block_q2_K *)dst + i);
        return 1;
    case G4J_TYPE_Q3_K:
        for (int64_t i = 0; i < nb; ++i) Q_FN(q3_k_block)(x + i * QK_K, qw ? qw + i * QK_K : NULL, (g4j_block_q3_K *)dst + i);
        return 1;
    case G4J_TYPE_Q4_K:
        for (int64_t i = 0; i < nb; ++i) Q_FN(q4_k_block)(x + i * QK_K, qw ? qw + i * QK_K : NULL, (g4j_block_q4_K *)dst + i);
        return 1;
    case G4J_TYPE_Q5_K:
        for (int64_t i = 0; i < nb; ++i) Q_FN(q5_k_block)(x + i * QK_K, qw ? qw + i * QK_K : NULL, (g4j_block_q5_K *)dst + i);
        return 1;
    case G4J_TYPE_Q6_K:
        for (int64_t i = 0; i < nb; ++i) Q_FN(q6_k_block)(x + i * QK_K, qw ? qw + i * QK_K : NULL, (g4j_block_q6_K *)dst + i);
        return 1;
    case G4J_TYPE_F32:
        memcpy(dst, x, (size_t)n * sizeof(float));
        return 1;
    case G4J_TYPE_BF16: { /* ggml_fp32_to_bf16_row_ref: nearest-even (the input is finite: no NaN case) */
        uint16_t *o = dst;
        for (int64_t i = 0; i < n; ++i) {
            uint32_t u;
            memcpy(&u, x + i, 4);
            o[i] = (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
        }
        return 1;
    }
    case G4J_TYPE_Q4_0:
    case G4J_TYPE_Q4_1:
    case G4J_TYPE_Q5_0:
    case G4J_TYPE_Q5_1:
    case G4J_TYPE_Q8_0:
        Q_FN(q_row32)(type, x, n, qw, dst);
        return 1;
    case G4J_TYPE_IQ4_NL: { /* 8 blocks at a time (q_iq4nl8), the last n/32 % 8 one at a time */
        const int64_t nb32 = n / 32;
        int64_t ib = 0;
        for (; ib + 8 <= nb32; ib += 8) q_iq4nl8(x + 32 * ib, qw ? qw + 32 * ib : NULL, (g4j_block_iq4_nl *)dst + ib);
        for (; ib < nb32; ++ib) q_iq4nl_block_scalar(x + 32 * ib, qw ? qw + 32 * ib : NULL, (g4j_block_iq4_nl *)dst + ib);
        return 1;
    }
    default:
        return 0;
    }
}
