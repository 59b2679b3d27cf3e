/*
 * attention.h - the arguments of g4j_attention as its variants see them (already checked), and the variants.
 */
#ifndef G4J_ATTENTION_H
#define G4J_ATTENTION_H

#include "g4j_internal.h"

typedef struct {
    int f16;                 /* cache elements are binary16 (else F32) */
    int64_t n_q, pos0, n_head, n_head_kv, head_dim;
    const float *q;
    int64_t q_stride;
    const void *k, *v;
    int64_t kv_stride;       /* elements between positions */
    float scale;
    int64_t h0, h1;
    float *out;
    int64_t out_stride;
} g4j_attention_args;

/* scratch: pos0 + n_q + head_dim floats */
typedef void (*g4j_attention_fn)(const g4j_attention_args *a, float *scratch);

void g4j_attention_scalar(const g4j_attention_args *a, float *scratch);
void g4j_attention_avx2(const g4j_attention_args *a, float *scratch);

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
