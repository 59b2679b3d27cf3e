/*
 * quantize_avx2.c - the AVX2 variant of the k-quant row quantizers (quantize_impl.h): each batch search runs 8
 * sub-blocks in the 8 lanes of a vector. Every lane performs the scalar reference's float operations in the
 * scalar order (separate multiplies and adds, no FMA: -ffp-contract=off; IEEE division), and data-dependent
 * branches become per-lane masks, so the results are bit-identical to the scalar variant's.
 */
#include <immintrin.h>

#include "quantize.h"

#define Q_SUFFIX _avx2

#include "quantize_impl.h"

/* ggml's nearest_int, per lane. */
static inline __m256i v_nearest_int(__m256 f) {
    const __m256i i = _mm256_castps_si256(_mm256_add_ps(f, _mm256_set1_ps(12582912.f)));
    return _mm256_sub_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

static inline __m256i v_clamp(__m256i v, int lo, int hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

static inline __m256 v_abs(__m256 v) { return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }

/* t[i*8 + j] = x[n*j + i]: element i of sub-block j in lane j. */
static inline void v_transpose(int n, const float *x, float *t) {
    for (int j = 0; j < 8; ++j)
        for (int i = 0; i < n; ++i) t[i * 8 + j] = x[n * j + i];
}

/* The value and |value| of the element of largest |x| (first one on ties), as make_qx/q3_quants pick it. */
static inline void v_absmax(int n, const float *xt, __m256 *pmax, __m256 *pamax) {
    __m256 amax = _mm256_setzero_ps(), max = _mm256_setzero_ps();
    for (int i = 0; i < n; ++i) {
        const __m256 xi = _mm256_load_ps(xt + 8 * i);
        const __m256 ax = v_abs(xi);
        const __m256 m = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
        amax = _mm256_blendv_ps(amax, ax, m);
        max = _mm256_blendv_ps(max, xi, m);
    }
    *pmax = max;
    *pamax = amax;
}

static void q_qx8(int n, int nmax, const float *x, const float *w, int8_t *L, float *scales) {
    _Alignas(32) float xt[32 * 8], wt[32 * 8], wxt[32 * 8];
    _Alignas(32) int32_t Lt[32 * 8], lt[32 * 8];
    v_transpose(n, x, xt);
    if (w) v_transpose(n, w, wt);
    for (int i = 0; i < n; ++i) {
        const __m256 xi = _mm256_load_ps(xt + 8 * i);
        const __m256 wi = w ? _mm256_load_ps(wt + 8 * i) : _mm256_mul_ps(xi, xi);
        _mm256_store_ps(wt + 8 * i, wi);
        _mm256_store_ps(wxt + 8 * i, _mm256_mul_ps(wi, xi));
    }
    __m256 max, amax;
    v_absmax(n, xt, &max, &amax);
    const __m256 zero = _mm256_cmp_ps(amax, _mm256_set1_ps(GROUP_MAX_EPS), _CMP_LT_OQ);
    const __m256i vnmax = _mm256_set1_epi32(nmax);
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-nmax), max);
    __m256 sumlx = _mm256_setzero_ps(), suml2 = _mm256_setzero_ps();
    for (int i = 0; i < n; ++i) {
        const __m256i l = v_clamp(v_nearest_int(_mm256_mul_ps(iscale, _mm256_load_ps(xt + 8 * i))), -nmax, nmax - 1);
        _mm256_store_si256((__m256i *)(Lt + 8 * i), _mm256_add_epi32(l, vnmax));
        const __m256 lf = _mm256_cvtepi32_ps(l);
        sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_load_ps(wxt + 8 * i), lf));
        suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(_mm256_load_ps(wt + 8 * i), lf), lf));
    }
    __m256 scale = _mm256_and_ps(_mm256_div_ps(sumlx, suml2),
                                 _mm256_cmp_ps(suml2, _mm256_setzero_ps(), _CMP_NEQ_UQ));
    __m256 best = _mm256_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = _mm256_div_ps(_mm256_set1_ps(-(nmax + 0.1f * is)), max);
        sumlx = suml2 = _mm256_setzero_ps();
        for (int i = 0; i < n; ++i) {
            const __m256i l = v_clamp(v_nearest_int(_mm256_mul_ps(iscale, _mm256_load_ps(xt + 8 * i))), -nmax, nmax - 1);
            _mm256_store_si256((__m256i *)(lt + 8 * i), l);
            const __m256 lf = _mm256_cvtepi32_ps(l);
            sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_load_ps(wxt + 8 * i), lf));
            suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(_mm256_load_ps(wt + 8 * i), lf), lf));
        }
        const __m256 m = _mm256_and_ps(_mm256_cmp_ps(suml2, _mm256_setzero_ps(), _CMP_GT_OQ),
                                       _mm256_cmp_ps(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2), _CMP_GT_OQ));
        if (_mm256_movemask_ps(m)) {
            const __m256i mi = _mm256_castps_si256(m);
            for (int i = 0; i < n; ++i) {
                const __m256i nl = _mm256_add_epi32(_mm256_load_si256((const __m256i *)(lt + 8 * i)), vnmax);
                _mm256_store_si256((__m256i *)(Lt + 8 * i),
                                   _mm256_blendv_epi8(_mm256_load_si256((const __m256i *)(Lt + 8 * i)), nl, mi));
            }
            const __m256 ns = _mm256_div_ps(sumlx, suml2);
            scale = _mm256_blendv_ps(scale, ns, m);
            best = _mm256_blendv_ps(best, _mm256_mul_ps(ns, sumlx), m);
        }
    }
    scale = _mm256_andnot_ps(zero, scale);
    _mm256_storeu_ps(scales, scale);
    const int zm = _mm256_movemask_ps(zero);
    for (int j = 0; j < 8; ++j)
        for (int i = 0; i < n; ++i) L[n * j + i] = (zm >> j & 1) ? 0 : (int8_t)Lt[8 * i + j];
}

static void q_q38(int n, int nmax, const float *x, int8_t *L, float *scales) {
    _Alignas(32) float xt[32 * 8], wt[32 * 8], wxt[32 * 8];
    _Alignas(32) int32_t Lt[32 * 8];
    v_transpose(n, x, xt);
    for (int i = 0; i < n; ++i) {
        const __m256 xi = _mm256_load_ps(xt + 8 * i);
        const __m256 wi = _mm256_mul_ps(xi, xi);
        _mm256_store_ps(wt + 8 * i, wi);
        _mm256_store_ps(wxt + 8 * i, _mm256_mul_ps(wi, xi));
    }
    __m256 max, amax;
    v_absmax(n, xt, &max, &amax);
    const __m256 zero = _mm256_cmp_ps(amax, _mm256_set1_ps(GROUP_MAX_EPS), _CMP_LT_OQ);
    const __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-nmax), max);
    __m256 sumlx = _mm256_setzero_ps(), suml2 = _mm256_setzero_ps();
    for (int i = 0; i < n; ++i) {
        const __m256i l = v_clamp(v_nearest_int(_mm256_mul_ps(iscale, _mm256_load_ps(xt + 8 * i))), -nmax, nmax - 1);
        _mm256_store_si256((__m256i *)(Lt + 8 * i), l);
        const __m256 lf = _mm256_cvtepi32_ps(l);
        sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_load_ps(wxt + 8 * i), lf));
        suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(_mm256_load_ps(wt + 8 * i), lf), lf));
    }
    /* A lane whose pass changed nothing would change nothing in a further pass (same state, same decisions), so
     * running passes until no lane changes equals the per-lane early exit. */
    for (int itry = 0; itry < 5; ++itry) {
        __m256i changed = _mm256_setzero_si256();
        for (int i = 0; i < n; ++i) {
            const __m256 xi = _mm256_load_ps(xt + 8 * i);
            const __m256 wi = _mm256_load_ps(wt + 8 * i);
            const __m256 wxi = _mm256_load_ps(wxt + 8 * i);
            const __m256i li = _mm256_load_si256((const __m256i *)(Lt + 8 * i));
            const __m256 lif = _mm256_cvtepi32_ps(li);
            __m256 slx = _mm256_sub_ps(sumlx, _mm256_mul_ps(wxi, lif));
            const __m256 m1 = _mm256_cmp_ps(slx, _mm256_setzero_ps(), _CMP_GT_OQ);
            if (!_mm256_movemask_ps(m1)) continue;
            __m256 sl2 = _mm256_sub_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(wi, lif), lif));
            const __m256i nl = v_clamp(v_nearest_int(_mm256_div_ps(_mm256_mul_ps(xi, sl2), slx)), -nmax, nmax - 1);
            const __m256i m2 = _mm256_andnot_si256(_mm256_cmpeq_epi32(nl, li), _mm256_castps_si256(m1));
            if (_mm256_testz_si256(m2, m2)) continue;
            const __m256 nlf = _mm256_cvtepi32_ps(nl);
            slx = _mm256_add_ps(slx, _mm256_mul_ps(wxi, nlf));
            sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(wi, nlf), nlf));
            const __m256 m3 = _mm256_and_ps(
                _mm256_cmp_ps(sl2, _mm256_setzero_ps(), _CMP_GT_OQ),
                _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(slx, slx), suml2),
                              _mm256_mul_ps(_mm256_mul_ps(sumlx, sumlx), sl2), _CMP_GT_OQ));
            const __m256i m = _mm256_and_si256(m2, _mm256_castps_si256(m3));
            const __m256 mf = _mm256_castsi256_ps(m);
            _mm256_store_si256((__m256i *)(Lt + 8 * i), _mm256_blendv_epi8(li, nl, m));
            sumlx = _mm256_blendv_ps(sumlx, slx, mf);
            suml2 = _mm256_blendv_ps(suml2, sl2, mf);
            changed = _mm256_or_si256(changed, m);
        }
        if (_mm256_testz_si256(changed, changed)) break;
    }
    const __m256 scale = _mm256_andnot_ps(zero, _mm256_div_ps(sumlx, suml2));
    _mm256_storeu_ps(scales, scale);
    const int zm = _mm256_movemask_ps(zero);
    for (int j = 0; j < 8; ++j)
        for (int i = 0; i < n; ++i) L[n * j + i] = (zm >> j & 1) ? 0 : (int8_t)(Lt[8 * i + j] + nmax);
}

static void q_qkx8(int n, int nmax, const float *x, const float *w, uint8_t *L, float *scales, float *mins,
                   float rmin, float rdelta, int nstep, int use_mad) {
    _Alignas(32) float xt[32 * 8], wt[32 * 8], xmt[32 * 8];
    _Alignas(32) int32_t Lt[32 * 8], lt[32 * 8];
    v_transpose(n, x, xt);
    v_transpose(n, w, wt);
    __m256 min = _mm256_load_ps(xt), max = min;
    __m256 sum_w = _mm256_load_ps(wt);
    __m256 sum_x = _mm256_mul_ps(sum_w, min);
    for (int i = 1; i < n; ++i) {
        const __m256 xi = _mm256_load_ps(xt + 8 * i);
        const __m256 wi = _mm256_load_ps(wt + 8 * i);
        min = _mm256_blendv_ps(min, xi, _mm256_cmp_ps(xi, min, _CMP_LT_OQ));
        max = _mm256_blendv_ps(max, xi, _mm256_cmp_ps(xi, max, _CMP_GT_OQ));
        sum_w = _mm256_add_ps(sum_w, wi);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wi, xi));
    }
    min = _mm256_blendv_ps(min, _mm256_setzero_ps(), _mm256_cmp_ps(min, _mm256_setzero_ps(), _CMP_GT_OQ));
    const __m256 flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);
    const __m256 min0 = min;
    /* min changes with each better candidate, and later candidates divide by max - min and scale x - min: as in
     * C, both are recomputed from the current min */
    for (int i = 0; i < n; ++i) _mm256_store_ps(xmt + 8 * i, _mm256_sub_ps(_mm256_load_ps(xt + 8 * i), min));
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)nmax), _mm256_sub_ps(max, min));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.f), iscale);
    __m256 best_mad = _mm256_setzero_ps();
    for (int i = 0; i < n; ++i) {
        const __m256i l = v_clamp(v_nearest_int(_mm256_mul_ps(iscale, _mm256_load_ps(xmt + 8 * i))), 0, nmax);
        _mm256_store_si256((__m256i *)(Lt + 8 * i), l);
        __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(l)), min),
                                    _mm256_load_ps(xt + 8 * i));
        diff = use_mad ? _mm256_and_ps(diff, absmask) : _mm256_mul_ps(diff, diff);
        best_mad = _mm256_add_ps(best_mad, _mm256_mul_ps(_mm256_load_ps(wt + 8 * i), diff));
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = _mm256_div_ps(_mm256_set1_ps(rmin + rdelta * is + nmax), _mm256_sub_ps(max, min));
        __m256 sum_l = _mm256_setzero_ps(), sum_l2 = _mm256_setzero_ps(), sum_xl = _mm256_setzero_ps();
        for (int i = 0; i < n; ++i) {
            const __m256i l = v_clamp(v_nearest_int(_mm256_mul_ps(iscale, _mm256_load_ps(xmt + 8 * i))), 0, nmax);
            _mm256_store_si256((__m256i *)(lt + 8 * i), l);
            const __m256 lf = _mm256_cvtepi32_ps(l);
            const __m256 wl = _mm256_mul_ps(_mm256_load_ps(wt + 8 * i), lf);
            sum_l = _mm256_add_ps(sum_l, wl);
            sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, lf));
            sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, _mm256_load_ps(xt + 8 * i)));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
        const __m256 mD = _mm256_cmp_ps(D, _mm256_setzero_ps(), _CMP_GT_OQ);
        if (!_mm256_movemask_ps(mD)) continue;
        __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
        __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
        const __m256 mp = _mm256_cmp_ps(this_min, _mm256_setzero_ps(), _CMP_GT_OQ);
        this_min = _mm256_blendv_ps(this_min, _mm256_setzero_ps(), mp);
        this_scale = _mm256_blendv_ps(this_scale, _mm256_div_ps(sum_xl, sum_l2), mp);
        __m256 mad = _mm256_setzero_ps();
        for (int i = 0; i < n; ++i) {
            const __m256 lf = _mm256_cvtepi32_ps(_mm256_load_si256((const __m256i *)(lt + 8 * i)));
            __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale, lf), this_min),
                                        _mm256_load_ps(xt + 8 * i));
            diff = use_mad ? _mm256_and_ps(diff, absmask) : _mm256_mul_ps(diff, diff);
            mad = _mm256_add_ps(mad, _mm256_mul_ps(_mm256_load_ps(wt + 8 * i), diff));
        }
        const __m256 m = _mm256_and_ps(mD, _mm256_cmp_ps(mad, best_mad, _CMP_LT_OQ));
        if (!_mm256_movemask_ps(m)) continue;
        const __m256i mi = _mm256_castps_si256(m);
        for (int i = 0; i < n; ++i)
            _mm256_store_si256((__m256i *)(Lt + 8 * i),
                               _mm256_blendv_epi8(_mm256_load_si256((const __m256i *)(Lt + 8 * i)),
                                                  _mm256_load_si256((const __m256i *)(lt + 8 * i)), mi));
        best_mad = _mm256_blendv_ps(best_mad, mad, m);
        scale = _mm256_blendv_ps(scale, this_scale, m);
        min = _mm256_blendv_ps(min, this_min, m);
        for (int i = 0; i < n; ++i) _mm256_store_ps(xmt + 8 * i, _mm256_sub_ps(_mm256_load_ps(xt + 8 * i), min));
    }
    scale = _mm256_andnot_ps(flat, scale);
    min = _mm256_blendv_ps(min, min0, flat);
    _mm256_storeu_ps(scales, scale);
    _mm256_storeu_ps(mins, _mm256_xor_ps(min, _mm256_set1_ps(-0.0f))); /* -min */
    const int fm = _mm256_movemask_ps(flat);
    for (int j = 0; j < 8; ++j)
        for (int i = 0; i < n; ++i) L[n * j + i] = (fm >> j & 1) ? 0 : (uint8_t)Lt[8 * i + j];
}

/* quantize_row_q8_0_ref: the input is finite (g4j_quantize_rows checks), so the max of |x| may be taken in any
 * order; roundf is trunc plus a step where the (exact) remainder reaches one half. */
static void q_q8_0_row(const float *x, int64_t nb, g4j_block_q8_0 *y) {
    const __m256 half = _mm256_set1_ps(0.5f), mhalf = _mm256_set1_ps(-0.5f), one = _mm256_set1_ps(1.0f);
    for (int64_t i = 0; i < nb; ++i) {
        const float *xb = x + 32 * i;
        __m256 v[4];
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < 4; ++k) {
            v[k] = _mm256_loadu_ps(xb + 8 * k);
            m = _mm256_max_ps(m, v_abs(v[k]));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = q_to_half(d);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; ++k) {
            const __m256 p = _mm256_mul_ps(v[k], vid);
            __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            const __m256 r = _mm256_sub_ps(p, t);
            t = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(r, half, _CMP_GE_OQ), one));
            t = _mm256_sub_ps(t, _mm256_and_ps(_mm256_cmp_ps(r, mhalf, _CMP_LE_OQ), one));
            q[k] = _mm256_cvttps_epi32(t);
        }
        /* int32 -> int8 in order: the packs interleave 128-bit lanes, the permute puts them back */
        const __m256i a = _mm256_packs_epi32(q[0], q[1]), b = _mm256_packs_epi32(q[2], q[3]);
        const __m256i c = _mm256_packs_epi16(a, b);
        const __m256i o = _mm256_permutevar8x32_epi32(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[i].qs, o);
    }
}

/* 32 int32 lanes (each 0..127) to 32 bytes in order: the packs interleave 128-bit lanes, the permute puts them back. */
static inline __m256i v_bytes32(const __m256i q[4]) {
    const __m256i a = _mm256_packs_epi32(q[0], q[1]), b = _mm256_packs_epi32(q[2], q[3]);
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* quantize_row_q4_0_ref .. q5_1_ref. The input is finite (g4j_quantize_rows checks), so max |x|, min and max may
 * be taken in any order; the one order-dependent choice, the sign of a zero that ends up as min, max or the signed
 * max of a symmetric block (all-zero blocks, or min or max exactly 0), is left to the scalar block. Each level is
 * the reference's x * id + offset (or (x - min) * id + 0.5), truncated, in the same float operations. */
static void q_ref32_row(int32_t type, const float *x, int64_t nb, void *dst) {
    const int five = type == G4J_TYPE_Q5_0 || type == G4J_TYPE_Q5_1;
    const int sym = type == G4J_TYPE_Q4_0 || type == G4J_TYPE_Q5_0;
    const int nmax = sym ? (five ? 16 : 8) : (five ? 31 : 15);
    const size_t bsize = q_block32_bytes(type);
    const int top = sym ? 2 * nmax - 1 : nmax == 31 ? 255 : nmax; /* the clamp; Q5_1's reference has none */
    const __m256i vtop = _mm256_set1_epi32(top);
    const __m256 voff = _mm256_set1_ps(sym ? nmax + 0.5f : 0.5f);
    const __m128i lo4 = _mm_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; ++i) {
        const float *xb = x + 32 * i;
        uint8_t *y = (uint8_t *)dst + i * bsize;
        __m256 v[4];
        for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(xb + 8 * k);
        float d, id, m = 0;
        __m256 base = _mm256_setzero_ps(); /* subtracted before scaling: min for Q4_1/Q5_1 */
        if (sym) {
            __m256 am = v_abs(v[0]);
            for (int k = 1; k < 4; ++k) am = _mm256_max_ps(am, v_abs(v[k]));
            __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(am), _mm256_extractf128_ps(am, 1));
            m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
            const float amax = _mm_cvtss_f32(m4);
            if (amax == 0.0f) {
                q_ref32_block_scalar(type, xb, y);
                continue;
            }
            /* the first element whose |x| is amax (the reference keeps the first on ties) */
            const __m256 va = _mm256_set1_ps(amax);
            uint32_t mask = 0;
            for (int k = 0; k < 4; ++k)
                mask |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v_abs(v[k]), va, _CMP_EQ_OQ)) << (8 * k);
            const float max = xb[__builtin_ctz(mask)];
            d = max / -nmax;
        } else {
            __m256 mn = _mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3]));
            __m256 mx = _mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3]));
            __m128 n4 = _mm_min_ps(_mm256_castps256_ps128(mn), _mm256_extractf128_ps(mn, 1));
            __m128 x4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
            n4 = _mm_min_ps(n4, _mm_movehl_ps(n4, n4));
            x4 = _mm_max_ps(x4, _mm_movehl_ps(x4, x4));
            n4 = _mm_min_ss(n4, _mm_shuffle_ps(n4, n4, 1));
            x4 = _mm_max_ss(x4, _mm_shuffle_ps(x4, x4, 1));
            const float min = _mm_cvtss_f32(n4), max = _mm_cvtss_f32(x4);
            if (min == 0.0f || max == 0.0f) {
                q_ref32_block_scalar(type, xb, y);
                continue;
            }
            d = (max - min) / nmax;
            m = min;
            base = _mm256_set1_ps(min);
        }
        id = d ? 1.0f / d : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; ++k) {
            const __m256 s = sym ? _mm256_mul_ps(v[k], vid) : _mm256_mul_ps(_mm256_sub_ps(v[k], base), vid);
            q[k] = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(s, voff)), vtop);
        }
        const __m256i L = v_bytes32(q);
        const __m128i a = _mm256_castsi256_si128(L), b = _mm256_extracti128_si256(L, 1);
        const __m128i qs = _mm_or_si128(_mm_and_si128(a, lo4), _mm_slli_epi16(_mm_and_si128(b, lo4), 4));
        g4j_half hd = q_to_half(d);
        memcpy(y, &hd, 2);
        uint8_t *p = y + 2;
        if (!sym) {
            g4j_half hm = q_to_half(m);
            memcpy(p, &hm, 2);
            p += 2;
        }
        if (five) {
            const uint32_t h = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(L, 3)); /* bit 4 of each level */
            memcpy(p, &h, 4);
            p += 4;
        }
        _mm_storeu_si128((__m128i *)p, qs);
    }
}

/* best_index_int8(16, kvalues_iq4nl, x) per lane. Between the ends the binary search stops at ml = the number of
 * levels 1..14 with !(x < level) (its step condition; a NaN x counts all 14 and gives 15, as the search does). */
static inline __m256i v_best_index_iq4nl(__m256 x, const __m256 *k, __m256 klo, __m256 khi) {
    __m256i ml = _mm256_setzero_si256();
    for (int i = 1; i < 15; ++i) ml = _mm256_sub_epi32(ml, _mm256_castps_si256(_mm256_cmp_ps(x, k[i], _CMP_NLT_UQ)));
    const __m256i mu = _mm256_add_epi32(ml, _mm256_set1_epi32(1)), seven = _mm256_set1_epi32(7);
    const __m256 vl = _mm256_blendv_ps(_mm256_permutevar8x32_ps(klo, ml), _mm256_permutevar8x32_ps(khi, ml),
                                       _mm256_castsi256_ps(_mm256_cmpgt_epi32(ml, seven)));
    const __m256 vu = _mm256_blendv_ps(_mm256_permutevar8x32_ps(klo, mu), _mm256_permutevar8x32_ps(khi, mu),
                                       _mm256_castsi256_ps(_mm256_cmpgt_epi32(mu, seven)));
    const __m256 lower = _mm256_cmp_ps(_mm256_sub_ps(x, vl), _mm256_sub_ps(vu, x), _CMP_LT_OQ);
    __m256i r = _mm256_blendv_epi8(mu, ml, _mm256_castps_si256(lower));
    r = _mm256_andnot_si256(_mm256_castps_si256(_mm256_cmp_ps(x, k[0], _CMP_LE_OQ)), r);
    return _mm256_blendv_epi8(r, _mm256_set1_epi32(15), _mm256_castps_si256(_mm256_cmp_ps(x, k[15], _CMP_GE_OQ)));
}

static inline __m256 v_level_iq4nl(__m256i l, __m256 klo, __m256 khi) {
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(klo, l), _mm256_permutevar8x32_ps(khi, l),
                            _mm256_castsi256_ps(_mm256_cmpgt_epi32(l, _mm256_set1_epi32(7))));
}

/* 8 IQ4_NL blocks: the scale searches of quantize_row_iq4_nl_impl with block j in lane j, each lane in the
 * reference's float order; then each block's levels from its scale, 32 lanes at a time. */
static void q_iq4nl8(const float *x, const float *qw, g4j_block_iq4_nl *y) {
    _Alignas(32) float xt[32 * 8], wt[32 * 8];
    __m256 k[16];
    for (int i = 0; i < 16; ++i) k[i] = _mm256_set1_ps((float)g4j_iq4nl_values[i]);
    const __m256 klo = _mm256_setr_ps(-127, -104, -83, -65, -49, -35, -22, -10);
    const __m256 khi = _mm256_setr_ps(1, 13, 25, 38, 53, 69, 89, 113);
    v_transpose(32, x, xt);
    if (qw) {
        v_transpose(32, qw, wt);
        __m256 sigma2 = _mm256_setzero_ps();
        for (int i = 0; i < 32; ++i) {
            const __m256 xi = _mm256_load_ps(xt + 8 * i);
            sigma2 = _mm256_add_ps(sigma2, _mm256_mul_ps(xi, xi));
        }
        sigma2 = _mm256_mul_ps(sigma2, _mm256_set1_ps(2.f / 32));
        for (int i = 0; i < 32; ++i) {
            const __m256 xi = _mm256_load_ps(xt + 8 * i);
            _mm256_store_ps(wt + 8 * i, _mm256_mul_ps(_mm256_load_ps(wt + 8 * i),
                                                      _mm256_sqrt_ps(_mm256_add_ps(sigma2, _mm256_mul_ps(xi, xi)))));
        }
    } else {
        for (int i = 0; i < 32; ++i) {
            const __m256 xi = _mm256_load_ps(xt + 8 * i);
            _mm256_store_ps(wt + 8 * i, _mm256_mul_ps(xi, xi));
        }
    }
    __m256 max, amax;
    v_absmax(32, xt, &max, &amax);
    const __m256 zero = _mm256_cmp_ps(amax, _mm256_set1_ps(GROUP_MAX_EPS), _CMP_LT_OQ);
    __m256 d = _mm256_div_ps(_mm256_sub_ps(_mm256_setzero_ps(), max), k[0]); /* -max / values[0] */
    __m256 id = _mm256_div_ps(_mm256_set1_ps(1.0f), d);
    __m256 best = _mm256_setzero_ps(); /* set by the first pass */
    for (int itry = -8; itry <= 7; ++itry) { /* -8: the first pass, from d */
        if (itry > -8) id = _mm256_div_ps(_mm256_set1_ps((float)(itry + g4j_iq4nl_values[0])), max);
        __m256 sumqx = _mm256_setzero_ps(), sumq2 = _mm256_setzero_ps();
        for (int i = 0; i < 32; ++i) {
            const __m256 xi = _mm256_load_ps(xt + 8 * i);
            const __m256 q = v_level_iq4nl(v_best_index_iq4nl(_mm256_mul_ps(id, xi), k, klo, khi), klo, khi);
            const __m256 wq = _mm256_mul_ps(_mm256_load_ps(wt + 8 * i), q);
            sumqx = _mm256_add_ps(sumqx, _mm256_mul_ps(wq, xi));
            sumq2 = _mm256_add_ps(sumq2, _mm256_mul_ps(wq, q));
        }
        if (itry == -8) {
            d = _mm256_div_ps(sumqx, sumq2);
            best = _mm256_mul_ps(d, sumqx);
        } else {
            const __m256 m = _mm256_and_ps(_mm256_cmp_ps(sumq2, _mm256_setzero_ps(), _CMP_GT_OQ),
                                           _mm256_cmp_ps(_mm256_mul_ps(sumqx, sumqx), _mm256_mul_ps(best, sumq2), _CMP_GT_OQ));
            const __m256 nd = _mm256_div_ps(sumqx, sumq2);
            d = _mm256_blendv_ps(d, nd, m);
            best = _mm256_blendv_ps(best, _mm256_mul_ps(nd, sumqx), m);
        }
    }
    _Alignas(32) float scales[8];
    _mm256_store_ps(scales, _mm256_andnot_ps(zero, d));
    const __m128i lo4 = _mm_set1_epi8(0x0F);
    for (int b = 0; b < 8; ++b) {
        const float s = scales[b];
        y[b].d = q_to_half(s);
        const __m256 vid = _mm256_set1_ps(s ? 1 / s : 0);
        __m256i l[4];
        for (int j = 0; j < 4; ++j)
            l[j] = v_best_index_iq4nl(_mm256_mul_ps(vid, _mm256_loadu_ps(x + 32 * b + 8 * j)), k, klo, khi);
        const __m256i L = v_bytes32(l);
        const __m128i a = _mm256_castsi256_si128(L), c = _mm256_extracti128_si256(L, 1);
        _mm_storeu_si128((__m128i *)y[b].qs, _mm_or_si128(_mm_and_si128(a, lo4), _mm_slli_epi16(_mm_and_si128(c, lo4), 4)));
    }
}

/* Row conversion to F32 with F16C; returns the index of the first non-finite element, or -1. */
int64_t g4j_quant_convert_avx2(int32_t src_type, const void *src, int64_t n, float *out) {
    const __m256 inf = _mm256_set1_ps(__builtin_inff());
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 bad = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v;
        if (src_type == G4J_TYPE_F16) {
            v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)src + i)));
        } else if (src_type == G4J_TYPE_BF16) {
            const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)src + i)));
            v = _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
        } else {
            v = _mm256_loadu_ps((const float *)src + i);
        }
        _mm256_storeu_ps(out + i, v);
        bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(v, absmask), inf, _CMP_NLT_UQ));
    }
    for (; i < n; ++i) {
        out[i] = src_type == G4J_TYPE_F16 ? g4j_half_to_float(((const uint16_t *)src)[i])
                 : src_type == G4J_TYPE_BF16 ? g4j_bf16_to_float(((const uint16_t *)src)[i])
                 : ((const float *)src)[i];
    }
    if (!_mm256_movemask_ps(bad)) {
        for (int64_t k = n - n % 8; k < n; ++k)
            if (!isfinite(out[k])) return k;
        return -1;
    }
    for (int64_t k = 0; k < n; ++k)
        if (!isfinite(out[k])) return k;
    return -1;
}

int g4j_quant_row_avx2(int32_t type, const float *x, int64_t n, const float *qw, void *dst) {
    return q_row_avx2(type, x, n, qw, dst);
}
