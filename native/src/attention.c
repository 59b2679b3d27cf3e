/*
 * attention.c - scalar reference of g4j_attention: causal softmax attention over a KV cache, one query head and
 * one query token at a time, every sum in index order (the order the vector variant keeps for the V product).
 */
#include "attention.h"

static inline float cache_at(const void *c, int f16, int64_t i) {
    return f16 ? g4j_half_to_float(((const g4j_half *)c)[i]) : ((const float *)c)[i];
}

void g4j_attention_scalar(const g4j_attention_args *a, float *scratch) {
    const int64_t hd = a->head_dim, group = a->n_head / a->n_head_kv;
    float *qr = scratch;            /* [head_dim] q, rounded like the cache */
    float *s = scratch + hd;        /* [pos0 + n_q] scores, then probabilities */
    for (int64_t h = a->h0; h < a->h1; h++) {
        const int64_t kv_off = (h / group) * hd;
        for (int64_t j = 0; j < a->n_q; j++) {
            const int64_t n = a->pos0 + j + 1;
            const float *qh = a->q + j * a->q_stride + h * hd;
            for (int64_t i = 0; i < hd; i++) qr[i] = a->f16 ? g4j_half_to_float(g4j_float_to_half(qh[i])) : qh[i];
            for (int64_t t = 0; t < n; t++) {
                const int64_t base = t * a->kv_stride + kv_off;
                float dot = 0.0f;
                for (int64_t i = 0; i < hd; i++) dot += qr[i] * cache_at(a->k, a->f16, base + i);
                s[t] = dot * a->scale;
            }
            g4j_softmax_rows(s, n, a->f16);
            float *o = a->out + j * a->out_stride + h * hd;
            for (int64_t i = 0; i < hd; i++) {
                float acc = 0.0f;
                for (int64_t t = 0; t < n; t++) acc += s[t] * cache_at(a->v, a->f16, t * a->kv_stride + kv_off + i);
                o[i] = acc;
            }
        }
    }
}
