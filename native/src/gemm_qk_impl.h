/*
 * gemm_qk_impl.h - the k-quant tiles (Q2_K .. Q6_K and IQ4_XS against Q8_K), included by gemm_qk_avx2.c and
 * (with G4J_QK_512 defined) gemm_qk_avx512.c, each compiled with its own ISA flags.
 *
 * One arithmetic for every path, that of the AVX2 vec_dot kernels these replace (kernels_avx2.c before them).
 * Per row, column and super-block of 256:
 *   S8 = 8 s32 lanes; lane j holds the sum over the 32-element chunks k of madd(maddubs(u_k, y_k), s_k) lane j,
 *        minus madd(corr, bsums) lane j for the types whose weights carry a constant offset (Q3_K: -4, Q6_K: -32,
 *        folded into corr = offset * scales),
 *   acc8 = fmadd(set1(d_x * d_y), cvt(S8), acc8)                                      (8 float lanes)
 *   for the types with mins (Q2_K, Q4_K, Q5_K): accm = accm + (dmin_x * d_y) * (float)hsum(madd(mins, bsums))
 * and the result is hsum(acc8) - accm. u_k are the unsigned weights of chunk k (elements 32k .. 32k+31), s_k the
 * s16 scale of each element pair. The integer lanes are exact whatever the order or vector width that computes
 * them (a 512-bit chunk of 64 elements folds its upper 8 lanes onto the lower 8), and the float steps are the
 * same sequence everywhere, so vec_dot, matvec and every tile shape give the same bits.
 *
 * Two ways to get there:
 *  - dot_*: decode each chunk in registers and use it once (one row, one column: vec_dot and matvec, one row
 *    after the other, which keeps the weights one sequential stream);
 *  - gemm_*: per block of QK_RB rows and QK_CB columns and per super-block, decode the rows once into a small
 *    buffer (unsigned bytes, s16 scale per pair, the correction / mins, d and dmin), then run every column tile
 *    over them in register tiles of R x C, keeping the R x C integer sums in registers and the float
 *    accumulators of the block in a buffer (L1). The mins of 8 (row, column) pairs are summed with one
 *    transpose-reduction. AVX2: R = 2, C = 4 (8 ymm sums); AVX-512: R = 4, C = 4 (16 zmm sums, chunks of 64),
 *    IQ4_XS only since the row pairs below;
 *  - AVX-512, the types with unsigned weights (Q2_K .. Q6_K): row pairs (qp_*, further down): two rows' 8 lanes
 *    in one zmm, so S8 needs no fold and the float steps run 16 lanes at a time; with VNNI, two chunks' sums by
 *    vpdpbusd scaled by one vpdpwssd (3 multiplies per 2 chunks instead of maddubs + madd for each).
 * IQ4_XS has signed weights: maddubs takes |w| and y with w's sign (the AVX2 vec_dot's arithmetic).
 * No s16 saturation: weights are at most 63 (IQ4_XS: |w| <= 127) and activations in [-127, 127], so a maddubs
 * pair is < 2^15.
 */
#ifndef G4J_GEMM_QK_IMPL_H
#define G4J_GEMM_QK_IMPL_H

#include <immintrin.h>

#include "g4j_internal.h"

#define QK_INLINE static inline __attribute__((always_inline))
#define LD256(p) _mm256_loadu_si256((const __m256i *)(p))
/* Keeps an accumulator a running sum: without it GCC's reassociation turns the unrolled chunk loops into trees
 * whose many live products spill to the stack. */
#define QK_PIN(v) __asm__("" : "+v"(v))

static inline float qk_hsum_ps(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/* ---- per-type decoding: unsigned weights and s16 scales per 32-element chunk ---- */

/* What a super-block of one row contributes besides its quants. */
typedef struct {
    __m256i sc16;  /* type-specific: the scales as s16 */
    __m256i corr;  /* s16 x 16, against bsums: offset * scale (FLAV 0) or the mins (FLAV 1) */
    float d, dm;
    int16_t ls[8]; /* IQ4_XS: the scales as scalars (broadcast per chunk keeps the vector pipes for the products) */
} qk_ctx;

/* Scale of sub-block-of-16 pairs: chunk k covers sub-blocks 2k (low 128-bit lane) and 2k+1 (high lane). */
static const uint8_t qk_pair_shuffle[4][32] __attribute__((aligned(32))) = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
    {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
    {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
    {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
};
QK_INLINE __m256i qk_scale16(__m256i sc16, int k) {
    const __m256i half = (k / 4) ? _mm256_permute2x128_si256(sc16, sc16, 0x11) : _mm256_permute2x128_si256(sc16, sc16, 0x00);
    return _mm256_shuffle_epi8(half, _mm256_load_si256((const __m256i *)qk_pair_shuffle[k % 4]));
}
/* Scale of sub-blocks of 32 (s16 lanes 0..7 of sc16): chunk k has one scale. */
QK_INLINE __m256i qk_scale32(__m256i sc16, int k) {
    const __m256i lo = _mm256_permute2x128_si256(sc16, sc16, 0x00);
    return _mm256_shuffle_epi8(lo, _mm256_set1_epi16((short)(0x0100 + 0x0202 * k)));
}

/* Q2_K: u = 2 bits, 16 sub-blocks with a 4-bit scale and a 4-bit min each. */
QK_INLINE void q2k_setup(const g4j_block_q2_K *x, qk_ctx *c) {
    const __m128i sm = _mm_loadu_si128((const __m128i *)x->scales);
    c->sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sm, _mm_set1_epi8(0x0f)));
    c->corr = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), _mm_set1_epi8(0x0f)));
    c->d = _cvtsh_ss(x->d);
    c->dm = _cvtsh_ss(x->dmin);
}
QK_INLINE __m256i q2k_quants(const g4j_block_q2_K *x, int k) {
    return _mm256_and_si256(_mm256_srli_epi16(LD256(x->qs + 32 * (k / 4)), 2 * (k % 4)), _mm256_set1_epi8(3));
}
QK_INLINE __m256i q2k_scales(const qk_ctx *c, int k) { return qk_scale16(c->sc16, k); }

/* Q3_K: u = 2 low bits + 4 * hmask bit in [0, 7], weight u - 4; 16 signed 6-bit scales. */
QK_INLINE void q3k_setup(const g4j_block_q3_K *x, qk_ctx *c) {
    uint32_t w[4];
    g4j_q3k_scale_words(x->scales, w);
    const __m128i sc8 = _mm_sub_epi8(_mm_set_epi32((int)w[3], (int)w[2], (int)w[1], (int)w[0]), _mm_set1_epi8(32));
    c->sc16 = _mm256_cvtepi8_epi16(sc8);
    c->corr = _mm256_slli_epi16(c->sc16, 2);
    c->d = _cvtsh_ss(x->d);
    c->dm = 0.0f;
}
QK_INLINE __m256i q3k_quants(const g4j_block_q3_K *x, int k) {
    const int h = k / 4, j = k % 4;
    const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(LD256(x->qs + 32 * h), 2 * j), _mm256_set1_epi8(3));
    const __m256i hm = LD256(x->hmask);
    const int sh = 4 * h + j; /* bit sh of each hmask byte -> bit 2 */
    const __m256i hb = sh >= 2 ? _mm256_srli_epi16(hm, sh - 2) : sh == 1 ? _mm256_slli_epi16(hm, 1) : _mm256_slli_epi16(hm, 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hb, _mm256_set1_epi8(4)));
}
QK_INLINE __m256i q3k_scales(const qk_ctx *c, int k) { return qk_scale16(c->sc16, k); }

/* Q4_K / Q5_K: 8 sub-blocks of 32, 6-bit scales and mins. */
QK_INLINE void q45k_setup(const uint8_t packed[12], g4j_half d, g4j_half dmin, qk_ctx *c) {
    uint32_t scw[2], mnw[2];
    g4j_k4_scale_words(packed, scw, mnw);
    const __m128i mn8 = _mm_set_epi32(0, 0, (int)mnw[1], (int)mnw[0]);
    c->corr = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8)); /* each min twice: 16 bsums */
    c->sc16 = _mm256_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)scw[1], (int)scw[0]));
    c->d = _cvtsh_ss(d);
    c->dm = _cvtsh_ss(dmin);
}
QK_INLINE void q4k_setup(const g4j_block_q4_K *x, qk_ctx *c) { q45k_setup(x->scales, x->d, x->dmin, c); }
QK_INLINE void q5k_setup(const g4j_block_q5_K *x, qk_ctx *c) { q45k_setup(x->scales, x->d, x->dmin, c); }
QK_INLINE __m256i q4k_quants(const g4j_block_q4_K *x, int k) {
    const __m256i q = LD256(x->qs + 32 * (k / 2));
    return _mm256_and_si256(k % 2 ? _mm256_srli_epi16(q, 4) : q, _mm256_set1_epi8(0x0f));
}
QK_INLINE __m256i q5k_quants(const g4j_block_q5_K *x, int k) {
    const __m256i q = LD256(x->qs + 32 * (k / 2));
    const __m256i lo = _mm256_and_si256(k % 2 ? _mm256_srli_epi16(q, 4) : q, _mm256_set1_epi8(0x0f));
    const __m256i hm = LD256(x->qh); /* bit k -> bit 4 */
    const __m256i hb = k >= 4 ? _mm256_srli_epi16(hm, k - 4) : k == 4 ? hm : _mm256_slli_epi16(hm, 4 - k);
    return _mm256_or_si256(lo, _mm256_and_si256(hb, _mm256_set1_epi8(0x10)));
}
QK_INLINE __m256i q4k_scales(const qk_ctx *c, int k) { return qk_scale32(c->sc16, k); }
#define q5k_scales q4k_scales

/* Q6_K: u in [0, 63], weight u - 32; 16 signed 8-bit scales. */
QK_INLINE void q6k_setup(const g4j_block_q6_K *x, qk_ctx *c) {
    c->sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
    c->corr = _mm256_slli_epi16(c->sc16, 5);
    c->d = _cvtsh_ss(x->d);
    c->dm = 0.0f;
}
QK_INLINE __m256i q6k_quants(const g4j_block_q6_K *x, int k) {
    const int h = k / 4, j = k % 4;
    const __m256i l = LD256(x->ql + 64 * h + 32 * (j % 2));
    const __m256i lo = _mm256_and_si256(j >= 2 ? _mm256_srli_epi16(l, 4) : l, _mm256_set1_epi8(0x0f));
    const __m256i qh = LD256(x->qh + 32 * h); /* bits 2j, 2j+1 -> bits 4, 5 */
    const __m256i hb = j == 0 ? _mm256_slli_epi16(qh, 4) : j == 1 ? _mm256_slli_epi16(qh, 2) : j == 2 ? qh : _mm256_srli_epi16(qh, 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hb, _mm256_set1_epi8(0x30)));
}
QK_INLINE __m256i q6k_scales(const qk_ctx *c, int k) { return qk_scale16(c->sc16, k); }

/* IQ4_XS: signed weights from the 16 non-linear levels (FLAV 2: maddubs of |w| against y with w's sign; no
 * level is 0), 8 sub-blocks of 32 with 6-bit scales minus 32. */
QK_INLINE void iq4xs_setup(const g4j_block_iq4_xs *x, qk_ctx *c) {
    for (int s = 0; s < 8; s++)
        c->ls[s] = (int16_t)((((x->scales_l[s / 2] >> (4 * (s % 2))) & 0xf) | (((x->scales_h >> (2 * s)) & 3) << 4)) - 32);
    c->sc16 = _mm256_setzero_si256();
    c->corr = _mm256_setzero_si256();
    c->d = _cvtsh_ss(x->d);
    c->dm = 0.0f;
}
QK_INLINE __m256i iq4xs_quants(const g4j_block_iq4_xs *x, int k) {
    const __m128i t = _mm_loadu_si128((const __m128i *)(x->qs + 16 * k));
    const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)g4j_iq4nl_values)), nib);
}
QK_INLINE __m256i iq4xs_scales(const qk_ctx *c, int k) { return _mm256_set1_epi16(c->ls[k]); }

/* ---- the decoded super-block of one row (gemm) ---- */

typedef struct {
    uint8_t q[G4J_QK_K];      /* unsigned weights, element order (IQ4_XS: signed) */
    int16_t sc[G4J_QK_K / 2]; /* s16 scale of each element pair */
    int16_t corr[16];         /* against bsums */
    float d, dm;
    float pad[14];
} __attribute__((aligned(64))) qk_dec;

/* Integer sums of the lanes of 8 vectors: lane i of the result is the sum of v[i]'s lanes (exact). */
QK_INLINE __m256i qk_reduce8(const __m256i v[8]) {
    const __m256i t0 = _mm256_hadd_epi32(v[0], v[1]), t1 = _mm256_hadd_epi32(v[2], v[3]);
    const __m256i t2 = _mm256_hadd_epi32(v[4], v[5]), t3 = _mm256_hadd_epi32(v[6], v[7]);
    const __m256i u0 = _mm256_hadd_epi32(t0, t1), u1 = _mm256_hadd_epi32(t2, t3);
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
}
static inline int32_t qk_hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* FLAV: 0 = integer offset correction (Q3_K, Q6_K), 1 = mins with their own float scale (Q2_K, Q4_K, Q5_K),
 * 2 = signed weights (IQ4_XS; decoded with their sign, the tiles take |w| and move the sign onto y). */
#define QK_DEFINE_TYPE(T, BLOCK, FLAV)                                                                         \
    static inline void T##_decode(const BLOCK *x, qk_dec *o) {                                                 \
        qk_ctx c;                                                                                              \
        T##_setup(x, &c);                                                                                      \
        _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++) {                                                  \
            _mm256_store_si256((__m256i *)(o->q + 32 * k), T##_quants(x, k));                                  \
            _mm256_store_si256((__m256i *)(o->sc + 16 * k), T##_scales(&c, k));                                \
        }                                                                                                      \
        _mm256_store_si256((__m256i *)o->corr, c.corr);                                                        \
        o->d = c.d;                                                                                            \
        o->dm = c.dm;                                                                                          \
    }                                                                                                          \
    /* super-block b of one row against one column: the integer sums S8 (offset folded in for FLAV 0) and, for  \
     * the mins, m (8 s32 lanes whose sum is the mins' integer sum) */                                        \
    QK_INLINE __m256i T##_block(const BLOCK *x, const g4j_block_q8_K *y, qk_ctx *c, __m256i *m) {               \
        T##_setup(x, c);                                                                                       \
        __m256i s = _mm256_setzero_si256();                                                                    \
        _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++) {                                                  \
            const __m256i q = T##_quants(x, k), yv = LD256(y->qs + 32 * k);                                    \
            const __m256i p = FLAV == 2 ? _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(yv, q)) \
                                        : _mm256_maddubs_epi16(q, yv);                                         \
            s = _mm256_add_epi32(s, _mm256_madd_epi16(p, T##_scales(c, k)));                                   \
            QK_PIN(s);                                                                                         \
        }                                                                                                      \
        *m = FLAV == 2 ? _mm256_setzero_si256() : _mm256_madd_epi16(c->corr, LD256(y->bsums));                 \
        return FLAV == 0 ? _mm256_sub_epi32(s, *m) : s;                                                        \
    }                                                                                                          \
    /* one row against one column. The mins' float steps are one block at a time (accm += dmin_x d_y * (float)  \
     * isum, in block order); the integer sums isum of two blocks come out of one reduction. */               \
    static inline float T##_dot(int64_t nb, const BLOCK *x, const g4j_block_q8_K *y) {                         \
        __m256 acc = _mm256_setzero_ps();                                                                      \
        float accm = 0.0f;                                                                                     \
        int64_t b = 0;                                                                                         \
        for (; b + 2 <= nb; b += 2) {                                                                          \
            qk_ctx c0, c1;                                                                                     \
            __m256i m0, m1;                                                                                    \
            const __m256i s0 = T##_block(&x[b], &y[b], &c0, &m0);                                              \
            acc = _mm256_fmadd_ps(_mm256_set1_ps(c0.d * y[b].d), _mm256_cvtepi32_ps(s0), acc);                 \
            const __m256i s1 = T##_block(&x[b + 1], &y[b + 1], &c1, &m1);                                      \
            acc = _mm256_fmadd_ps(_mm256_set1_ps(c1.d * y[b + 1].d), _mm256_cvtepi32_ps(s1), acc);             \
            if (FLAV == 1) {                                                                                   \
                const __m256i h = _mm256_hadd_epi32(m0, m1);                                                   \
                __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));          \
                const __m128 f = _mm_cvtepi32_ps(_mm_hadd_epi32(t, t)); /* isum of b, b + 1, b, b + 1 */       \
                accm += c0.dm * y[b].d * _mm_cvtss_f32(f);                                                     \
                accm += c1.dm * y[b + 1].d * _mm_cvtss_f32(_mm_movehdup_ps(f));                                \
            }                                                                                                  \
        }                                                                                                      \
        if (b < nb) {                                                                                          \
            qk_ctx c;                                                                                          \
            __m256i m;                                                                                         \
            const __m256i s = T##_block(&x[b], &y[b], &c, &m);                                                 \
            acc = _mm256_fmadd_ps(_mm256_set1_ps(c.d * y[b].d), _mm256_cvtepi32_ps(s), acc);                   \
            if (FLAV == 1) accm += c.dm * y[b].d * (float)qk_hsum_epi32(m);                                   \
        }                                                                                                      \
        return FLAV == 1 ? qk_hsum_ps(acc) - accm : qk_hsum_ps(acc);                                           \
    }

QK_DEFINE_TYPE(q2k, g4j_block_q2_K, 1)
QK_DEFINE_TYPE(q3k, g4j_block_q3_K, 0)
QK_DEFINE_TYPE(q4k, g4j_block_q4_K, 1)
QK_DEFINE_TYPE(q5k, g4j_block_q5_K, 1)
QK_DEFINE_TYPE(q6k, g4j_block_q6_K, 0)
QK_DEFINE_TYPE(iq4xs, g4j_block_iq4_xs, 2)

/* ---- AVX-512 VNNI matvec of Q4_K (one column: generation): q4k_dot's arithmetic, two rows at a time ----
 *
 * Per row and super-block the 8 s32 lanes S8 come from 128-element quarters: one 64-byte load of qs holds chunks
 * 4i, 4i+1 (bytes 0..31: low, high nibbles) and 4i+2, 4i+3 (bytes 32..63), so its low nibbles are [chunk 4i |
 * chunk 4i+2] and its high nibbles [chunk 4i+1 | chunk 4i+3]; one vpdpbusd of each against the column's activation
 * bytes arranged the same way (once per call, on the stack) gives the chunks' 4-element sums (|sum| <= 4 * 15 *
 * 127 < 2^15). The sums of chunks (k, k+1) are packed as s16 pairs and scaled by one vpdpwssd with (sc_k,
 * sc_k+1), so lane j (j < 8) ends as the sum over chunks 0, 1, 4, 5 of sc_k times chunk k's sum of elements
 * 4j..4j+3 and lane 8 + j as that over chunks 2, 3, 6, 7: their sum is exactly q4k_block's S8 lane j. The mins'
 * integer sum is exact too (the mins against the sums of bsums pairs). The float steps are q4k_dot's in the same
 * order, one row per half of a zmm (acc8 fma per super-block, hsum, minus accm), so every result equals vec_dot
 * bit for bit (test_kernels). The two rows are adjacent; the next pair's bytes are prefetched as one sequential
 * stream spread over the pair's super-blocks (two interleaved rows alone defeat the hardware prefetcher: 3x slower
 * out of cache without it). Four rows at a time (shared activation loads and float steps) ran faster on anonymous
 * memory (Q4_K 2048 columns, 1 thread: 30 against 25.6 GB/s in L2) but slower from the mapped model file (4 KiB
 * page-cache pages: 17 against 20 GB/s; TinyLlama Q4_K_M tg128 25 against 30 tokens/s), so pairs it is. */
#if defined(G4J_QK_512) && defined(G4J_QK_VNNI)
#define QK_MV_MAX_NB 128 /* super-blocks of the rearranged activations on the stack (32 KiB + 2 KiB); longer rows: q4k_dot */
#ifndef QK_MV_PF_PAIRS
#define QK_MV_PF_PAIRS 1 /* prefetch the row pair this many pairs ahead */
#endif
/* the 6-bit scales and mins of two rows (g4j_k4_scale_words, 16 bytes read at each: 12 of scales, 4 of qs) in one
 * ymm: per 128-bit lane [sc 0..3, sc 4..7, mn 0..3, mn 4..7] */
QK_INLINE __m256i q4k_mv_scales2(const g4j_block_q4_K *xa, const g4j_block_q4_K *xb) {
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)xa->scales)),
                                              _mm_loadu_si128((const __m128i *)xb->scales), 1);
    const __m256i lo = _mm256_and_si256(v, _mm256_set1_epi8(0x3f));
    const __m256i c = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi32(v, 0xaa), _mm256_setr_epi32(0, 4, 0, 0, 0, 4, 0, 0)),
                                       _mm256_set1_epi8(0x0f));
    const __m256i hi = _mm256_or_si256(c, _mm256_and_si256(_mm256_srli_epi32(v, 2), _mm256_set1_epi8(0x30)));
    return _mm256_unpacklo_epi32(lo, hi);
}
/* one row's super-block: S16 (fold the halves for S8) from its scales sm ([sc 0..7, mn 0..7] bytes) */
QK_INLINE __m512i q4k_mv_block(const g4j_block_q4_K *x, const __m512i *yr, __m128i sm) {
    const __m512i sc = _mm512_castsi128_si512(_mm_cvtepu8_epi16(sm)); /* dword k: sc_2k | sc_2k+1 << 16 */
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512i p[4];
    _Pragma("GCC unroll 2") for (int i = 0; i < 2; i++) {
        const __m512i q = _mm512_loadu_si512((const void *)(x->qs + 64 * i));
        p[2 * i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, m4), yr[2 * i]);
        p[2 * i + 1] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(q, 4), m4), yr[2 * i + 1]);
    }
    const __m512i s01 = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), sc);
    const __m512i s23 = _mm512_permutexvar_epi32(_mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), sc);
    const __m512i w01 = _mm512_mask_blend_epi16(0xaaaaaaaau, p[0], _mm512_slli_epi32(p[1], 16));
    const __m512i w23 = _mm512_mask_blend_epi16(0xaaaaaaaau, p[2], _mm512_slli_epi32(p[3], 16));
    return _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(_mm512_setzero_si512(), w01, s01), w23, s23);
}

static void q4k_mv(int64_t nb, const void *w, int64_t row_bytes, int64_t nr, const g4j_block_q8_K *y, float *yout) {
    __m512i yr[QK_MV_MAX_NB * 4];
    __m128i bs2[QK_MV_MAX_NB];
    for (int64_t b = 0; b < nb; b++) {
        const int8_t *q = y[b].qs;
        for (int i = 0; i < 2; i++) /* [chunk 4i + h | chunk 4i + 2 + h] for h = 0, 1 */
            for (int h = 0; h < 2; h++)
                yr[4 * b + 2 * i + h] = _mm512_inserti64x4(_mm512_castsi256_si512(LD256(q + 32 * (4 * i + h))),
                                                           LD256(q + 32 * (4 * i + 2 + h)), 1);
        const __m256i bsp = _mm256_madd_epi16(LD256(y[b].bsums), _mm256_set1_epi16(1)); /* |pair| <= 4064 */
        bs2[b] = _mm_packs_epi32(_mm256_castsi256_si128(bsp), _mm256_extracti128_si256(bsp, 1));
    }
    const int64_t pf_bytes = 2 * row_bytes, pf_step = nb > 0 ? (pf_bytes / nb + 127) & ~(int64_t)63 : 0;
    for (int64_t r = 0; r < nr; r += 2) {
        const g4j_block_q4_K *xa = (const g4j_block_q4_K *)((const char *)w + r * row_bytes);
        const g4j_block_q4_K *xb = r + 1 < nr ? (const g4j_block_q4_K *)((const char *)xa + row_bytes) : xa;
        const int64_t pf_rows = nr - r - 2 * QK_MV_PF_PAIRS; /* rows left at the prefetched pair */
        const char *pf = (const char *)xa + 2 * QK_MV_PF_PAIRS * row_bytes;
        const int64_t pf_end = pf_rows <= 0 ? 0 : pf_rows >= 2 ? pf_bytes : row_bytes;
        __m512 acc = _mm512_setzero_ps();
        __m128 accm = _mm_setzero_ps(); /* lanes 0, 1: rows a, b */
        for (int64_t b = 0; b < nb; b++) {
            for (int64_t off = b * pf_step; off < (b + 1) * pf_step && off < pf_end; off += 64) _mm_prefetch(pf + off, _MM_HINT_T0);
            const __m256i sm = q4k_mv_scales2(&xa[b], &xb[b]);
            const __m512i sa = q4k_mv_block(&xa[b], yr + 4 * b, _mm256_castsi256_si128(sm));
            const __m512i sb = q4k_mv_block(&xb[b], yr + 4 * b, _mm256_extracti128_si256(sm, 1));
            const __m512i s8 = _mm512_add_epi32(_mm512_shuffle_i64x2(sa, sb, 0x44), _mm512_shuffle_i64x2(sa, sb, 0xee));
            /* d, dmin of both rows: [da, dma, db, dmb] */
            uint32_t ha, hb;
            memcpy(&ha, &xa[b], 4);
            memcpy(&hb, &xb[b], 4);
            const __m128 dh = _mm_cvtph_ps(_mm_unpacklo_epi32(_mm_cvtsi32_si128((int)ha), _mm_cvtsi32_si128((int)hb)));
            const __m128 dy = _mm_set1_ps(y[b].d);
            const __m128 pd = _mm_mul_ps(dh, dy); /* da dy, dma dy, db dy, dmb dy: q4k_dot's products */
            const __m512 dd = _mm512_shuffle_f32x4(_mm512_castps128_ps512(_mm_shuffle_ps(pd, pd, 0x00)),
                                                   _mm512_castps128_ps512(_mm_shuffle_ps(pd, pd, 0xaa)), 0x00);
            acc = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(s8), acc);
            /* the mins' isum of a, b: [mn 0..7] against bs2 */
            const __m256i mn = _mm256_cvtepu8_epi16(_mm_unpackhi_epi64(_mm256_castsi256_si128(sm), _mm256_extracti128_si256(sm, 1)));
            const __m256i mi = _mm256_madd_epi16(mn, _mm256_broadcastsi128_si256(bs2[b]));
            const __m128i h = _mm_hadd_epi32(_mm256_castsi256_si128(mi), _mm256_extracti128_si256(mi, 1));
            const __m128 f = _mm_cvtepi32_ps(_mm_hadd_epi32(h, h)); /* a, b, a, b */
            accm = _mm_add_ps(accm, _mm_mul_ps(_mm_shuffle_ps(pd, pd, 0xdd), f));
        }
        yout[r] = qk_hsum_ps(_mm512_castps512_ps256(acc)) - _mm_cvtss_f32(accm);
        if (r + 1 < nr) yout[r + 1] = qk_hsum_ps(_mm512_extractf32x8_ps(acc, 1)) - _mm_cvtss_f32(_mm_movehdup_ps(accm));
    }
}
#define QK_MV_q4k(nb, w, row_bytes, nr, acts, yout) \
    ((nb) <= QK_MV_MAX_NB && (q4k_mv(nb, w, row_bytes, nr, (const g4j_block_q8_K *)(acts), yout), 1))
#else
#define QK_MV_q4k(nb, w, row_bytes, nr, acts, yout) 0
#endif
#define QK_MV_q2k(nb, w, row_bytes, nr, acts, yout) 0
#define QK_MV_q3k(nb, w, row_bytes, nr, acts, yout) 0
#define QK_MV_q5k(nb, w, row_bytes, nr, acts, yout) 0
#define QK_MV_q6k(nb, w, row_bytes, nr, acts, yout) 0
#define QK_MV_iq4xs(nb, w, row_bytes, nr, acts, yout) 0

/* ---- register tiles over decoded rows ---- */

#ifdef G4J_QK_512
typedef __m512i qk_vi;
#define QK_VB 64
#define QK_LOADV(p) _mm512_loadu_si512((const void *)(p))
#define QK_LOADA(p) _mm512_load_si512((const void *)(p))
#define QK_ZERO() _mm512_setzero_si512()
#define QK_MADDUBS _mm512_maddubs_epi16
#define QK_MADD _mm512_madd_epi16
#define QK_ADD32 _mm512_add_epi32
QK_INLINE __m256i qk_fold(__m512i v) { return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)); }
typedef __mmask64 qk_sgn;
#define QK_ABS8 _mm512_abs_epi8
#define QK_SGN_OF(v) _mm512_movepi8_mask(v)
#define QK_APPLY_SGN(y, m) _mm512_mask_sub_epi8((y), (m), _mm512_setzero_si512(), (y))
#define QK_TR 4
#else
typedef __m256i qk_vi;
#define QK_VB 32
#define QK_LOADV(p) _mm256_loadu_si256((const __m256i *)(p))
#define QK_LOADA(p) _mm256_load_si256((const __m256i *)(p))
#define QK_ZERO() _mm256_setzero_si256()
#define QK_MADDUBS _mm256_maddubs_epi16
#define QK_MADD _mm256_madd_epi16
#define QK_ADD32 _mm256_add_epi32
QK_INLINE __m256i qk_fold(__m256i v) { return v; }
typedef __m256i qk_sgn;
#define QK_ABS8 _mm256_abs_epi8
#define QK_SGN_OF(v) (v)
#define QK_APPLY_SGN(y, m) _mm256_sign_epi8((y), (m))
#define QK_TR 2
#endif
#define QK_TC 4
#define QK_NCH (G4J_QK_K / QK_VB)
/* columns and rows per block: the 8-lane float accumulators of QK_RB x QK_CB pairs (16 KiB) stay in L1 */
#ifndef QK_CB
#define QK_CB 32
#endif
#ifndef QK_RB
#define QK_RB 16
#endif
/* The mins' accumulators: one ymm holds the 8 (row, column) pairs of 2 rows x 4 columns, lane 4 r' + c. */
#define QK_RH (QK_TR / 2)

/* R decoded rows (super-block b) against C columns. acc[r * QK_CB + c]: the 8-lane accumulator of row r, column c;
 * accm[h]: the mins' accumulators of rows 2h, 2h + 1; dmx[h]: lanes 4 r' + c hold dmin_x of row 2h + r'; dy: d_y
 * of the 4 columns. */
QK_INLINE void qk_tile(int R, int C, int flav, const qk_dec *dec, const char *act, int64_t act_stride, int64_t b,
                       const __m256 *dmx, const float *dy, __m256 *acc, __m256 *accm) {
    qk_vi s[QK_TR][QK_TC];
    const g4j_block_q8_K *y[QK_TC];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) y[c] = (const g4j_block_q8_K *)(act + c * act_stride) + b;
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) s[r][c] = QK_ZERO();
#pragma GCC unroll 8
    for (int k = 0; k < QK_NCH; k++) {
        qk_vi w[QK_TR], sc[QK_TR];
        qk_sgn sg[QK_TR];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            w[r] = QK_LOADA(dec[r].q + QK_VB * k);
            sc[r] = QK_LOADA(dec[r].sc + QK_VB / 2 * k);
            if (flav == 2) {
                sg[r] = QK_SGN_OF(w[r]);
                w[r] = QK_ABS8(w[r]);
            }
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const qk_vi yv = QK_LOADV(y[c]->qs + QK_VB * k);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const qk_vi yr = flav == 2 ? QK_APPLY_SGN(yv, sg[r]) : yv;
                s[r][c] = QK_ADD32(s[r][c], QK_MADD(QK_MADDUBS(w[r], yr), sc[r]));
                QK_PIN(s[r][c]);
            }
        }
    }
    for (int h = 0; h < QK_RH && 2 * h < R; h++) {
        __m256i mv[8];
#pragma GCC unroll 2
        for (int rr = 0; rr < 2; rr++)
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) {
                const int r = 2 * h + rr;
                if (r < R && c < C) {
                    const __m256i m = flav == 2 ? _mm256_setzero_si256()
                                                : _mm256_madd_epi16(_mm256_load_si256((const __m256i *)dec[r].corr), LD256(y[c]->bsums));
                    __m256i s8 = qk_fold(s[r][c]);
                    if (flav == 0) s8 = _mm256_sub_epi32(s8, m);
                    acc[r * QK_CB + c] = _mm256_fmadd_ps(_mm256_set1_ps(dec[r].d * dy[c]), _mm256_cvtepi32_ps(s8),
                                                         acc[r * QK_CB + c]);
                    mv[4 * rr + c] = m;
                } else {
                    mv[4 * rr + c] = _mm256_setzero_si256();
                }
            }
        if (flav == 1) {
            const __m256 dmy = _mm256_mul_ps(dmx[h], _mm256_broadcast_ps((const __m128 *)dy));
            accm[h] = _mm256_add_ps(accm[h], _mm256_mul_ps(dmy, _mm256_cvtepi32_ps(qk_reduce8(mv))));
        }
    }
}

typedef void (*qk_tile_fn)(const qk_dec *dec, const char *act, int64_t act_stride, int64_t b, const __m256 *dmx,
                           const float *dy, __m256 *acc, __m256 *accm);

#define QK_TILE1(FL, R, C)                                                                                         \
    static void qk_tile_##FL##_##R##_##C(const qk_dec *dec, const char *act, int64_t act_stride, int64_t b,       \
                                         const __m256 *dmx, const float *dy, __m256 *acc, __m256 *accm) {        \
        qk_tile(R, C, FL, dec, act, act_stride, b, dmx, dy, acc, accm);                                            \
    }
#define QK_TILES_R(FL, R) QK_TILE1(FL, R, 1) QK_TILE1(FL, R, 2) QK_TILE1(FL, R, 3) QK_TILE1(FL, R, 4)
#define QK_TROW(FL, R) {qk_tile_##FL##_##R##_1, qk_tile_##FL##_##R##_2, qk_tile_##FL##_##R##_3, qk_tile_##FL##_##R##_4}
#ifdef G4J_QK_512
#define QK_TILES(FL) QK_TILES_R(FL, 1) QK_TILES_R(FL, 2) QK_TILES_R(FL, 3) QK_TILES_R(FL, 4)                      \
    static const qk_tile_fn qk_tiles_##FL[QK_TR][QK_TC] = {QK_TROW(FL, 1), QK_TROW(FL, 2), QK_TROW(FL, 3), QK_TROW(FL, 4)};
#else
#define QK_TILES(FL) QK_TILES_R(FL, 1) QK_TILES_R(FL, 2)                                                          \
    static const qk_tile_fn qk_tiles_##FL[QK_TR][QK_TC] = {QK_TROW(FL, 1), QK_TROW(FL, 2)};
#endif
#ifndef G4J_QK_512 /* AVX-512 has its own gemm for FLAV 0 and 1 (below) */
QK_TILES(0)
QK_TILES(1)
#endif
QK_TILES(2)

/* The gemm of one type. Columns in blocks of QK_CB and rows in blocks of QK_RB; per super-block, the rows of the
 * block are decoded once, then every column tile of QK_TC columns runs over them in row groups of QK_TR, so the
 * tile's activations and the decoded rows are L1 hits. A single column goes through T_dot (same arithmetic, no
 * decode buffer). */
/* The head every gemm here shares (it opens the function; the gemm's macro closes it): the signature, the block
 * count, and a single column row after row through T_dot: one sequential stream through the weights (several rows
 * at once ran slower here, their short streams defeat the prefetchers). */
#define QK_GEMM_HEAD(T, BLOCK)                                                                                     \
    static void gemm_##T(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts,                \
                         int64_t act_stride, int64_t nc, float *yout, int64_t y_stride) {                          \
        const int64_t nb = n / G4J_QK_K;                                                                           \
        if (nc == 1 && QK_MV_##T(nb, w, row_bytes, nr, acts, yout)) return;                                        \
        if (nc == 1) {                                                                                             \
            for (int64_t r = 0; r < nr; r++)                                                                       \
                yout[r] = T##_dot(nb, (const BLOCK *)((const char *)w + r * row_bytes), (const g4j_block_q8_K *)acts); \
            return;                                                                                                \
        }

#define QK_DEFINE_GEMM(T, BLOCK, FLAV)                                                                             \
    QK_GEMM_HEAD(T, BLOCK)                                                                                         \
        qk_dec dec[QK_RB];                                                                                         \
        __m256 acc[QK_RB * QK_CB];                                                                                 \
        __m256 accm[QK_CB / 4 * QK_RB / 2];                                                                        \
        __m256 dmx[QK_RB / 2];                                                                                     \
        float dyb[QK_CB] __attribute__((aligned(32)));                                                             \
        for (int64_t c0 = 0; c0 < nc; c0 += QK_CB) {                                                               \
            const int64_t cb = nc - c0 < QK_CB ? nc - c0 : QK_CB;                                                  \
            const char *act0 = (const char *)acts + c0 * act_stride;                                               \
            for (int64_t r0 = 0; r0 < nr; r0 += QK_RB) {                                                           \
                const int rb = nr - r0 < QK_RB ? (int)(nr - r0) : QK_RB;                                           \
                for (int i = 0; i < QK_RB * QK_CB; i++) acc[i] = _mm256_setzero_ps();                              \
                for (int i = 0; i < QK_CB / 4 * QK_RB / 2; i++) accm[i] = _mm256_setzero_ps();                     \
                for (int64_t b = 0; b < nb; b++) {                                                                 \
                    for (int r = 0; r < rb; r += 2) {                                                              \
                        T##_decode((const BLOCK *)((const char *)w + (r0 + r) * row_bytes) + b, &dec[r]);          \
                        float m1 = 0.0f;                                                                           \
                        if (r + 1 < rb) {                                                                          \
                            T##_decode((const BLOCK *)((const char *)w + (r0 + r + 1) * row_bytes) + b, &dec[r + 1]); \
                            m1 = dec[r + 1].dm;                                                                    \
                        }                                                                                          \
                        dmx[r / 2] = _mm256_setr_m128(_mm_set1_ps(dec[r].dm), _mm_set1_ps(m1));                    \
                    }                                                                                              \
                    for (int64_t c = 0; c < QK_CB; c++)                                                            \
                        dyb[c] = c < cb ? ((const g4j_block_q8_K *)(act0 + c * act_stride))[b].d : 0.0f;           \
                    for (int64_t c = 0; c < cb; c += QK_TC) {                                                      \
                        const int cc = cb - c < QK_TC ? (int)(cb - c) : QK_TC;                                     \
                        for (int r = 0; r < rb; r += QK_TR) {                                                      \
                            const int rr = rb - r < QK_TR ? rb - r : QK_TR;                                        \
                            qk_tiles_##FLAV[rr - 1][cc - 1](dec + r, act0 + c * act_stride, act_stride, b, dmx + r / 2, \
                                                            dyb + c, acc + r * QK_CB + c,                          \
                                                            accm + c / 4 * (QK_RB / 2) + r / 2);                   \
                        }                                                                                          \
                    }                                                                                              \
                }                                                                                                  \
                for (int64_t c = 0; c < cb; c++)                                                                   \
                    for (int r = 0; r < rb; r++) {                                                                 \
                        float lanes[8];                                                                            \
                        _mm256_storeu_ps(lanes, accm[c / 4 * (QK_RB / 2) + r / 2]);                                \
                        const float sum = qk_hsum_ps(acc[r * QK_CB + c]);                                          \
                        yout[(c0 + c) * y_stride + r0 + r] = FLAV == 1 ? sum - lanes[4 * (r % 2) + c % 4] : sum;   \
                    }                                                                                              \
            }                                                                                                      \
        }                                                                                                          \
    }                                                                                                              \
    static void vec_dot_##T(int64_t n, const void *x, const void *y, float *out) {                                 \
        *out = T##_dot(n / G4J_QK_K, (const BLOCK *)x, (const g4j_block_q8_K *)y);                                \
    }

#ifdef G4J_QK_512
/* ---- AVX-512: row pairs (the gemm of the types with unsigned weights, FLAV 0 and 1) ----
 *
 * The 8 s32 lanes S8 of a (row, column, super-block) are kept as such, two rows to a zmm: per row pair and
 * super-block, chunk k of 32 elements is decoded to [row 0's 32 bytes | row 1's] and its s16 pair scales the same
 * way, so that one maddubs against the column's 32 activation bytes broadcast to both halves, then madd with the
 * scales (vpdpwssd with VNNI: the same exact integer sums), advances the 8 lanes of both rows; lane j of each half
 * is exactly qk_tile's S8 lane j (elements 32k + 4j .. 32k + 4j + 3, summed over k). No fold and no reduction per
 * chunk, and the float steps (cvt, d_x * d_y, fma into the 8-lane accumulator of each output) run on 16 lanes.
 * The mins (FLAV 1) are a small integer product per super-block with the columns in the lanes: the 16 column's
 * bsums transposed to 8 vectors of s16 pairs, times the row's 16 s16 mins broadcast a pair at a time, gives the
 * integer isum of 16 (row, column) pairs; accm = accm + (dmin_x * d_y) * (float)isum as in qk_tile.
 * Block: QP_RB rows (QP_RB / 2 pairs) x QP_CB columns, the super-blocks in order; per super-block the pairs are
 * decoded once, then register tiles of QP_TP pairs x up to QP_TC columns, the 16-lane accumulators in a buffer. */
#ifdef G4J_QK_VNNI
#define QP_DPWSSD(acc, a, b) _mm512_dpwssd_epi32((acc), (a), (b))
#else
#define QP_DPWSSD(acc, a, b) _mm512_add_epi32((acc), _mm512_madd_epi16((a), (b)))
#endif
#ifndef QP_RB
#define QP_RB 8
#endif
#ifndef QP_CB
#define QP_CB 64
#endif
#ifndef QP_TP
#define QP_TP 2
#endif
#ifndef QP_TC
#define QP_TC 4
#endif
#define QP_NP (QP_RB / 2)

#ifdef G4J_QK_VNNI
/* VNNI: lane j's 4-element sums D_k of chunks k = 2i and 2i + 1 (vpdpbusd; |D| <= 4 * 63 * 127 < 2^15) go into
 * one dword as two s16, and one vpdpwssd against (scale of k, scale of k + 1) adds sc_k D_k + sc_k+1 D_k+1 to lane
 * j: the same integer as maddubs, madd, add of both chunks, in 3 multiplies instead of 4. sc[i] holds those pairs. */
#define QP_NSC 4
#define qp_scales(F, c, i) _mm256_blend_epi16(F(c, 2 * (i)), _mm256_slli_epi32(F(c, 2 * (i) + 1), 16), 0xaa)
#else
#define QP_NSC 8
#define qp_scales(F, c, k) F(c, k)
#endif

typedef struct {
    __m512i q[8];  /* chunk k: row 0's 32 unsigned bytes | row 1's */
    __m512i sc[QP_NSC]; /* the s16 scale of each element pair (VNNI: of each chunk pair), same halves */
    __m512i corr;  /* row 0's 16 s16 | row 1's (against bsums) */
    __m512 d;      /* d of row 0 (8 lanes) | row 1 */
    float dm[16];  /* dmin of row 0, row 1 */
} qp_dec;

QK_INLINE __m512i qp_cat(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

#define QP_DEFINE_DECODE(T, BLOCK)                                                                               \
    static inline void T##_qp_decode(const BLOCK *x0, const BLOCK *x1, qp_dec *o) {                              \
        qk_ctx c0, c1;                                                                                           \
        T##_setup(x0, &c0);                                                                                      \
        T##_setup(x1, &c1);                                                                                      \
        _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++)                                                      \
            _mm512_store_si512(&o->q[k], qp_cat(T##_quants(x0, k), T##_quants(x1, k)));                          \
        _Pragma("GCC unroll 8") for (int k = 0; k < QP_NSC; k++)                                                 \
            _mm512_store_si512(&o->sc[k], qp_cat(qp_scales(T##_scales, &c0, k), qp_scales(T##_scales, &c1, k))); \
        _mm512_store_si512(&o->corr, qp_cat(c0.corr, c1.corr));                                                  \
        o->d = _mm512_insertf32x8(_mm512_set1_ps(c0.d), _mm256_set1_ps(c1.d), 1);                                \
        o->dm[0] = c0.dm;                                                                                        \
        o->dm[1] = c1.dm;                                                                                        \
    }
QP_DEFINE_DECODE(q2k, g4j_block_q2_K)
QP_DEFINE_DECODE(q3k, g4j_block_q3_K)
QP_DEFINE_DECODE(q4k, g4j_block_q4_K)
QP_DEFINE_DECODE(q5k, g4j_block_q5_K)
QP_DEFINE_DECODE(q6k, g4j_block_q6_K)

/* QP_TP decoded pairs against C columns, super-block b. acc[p * QP_CB + c]: the accumulator of pair p, column c. */
QK_INLINE void qp_tile(int C, int flav, const qp_dec *dec, const char *act, int64_t act_stride, int64_t b, __m512 *acc) {
    __m512i s[QP_TP][8]; /* C <= QP_TC used */
    const g4j_block_q8_K *y[8];
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) y[c] = (const g4j_block_q8_K *)(act + c * act_stride) + b;
#pragma GCC unroll 4
    for (int p = 0; p < QP_TP; p++)
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) s[p][c] = _mm512_setzero_si512();
#ifdef G4J_QK_VNNI
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m512i w0[QP_TP], w1[QP_TP], sc[QP_TP];
#pragma GCC unroll 4
        for (int p = 0; p < QP_TP; p++) {
            w0[p] = _mm512_load_si512(&dec[p].q[2 * i]);
            w1[p] = _mm512_load_si512(&dec[p].q[2 * i + 1]);
            sc[p] = _mm512_load_si512(&dec[p].sc[i]);
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            const __m512i y0 = _mm512_broadcast_i64x4(LD256(y[c]->qs + 64 * i));
            const __m512i y1 = _mm512_broadcast_i64x4(LD256(y[c]->qs + 64 * i + 32));
#pragma GCC unroll 4
            for (int p = 0; p < QP_TP; p++) {
                const __m512i d0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0[p], y0);
                const __m512i d1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1[p], y1);
                const __m512i dd = _mm512_mask_blend_epi16(0xaaaaaaaau, d0, _mm512_slli_epi32(d1, 16));
                s[p][c] = _mm512_dpwssd_epi32(s[p][c], dd, sc[p]);
                QK_PIN(s[p][c]);
            }
        }
    }
#else
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        __m512i w[QP_TP], sc[QP_TP];
#pragma GCC unroll 4
        for (int p = 0; p < QP_TP; p++) {
            w[p] = _mm512_load_si512(&dec[p].q[k]);
            sc[p] = _mm512_load_si512(&dec[p].sc[k]);
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            const __m512i yv = _mm512_broadcast_i64x4(LD256(y[c]->qs + 32 * k));
#pragma GCC unroll 4
            for (int p = 0; p < QP_TP; p++) {
                s[p][c] = QP_DPWSSD(s[p][c], _mm512_maddubs_epi16(w[p], yv), sc[p]);
                QK_PIN(s[p][c]);
            }
        }
    }
#endif
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
        const __m512 dy = _mm512_set1_ps(y[c]->d);
        const __m512i bs = flav == 0 ? _mm512_broadcast_i64x4(LD256(y[c]->bsums)) : _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int p = 0; p < QP_TP; p++) {
            __m512i v = s[p][c];
            if (flav == 0) v = _mm512_sub_epi32(v, _mm512_madd_epi16(_mm512_load_si512(&dec[p].corr), bs));
            acc[p * QP_CB + c] = _mm512_fmadd_ps(_mm512_mul_ps(dec[p].d, dy), _mm512_cvtepi32_ps(v), acc[p * QP_CB + c]);
        }
    }
}

typedef void (*qp_tile_fn)(const qp_dec *dec, const char *act, int64_t act_stride, int64_t b, __m512 *acc);
#define QP_TILE1(FL, C)                                                                                          \
    static void qp_tile_##FL##_##C(const qp_dec *dec, const char *act, int64_t act_stride, int64_t b, __m512 *acc) { \
        qp_tile(C, FL, dec, act, act_stride, b, acc);                                                            \
    }
#define QP_TILES(FL)                                                                                             \
    QP_TILE1(FL, 1) QP_TILE1(FL, 2) QP_TILE1(FL, 3) QP_TILE1(FL, 4) QP_TILE1(FL, 5) QP_TILE1(FL, 6)             \
    QP_TILE1(FL, 7) QP_TILE1(FL, 8)                                                                              \
    static const qp_tile_fn qp_tiles_##FL[8] = {qp_tile_##FL##_1, qp_tile_##FL##_2, qp_tile_##FL##_3,           \
                                                qp_tile_##FL##_4, qp_tile_##FL##_5, qp_tile_##FL##_6,           \
                                                qp_tile_##FL##_7, qp_tile_##FL##_8};
#if QP_TC > 8
#error "QP_TC is at most 8"
#endif
QP_TILES(0)
QP_TILES(1)

/* The bsums of 16 columns (super-block b; columns >= cb read as zero) as 8 vectors of s16 pairs: lane l of bt[i]
 * is (bsums[2i], bsums[2i + 1]) of column l; dy16 lane l: d of column l. */
static inline void qp_col16(const char *act, int64_t act_stride, int cb, int64_t b, __m512i bt[8], __m512 *dy16) {
    __m512i r[8];
    float d[16];
    for (int i = 0; i < 8; i++) {
        const g4j_block_q8_K *y0 = (const g4j_block_q8_K *)(act + i * act_stride) + b;
        const g4j_block_q8_K *y1 = (const g4j_block_q8_K *)(act + (i + 8) * act_stride) + b;
        const __m256i lo = i < cb ? LD256(y0->bsums) : _mm256_setzero_si256();
        const __m256i hi = i + 8 < cb ? LD256(y1->bsums) : _mm256_setzero_si256();
        r[i] = qp_cat(lo, hi);
        /* the next super-block's d and bsums: these loads come first in a super-block and would miss */
        _mm_prefetch((const char *)(y0 + 1), _MM_HINT_T0);
        _mm_prefetch((const char *)(y0 + 1)->bsums, _MM_HINT_T0);
        _mm_prefetch((const char *)(y1 + 1), _MM_HINT_T0);
        _mm_prefetch((const char *)(y1 + 1)->bsums, _MM_HINT_T0);
        d[i] = i < cb ? y0->d : 0.0f;
        d[i + 8] = i + 8 < cb ? y1->d : 0.0f;
    }
    /* from registers: a vector load of the 16 scalar stores would wait for them (no store forwarding) */
    *dy16 = _mm512_setr_ps(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13],
                           d[14], d[15]);
    /* 8 x 8 transpose of dwords within each 256-bit half */
    __m512i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) {
        const __m512i *tt = t + 4 * h;
        u[4 * h + 0] = _mm512_unpacklo_epi64(tt[0], tt[2]); /* dwords 0, 4 of rows 4h .. 4h + 3 */
        u[4 * h + 1] = _mm512_unpackhi_epi64(tt[0], tt[2]); /* 1, 5 */
        u[4 * h + 2] = _mm512_unpacklo_epi64(tt[1], tt[3]); /* 2, 6 */
        u[4 * h + 3] = _mm512_unpackhi_epi64(tt[1], tt[3]); /* 3, 7 */
    }
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    for (int i = 0; i < 4; i++) {
        bt[i] = _mm512_permutex2var_epi64(u[i], lo, u[4 + i]);
        bt[i + 4] = _mm512_permutex2var_epi64(u[i], hi, u[4 + i]);
    }
}

/* qk_hsum_ps of both 256-bit halves (the same additions in the same order): lane 0 and lane 8. */
QK_INLINE __m512 qp_hsum2(__m512 v) {
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1))); /* lo = v[0..3] + v[4..7] */
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(3, 2, 3, 2)));       /* lo + movehl(lo) */
    return _mm512_add_ps(v, _mm512_movehdup_ps(v));                             /* + movehdup */
}

#define QP_DEFINE_GEMM(T, BLOCK, FLAV)                                                                           \
    QK_GEMM_HEAD(T, BLOCK)                                                                                       \
        qp_dec dec[QP_NP];                                                                                       \
        __m512 acc[QP_NP * QP_CB];                                                                               \
        __m512 accm[QP_RB * (QP_CB / 16)];                                                                       \
        __m512i bt[QP_CB / 16][8];                                                                               \
        __m512 dy16[QP_CB / 16];                                                                                 \
        for (int64_t c0 = 0; c0 < nc; c0 += QP_CB) {                                                             \
            const int cb = nc - c0 < QP_CB ? (int)(nc - c0) : QP_CB;                                             \
            const int ng = (cb + 15) / 16;                                                                       \
            const char *act0 = (const char *)acts + c0 * act_stride;                                             \
            for (int64_t r0 = 0; r0 < nr; r0 += QP_RB) {                                                         \
                const int rb = nr - r0 < QP_RB ? (int)(nr - r0) : QP_RB;                                         \
                const int np = (rb + 1) / 2, npt = (np + QP_TP - 1) / QP_TP * QP_TP;                             \
                for (int i = 0; i < npt * QP_CB; i++) acc[i] = _mm512_setzero_ps();                              \
                if (FLAV == 1)                                                                                   \
                    for (int i = 0; i < rb * ng; i++) accm[i] = _mm512_setzero_ps();                             \
                for (int64_t b = 0; b < nb; b++) {                                                               \
                    for (int p = 0; p < npt; p++) {                                                              \
                        const int ra = 2 * p < rb ? 2 * p : rb - 1, rz = 2 * p + 1 < rb ? 2 * p + 1 : ra;        \
                        T##_qp_decode((const BLOCK *)((const char *)w + (r0 + ra) * row_bytes) + b,              \
                                      (const BLOCK *)((const char *)w + (r0 + rz) * row_bytes) + b, &dec[p]);    \
                    }                                                                                            \
                    if (FLAV == 1) {                                                                             \
                        for (int g = 0; g < ng; g++)                                                             \
                            qp_col16(act0 + 16 * g * act_stride, act_stride, cb - 16 * g, b, bt[g], &dy16[g]);   \
                        for (int r = 0; r < rb; r++) {                                                           \
                            const int32_t *cw = (const int32_t *)&dec[r / 2].corr + 8 * (r % 2);                 \
                            const __m512 dm = _mm512_set1_ps(dec[r / 2].dm[r % 2]);                              \
                            for (int g = 0; g < ng; g++) {                                                       \
                                __m512i is = _mm512_setzero_si512();                                             \
                                _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++)                              \
                                    is = QP_DPWSSD(is, _mm512_set1_epi32(cw[i]), bt[g][i]);                      \
                                accm[r * ng + g] = _mm512_add_ps(accm[r * ng + g],                               \
                                    _mm512_mul_ps(_mm512_mul_ps(dm, dy16[g]), _mm512_cvtepi32_ps(is)));          \
                            }                                                                                    \
                        }                                                                                        \
                    }                                                                                            \
                    for (int c = 0; c < cb; c += QP_TC) {                                                        \
                        const int cc = cb - c < QP_TC ? cb - c : QP_TC;                                          \
                        for (int p = 0; p < npt; p += QP_TP)                                                     \
                            qp_tiles_##FLAV[cc - 1](dec + p, act0 + c * act_stride, act_stride, b, acc + p * QP_CB + c); \
                    }                                                                                            \
                }                                                                                                \
                float mins[FLAV == 1 ? QP_RB * QP_CB : 1] __attribute__((aligned(64)));                         \
                if (FLAV == 1)                                                                                   \
                    for (int i = 0; i < rb * ng; i++) _mm512_store_ps(mins + 16 * i, accm[i]);                   \
                for (int c = 0; c < cb; c++)                                                                     \
                    for (int p = 0; p < np; p++) {                                                               \
                        const __m512 h = qp_hsum2(acc[p * QP_CB + c]);                                           \
                        const float s0 = _mm512_cvtss_f32(h), s1 = _mm_cvtss_f32(_mm512_extractf32x4_ps(h, 2));  \
                        float *o = yout + (c0 + c) * y_stride + r0 + 2 * p;                                      \
                        o[0] = FLAV == 1 ? s0 - mins[2 * p * 16 * ng + c] : s0;                                  \
                        if (2 * p + 1 < rb) o[1] = FLAV == 1 ? s1 - mins[(2 * p + 1) * 16 * ng + c] : s1;        \
                    }                                                                                            \
            }                                                                                                    \
        }                                                                                                        \
    }                                                                                                            \
    static void vec_dot_##T(int64_t n, const void *x, const void *y, float *out) {                               \
        *out = T##_dot(n / G4J_QK_K, (const BLOCK *)x, (const g4j_block_q8_K *)y);                              \
    }

QP_DEFINE_GEMM(q2k, g4j_block_q2_K, 1)
QP_DEFINE_GEMM(q3k, g4j_block_q3_K, 0)
QP_DEFINE_GEMM(q4k, g4j_block_q4_K, 1)
QP_DEFINE_GEMM(q5k, g4j_block_q5_K, 1)
QP_DEFINE_GEMM(q6k, g4j_block_q6_K, 0)
#else
QK_DEFINE_GEMM(q2k, g4j_block_q2_K, 1)
QK_DEFINE_GEMM(q3k, g4j_block_q3_K, 0)
QK_DEFINE_GEMM(q4k, g4j_block_q4_K, 1)
QK_DEFINE_GEMM(q5k, g4j_block_q5_K, 1)
QK_DEFINE_GEMM(q6k, g4j_block_q6_K, 0)
#endif
QK_DEFINE_GEMM(iq4xs, g4j_block_iq4_xs, 2)

#include "gemm_rk_impl.h"

#define QK_TABLE                                                                                                   \
    {                                                                                                              \
        .vec_dot = {[G4J_TYPE_Q2_K] = vec_dot_q2k, [G4J_TYPE_Q3_K] = vec_dot_q3k, [G4J_TYPE_Q4_K] = vec_dot_q4k,  \
                    [G4J_TYPE_Q5_K] = vec_dot_q5k, [G4J_TYPE_Q6_K] = vec_dot_q6k, [G4J_TYPE_IQ4_XS] = vec_dot_iq4xs}, \
        .gemm = {[G4J_TYPE_Q2_K] = gemm_q2k, [G4J_TYPE_Q3_K] = gemm_q3k, [G4J_TYPE_Q4_K] = gemm_q4k,               \
                 [G4J_TYPE_Q5_K] = gemm_q5k, [G4J_TYPE_Q6_K] = gemm_q6k, [G4J_TYPE_IQ4_XS] = gemm_iq4xs},         \
        .gemm_r8 = {[G4J_TYPE_Q4_K] = gemm_r8_q4k, [G4J_TYPE_Q5_K] = gemm_r8_q5k,                                  \
                    [G4J_TYPE_Q6_K] = gemm_r8_q6k},                                                                 \
    }

#endif /* G4J_GEMM_QK_IMPL_H */
