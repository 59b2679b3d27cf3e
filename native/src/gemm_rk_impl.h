/*
 * gemm_rk_impl.h - Q4_K, Q5_K and Q6_K products over their r8 copies (r8.h: the layout and the arithmetic), included by
 * gemm_qk_impl.h in each variant's file: the AVX2 form (8 rows per ymm, one group) for avx2 and avx512, the VNNI
 * form (16 rows per zmm, two groups) for avx512vnni.
 *
 * Why these exist. The products of the file's layout follow ggml's vec_dot: 8 float lanes per row, column and
 * super-block, so a tile must keep 8 lanes per row and each (row, column) pair costs 8 float multiply-adds per
 * super-block besides the integer work; tiles of decoded rows cost 12 multiplies per row pair, column and
 * super-block where the integer products alone need 8. Over the interleaved copy, lane r of a vector is row r, and
 * the arithmetic (r8.h) keeps one exact integer per (row, column, super-block):
 *  - each 32-byte (ymm) or 64-byte (zmm, two groups) load of quants holds 4 quants of each row in its 32-bit lane;
 *    one maddubs (AVX2) or vpdpbusd (VNNI) against the matching 4 activation bytes, broadcast, advances every row;
 *  - the sums of a sub-block are scaled by the sub-block's scale per lane: AVX2 adds the maddubs results in s16
 *    (Q4_K: 8 of them, at most 8 * 2 * 15 * 128 = 30720; Q6_K: 2, at most 32256) and scales by madd with (sc, sc)
 *    pairs; VNNI sums in s32 and multiplies by vpmulld;
 *  - Q6_K's -32 offset: AVX2 subtracts 32 * sum_j sc_j bsums[j] (madd of (sc_2i, sc_2i+1) pairs against bsums
 *    pairs); VNNI starts each sub-block's sum at -32 * bsums[j];
 *  - Q4_K's mins: M by madd (vpdpwssd) of (m_2i, m_2i+1) pairs against pairs of 32-element activation sums;
 *  - per super-block two float steps per lane (acc = fma(d_x d_y, S, acc), then - dmin_x d_y M), in order.
 * Integers are exact in any grouping, and the float steps are g4j_r8k_dot's, so every element is that function's
 * bits, for every batch size, thread split and variant (test_kernels).
 */
#ifndef G4J_GEMM_RK_IMPL_H
#define G4J_GEMM_RK_IMPL_H

#include <immintrin.h>

#include "r8.h"

#define RK_INLINE static inline __attribute__((always_inline))
#define RK_LD256(p) _mm256_loadu_si256((const __m256i *)(p))
#define RK_PIN(v) __asm__("" : "+v"(v))
#define RK_COLS_BLOCK 64 /* columns whose activations stay in L2 while every row group runs over them */

RK_INLINE int32_t rk_load32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* Sub-blocks per super-block and quads (4 elements) per sub-block. */
#define RK_MINS(type) ((type) == G4J_TYPE_Q4_K || (type) == G4J_TYPE_Q5_K) /* 8 sub-blocks of 32 with mins */
#define RK_NSUB(type) (RK_MINS(type) ? 8 : 16)
#define RK_QPS(type) (RK_MINS(type) ? 8 : 4)

/* Byte offsets, in a group block, of the interleaved quads that hold quad qd of sub-block j: Q4_K its qs quad
 * (nibble j % 2); Q6_K its ql quad (nibble m / 2 for m = j % 8 / 2) and qh quad (bits 2m, 2m + 1). */
RK_INLINE int rk_q4k_at(int j, int qd) { return G4J_R8K_Q4K_QS + 32 * (8 * (j / 2) + qd); }
RK_INLINE int rk_q6k_ql_at(int j, int qd) { return G4J_R8K_Q6K_QL + 32 * (16 * (j / 8) + 8 * (j % 8 / 2 % 2) + 4 * (j % 2) + qd); }
RK_INLINE int rk_q6k_qh_at(int j, int qd) { return G4J_R8K_Q6K_QH + 32 * (8 * (j / 8) + 4 * (j % 2) + qd); }

/* Q5_K's fifth bit of sub-block j (bit j of its qh quad) moved to bit 4 of each byte (16-bit shifts: the bits
 * that cross into the other byte are masked off). */
#define RK_Q5_BIT(h, j, SLLI, SRLI) ((j) < 4 ? SLLI(h, 4 - (j)) : (j) == 4 ? (h) : SRLI(h, (j) - 4))

/* The unsigned quants of quad qd of sub-block j of the 8 rows of one group block (lane r: row r). */
RK_INLINE __m256i rk_u8(const uint8_t *blk, int j, int qd, const int32_t type) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    if (RK_MINS(type)) {
        const __m256i x = RK_LD256(blk + rk_q4k_at(j, qd));
        const __m256i lo = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(x, 4) : x, m4);
        if (type == G4J_TYPE_Q4_K) return lo;
        const __m256i h = RK_LD256(blk + G4J_R8K_Q5K_QH + 32 * qd);
        return _mm256_or_si256(lo, _mm256_and_si256(RK_Q5_BIT(h, j, _mm256_slli_epi16, _mm256_srli_epi16), _mm256_set1_epi8(0x10)));
    }
    const int m = j % 8 / 2;
    const __m256i x = RK_LD256(blk + rk_q6k_ql_at(j, qd)), h = RK_LD256(blk + rk_q6k_qh_at(j, qd));
    const __m256i lo = _mm256_and_si256(m >= 2 ? _mm256_srli_epi16(x, 4) : x, m4);
    const __m256i hb = m == 0 ? _mm256_slli_epi16(h, 4) : m == 1 ? _mm256_slli_epi16(h, 2) : m == 2 ? h : _mm256_srli_epi16(h, 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hb, _mm256_set1_epi8(0x30)));
}

/* Scale j of the 8 rows as 32-bit lanes. */
RK_INLINE __m256i rk_sc8(const uint8_t *blk, int j, const int32_t type) {
    return RK_MINS(type) ? _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(blk + G4J_R8K_Q4K_SC + 8 * j)))
                         : _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(blk + G4J_R8K_Q6K_SC + 8 * j)));
}

/* Q4_K, Q5_K: the (bsums[2j] + bsums[2j + 1]) of one column as s16, pair i of them (j = 2i, 2i + 1) in 32-bit lane i
 * (|sum| <= 32 * 128). */
RK_INLINE __m128i rk_bsum32_pairs(const g4j_block_q8_K *y) {
    const __m256i t = _mm256_madd_epi16(RK_LD256(y->bsums), _mm256_set1_epi16(1));
    return _mm_packs_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

/* ---- AVX2 form: one group of 8 rows x C columns over all super-blocks ---- */

RK_INLINE int32_t rk_lane32(__m128i v, int i) {
    return i == 0 ? _mm_cvtsi128_si32(v) : i == 1 ? _mm_extract_epi32(v, 1) : i == 2 ? _mm_extract_epi32(v, 2) : _mm_extract_epi32(v, 3);
}
RK_INLINE __m256i rk_scq8(const uint8_t *blk, int j, const int32_t type) { /* (sc_j, sc_j) as s16 per row */
    const __m256i sv = rk_sc8(blk, j, type);
    return _mm256_blend_epi16(sv, _mm256_slli_epi32(sv, 16), 0xaa);
}

/* Lanes [lo, hi) of acc[c] to yo[c * y_stride + lane] (yo: lane 0's place, possibly below the output). */
RK_INLINE void rk_store8(float *yo, int64_t y_stride, const __m256 *acc, int lo, int hi, const int C) {
    for (int c = 0; c < C; c++) {
        float *o = (float *)((uintptr_t)yo + (uintptr_t)(c * y_stride * (int64_t)sizeof(float)));
        if (lo == 0 && hi == 8) {
            _mm256_storeu_ps(o, acc[c]);
        } else {
            float t[8];
            _mm256_storeu_ps(t, acc[c]);
            for (int r = lo; r < hi; r++) o[r] = t[r];
        }
    }
}

/* Quads [q0, q0 + nq) of sub-block j summed in s16 (nq * 2 * 63 * 128 < 2^15 for the counts used), then scaled
 * into s[c] by madd with (sc, sc). */
RK_INLINE void rk_quads8(const uint8_t *blk, int j, const int q0, const int nq, const g4j_block_q8_K *const *y,
                         __m256i *s, __m256i scq, const int C, const int32_t type) {
    __m256i h[8];
    for (int c = 0; c < C; c++) h[c] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        if (i >= nq) break;
        const int qd = q0 + i;
        const __m256i u = rk_u8(blk, j, qd, type);
        const int e = RK_QPS(type) * 4 * j + 4 * qd;
        for (int c = 0; c < C; c++) {
            h[c] = _mm256_add_epi16(h[c], _mm256_maddubs_epi16(u, _mm256_set1_epi32(rk_load32(y[c]->qs + e))));
            RK_PIN(h[c]);
        }
    }
    for (int c = 0; c < C; c++) s[c] = _mm256_add_epi32(s[c], _mm256_madd_epi16(h[c], scq));
}

/* Sub-block j of one group block against C columns: s[c] += sc_j * (the sub-block's sum of u * q) per lane. */
RK_INLINE void rk_sub8(const uint8_t *blk, int j, const g4j_block_q8_K *const *y, __m256i *s, const int C,
                       const int32_t type) {
    const __m256i scq = rk_scq8(blk, j, type);
    /* Q4_K: the 8 quads in one s16 sum; Q5_K: two of 4; Q6_K: two of 2 (the bounds in the header comment) */
    if (type == G4J_TYPE_Q4_K) {
        rk_quads8(blk, j, 0, 8, y, s, scq, C, type);
    } else if (type == G4J_TYPE_Q5_K) {
        rk_quads8(blk, j, 0, 4, y, s, scq, C, type);
        rk_quads8(blk, j, 4, 4, y, s, scq, C, type);
    } else {
        rk_quads8(blk, j, 0, 2, y, s, scq, C, type);
        rk_quads8(blk, j, 2, 2, y, s, scq, C, type);
    }
}

/* The end of a super-block for one column: Q6_K's offset, Q4_K's mins, and the float steps (r8.h). */
RK_INLINE __m256 rk_end8(const uint8_t *blk, const g4j_block_q8_K *y, __m256i s, __m256 acc, const int32_t type) {
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk)), dy = _mm256_set1_ps(y->d);
    if (RK_MINS(type)) {
        const __m128i bp = rk_bsum32_pairs(y);
        __m256i m = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) /* (m_2i, m_2i+1) of each row against pair i of the 32-element sums */
            m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(blk + G4J_R8K_Q4K_MN + 16 * i))),
                                                      _mm256_set1_epi32(rk_lane32(bp, i))));
        const __m256 dmx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + G4J_R8K_Q4K_DMIN)));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy), _mm256_cvtepi32_ps(s), acc);
        return _mm256_fnmadd_ps(_mm256_mul_ps(dmx, dy), _mm256_cvtepi32_ps(m), acc);
    }
    __m256i k = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) { /* (sc_2i, sc_2i+1) of each row against (bsums[2i], bsums[2i + 1]) */
        const __m128i a = _mm_loadl_epi64((const __m128i *)(blk + G4J_R8K_Q6K_SC + 16 * i));
        const __m128i z = _mm_loadl_epi64((const __m128i *)(blk + G4J_R8K_Q6K_SC + 16 * i + 8));
        k = _mm256_add_epi32(k, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, z)),
                                                  _mm256_set1_epi32(rk_load32(y->bsums + 2 * i))));
    }
    return _mm256_fmadd_ps(_mm256_mul_ps(dx, dy), _mm256_cvtepi32_ps(_mm256_sub_epi32(s, _mm256_slli_epi32(k, 5))), acc);
}

RK_INLINE void rk_tile8(const uint8_t *grp, int64_t nb, const uint8_t *act, int64_t act_stride, float *yo,
                        int64_t y_stride, int lo, int hi, const int C, const int32_t type) {
    const int64_t bb = g4j_r8_block_bytes(type);
    __m256 acc[8];
    for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = grp + b * bb;
        if (C == 1 && G4J_R8_PF)
            for (int64_t o = 0; o < bb; o += 64) _mm_prefetch((const char *)blk + G4J_R8_PF + o, _MM_HINT_T0);
        const g4j_block_q8_K *y[8];
        __m256i s[8];
        for (int c = 0; c < C; c++) {
            y[c] = (const g4j_block_q8_K *)(act + c * act_stride) + b;
            s[c] = _mm256_setzero_si256();
        }
        if (RK_MINS(type)) {
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) rk_sub8(blk, j, y, s, C, type);
        } else {
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++) rk_sub8(blk, j, y, s, C, type);
        }
        for (int c = 0; c < C; c++) acc[c] = rk_end8(blk, y[c], s[c], acc[c], type);
    }
    rk_store8(yo, y_stride, acc, lo, hi, C);
}

/* The matrix-vector kernel's two steps: a quad's products into a sub-block's running sum (maddubs added in s16,
 * within the bounds of the header comment), and that sum scaled into s (madd with (sc, sc) pairs). The VNNI
 * variant runs these too: its vpdpbusd and vpmulld on ymm were slower for Q4_K and Q5_K when measured. */
RK_INLINE __m256i rk_mv_acc(__m256i a, __m256i u, const int8_t *q) {
    return _mm256_add_epi16(a, _mm256_maddubs_epi16(u, _mm256_set1_epi32(rk_load32(q))));
}
RK_INLINE __m256i rk_mv_scale(__m256i s, __m256i a, const uint8_t *blk, int j, const int32_t type) {
    return _mm256_add_epi32(s, _mm256_madd_epi16(a, rk_scq8(blk, j, type)));
}

/* One group against one column (the matrix-vector form): each raw load is decoded into every quant it holds
 * (Q4_K: two sub-blocks, Q6_K: four), so the block is read once, in order, with few live registers. */
RK_INLINE __m256 rk_mv8(const uint8_t *grp, int64_t nb, const g4j_block_q8_K *y, const int32_t type) {
    const int64_t bb = g4j_r8_block_bytes(type);
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = grp + b * bb;
        if (G4J_R8_PF)
            for (int64_t o = 0; o < bb; o += 64) _mm_prefetch((const char *)blk + G4J_R8_PF + o, _MM_HINT_T0);
        const int8_t *q = y[b].qs;
        __m256i s = _mm256_setzero_si256();
        if (type == G4J_TYPE_Q4_K) {
            for (int cp = 0; cp < 4; cp++) { /* chunk pair cp: sub-blocks 2cp (low nibbles), 2cp + 1 (high) */
                __m256i hl = _mm256_setzero_si256(), hh = _mm256_setzero_si256();
#pragma GCC unroll 8
                for (int t = 0; t < 8; t++) {
                    const __m256i x = RK_LD256(blk + G4J_R8K_Q4K_QS + 32 * (8 * cp + t));
                    hl = rk_mv_acc(hl, _mm256_and_si256(x, m4), q + 64 * cp + 4 * t);
                    hh = rk_mv_acc(hh, _mm256_and_si256(_mm256_srli_epi16(x, 4), m4), q + 64 * cp + 32 + 4 * t);
                }
                s = rk_mv_scale(s, hl, blk, 2 * cp, type);
                s = rk_mv_scale(s, hh, blk, 2 * cp + 1, type);
            }
        } else if (type == G4J_TYPE_Q5_K) {
            /* each qh quad t serves every chunk pair: quads t in [t0, t0 + 4) of all four pairs at once, in s16
             * sums of 4 quads (u <= 31) */
            const __m256i m10 = _mm256_set1_epi8(0x10);
            for (int t0 = 0; t0 < 8; t0 += 4) {
                __m256i hl[4], hh[4];
                for (int cp = 0; cp < 4; cp++) hl[cp] = hh[cp] = _mm256_setzero_si256();
#pragma GCC unroll 4
                for (int t = t0; t < t0 + 4; t++) {
                    const __m256i h = RK_LD256(blk + G4J_R8K_Q5K_QH + 32 * t);
#pragma GCC unroll 4
                    for (int cp = 0; cp < 4; cp++) {
                        const __m256i x = RK_LD256(blk + G4J_R8K_Q4K_QS + 32 * (8 * cp + t));
                        const __m256i ul = _mm256_or_si256(_mm256_and_si256(x, m4),
                                                           _mm256_and_si256(RK_Q5_BIT(h, 2 * cp, _mm256_slli_epi16, _mm256_srli_epi16), m10));
                        const __m256i uh = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(x, 4), m4),
                                                           _mm256_and_si256(RK_Q5_BIT(h, 2 * cp + 1, _mm256_slli_epi16, _mm256_srli_epi16), m10));
                        hl[cp] = rk_mv_acc(hl[cp], ul, q + 64 * cp + 4 * t);
                        hh[cp] = rk_mv_acc(hh[cp], uh, q + 64 * cp + 32 + 4 * t);
                    }
                }
                for (int cp = 0; cp < 4; cp++) {
                    s = rk_mv_scale(s, hl[cp], blk, 2 * cp, type);
                    s = rk_mv_scale(s, hh[cp], blk, 2 * cp + 1, type);
                }
            }
        } else {
            for (int hs = 0; hs < 4; hs++) { /* half h = hs / 2 of 128 elements, quads t in [4 (hs % 2), + 4) */
                const int h = hs / 2, t0 = 4 * (hs % 2);
#pragma GCC unroll 2
                for (int tp = 0; tp < 2; tp++) { /* two quads per s16 sum */
                    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
#pragma GCC unroll 2
                    for (int t = t0 + 2 * tp; t < t0 + 2 * tp + 2; t++) {
                        const __m256i xa = RK_LD256(blk + G4J_R8K_Q6K_QL + 32 * (16 * h + t));
                        const __m256i xb = RK_LD256(blk + G4J_R8K_Q6K_QL + 32 * (16 * h + 8 + t));
                        const __m256i xh = RK_LD256(blk + G4J_R8K_Q6K_QH + 32 * (8 * h + t));
                        const int8_t *qq = q + 128 * h + 4 * t;
                        const __m256i u0 = _mm256_or_si256(_mm256_and_si256(xa, m4), _mm256_and_si256(_mm256_slli_epi16(xh, 4), m30));
                        const __m256i u1 = _mm256_or_si256(_mm256_and_si256(xb, m4), _mm256_and_si256(_mm256_slli_epi16(xh, 2), m30));
                        const __m256i u2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(xa, 4), m4), _mm256_and_si256(xh, m30));
                        const __m256i u3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(xb, 4), m4),
                                                           _mm256_and_si256(_mm256_srli_epi16(xh, 2), m30));
                        a0 = rk_mv_acc(a0, u0, qq);
                        a1 = rk_mv_acc(a1, u1, qq + 32);
                        a2 = rk_mv_acc(a2, u2, qq + 64);
                        a3 = rk_mv_acc(a3, u3, qq + 96);
                    }
                    const int j = 8 * h + hs % 2; /* sub-block of quant m: j + 2m */
                    s = rk_mv_scale(s, a0, blk, j, type);
                    s = rk_mv_scale(s, a1, blk, j + 2, type);
                    s = rk_mv_scale(s, a2, blk, j + 4, type);
                    s = rk_mv_scale(s, a3, blk, j + 6, type);
                }
            }
        }
        acc = rk_end8(blk, &y[b], s, acc, type);
    }
    return acc;
}

#define RK8_COLS 4

RK_INLINE void rk_gemm8(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts, int64_t act_stride,
                        int64_t nc, float *y, int64_t y_stride, const int32_t type) {
    const int64_t nb = n / G4J_QK_K, gbytes = nb * g4j_r8_block_bytes(type), end = r0 + nr;
    if (nr <= 0) return;
    if (nc == 1) {
        for (int64_t g = r0 / 8; g * 8 < end; g++) {
            const int64_t base = 8 * g;
            const __m256 acc = rk_mv8((const uint8_t *)packed + g * gbytes, nb, (const g4j_block_q8_K *)acts, type);
            float *yo = (float *)((uintptr_t)y + (uintptr_t)((base - r0) * (int64_t)sizeof(float)));
            rk_store8(yo, 0, &acc, base < r0 ? (int)(r0 - base) : 0, end - base < 8 ? (int)(end - base) : 8, 1);
        }
        return;
    }
    for (int64_t c0 = 0; c0 < nc; c0 += RK_COLS_BLOCK) {
        const int64_t cend = nc - c0 < RK_COLS_BLOCK ? nc : c0 + RK_COLS_BLOCK;
        for (int64_t g = r0 / 8; g * 8 < end; g++) {
            const int64_t base = 8 * g;
            const int lo = base < r0 ? (int)(r0 - base) : 0, hi = end - base < 8 ? (int)(end - base) : 8;
            const uint8_t *grp = (const uint8_t *)packed + g * gbytes;
            for (int64_t c = c0; c < cend; c += RK8_COLS) {
                const uint8_t *a = (const uint8_t *)acts + c * act_stride;
                float *yo = (float *)((uintptr_t)(y + c * y_stride) + (uintptr_t)((base - r0) * (int64_t)sizeof(float)));
                switch (cend - c < RK8_COLS ? cend - c : RK8_COLS) {
                case 1: rk_tile8(grp, nb, a, act_stride, yo, y_stride, lo, hi, 1, type); break;
                case 2: rk_tile8(grp, nb, a, act_stride, yo, y_stride, lo, hi, 2, type); break;
                case 3: rk_tile8(grp, nb, a, act_stride, yo, y_stride, lo, hi, 3, type); break;
                default: rk_tile8(grp, nb, a, act_stride, yo, y_stride, lo, hi, 4, type); break;
                }
            }
        }
    }
}

#if defined(G4J_QK_512) && defined(G4J_QK_VNNI)
/* ---- VNNI form: two groups (16 rows, lane r: row r of group a, lane 8 + r: of group b) x C columns ---- */

RK_INLINE __m512i rk_cat(const uint8_t *pa, const uint8_t *pb) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(RK_LD256(pa)), RK_LD256(pb), 1);
}

RK_INLINE __m512i rk_u16(const uint8_t *ba, const uint8_t *bz, int j, int qd, const int32_t type) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    if (RK_MINS(type)) {
        const int at = rk_q4k_at(j, qd);
        const __m512i x = rk_cat(ba + at, bz + at);
        const __m512i lo = _mm512_and_si512(j % 2 ? _mm512_srli_epi16(x, 4) : x, m4);
        if (type == G4J_TYPE_Q4_K) return lo;
        const int ah = G4J_R8K_Q5K_QH + 32 * qd;
        const __m512i h = rk_cat(ba + ah, bz + ah);
        return _mm512_ternarylogic_epi32(lo, RK_Q5_BIT(h, j, _mm512_slli_epi16, _mm512_srli_epi16), _mm512_set1_epi8(0x10), 0xf8);
    }
    const int m = j % 8 / 2, ql = rk_q6k_ql_at(j, qd), qh = rk_q6k_qh_at(j, qd);
    const __m512i x = rk_cat(ba + ql, bz + ql), h = rk_cat(ba + qh, bz + qh);
    const __m512i lo = _mm512_and_si512(m >= 2 ? _mm512_srli_epi16(x, 4) : x, m4);
    const __m512i hb = m == 0 ? _mm512_slli_epi16(h, 4) : m == 1 ? _mm512_slli_epi16(h, 2) : m == 2 ? h : _mm512_srli_epi16(h, 2);
    return _mm512_ternarylogic_epi32(lo, hb, _mm512_set1_epi8(0x30), 0xf8); /* lo | (hb & 0x30) */
}

RK_INLINE __m512i rk_sc16(const uint8_t *ba, const uint8_t *bz, int j, const int32_t type) {
    const int at = (RK_MINS(type) ? G4J_R8K_Q4K_SC : G4J_R8K_Q6K_SC) + 8 * j;
    const __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(ba + at)), _mm_loadl_epi64((const __m128i *)(bz + at)));
    return RK_MINS(type) ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
}

RK_INLINE __m512 rk_half16(const uint8_t *pa, const uint8_t *pb) {
    return _mm512_cvtph_ps(_mm256_set_m128i(_mm_loadu_si128((const __m128i *)pb), _mm_loadu_si128((const __m128i *)pa)));
}

/* Sub-block j of two group blocks against C columns (Q6_K: the sum starts at -32 bsums[j]). */
RK_INLINE void rk_sub16(const uint8_t *ba, const uint8_t *bz, int j, const g4j_block_q8_K *const *y, __m512i *s,
                        const int C, const int32_t type) {
    __m512i t[8];
    for (int c = 0; c < C; c++)
        t[c] = RK_MINS(type) ? _mm512_setzero_si512() : _mm512_set1_epi32(-32 * (int32_t)y[c]->bsums[j]);
#pragma GCC unroll 8
    for (int qd = 0; qd < 8; qd++) {
        if (qd >= RK_QPS(type)) break;
        const __m512i u = rk_u16(ba, bz, j, qd, type);
        const int e = RK_QPS(type) * 4 * j + 4 * qd;
        for (int c = 0; c < C; c++) {
            t[c] = _mm512_dpbusd_epi32(t[c], u, _mm512_set1_epi32(rk_load32(y[c]->qs + e)));
            RK_PIN(t[c]);
        }
    }
    const __m512i sv = rk_sc16(ba, bz, j, type);
    for (int c = 0; c < C; c++) s[c] = _mm512_add_epi32(s[c], _mm512_mullo_epi32(t[c], sv));
}

/* The end of a super-block for one column (two groups): Q4_K's mins and the float steps (r8.h). */
RK_INLINE __m512 rk_end16(const uint8_t *ba, const uint8_t *bz, const g4j_block_q8_K *y, __m512i s, __m512 acc,
                          const int32_t type) {
    const __m512 dy = _mm512_set1_ps(y->d);
    acc = _mm512_fmadd_ps(_mm512_mul_ps(rk_half16(ba, bz), dy), _mm512_cvtepi32_ps(s), acc);
    if (!RK_MINS(type)) return acc;
    const __m128i bp = rk_bsum32_pairs(y);
    __m512i m = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        const __m512i mp = _mm512_cvtepu8_epi16(_mm256_set_m128i(_mm_loadu_si128((const __m128i *)(bz + G4J_R8K_Q4K_MN + 16 * i)),
                                                                 _mm_loadu_si128((const __m128i *)(ba + G4J_R8K_Q4K_MN + 16 * i))));
        m = _mm512_dpwssd_epi32(m, mp, _mm512_set1_epi32(rk_lane32(bp, i)));
    }
    const __m512 dmx = rk_half16(ba + G4J_R8K_Q4K_DMIN, bz + G4J_R8K_Q4K_DMIN);
    return _mm512_fnmadd_ps(_mm512_mul_ps(dmx, dy), _mm512_cvtepi32_ps(m), acc);
}

RK_INLINE void rk_tile16(const uint8_t *ga, const uint8_t *gz, int64_t nb, const uint8_t *act, int64_t act_stride,
                         float *yo, int64_t y_stride, __mmask16 mask, const int C, const int32_t type) {
    const int64_t bb = g4j_r8_block_bytes(type);
    __m512 acc[8];
    for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *ba = ga + b * bb, *bz = gz + b * bb;
        if (C == 1 && G4J_R8_PF)
            for (int64_t o = 0; o < bb; o += 64) {
                _mm_prefetch((const char *)ba + G4J_R8_PF + o, _MM_HINT_T0);
                _mm_prefetch((const char *)bz + G4J_R8_PF + o, _MM_HINT_T0);
            }
        const g4j_block_q8_K *y[8];
        __m512i s[8];
        for (int c = 0; c < C; c++) {
            y[c] = (const g4j_block_q8_K *)(act + c * act_stride) + b;
            s[c] = _mm512_setzero_si512();
        }
        if (RK_MINS(type)) {
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) rk_sub16(ba, bz, j, y, s, C, type);
        } else {
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++) rk_sub16(ba, bz, j, y, s, C, type);
        }
        for (int c = 0; c < C; c++) acc[c] = rk_end16(ba, bz, y[c], s[c], acc[c], type);
    }
    for (int c = 0; c < C; c++)
        _mm512_mask_storeu_ps((float *)((uintptr_t)yo + (uintptr_t)(c * y_stride * (int64_t)sizeof(float))), mask, acc[c]);
}

#ifndef RK16_COLS
#define RK16_COLS 8
#endif

RK_INLINE void rk_gemm16(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts, int64_t act_stride,
                         int64_t nc, float *y, int64_t y_stride, const int32_t type) {
    const int64_t nb = n / G4J_QK_K, gbytes = nb * g4j_r8_block_bytes(type), end = r0 + nr;
    if (nr <= 0) return;
    if (nc == 1) { /* the AVX2 form's matrix-vector kernel reaches the read bandwidth (16-row vpmulld does not) */
        rk_gemm8(n, packed, r0, nr, acts, act_stride, nc, y, y_stride, type);
        return;
    }
    for (int64_t c0 = 0; c0 < nc; c0 += RK_COLS_BLOCK) {
        const int64_t cend = nc - c0 < RK_COLS_BLOCK ? nc : c0 + RK_COLS_BLOCK;
        for (int64_t base = r0 & ~(int64_t)7; base < end; base += 16) {
            /* lanes [lo, hi) of the 16 are rows of [r0, end); a second group past end is not read */
            const int lo = base < r0 ? (int)(r0 - base) : 0, hi = end - base < 16 ? (int)(end - base) : 16;
            const __mmask16 mask = (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
            const uint8_t *ga = (const uint8_t *)packed + base / 8 * gbytes, *gz = hi > 8 ? ga + gbytes : ga;
            for (int64_t c = c0; c < cend; c += RK16_COLS) {
                const uint8_t *a = (const uint8_t *)acts + c * act_stride;
                float *yo = (float *)((uintptr_t)(y + c * y_stride) + (uintptr_t)((base - r0) * (int64_t)sizeof(float)));
                switch (cend - c < RK16_COLS ? cend - c : RK16_COLS) {
                case 1: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 1, type); break;
                case 2: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 2, type); break;
                case 3: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 3, type); break;
                case 4: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 4, type); break;
                case 5: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 5, type); break;
                case 6: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 6, type); break;
                case 7: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 7, type); break;
                default: rk_tile16(ga, gz, nb, a, act_stride, yo, y_stride, mask, 8, type); break;
                }
            }
        }
    }
}
#define RK_GEMM rk_gemm16
#else
#define RK_GEMM rk_gemm8
#endif

static void gemm_r8_q4k(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts, int64_t act_stride,
                        int64_t nc, float *y, int64_t y_stride) {
    RK_GEMM(n, packed, r0, nr, acts, act_stride, nc, y, y_stride, G4J_TYPE_Q4_K);
}
static void gemm_r8_q5k(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts, int64_t act_stride,
                        int64_t nc, float *y, int64_t y_stride) {
    RK_GEMM(n, packed, r0, nr, acts, act_stride, nc, y, y_stride, G4J_TYPE_Q5_K);
}
static void gemm_r8_q6k(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts, int64_t act_stride,
                        int64_t nc, float *y, int64_t y_stride) {
    RK_GEMM(n, packed, r0, nr, acts, act_stride, nc, y, y_stride, G4J_TYPE_Q6_K);
}

#endif /* G4J_GEMM_RK_IMPL_H */
