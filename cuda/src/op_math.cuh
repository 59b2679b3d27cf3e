/*
 * op_math.cuh - the pure math of the non-matmul ops, as __host__ __device__ helpers that the kernels call and
 * cuda/tests/test_blocks_host.cu tests on the host: RoPE's angle and pairing, the online-softmax state that
 * attention keeps per warp and merges across warps, argmax's tie rule, and scale_add's rounding.
 */
#ifndef G4J_CUDA_OP_MATH_CUH
#define G4J_CUDA_OP_MATH_CUH

#include <math.h>
#include <stdint.h>

#ifndef G4J_HD
#define G4J_HD __host__ __device__ __forceinline__
#endif

/* ---- RoPE ----
 * Pair i (0 <= i < n_rot / 2) of a head rotates by theta_i = pos * freq_scale * freq_base^(-2i / n_rot), divided
 * by freq_factors[i] when given (llama3 scaling). The pair's elements are (2i, 2i + 1) for llama (neox == 0) and
 * (i, i + n_rot / 2) for neox (qwen2); dimensions from n_rot up are left alone. */
G4J_HD float g4j_rope_theta(int32_t pos, int i, int n_rot, float freq_base, float freq_scale, const float *freq_factors) {
    const float inv_freq = powf(freq_base, -2.0f * (float)i / (float)n_rot);
    float theta = (float)pos * freq_scale * inv_freq;
    if (freq_factors) theta /= freq_factors[i];
    return theta;
}
G4J_HD void g4j_rope_pair(int neox, int i, int n_rot, int *a, int *b) {
    if (neox) {
        *a = i;
        *b = i + n_rot / 2;
    } else {
        *a = 2 * i;
        *b = 2 * i + 1;
    }
}
G4J_HD void g4j_rope_rotate(float theta, float *x0, float *x1) {
    float s, c;
#ifdef __CUDA_ARCH__
    sincosf(theta, &s, &c);
#else
    s = sinf(theta);
    c = cosf(theta);
#endif
    const float a = *x0, b = *x1;
    *x0 = a * c - b * s;
    *x1 = a * s + b * c;
}

/* ---- online softmax ----
 * State over a set of scores: m = their maximum, l = sum exp(score - m); the weighted value sum acc is scaled
 * alongside by the factors these functions return. Empty state: m = -inf, l = 0. */
struct g4j_softmax_state { float m, l; };
G4J_HD g4j_softmax_state g4j_softmax_empty(void) { return {-INFINITY, 0.0f}; }
/* Adds one score: returns (through corr, p) the factor the old acc is multiplied by and the weight of the new
 * value: acc = acc * corr + p * v. */
G4J_HD void g4j_softmax_add(g4j_softmax_state *st, float score, float *corr, float *p) {
    const float m_new = fmaxf(st->m, score);
    *corr = st->m == -INFINITY ? 0.0f : expf(st->m - m_new);
    *p = expf(score - m_new);
    st->l = st->l * *corr + *p;
    st->m = m_new;
}
/* The factor a partial state's acc and l are scaled by when merging it into a total whose maximum is m_total
 * (the maximum of the parts' m). Empty parts weigh 0. */
G4J_HD float g4j_softmax_rescale(g4j_softmax_state part, float m_total) {
    return part.m == -INFINITY ? 0.0f : expf(part.m - m_total);
}

/* ---- argmax ----
 * (v, i) beats (bv, bi) if v is larger, or equal with a lower index. NaN never wins (it compares false), so the
 * result is the largest non-NaN value; with only NaNs the index stays at its initial INT32_MAX and the op writes 0. */
G4J_HD bool g4j_argmax_better(float v, int32_t i, float bv, int32_t bi) {
    return v > bv || (v == bv && i < bi);
}

/* ---- scale_add ----
 * s * x, or y + s * x when acc: the product rounded to float before the sum, never a fused multiply-add (the CPU's
 * weighted sum of a mixture-of-experts layer, Java float arithmetic). */
G4J_HD float g4j_scale_add_one(float x, float s, int32_t acc, float y) {
#ifdef __CUDA_ARCH__
    const float p = __fmul_rn(x, s);
    return acc ? __fadd_rn(y, p) : p;
#else
    volatile float p = x * s; /* volatile: the host compiler may not contract either */
    return acc ? y + p : p;
#endif
}

#endif /* G4J_CUDA_OP_MATH_CUH */
