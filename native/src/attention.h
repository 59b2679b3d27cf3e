/*
 * attention.h - the arguments of g4j_attention as its variants see them (already checked), and the variants.
 */
#ifndef G4J_ATTENTION_H
#define G4J_ATTENTION_H

#include <math.h>

#include "g4j_internal.h"

typedef struct {
    int f16;                 /* cache elements are binary16 (else F32) */
    int64_t n_q, pos0, n_head, n_head_kv, head_dim;
    const float *q;
    int64_t q_stride;
    const void *k, *v;
    int64_t kv_stride;       /* elements between positions */
    float scale;
    float soft_cap;          /* > 0: scores capped as soft_cap * tanhf(s / soft_cap) before the scale (gemma2) */
    int64_t window;          /* > 0: a query at position p sees positions (p - window, p] only (sliding window) */
    int64_t h0, h1;
    float *out;
    int64_t out_stride;
} g4j_attention_args;

/* scratch: pos0 + n_q + head_dim floats */
typedef void (*g4j_attention_fn)(const g4j_attention_args *a, float *scratch);

void g4j_attention_scalar(const g4j_attention_args *a, float *scratch);
void g4j_attention_avx2(const g4j_attention_args *a, float *scratch);

/* The first cache position the query at position p sees: 0, or p - window + 1 with a sliding window. ggml masks
 * the positions before it with -inf, which adds exact zeros to the softmax sum and the V product: skipping them
 * gives the same bits. */
static inline int64_t g4j_attention_first(const g4j_attention_args *a, int64_t p) {
    return a->window > 0 && p >= a->window ? p - a->window + 1 : 0;
}

/* A score from its Q.K dot product as ggml's graph makes it (llm_build_kqv): optional soft-cap (ggml_scale by
 * 1/cap, ggml_tanh, ggml_scale by cap), then soft_max_ext's scale. One function for every variant. */
static inline float g4j_attention_score(const g4j_attention_args *a, float dot) {
    if (a->soft_cap > 0.0f) dot = tanhf(dot * (1.0f / a->soft_cap)) * a->soft_cap;
    return dot * a->scale;
}

/* The softmax step both variants share: s[0..n) -> probabilities, as ggml's soft_max with an F32 max, the
 * exponentials in float summed in double, then scaled by 1/sum; rounded to binary16 when f16. */
static inline void g4j_softmax_rows(float *s, int64_t n, int f16) {
    float max = -__builtin_inff();
    for (int64_t t = 0; t < n; t++) max = s[t] > max ? s[t] : max;
    double sum = 0.0;
    for (int64_t t = 0; t < n; t++) {
        s[t] = (float)__builtin_exp((double)(s[t] - max));
        sum += s[t];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t t = 0; t < n; t++) {
        s[t] *= inv;
        if (f16) s[t] = g4j_half_to_float(g4j_float_to_half(s[t]));
    }
}

#endif /* G4J_ATTENTION_H */
