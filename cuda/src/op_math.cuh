/*
 * op_math.cuh - the pure math of the non-matmul ops, as __host__ __device__ helpers that the kernels call and
 * cuda/tests/test_blocks_host.cu tests on the host: RoPE's angle (YaRN, attention factor) and pairing, the
 * online-softmax state that attention keeps per warp and merges across warps, attention's soft-cap and sliding
 * window, argmax's tie rule, scale_add's rounding, ggml's F16-table GELU and soft-capping.
 */
#ifndef G4J_CUDA_OP_MATH_CUH
#define G4J_CUDA_OP_MATH_CUH

#include <cuda_fp16.h>
#include <math.h>
#include <stdint.h>

#ifndef G4J_HD
#define G4J_HD __host__ __device__ __forceinline__
#endif

/* ---- RoPE ----
 * Pair i (0 <= i < n_rot / 2) of a head rotates by an angle made from theta_extrap_i = pos * freq_base^(-2i / n_rot),
 * divided by freq_factors[i] when given (llama3 rope_freqs, LongRoPE's factors), as ggml's rope_yarn: theta_interp
 * = freq_scale * theta_extrap; ext_factor 0: the angle is theta_interp and the magnitude attn_factor; else (YaRN)
 * mix = ext_factor * (1 - clamp((i - corr_lo) / max(0.001, corr_hi - corr_lo), 0, 1)), the angle
 * theta_interp * (1 - mix) + theta_extrap * mix and the magnitude attn_factor * (1 + 0.1 ln(1 / freq_scale)); cos
 * and sin are multiplied by the magnitude. The pair's elements are (2i, 2i + 1) for llama (neox == 0) and
 * (i, i + n_rot / 2) for neox (qwen2); dimensions from n_rot up are left alone. */
G4J_HD float g4j_rope_theta_extrap(int32_t pos, int i, int n_rot, float freq_base, const float *freq_factors) {
    const float inv_freq = powf(freq_base, -2.0f * (float)i / (float)n_rot);
    float theta = (float)pos * inv_freq;
    if (freq_factors) theta /= freq_factors[i];
    return theta;
}
struct g4j_rope_angle { float theta, mag; };
G4J_HD g4j_rope_angle g4j_rope_yarn(float theta_extrap, int i, float freq_scale, float ext_factor, float attn_factor,
                                    float corr_lo, float corr_hi) {
    const float theta_interp = freq_scale * theta_extrap;
    if (ext_factor == 0.0f) return {theta_interp, attn_factor};
    const float y = ((float)i - corr_lo) / fmaxf(0.001f, corr_hi - corr_lo);
    const float mix = (1.0f - fminf(1.0f, fmaxf(0.0f, y))) * ext_factor;
    return {theta_interp * (1.0f - mix) + theta_extrap * mix, attn_factor * (1.0f + 0.1f * logf(1.0f / freq_scale))};
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
G4J_HD void g4j_rope_rotate(g4j_rope_angle an, float *x0, float *x1) {
    float s, c;
#ifdef __CUDA_ARCH__
    sincosf(an.theta, &s, &c);
#else
    s = sinf(an.theta);
    c = cosf(an.theta);
#endif
    c *= an.mag;
    s *= an.mag;
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

/* ---- soft-capping (gemma2) ----
 * cap * tanhf(x * (1 / cap)), as ggml_scale, ggml_tanh, ggml_scale: each product rounded (no fused multiply-add). */
G4J_HD float g4j_soft_cap(float x, float cap) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(tanhf(__fmul_rn(x, __fdiv_rn(1.0f, cap))), cap);
#else
    volatile float inv = 1.0f / cap, a = x * inv;
    volatile float t = tanhf(a);
    return t * cap;
#endif
}

/* ---- attention's score and window ----
 * A q.K product d becomes (soft_cap > 0 ? soft_cap * tanhf(d / soft_cap) : d) * scale (gemma2 caps before the
 * scale); with a window w > 0 the query at position p sees positions (p - w, p]: the first is max(0, p + 1 - w). */
G4J_HD float g4j_attn_score(float dot, float scale, float soft_cap) {
    if (soft_cap > 0.0f) dot = g4j_soft_cap(dot, soft_cap);
    return dot * scale;
}
G4J_HD int64_t g4j_attn_first_pos(int64_t npos, int32_t window) {
    return window > 0 && npos > window ? npos - window : 0;
}

/* ---- GELU (gemma's GEGLU) ----
 * ggml's CPU GELU (ggml_vec_gelu_f32 with GGML_GELU_FP16): 0 for x <= -10, x for x >= 10, else the entry of ggml's
 * F16 table at fp16(x): fp16(0.5 f (1 + tanhf(sqrt(2/pi) f (1 + 0.044715 f^2)))) with f = fp16(x), evaluated in
 * float (each operation rounded, as the table is filled on the CPU); the device's tanhf may differ from glibc's by
 * an ulp, which the final rounding to binary16 almost always absorbs. */
G4J_HD float g4j_gelu_f16(float x) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    const float f = __half2float(__float2half_rn(x));
    const float c = 0.79788456080286535587989211986876f, a = 0.044715f;
#ifdef __CUDA_ARCH__
    const float inner = __fmul_rn(__fmul_rn(c, f), __fadd_rn(1.0f, __fmul_rn(__fmul_rn(a, f), f)));
    const float g = __fmul_rn(__fmul_rn(0.5f, f), __fadd_rn(1.0f, tanhf(inner)));
#else
    volatile float af = a * f, aff = af * f, one = 1.0f + aff, cf = c * f, inner = cf * one;
    volatile float t = tanhf(inner), half = 0.5f * f, t1 = 1.0f + t;
    const float g = half * t1;
#endif
    return __half2float(__float2half_rn(g));
}
/* gelu(g) * u, the product rounded */
G4J_HD float g4j_geglu_one(float g, float u) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(g4j_gelu_f16(g), u);
#else
    volatile float p = g4j_gelu_f16(g) * u;
    return p;
#endif
}

#endif /* G4J_CUDA_OP_MATH_CUH */
