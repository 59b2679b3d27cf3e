/*
 * attention.c - scalar reference of g4j_attention: causal softmax attention over a KV cache, one query head and
 * one query token at a time. The Q.K scores are summed in the AVX2 variant's lane order (score_dot), the V
 * product in index order (which the AVX2 variant keeps too), so both variants give the same bits.
 */
#include <math.h>

#include "attention.h"

static inline float cache_at(const void *c, int f16, int64_t i) {
    return f16 ? g4j_half_to_float(((const g4j_half *)c)[i]) : ((const float *)c)[i];
}

/* Q.K as attention_avx2.c sums it: two 8-lane accumulators over the full groups of 16 of the first hd8 = hd / 8 * 8
 * elements (fused multiply-adds), a last group of 8 into the first; the 16 lanes added pairwise (j, j + 8), then
 * by halves (4, 2, 1, hsum_ps's tree); then the last hd % 8 products one by one. */
static float score_dot(const float *qr, const void *k, int f16, int64_t base, int64_t hd) {
    const int64_t hd8 = hd / 8 * 8;
    float lane[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= hd8; i += 16)
        for (int l = 0; l < 16; l++) lane[l] = fmaf(qr[i + l], cache_at(k, f16, base + i + l), lane[l]);
    for (; i < hd8; i += 8)
        for (int l = 0; l < 8; l++) lane[l] = fmaf(qr[i + l], cache_at(k, f16, base + i + l), lane[l]);
    float v[8], t[4];
    for (int l = 0; l < 8; l++) v[l] = lane[l] + lane[8 + l];
    for (int l = 0; l < 4; l++) t[l] = v[l] + v[l + 4];
    float dot = (t[0] + t[2]) + (t[1] + t[3]);
    for (; i < hd; i++) dot += qr[i] * cache_at(k, f16, base + i);
    return dot;
}

void g4j_attention_scalar(const g4j_attention_args *a, float *scratch) {
    const int64_t hd = a->head_dim, group = a->n_head / a->n_head_kv;
    float *qr = scratch;            /* [head_dim] q, rounded like the cache */
    float *s = scratch + hd;        /* [pos0 + n_q] scores, then probabilities */
    for (int64_t h = a->h0; h < a->h1; h++) {
        const int64_t kv_off = (h / group) * hd;
        for (int64_t j = 0; j < a->n_q; j++) {
            const int64_t n = a->pos0 + j + 1, t0 = g4j_attention_first(a, n - 1);
            const float *qh = a->q + j * a->q_stride + h * hd;
            for (int64_t i = 0; i < hd; i++) qr[i] = a->f16 ? g4j_half_to_float(g4j_float_to_half(qh[i])) : qh[i];
            for (int64_t t = t0; t < n; t++) {
                s[t] = g4j_attention_score(a, score_dot(qr, a->k, a->f16, t * a->kv_stride + kv_off, hd));
            }
            g4j_softmax_rows(s, t0, n, a->f16);
            float *o = a->out + j * a->out_stride + h * hd;
            for (int64_t i = 0; i < hd; i++) {
                float acc = 0.0f;
                for (int64_t t = t0; t < n; t++) acc += s[t] * cache_at(a->v, a->f16, t * a->kv_stride + kv_off + i);
                o[i] = acc;
            }
        }
    }
}
