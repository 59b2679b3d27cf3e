/*
 * attention_avx2.c - g4j_attention with AVX2 + FMA + F16C (compiled with the AVX2 flags only).
 *
 * Scores: 16 lanes over head_dim, then a horizontal sum; the scalar reference (attention.c, score_dot) sums in
 * exactly this order. The V product runs 8 lanes over head_dim with t innermost, as separate multiply and add, so
 * each output element is summed in the scalar reference's index order. The two variants give the same bits.
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

void g4j_attention_avx2(const g4j_attention_args *a, float *scratch) {
    const int64_t hd = a->head_dim, group = a->n_head / a->n_head_kv, hd8 = hd / 8 * 8;
    const int f16 = a->f16;
    float *qr = scratch;
    float *s = scratch + hd;
    for (int64_t h = a->h0; h < a->h1; h++) {
        const int64_t kv_off = (h / group) * hd;
        for (int64_t j = 0; j < a->n_q; j++) {
            const int64_t n = a->pos0 + j + 1, t0 = g4j_attention_first(a, n - 1);
            const float *qh = a->q + j * a->q_stride + h * hd;
            for (int64_t i = 0; i < hd; i++) qr[i] = f16 ? g4j_half_to_float(g4j_float_to_half(qh[i])) : qh[i];
            for (int64_t t = t0; t < n; t++) {
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
            g4j_softmax_rows(s, t0, n, f16);
            float *o = a->out + j * a->out_stride + h * hd;
            int64_t i = 0;
            for (; i + 32 <= hd8; i += 32) {
                __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
                for (int64_t t = t0; t < n; t++) {
                    const __m256 p = _mm256_set1_ps(s[t]);
                    const int64_t base = t * a->kv_stride + kv_off + i;
                    o0 = _mm256_add_ps(o0, _mm256_mul_ps(p, load8(a->v, f16, base)));
                    o1 = _mm256_add_ps(o1, _mm256_mul_ps(p, load8(a->v, f16, base + 8)));
                    o2 = _mm256_add_ps(o2, _mm256_mul_ps(p, load8(a->v, f16, base + 16)));
                    o3 = _mm256_add_ps(o3, _mm256_mul_ps(p, load8(a->v, f16, base + 24)));
                }
                _mm256_storeu_ps(o + i, o0);
                _mm256_storeu_ps(o + i + 8, o1);
                _mm256_storeu_ps(o + i + 16, o2);
                _mm256_storeu_ps(o + i + 24, o3);
            }
            for (; i < hd8; i += 8) {
                __m256 o0 = _mm256_setzero_ps();
                for (int64_t t = t0; t < n; t++)
                    o0 = _mm256_add_ps(o0, _mm256_mul_ps(_mm256_set1_ps(s[t]), load8(a->v, f16, t * a->kv_stride + kv_off + i)));
                _mm256_storeu_ps(o + i, o0);
            }
            for (; i < hd; i++) {
                float acc = 0.0f;
                for (int64_t t = t0; t < n; t++) acc += s[t] * load1(a->v, f16, t * a->kv_stride + kv_off + i);
                o[i] = acc;
            }
        }
    }
}
