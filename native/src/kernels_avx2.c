/*
 * kernels_avx2.c - AVX2 + FMA + F16C variants. This file alone is compiled with -mavx2 -mfma -mf16c
 * (cmake/G4jIsa.cmake); it is only entered after the run-time probe found those features.
 */
#include <immintrin.h>

#include "g4j_internal.h"

static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/* 8 int8 -> 8 floats */
static inline __m256 i8x8_to_ps(const int8_t *q) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)));
}

static void vec_dot_q8_0(int64_t n, const void *vx, const float *y, float *out) {
    const g4j_block_q8_0 *x = (const g4j_block_q8_0 *)vx;
    const int64_t nb = n / G4J_QK8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const float *yb = y + b * G4J_QK8_0;
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(x[b].d));
        __m256 s0 = _mm256_mul_ps(i8x8_to_ps(x[b].qs + 0), _mm256_loadu_ps(yb + 0));
        __m256 s1 = _mm256_mul_ps(i8x8_to_ps(x[b].qs + 8), _mm256_loadu_ps(yb + 8));
        s0 = _mm256_fmadd_ps(i8x8_to_ps(x[b].qs + 16), _mm256_loadu_ps(yb + 16), s0);
        s1 = _mm256_fmadd_ps(i8x8_to_ps(x[b].qs + 24), _mm256_loadu_ps(yb + 24), s1);
        acc0 = _mm256_fmadd_ps(d, s0, acc0);
        acc1 = _mm256_fmadd_ps(d, s1, acc1);
    }
    *out = hsum256(_mm256_add_ps(acc0, acc1));
}

static void vec_dot_f16(int64_t n, const void *vx, const float *y, float *out) {
    const g4j_half *x = (const g4j_half *)vx;
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))), _mm256_loadu_ps(y + i), acc);
    float sum = hsum256(acc);
    for (; i < n; i++) sum += _cvtsh_ss(x[i]) * y[i];
    *out = sum;
}

static void vec_dot_f32(int64_t n, const void *vx, const float *y, float *out) {
    const float *x = (const float *)vx;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    float sum = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) sum += x[i] * y[i];
    *out = sum;
}

const g4j_kernel_table g4j_kernels_avx2 = {
    .vec_dot = {
        [G4J_TYPE_F32] = vec_dot_f32,
        [G4J_TYPE_F16] = vec_dot_f16,
        [G4J_TYPE_Q8_0] = vec_dot_q8_0,
    },
};
