/*
 * attention_avx2.c - g4j_attention with AVX2 + FMA + F16C (compiled with the AVX2 flags only).
 *
 * Scores: 16 lanes over head_dim, then a horizontal sum; the scalar reference (attention.c, score_dot) sums in
 * exactly this order (dot4 does 4 positions at a time in that order). The softmax: attention.h's, with its
 * exponentials 8 at a time (softmax_rows_avx2). The V product runs 8 lanes over head_dim (64 of them per pass)
 * with t innermost, as separate multiply and add, so each output element is summed in the scalar reference's index
 * order. The two variants give the same bits.
 */
#include <immintrin.h>

#include "attention.h"

static inline float hsum_ps(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static inline __m256 load8(const void *c, int f16, int64_t i) {
    return f16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const g4j_half *)c + i)))
               : _mm256_loadu_ps((const float *)c + i);
}

static inline float load1(const void *c, int f16, int64_t i) {
    return f16 ? _cvtsh_ss(((const g4j_half *)c)[i]) : ((const float *)c)[i];
}

/* o[0 .. 8W) = the V product of elements [off, off + 8W) of each cache position: per element, s[t] * v[t] summed over
 * t in order as separate multiply and add (the scalar reference's order), W vectors of 8 elements at once. */
static inline __attribute__((always_inline)) void v_product(const g4j_attention_args *a, const float *s, int64_t t0,
                                                            int64_t n, int64_t off, float *o, const int W) {
    __m256 acc[8];
#pragma GCC unroll 8
    for (int w = 0; w < W; w++) acc[w] = _mm256_setzero_ps();
    for (int64_t t = t0; t < n; t++) {
        const __m256 p = _mm256_set1_ps(s[t]);
        const int64_t base = t * a->kv_stride + off;
#pragma GCC unroll 8
        for (int w = 0; w < W; w++) acc[w] = _mm256_add_ps(acc[w], _mm256_mul_ps(p, load8(a->v, a->f16, base + 8 * w)));
    }
#pragma GCC unroll 8
    for (int w = 0; w < W; w++) _mm256_storeu_ps(o + 8 * w, acc[w]);
}

/* The Q.K dot products of 4 cache positions (base[p]: where each key starts), each summed exactly as the one-position
 * loop in g4j_attention_avx2 sums it: two 8-lane accumulators over the groups of 16 of the first hd8 elements, a
 * last group of 8 into the first, then hsum_ps's tree ((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7)) of their
 * sum, here for the 4 positions at once (lanes of the result: positions 0-3). */
static inline __attribute__((always_inline)) __m128 dot4(const float *qr, const void *k, int f16, const int64_t base[4], int64_t hd8) {
    __m256 a0[4], a1[4];
    for (int p = 0; p < 4; p++) a0[p] = a1[p] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= hd8; i += 16) {
        const __m256 q0 = _mm256_loadu_ps(qr + i), q1 = _mm256_loadu_ps(qr + i + 8);
        for (int p = 0; p < 4; p++) {
            a0[p] = _mm256_fmadd_ps(q0, load8(k, f16, base[p] + i), a0[p]);
            a1[p] = _mm256_fmadd_ps(q1, load8(k, f16, base[p] + i + 8), a1[p]);
        }
    }
    for (; i < hd8; i += 8) {
        const __m256 q0 = _mm256_loadu_ps(qr + i);
        for (int p = 0; p < 4; p++) a0[p] = _mm256_fmadd_ps(q0, load8(k, f16, base[p] + i), a0[p]);
    }
    __m256 v[4];
    for (int p = 0; p < 4; p++) v[p] = _mm256_add_ps(a0[p], a1[p]);
    /* [v.lo + v.hi] of positions 0 | 1 and 2 | 3: lanes j = vj + v(j+4) */
    const __m256 a01 = _mm256_add_ps(_mm256_permute2f128_ps(v[0], v[1], 0x20), _mm256_permute2f128_ps(v[0], v[1], 0x31));
    const __m256 a23 = _mm256_add_ps(_mm256_permute2f128_ps(v[2], v[3], 0x20), _mm256_permute2f128_ps(v[2], v[3], 0x31));
    /* [a0 + a2, a1 + a3] of positions 0, 2 | 1, 3 */
    const __m256 b = _mm256_add_ps(_mm256_shuffle_ps(a01, a23, 0x44), _mm256_shuffle_ps(a01, a23, 0xee));
    /* (a0 + a2) + (a1 + a3): lanes [p0, p2, p0, p2 | p1, p3, p1, p3] */
    const __m256 c = _mm256_add_ps(_mm256_shuffle_ps(b, b, 0x88), _mm256_shuffle_ps(b, b, 0xdd));
    return _mm_unpacklo_ps(_mm256_castps256_ps128(c), _mm256_extractf128_ps(c, 1));
}

/* g4j_ggml_expf (attention.h) on 8 lanes: the same IEEE operations lane by lane (fmaf as vfmadd, -n * c + x as
 * vfnmadd), both ends of its branch computed and blended, so every lane has the scalar function's bits. */
static inline __m256 v_expf(__m256 x) {
    const __m256 shift = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shift);
    const __m256 n = _mm256_sub_ps(z, shift);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_set1_epi32(0x3f800000)));
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
    const __m256 an = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    const __m256 big = _mm256_cmp_ps(an, _mm256_set1_ps(126.0f), _CMP_GT_OQ);
    const __m256 normal = _mm256_fmadd_ps(k, j, k);
    if (_mm256_testz_ps(big, big)) return normal;
    const __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                       _mm256_set1_epi32((int)0x82000000u));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    const __m256 huge = _mm256_cmp_ps(an, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    const __m256 r = _mm256_blendv_ps(_mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1), _mm256_mul_ps(s1, s1), huge);
    return _mm256_blendv_ps(normal, r, big);
}

/* g4j_softmax_rows (attention.h) with the whole 8-position vectors in lanes: the same max, the same exponentials
 * (v_expf), the same float sum per vector (hsum_ps is ((e0 + e4) + (e2 + e6)) + ((e1 + e5) + (e3 + e7))) added
 * to the double in the same order, the same scaling and binary16 rounding (vcvtps2ph, round to nearest even, as
 * g4j_float_to_half for every finite value); vectors cut by t0 or n take the scalar lanes. */
static void softmax_rows_avx2(float *s, int64_t t0, int64_t n, int f16) {
    float max = -__builtin_inff();
    int64_t t = t0;
    for (; t < n && (t & 7); t++) max = s[t] > max ? s[t] : max;
    if (t + 8 <= n) {
        __m256 m = _mm256_set1_ps(max);
        for (; t + 8 <= n; t += 8) m = _mm256_max_ps(_mm256_loadu_ps(s + t), m); /* s > m ? s : m, lane by lane */
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        max = _mm_cvtss_f32(h);
    }
    for (; t < n; t++) max = s[t] > max ? s[t] : max;
    double sum = 0.0;
    const __m256 vmax = _mm256_set1_ps(max);
    for (int64_t v = t0 & ~(int64_t)7; v < n; v += 8) {
        if (v >= t0 && v + 8 <= n) {
            const __m256 e = v_expf(_mm256_sub_ps(_mm256_loadu_ps(s + v), vmax));
            _mm256_storeu_ps(s + v, e);
            sum += hsum_ps(e);
            continue;
        }
        sum += g4j_softmax_vector(s, v, t0, n, max);
    }
    const float inv = (float)(1.0 / sum);
    const __m256 vinv = _mm256_set1_ps(inv);
    t = t0;
    for (; t + 8 <= n; t += 8) {
        __m256 p = _mm256_mul_ps(_mm256_loadu_ps(s + t), vinv);
        if (f16) p = _mm256_cvtph_ps(_mm256_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm256_storeu_ps(s + t, p);
    }
    for (; t < n; t++) {
        s[t] *= inv;
        if (f16) s[t] = g4j_half_to_float(g4j_float_to_half(s[t]));
    }
}

void g4j_attention_avx2(const g4j_attention_args *args, float *scratch) {
    /* a local copy: stores to the scores cannot alias it, so its fields stay in registers */
    const g4j_attention_args local = *args, *const a = &local;
    const int64_t hd = a->head_dim, group = a->n_head / a->n_head_kv, hd8 = hd / 8 * 8;
    const int f16 = a->f16;
    float *qr = scratch;
    float *s = scratch + hd;
    for (int64_t h = a->h0; h < a->h1; h++) {
        const int64_t kv_off = (h / group) * hd;
        for (int64_t j = 0; j < a->n_q; j++) {
            const int64_t n = a->pos0 + j + 1, t0 = g4j_attention_first(a, n - 1);
            const float *qh = a->q + j * a->q_stride + h * hd;
            int64_t iq = 0;
            if (f16) /* vcvtps2ph rounds to nearest even, as g4j_float_to_half does every finite value */
                for (; iq + 8 <= hd; iq += 8)
                    _mm256_storeu_ps(qr + iq, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(qh + iq),
                                                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
            for (; iq < hd; iq++) qr[iq] = f16 ? g4j_half_to_float(g4j_float_to_half(qh[iq])) : qh[iq];
            int64_t tq = t0;
            for (; tq + 4 <= n; tq += 4) {
                const int64_t base[4] = {tq * a->kv_stride + kv_off, (tq + 1) * a->kv_stride + kv_off,
                                         (tq + 2) * a->kv_stride + kv_off, (tq + 3) * a->kv_stride + kv_off};
                const __m128 d4 = dot4(qr, a->k, f16, base, hd8);
                if (hd8 == hd && !(a->soft_cap > 0.0f)) { /* g4j_attention_score: dot * scale, lane by lane */
                    _mm_storeu_ps(s + tq, _mm_mul_ps(d4, _mm_set1_ps(a->scale)));
                    continue;
                }
                float dot[4];
                _mm_storeu_ps(dot, d4);
                for (int p = 0; p < 4; p++) {
                    for (int64_t i = hd8; i < hd; i++) dot[p] += qr[i] * load1(a->k, f16, base[p] + i);
                    s[tq + p] = g4j_attention_score(a, dot[p]);
                }
            }
            for (int64_t t = tq; t < n; t++) {
                const int64_t base = t * a->kv_stride + kv_off;
                __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
                int64_t i = 0;
                for (; i + 16 <= hd8; i += 16) {
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qr + i), load8(a->k, f16, base + i), acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(qr + i + 8), load8(a->k, f16, base + i + 8), acc1);
                }
                for (; i < hd8; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qr + i), load8(a->k, f16, base + i), acc0);
                float dot = hsum_ps(_mm256_add_ps(acc0, acc1));
                for (; i < hd; i++) dot += qr[i] * load1(a->k, f16, base + i);
                s[t] = g4j_attention_score(a, dot);
            }
            softmax_rows_avx2(s, t0, n, f16);
            float *o = a->out + j * a->out_stride + h * hd;
            int64_t i = 0;
            for (; i + 64 <= hd8; i += 64) v_product(a, s, t0, n, kv_off + i, o + i, 8);
            for (; i + 32 <= hd8; i += 32) v_product(a, s, t0, n, kv_off + i, o + i, 4);
            for (; i < hd8; i += 8) v_product(a, s, t0, n, kv_off + i, o + i, 1);
            for (; i < hd; i++) {
                float acc = 0.0f;
                for (int64_t t = t0; t < n; t++) acc += s[t] * load1(a->v, f16, t * a->kv_stride + kv_off + i);
                o[i] = acc;
            }
        }
    }
}
