/*
 * kernels_avx512.c - AVX-512 (F/BW/DQ/VL) variants. This file alone is compiled with the AVX-512 flags
 * (cmake/G4jIsa.cmake). Only kernels that beat their AVX2 twin belong here (docs/benchmarks.md); the
 * dispatcher fills the rest from the AVX2 table.
 */
#include <immintrin.h>

#include "g4j_internal.h"

/* 16 int8 -> 16 floats */
static inline __m512 i8x16_to_ps(const int8_t *q) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q)));
}

/* Two Q8_0 blocks per iteration keep two independent FMA chains busy. */
static void vec_dot_q8_0(int64_t n, const void *vx, const float *y, float *out) {
    const g4j_block_q8_0 *x = (const g4j_block_q8_0 *)vx;
    const int64_t nb = n / G4J_QK8_0;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const float *yb = y + b * G4J_QK8_0;
        const __m512 d = _mm512_set1_ps(_cvtsh_ss(x[b].d));
        const __m512 s0 = _mm512_mul_ps(i8x16_to_ps(x[b].qs + 0), _mm512_loadu_ps(yb + 0));
        const __m512 s1 = _mm512_mul_ps(i8x16_to_ps(x[b].qs + 16), _mm512_loadu_ps(yb + 16));
        acc0 = _mm512_fmadd_ps(d, s0, acc0);
        acc1 = _mm512_fmadd_ps(d, s1, acc1);
    }
    *out = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

static void vec_dot_f32(int64_t n, const void *vx, const float *y, float *out) {
    const float *x = (const float *)vx;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    for (; i < n; i++) sum += x[i] * y[i];
    *out = sum;
}

const g4j_kernel_table g4j_kernels_avx512 = {
    .vec_dot = {
        [G4J_TYPE_F32] = vec_dot_f32,
        [G4J_TYPE_Q8_0] = vec_dot_q8_0,
    },
};
