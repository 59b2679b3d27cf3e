/*
 * r8_avx2.c - matrix-vector products over the r8 copy of Q4_0 and Q8_0 weights (gguf4j.h), compiled with the avx2
 * flags; the AVX-512 variants use it too (the plain kernels of all three compute the same arithmetic,
 * gemm_q32_impl.h, so this gives each of them its own bits).
 *
 * Per group of 8 rows and block, each 32-byte load k of the quants holds bytes 4k..4k+3 of the 8 rows' quants in
 * its 32-bit lanes (lane r = row r), so one maddubs with the 4 matching activation bytes broadcast advances all 8
 * rows at once, with no reduction between lanes:
 *  - Q4_0: 4 loads; (byte & 0xf) is elements 4k..4k+3 (u = q + 8), (byte >> 4) elements 16+4k..16+4k+3. The 8
 *    maddubs add up in s16 (a pair is at most 2 * 15 * 128 = 3840, the 8 of a lane 30720), madd with ones gives the
 *    exact sum of u * y per row, and adding -8 * sum(y) (once per block for the whole call) the exact isum.
 *  - Q8_0: 8 loads of the signed quants; each takes the sign trick maddubs(|q|, sign(y, q)) (a pair is at most
 *    32512, no room to add two in s16) and its own madd.
 * The float steps are gemm_q32_impl.h's: acc = fma(dx * dy, (float)isum, acc), blocks in order.
 */
#include <immintrin.h>

#include "r8.h"

#define R8_CHUNK 1024 /* blocks whose activation sums are kept on the stack (8 KiB); longer rows go in chunks */

#define R8_INLINE static inline __attribute__((always_inline))

R8_INLINE void r8_prep(const g4j_block_q8_0 *a, int64_t kb, int32_t *corr, float *dy, const int32_t type) {
    const __m256i eight = _mm256_set1_epi8(8), ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < kb; b++) {
        if (type == G4J_TYPE_Q4_0) {
            const __m256i t = _mm256_madd_epi16(_mm256_maddubs_epi16(eight, _mm256_loadu_si256((const __m256i *)a[b].qs)), ones);
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
            h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
            corr[b] = -_mm_cvtsi128_si32(h);
        } else {
            corr[b] = 0;
        }
        dy[b] = _cvtsh_ss(a[b].d);
    }
}

R8_INLINE __m256 r8_run(const uint8_t *blk, const g4j_block_q8_0 *a, int64_t kb, const int32_t *corr, const float *dy,
                        __m256 acc, const int32_t type) {
    const int64_t bb = g4j_r8_block_bytes(type);
    const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < kb; b++, blk += bb) {
        if (G4J_R8_PF)
            for (int64_t o = 0; o < bb; o += bb / 4 < 64 ? bb / 2 : bb / 4) /* every line: Q4_0 +0, +72; Q8_0 +0, +68, ... */
                _mm_prefetch((const char *)blk + G4J_R8_PF + o, _MM_HINT_T0);
        const uint8_t *q = blk + G4J_R8_SCALES;
        int32_t yq[8];
        memcpy(yq, a[b].qs, 32);
        __m256i s;
        if (type == G4J_TYPE_Q4_0) {
            const __m256i q0 = _mm256_loadu_si256((const __m256i *)(q));
            const __m256i q1 = _mm256_loadu_si256((const __m256i *)(q + 32));
            const __m256i q2 = _mm256_loadu_si256((const __m256i *)(q + 64));
            const __m256i q3 = _mm256_loadu_si256((const __m256i *)(q + 96));
            __m256i h = _mm256_maddubs_epi16(_mm256_and_si256(q0, m4), _mm256_set1_epi32(yq[0]));
            h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(q1, m4), _mm256_set1_epi32(yq[1])));
            h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(q2, m4), _mm256_set1_epi32(yq[2])));
            h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(q3, m4), _mm256_set1_epi32(yq[3])));
            h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q0, 4), m4), _mm256_set1_epi32(yq[4])));
            h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q1, 4), m4), _mm256_set1_epi32(yq[5])));
            h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q2, 4), m4), _mm256_set1_epi32(yq[6])));
            h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q3, 4), m4), _mm256_set1_epi32(yq[7])));
            s = _mm256_add_epi32(_mm256_madd_epi16(h, ones), _mm256_set1_epi32(corr[b]));
        } else {
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            for (int k = 0; k < 8; k += 2) {
                const __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + 32 * k));
                const __m256i w1 = _mm256_loadu_si256((const __m256i *)(q + 32 * k + 32));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w0),
                                          _mm256_sign_epi8(_mm256_set1_epi32(yq[k]), w0)), ones));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w1),
                                          _mm256_sign_epi8(_mm256_set1_epi32(yq[k + 1]), w1)), ones));
            }
            s = _mm256_add_epi32(s0, s1); /* integer: the grouping does not change isum */
        }
        const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(dy[b])), _mm256_cvtepi32_ps(s), acc);
    }
    return acc;
}

R8_INLINE void r8_matvec(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y,
                         const int32_t type) {
    if (nr <= 0) return;
    const g4j_block_q8_0 *a = (const g4j_block_q8_0 *)act;
    int32_t corr[R8_CHUNK];
    float dy[R8_CHUNK];
    const int64_t bb = g4j_r8_block_bytes(type), gbytes = nb * bb, g0 = r0 / 8, g1 = (r0 + nr - 1) / 8 + 1;
    if (nb <= R8_CHUNK) r8_prep(a, nb, corr, dy, type);
    for (int64_t g = g0; g < g1; g++) {
        const uint8_t *grp = (const uint8_t *)packed + g * gbytes;
        __m256 acc = _mm256_setzero_ps();
        if (nb <= R8_CHUNK) {
            acc = r8_run(grp, a, nb, corr, dy, acc, type);
        } else {
            for (int64_t k0 = 0; k0 < nb; k0 += R8_CHUNK) {
                const int64_t kb = nb - k0 < R8_CHUNK ? nb - k0 : R8_CHUNK;
                r8_prep(a + k0, kb, corr, dy, type);
                acc = r8_run(grp + k0 * bb, a + k0, kb, corr, dy, acc, type);
            }
        }
        const int64_t lo = g * 8 > r0 ? g * 8 : r0, hi = g * 8 + 8 < r0 + nr ? g * 8 + 8 : r0 + nr;
        if (lo == g * 8 && hi == g * 8 + 8) {
            _mm256_storeu_ps(y + (lo - r0), acc);
        } else {
            float t[8];
            _mm256_storeu_ps(t, acc);
            for (int64_t row = lo; row < hi; row++) y[row - r0] = t[row - g * 8];
        }
    }
}

void g4j_matvec_r8_q4_0_avx2(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y) {
    r8_matvec(nb, packed, r0, nr, act, y, G4J_TYPE_Q4_0);
}

void g4j_matvec_r8_q8_0_avx2(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y) {
    r8_matvec(nb, packed, r0, nr, act, y, G4J_TYPE_Q8_0);
}
