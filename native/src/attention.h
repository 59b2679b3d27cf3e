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

/* ggml's vector exp, one lane of it in scalar float operations, bit for bit: ggml_v_expf of ggml's AVX2+FMA build
 * (ggml-cpu.c, c392e50; "adapted from arm limited optimized routine", maximum error 1.45358 + 0.5 ulp), which its
 * soft_max uses. x = n ln2 + b, n = round(x / ln2) by the 1.5 * 2^23 shift, b reduced in two FMA steps (ln2 in a
 * high and a low part); the result k p + k with k = 2^n made in the exponent bits and p a degree-5 polynomial in b
 * ((c5 b + c4) u + (c3 b + c2)) u + c1 b, u = b^2; for |n| > 126 the scale is two factors, so that 2^n neither
 * overflows nor underflows early, and for |n| > 192 the result is inf or 0. Each step is one IEEE float operation
 * (fmaf is the fused multiply-add), so every lane's bits are reproduced. The Java side's definition is
 * CpuMath.expf; tests/golden and test_attention hold both to the same values. */
static inline float g4j_ggml_expf(float x) {
    const float shift = 0x1.8p23f;
    const float z = __builtin_fmaf(x, 0x1.715476p+0f, shift);
    const float n = z - shift;
    const float b = __builtin_fmaf(-n, 0x1.7f7d1cp-20f, __builtin_fmaf(-n, 0x1.62e4p-1f, x));
    uint32_t zb, one = 0x3f800000u;
    __builtin_memcpy(&zb, &z, 4);
    const uint32_t e = zb << 23;
    const uint32_t kb = e + one;
    float k;
    __builtin_memcpy(&k, &kb, 4);
    const float u = b * b;
    const float j = __builtin_fmaf(__builtin_fmaf(__builtin_fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                                  __builtin_fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                                   u, 0x1.ffffecp-1f * b);
    const float an = __builtin_fabsf(n);
    if (!(an > 126.0f)) return __builtin_fmaf(k, j, k);
    const uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
    const uint32_t s1b = g + 0x7f000000u, s2b = e - g;
    float s1, s2;
    __builtin_memcpy(&s1, &s1b, 4);
    if (an > 192.0f) return s1 * s1;
    __builtin_memcpy(&s2, &s2b, 4);
    return __builtin_fmaf(s2, j, s2) * s1;
}

static inline float g4j_softmax_lane(float *s, int64_t t, int64_t t0, int64_t n, float max) {
    if (t < t0 || t >= n) return 0.0f;
    return s[t] = g4j_ggml_expf(s[t] - max);
}

/* The 8-position vector v of g4j_softmax_rows below: its exponentials stored (masked positions zeros, not stored),
 * and their float sum in the order ggml's vector adds them. */
static inline float g4j_softmax_vector(float *s, int64_t v, int64_t t0, int64_t n, float max) {
    const float e0 = g4j_softmax_lane(s, v, t0, n, max), e1 = g4j_softmax_lane(s, v + 1, t0, n, max);
    const float e2 = g4j_softmax_lane(s, v + 2, t0, n, max), e3 = g4j_softmax_lane(s, v + 3, t0, n, max);
    const float e4 = g4j_softmax_lane(s, v + 4, t0, n, max), e5 = g4j_softmax_lane(s, v + 5, t0, n, max);
    const float e6 = g4j_softmax_lane(s, v + 6, t0, n, max), e7 = g4j_softmax_lane(s, v + 7, t0, n, max);
    return ((e0 + e4) + (e2 + e6)) + ((e1 + e5) + (e3 + e7));
}

/* The softmax step both variants share: s[t0..n) -> probabilities, as ggml's soft_max of an AVX2 build computes a
 * row of the attention scores (ggml_compute_forward_soft_max_f32 with ggml_vec_soft_max_f32, c392e50): an F32 max;
 * the exponentials g4j_ggml_expf(s - max) in 8-float vectors whose lanes are the cache positions 0-7, 8-15, ...,
 * the masked positions (before t0: a sliding window; from n on: after the query, up to the vector's end, as ggml's
 * KV view is a multiple of 32 positions) exact zeros; each vector's float sum ((e0 + e4) + (e2 + e6)) + ((e1 + e5)
 * + (e3 + e7)) added to a double; then scaled by the float of 1/sum; rounded to binary16 when f16. */
static inline void g4j_softmax_rows(float *s, int64_t t0, int64_t n, int f16) {
    float max = -__builtin_inff();
    for (int64_t t = t0; t < n; t++) max = s[t] > max ? s[t] : max;
    double sum = 0.0;
    for (int64_t v = t0 & ~(int64_t)7; v < n; v += 8) sum += g4j_softmax_vector(s, v, t0, n, max);
    const float inv = (float)(1.0 / sum);
    for (int64_t t = t0; t < n; t++) {
        s[t] *= inv;
        if (f16) s[t] = g4j_half_to_float(g4j_float_to_half(s[t]));
    }
}

#endif /* G4J_ATTENTION_H */
