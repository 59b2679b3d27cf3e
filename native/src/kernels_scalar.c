/*
 * kernels_scalar.c - the scalar reference: plain C, no ISA flags, no FP contraction (G4jCompilerFlags). It is
 * the oracle every vector variant is tested against (native/tests, and Java's NativeKernelTest), and it serves
 * any type a vector variant has no kernel for.
 *
 * What it computes is ggml's CPU mul_mat (llama.cpp c392e50): the activations converted to the weight type's
 * vec_dot_type by the from_float of ggml's x86 build (g4j_from_float below, shared by every variant), then each
 * type's vec_dot with the float operation order of ggml's generic (non-SIMD) code: the integer sums per block
 * are exact, so any two orders of those give the same integers; the float steps after them (scales, the sum
 * over blocks, the 8 partial sums of the K-quants) are done here in the order ggml's generic code does them.
 */
#include <math.h>

#include "g4j_internal.h"

/* ================================ activation conversion (from_float) ================================
 *
 * Q8_0 / Q8_1 replicate ggml's AVX quantize_row_q8_0 / quantize_row_q8_1 (ggml-cpu-quants.c), which ggml's
 * x86 builds use (every build with AVX): d = amax / 127 stored as f16; the multiplier is 127 / amax (not
 * 1 / d as in the scalar quantize_row_q8_0_ref); x * multiplier is rounded with _mm256_round_ps(..,
 * _MM_ROUND_NEAREST), i.e. ties to even (the _ref uses roundf, ties away from zero), converted with
 * cvtps_epi32 and narrowed with saturating packs. Q8_1's s is f16(d * sum of the 32 int32 quants).
 * Q8_K is quantize_row_q8_K_ref (ggml-quants.c; ggml's x86 quantize_row_q8_K calls it): the element of largest
 * magnitude (first one on ties) is max, iscale = -127 / max, q = min(127, nearest_int(iscale * x)) with ggml's
 * 1.5 * 2^23 rounding trick (ties to even), d = 1 / iscale, bsums = sums of 16. Difference: for an all-zero
 * block ggml leaves bsums unwritten; here they are 0 (they are multiplied by d = 0 either way).
 * F16 / BF16 round to nearest-even (g4j_float_to_half / g4j_float_to_bf16).
 */

/* _mm256_cvtps_epi32 under the default MXCSR (nearest-even): NaN and out-of-range give INT32_MIN. */
static inline int32_t cvt_ps_epi32(float v) {
    if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
    const float a = fabsf(v);
    if (a >= 8388608.0f) return (int32_t)v; /* already an integer */
    const float r = (a + 8388608.0f) - 8388608.0f; /* nearest-even, exact for a < 2^23 */
    return (int32_t)(v < 0 ? -r : r);
}

/* packs_epi32 then packs_epi16: saturate to int8. */
static inline int8_t sat_i8(int32_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

/* ggml's nearest_int: the low mantissa bits of fval + 1.5 * 2^23 (ties to even for |fval| < 2^22). */
static inline int32_t nearest_int(float fval) {
    const uint32_t i = g4j_float_bits(fval + 12582912.0f);
    return (int32_t)(i & 0x007fffffu) - 0x00400000;
}

static inline float amax32(const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        const float a = fabsf(x[j]);
        amax = a > amax ? a : amax;
    }
    return amax;
}

static void from_float_q8_0(int64_t n, const float *x, void *vout) {
    g4j_block_q8_0 *y = (g4j_block_q8_0 *)vout;
    for (int64_t b = 0; b < n / G4J_QK8_0; b++, x += G4J_QK8_0) {
        const float amax = amax32(x);
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[b].d = g4j_float_to_half(d);
        for (int j = 0; j < G4J_QK8_0; j++) y[b].qs[j] = sat_i8(cvt_ps_epi32(x[j] * id));
    }
}

static void from_float_q8_1(int64_t n, const float *x, void *vout) {
    g4j_block_q8_1 *y = (g4j_block_q8_1 *)vout;
    for (int64_t b = 0; b < n / G4J_QK8_1; b++, x += G4J_QK8_1) {
        const float amax = amax32(x);
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        uint32_t sum = 0; /* of the int32 quants before narrowing, wrapping as the vector adds do */
        for (int j = 0; j < G4J_QK8_1; j++) {
            const int32_t q = cvt_ps_epi32(x[j] * id);
            sum += (uint32_t)q;
            y[b].qs[j] = sat_i8(q);
        }
        y[b].d = g4j_float_to_half(d);
        y[b].s = g4j_float_to_half(d * (float)(int32_t)sum);
    }
}

static void from_float_q8_K(int64_t n, const float *x, void *vout) {
    g4j_block_q8_K *y = (g4j_block_q8_K *)vout;
    for (int64_t b = 0; b < n / G4J_QK_K; b++, x += G4J_QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < G4J_QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < G4J_QK_K; j++) {
            const int32_t v = nearest_int(iscale * x[j]);
            y[b].qs[j] = (int8_t)(uint8_t)((v < 127 ? v : 127) & 0xff); /* int8_t conversion wraps, as in ggml */
        }
        for (int j = 0; j < G4J_QK_K / 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[16 * j + i];
            y[b].bsums[j] = (int16_t)sum;
        }
        y[b].d = 1 / iscale;
    }
}

static void from_float_f16(int64_t n, const float *x, void *vout) {
    g4j_half *y = (g4j_half *)vout;
    for (int64_t i = 0; i < n; i++) y[i] = g4j_float_to_half(x[i]);
}

static void from_float_bf16(int64_t n, const float *x, void *vout) {
    uint16_t *y = (uint16_t *)vout;
    for (int64_t i = 0; i < n; i++) y[i] = g4j_float_to_bf16(x[i]);
}

g4j_from_float_fn g4j_from_float(int32_t act_type) {
    switch (act_type) {
    case G4J_TYPE_F16: return from_float_f16;
    case G4J_TYPE_BF16: return from_float_bf16;
    case G4J_TYPE_Q8_0: return from_float_q8_0;
    case G4J_TYPE_Q8_1: return from_float_q8_1;
    case G4J_TYPE_Q8_K: return from_float_q8_K;
    default: return NULL;
    }
}

/* ================================ float rows ================================
 * F32, F16 and BF16 rows, in the one summation order every variant uses :
 * 32 lanes, lane l accumulating the products of the elements i = l (mod 32) of each full group of 32 with a fused
 * multiply-add, then the lanes added in a fixed tree, then the last n % 32 products added one by one. The AVX2
 * kernels (kernels_avx2.c) compute exactly this with four 8-lane registers, so a model with float weights gives
 * the same bits under every kernel variant (KernelVariantsTest). ggml's generic code sums in double instead; its
 * SIMD code in its own register order: llama.cpp's F32 results differ in the last bits between machines. */

#define FLOAT_ROW_DOT(NAME, T, TO_F32)                                                                  \
    static void NAME(int64_t n, const void *vx, const void *vy, float *out) {                          \
        const T *x = (const T *)vx, *y = (const T *)vy;                                                  \
        float lane[32] = {0};                                                                            \
        int64_t i = 0;                                                                                   \
        for (; i + 32 <= n; i += 32)                                                                     \
            for (int l = 0; l < 32; l++) lane[l] = fmaf(TO_F32(x[i + l]), TO_F32(y[i + l]), lane[l]);    \
        float sum = float_row_reduce(lane);                                                              \
        for (; i < n; i++) sum += TO_F32(x[i]) * TO_F32(y[i]);                                           \
        *out = sum;                                                                                      \
    }

/* The lanes as four 8-lane registers r0..r3 (lane 8k+j is r_k[j]): (r0+r1)+(r2+r3), then halves of 4, 2, 1. */
static float float_row_reduce(const float lane[32]) {
    float v[8];
    for (int j = 0; j < 8; j++) v[j] = (lane[j] + lane[8 + j]) + (lane[16 + j] + lane[24 + j]);
    float t[4];
    for (int j = 0; j < 4; j++) t[j] = v[j] + v[j + 4];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

static inline float f32_id(float v) { return v; }

FLOAT_ROW_DOT(vec_dot_f32, float, f32_id)
FLOAT_ROW_DOT(vec_dot_f16, g4j_half, g4j_half_to_float)
FLOAT_ROW_DOT(vec_dot_bf16, uint16_t, g4j_bf16_to_float)

/* ================================ blocks of 32 (x Q8_0 / Q8_1) ================================ */

static void vec_dot_q4_0(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q4_0 *x = (const g4j_block_q4_0 *)vx;
    const g4j_block_q8_0 *y = (const g4j_block_q8_0 *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK4_0; b++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += ((x[b].qs[j] & 0xf) - 8) * y[b].qs[j];
            sumi += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + 16];
        }
        sumf += (float)sumi * g4j_half_to_float(x[b].d) * g4j_half_to_float(y[b].d);
    }
    *out = sumf;
}

static void vec_dot_q4_1(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q4_1 *x = (const g4j_block_q4_1 *)vx;
    const g4j_block_q8_1 *y = (const g4j_block_q8_1 *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK4_1; b++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (x[b].qs[j] & 0xf) * y[b].qs[j];
            sumi += (x[b].qs[j] >> 4) * y[b].qs[j + 16];
        }
        sumf += (g4j_half_to_float(x[b].d) * g4j_half_to_float(y[b].d)) * (float)sumi
              + g4j_half_to_float(x[b].m) * g4j_half_to_float(y[b].s);
    }
    *out = sumf;
}

static inline uint32_t qh32(const uint8_t qh[4]) { uint32_t h; memcpy(&h, qh, 4); return h; }

static void vec_dot_q5_0(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q5_0 *x = (const g4j_block_q5_0 *)vx;
    const g4j_block_q8_0 *y = (const g4j_block_q8_0 *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK5_0; b++) {
        const uint32_t h = qh32(x[b].qh);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (int)(((x[b].qs[j] & 0xf) | (((h >> j) & 1) << 4)) - 16) * y[b].qs[j];
            sumi += (int)(((x[b].qs[j] >> 4) | (((h >> (j + 16)) & 1) << 4)) - 16) * y[b].qs[j + 16];
        }
        sumf += (g4j_half_to_float(x[b].d) * g4j_half_to_float(y[b].d)) * (float)sumi;
    }
    *out = sumf;
}

static void vec_dot_q5_1(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q5_1 *x = (const g4j_block_q5_1 *)vx;
    const g4j_block_q8_1 *y = (const g4j_block_q8_1 *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK5_1; b++) {
        const uint32_t h = qh32(x[b].qh);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (int)((x[b].qs[j] & 0xf) | (((h >> j) & 1) << 4)) * y[b].qs[j];
            sumi += (int)((x[b].qs[j] >> 4) | (((h >> (j + 16)) & 1) << 4)) * y[b].qs[j + 16];
        }
        sumf += (g4j_half_to_float(x[b].d) * g4j_half_to_float(y[b].d)) * (float)sumi
              + g4j_half_to_float(x[b].m) * g4j_half_to_float(y[b].s);
    }
    *out = sumf;
}

static void vec_dot_q8_0(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q8_0 *x = (const g4j_block_q8_0 *)vx;
    const g4j_block_q8_0 *y = (const g4j_block_q8_0 *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK8_0; b++) {
        int sumi = 0;
        for (int j = 0; j < G4J_QK8_0; j++) sumi += x[b].qs[j] * y[b].qs[j];
        sumf += (float)sumi * (g4j_half_to_float(x[b].d) * g4j_half_to_float(y[b].d));
    }
    *out = sumf;
}

static void vec_dot_iq4_nl(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_iq4_nl *x = (const g4j_block_iq4_nl *)vx;
    const g4j_block_q8_0 *y = (const g4j_block_q8_0 *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK4_NL; b++) {
        const float d = g4j_half_to_float(y[b].d) * g4j_half_to_float(x[b].d);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += y[b].qs[j] * g4j_iq4nl_values[x[b].qs[j] & 0xf];
            sumi += y[b].qs[j + 16] * g4j_iq4nl_values[x[b].qs[j] >> 4];
        }
        sumf += d * (float)sumi;
    }
    *out = sumf;
}

/* ================================ super-blocks of 256 (x Q8_K) ================================ */

/* Q2_K: 16 sub-blocks of 16, 4-bit scale (low nibble) and min (high nibble); element 128h + 32k + l is bits
 * 2k..2k+1 of qs[32h + l]. ggml: sumf += dall * isum - dmin * summs. */
static void vec_dot_q2_K(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q2_K *x = (const g4j_block_q2_K *)vx;
    const g4j_block_q8_K *y = (const g4j_block_q8_K *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK_K; b++) {
        int summs = 0, isum = 0;
        for (int j = 0; j < 16; j++) summs += y[b].bsums[j] * (x[b].scales[j] >> 4);
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++)
                for (int half = 0; half < 2; half++) {
                    const int s = 8 * h + 2 * k + half; /* sub-block of 16 */
                    int sub = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        sub += ((x[b].qs[32 * h + l] >> (2 * k)) & 3) * y[b].qs[128 * h + 32 * k + l];
                    isum += (x[b].scales[s] & 0xf) * sub;
                }
        const float dall = y[b].d * g4j_half_to_float(x[b].d);
        const float dmin = y[b].d * g4j_half_to_float(x[b].dmin);
        sumf += dall * (float)isum - dmin * (float)summs;
    }
    *out = sumf;
}

/* The K-quants below keep ggml's 8 float partial sums: lane l sums d * (integer sum of the elements whose index
 * is l mod 8) over the super-blocks, and the lanes are added at the end (after the mins, for Q4_K/Q5_K). */

/* Q3_K: element 128h + 32k + l is bits 2k..2k+1 of qs[32h + l], minus 4 unless bit 4h+k of hmask[l] is set;
 * 16 signed 6-bit scales of 16. */
static void vec_dot_q3_K(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q3_K *x = (const g4j_block_q3_K *)vx;
    const g4j_block_q8_K *y = (const g4j_block_q8_K *)vy;
    float sums[8] = {0};
    for (int64_t b = 0; b < n / G4J_QK_K; b++) {
        int8_t sc[16];
        g4j_unpack_q3k_scales(x[b].scales, sc);
        int32_t lane[8] = {0};
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++)
                for (int half = 0; half < 2; half++) {
                    const int sc16 = sc[8 * h + 2 * k + half];
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        const int q = ((x[b].qs[32 * h + l] >> (2 * k)) & 3) - ((x[b].hmask[l] >> (4 * h + k)) & 1 ? 0 : 4);
                        lane[l % 8] += sc16 * (q * y[b].qs[128 * h + 32 * k + l]);
                    }
                }
        const float d = g4j_half_to_float(x[b].d) * y[b].d;
        for (int l = 0; l < 8; l++) sums[l] += d * (float)lane[l];
    }
    float sumf = 0.0f;
    for (int l = 0; l < 8; l++) sumf += sums[l];
    *out = sumf;
}

/* Q4_K / Q5_K: 8 sub-blocks of 32 with 6-bit scale and min; chunk c (64 elements) holds sub-block 2c in the low
 * nibbles of qs[32c ..] and 2c+1 in the high nibbles; Q5_K's fifth bit of element 32s + l is bit s of qh[l]. */
static inline void q45_K_block(g4j_half hd, g4j_half hdmin, const uint8_t scales[12], const uint8_t *qs,
                               const uint8_t *qh, const g4j_block_q8_K *y, float sums[8], float *sumf) {
    uint8_t sc[8], mn[8];
    g4j_unpack_k4_scales(scales, sc, mn);
    int sumi = 0;
    for (int j = 0; j < 16; j++) sumi += y->bsums[j] * mn[j / 2];
    int32_t lane[8] = {0};
    for (int s = 0; s < 8; s++) {
        int32_t sub[8] = {0};
        for (int l = 0; l < 32; l++) {
            int q = (qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0xf;
            if (qh) q |= ((qh[l] >> s) & 1) << 4;
            sub[l % 8] += q * y->qs[32 * s + l];
        }
        for (int l = 0; l < 8; l++) lane[l] += sc[s] * sub[l];
    }
    const float d = g4j_half_to_float(hd) * y->d;
    for (int l = 0; l < 8; l++) sums[l] += d * (float)lane[l];
    const float dmin = g4j_half_to_float(hdmin) * y->d;
    *sumf -= dmin * (float)sumi;
}

static void vec_dot_q4_K(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q4_K *x = (const g4j_block_q4_K *)vx;
    const g4j_block_q8_K *y = (const g4j_block_q8_K *)vy;
    float sums[8] = {0}, sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK_K; b++) q45_K_block(x[b].d, x[b].dmin, x[b].scales, x[b].qs, NULL, &y[b], sums, &sumf);
    for (int l = 0; l < 8; l++) sumf += sums[l];
    *out = sumf;
}

static void vec_dot_q5_K(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q5_K *x = (const g4j_block_q5_K *)vx;
    const g4j_block_q8_K *y = (const g4j_block_q8_K *)vy;
    float sums[8] = {0}, sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK_K; b++) q45_K_block(x[b].d, x[b].dmin, x[b].scales, x[b].qs, x[b].qh, &y[b], sums, &sumf);
    for (int l = 0; l < 8; l++) sumf += sums[l];
    *out = sumf;
}

/* Q6_K: element 128h + 32k + l is the nibble (k < 2: low, else high) of ql[64h + 32(k % 2) + l] with bits
 * 2k..2k+1 of qh[32h + l] above it, minus 32; 16 int8 scales of 16. */
static void vec_dot_q6_K(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q6_K *x = (const g4j_block_q6_K *)vx;
    const g4j_block_q8_K *y = (const g4j_block_q8_K *)vy;
    float sums[8] = {0};
    for (int64_t b = 0; b < n / G4J_QK_K; b++) {
        int32_t lane[8] = {0};
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++)
                for (int half = 0; half < 2; half++) {
                    int32_t sub[8] = {0};
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        const int lo = (x[b].ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xf;
                        const int hi = (x[b].qh[32 * h + l] >> (2 * k)) & 3;
                        sub[l % 8] += ((lo | (hi << 4)) - 32) * y[b].qs[128 * h + 32 * k + l];
                    }
                    const int sc = x[b].scales[8 * h + 2 * k + half];
                    for (int l = 0; l < 8; l++) lane[l] += sc * sub[l];
                }
        const float d = g4j_half_to_float(x[b].d) * y[b].d;
        for (int l = 0; l < 8; l++) sums[l] += d * (float)lane[l];
    }
    float sumf = 0.0f;
    for (int l = 0; l < 8; l++) sumf += sums[l];
    *out = sumf;
}

/* IQ4_XS: 8 sub-blocks of 32, 6-bit scales (low 4 bits in scales_l, high 2 in scales_h) minus 32; sub-block s
 * has its elements 0..15 in the low nibbles of qs[16s ..] and 16..31 in the high nibbles. */
static void vec_dot_iq4_xs(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_iq4_xs *x = (const g4j_block_iq4_xs *)vx;
    const g4j_block_q8_K *y = (const g4j_block_q8_K *)vy;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / G4J_QK_K; b++) {
        const float d4d8 = g4j_half_to_float(x[b].d) * y[b].d;
        for (int s = 0; s < 8; s++) {
            const int ls = ((x[b].scales_l[s / 2] >> (4 * (s % 2))) & 0xf) | (((x[b].scales_h >> (2 * s)) & 3) << 4);
            const float ds = d4d8 * (float)(ls - 32);
            const uint8_t *qs = x[b].qs + 16 * s;
            const int8_t *q8 = y[b].qs + 32 * s;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                sumi += q8[j] * g4j_iq4nl_values[qs[j] & 0xf];
                sumi += q8[j + 16] * g4j_iq4nl_values[qs[j] >> 4];
            }
            sumf += ds * (float)sumi;
        }
    }
    *out = sumf;
}

const g4j_kernel_table g4j_kernels_scalar = {
    .vec_dot = {
        [G4J_TYPE_F32] = vec_dot_f32,
        [G4J_TYPE_F16] = vec_dot_f16,
        [G4J_TYPE_BF16] = vec_dot_bf16,
        [G4J_TYPE_Q4_0] = vec_dot_q4_0,
        [G4J_TYPE_Q4_1] = vec_dot_q4_1,
        [G4J_TYPE_Q5_0] = vec_dot_q5_0,
        [G4J_TYPE_Q5_1] = vec_dot_q5_1,
        [G4J_TYPE_Q8_0] = vec_dot_q8_0,
        [G4J_TYPE_Q2_K] = vec_dot_q2_K,
        [G4J_TYPE_Q3_K] = vec_dot_q3_K,
        [G4J_TYPE_Q4_K] = vec_dot_q4_K,
        [G4J_TYPE_Q5_K] = vec_dot_q5_K,
        [G4J_TYPE_Q6_K] = vec_dot_q6_K,
        [G4J_TYPE_IQ4_NL] = vec_dot_iq4_nl,
        [G4J_TYPE_IQ4_XS] = vec_dot_iq4_xs,
    },
};
