/*
 * kernels_avx512.c - AVX-512 (F/BW/DQ/VL) variants. This file alone is compiled with the AVX-512 flags
 * (cmake/G4jIsa.cmake). Only kernels that beat their AVX2 twin belong here (docs/benchmarks.md); the
 * dispatcher fills the rest from the AVX2 table.
 *
 * Measured on an AMD EPYC (Zen 4, 512-bit ops double-pumped), 1 thread, 4096 x 4096 and 256 x 4096 matvecs:
 * F32 beat AVX2 by a few percent; 512-bit versions of Q8_0, Q4_0 (two blocks per zmm) and Q4_K (one chunk of 64
 * per zmm) did not, so they are not here. The k-quants Q2_K .. Q6_K (gemm tiles with their vec_dot twins) are in
 * gemm_qk_avx512.c. (ggml's lead on Q4_0/Q8_0 in compute-bound runs comes from AVX-512 VNNI, which this variant does not
 * require.)
 */
#include <immintrin.h>

#include "g4j_internal.h"

static void vec_dot_f32(int64_t n, const void *vx, const void *vy, float *out) {
    const float *x = (const float *)vx, *y = (const float *)vy;
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
    },
};
