/*
 * kernels_avx512.c - AVX-512 (F/BW/DQ/VL) variants. This file alone is compiled with the AVX-512 flags
 * (cmake/G4jIsa.cmake). Only kernels that beat their AVX2 twin belong here (docs/benchmarks.md); the
 * dispatcher fills the rest from the AVX2 table.
 *
 * Measured on an AMD EPYC (Zen 4, 512-bit ops double-pumped), 1 thread, 4096 x 4096 and 256 x 4096 matvecs:
 * F32 and Q6_K (two 64-element zmm per half super-block, scales by vpermw) beat AVX2 by a few percent; 512-bit
 * versions of Q8_0, Q4_0 (two blocks per zmm) and Q4_K (one chunk of 64 per zmm) did not, so they are not
 * here. (ggml's lead on Q4_0/Q8_0 in compute-bound runs comes from AVX-512 VNNI, which this variant does not
 * require.)
 */
#include <immintrin.h>

#include "g4j_internal.h"

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))

/* two 32-byte halves -> one zmm */
static inline __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

/* Q6_K: per half, elements 0..63 and 64..127 are one zmm each; scales by s16 permutes. */
static void vec_dot_q6_K(int64_t n, const void *vx, const void *vy, float *out) {
    const g4j_block_q6_K *x = (const g4j_block_q6_K *)vx;
    const g4j_block_q8_K *y = (const g4j_block_q8_K *)vy;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    /* s16 lane j (of 32) of zmm t (0..3, 64 elements each) covers elements 64t + 2j, +1: sub-block 4t + j/8 */
    const __m512i base = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / G4J_QK_K; b++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[b].scales));
        const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(sc16, LOAD256(y[b].bsums)), 5);
        const __m512i sc512 = _mm512_castsi256_si512(sc16);
        __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m512i l = _mm512_loadu_si512(x[b].ql + 64 * h); /* l0 | l1 */
            const __m256i qh = LOAD256(x[b].qh + 32 * h);
            /* elements 0..63: low nibbles of l0|l1, high bits (qh << 4) | (qh << 2) */
            const __m512i hi01 = _mm512_and_si512(join256(_mm256_slli_epi16(qh, 4), _mm256_slli_epi16(qh, 2)), m30);
            const __m512i hi23 = _mm512_and_si512(join256(qh, _mm256_srli_epi16(qh, 2)), m30);
            const __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4), hi01);
            const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), hi23);
            const __m512i s01 = _mm512_permutexvar_epi16(_mm512_add_epi16(base, _mm512_set1_epi16((short)(8 * h))), sc512);
            const __m512i s23 = _mm512_permutexvar_epi16(_mm512_add_epi16(base, _mm512_set1_epi16((short)(8 * h + 4))), sc512);
            const __m512i p01 = _mm512_maddubs_epi16(q01, _mm512_loadu_si512(y[b].qs + 128 * h));
            const __m512i p23 = _mm512_maddubs_epi16(q23, _mm512_loadu_si512(y[b].qs + 128 * h + 64));
            sumi = _mm512_add_epi32(sumi, _mm512_add_epi32(_mm512_madd_epi16(p01, s01), _mm512_madd_epi16(p23, s23)));
        }
        sumi = _mm512_sub_epi32(sumi, _mm512_zextsi256_si512(corr));
        acc = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(x[b].d) * y[b].d), _mm512_cvtepi32_ps(sumi), acc);
    }
    *out = _mm512_reduce_add_ps(acc);
}

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
        [G4J_TYPE_Q6_K] = vec_dot_q6_K,
    },
};
