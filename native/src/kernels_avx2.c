/*
 * kernels_avx2.c - AVX2 + FMA + F16C variants. This file alone is compiled with -mavx2 -mfma -mf16c
 * (cmake/G4jIsa.cmake); it is only entered after the run-time probe found those features.
 *
 * Same arithmetic as the scalar reference (kernels_scalar.c): the integer sums per block are computed with
 * maddubs (u8 x s8 -> s16 pairs) and madd (s16 x s16 -> s32 pairs), then scaled in float; only the order of the
 * float additions differs. No s16 saturation can happen: the unsigned operand of maddubs is at most 128 (a
 * |weight| of Q8_0) and the activations are in [-127, 127] (see g4j_from_float), so a pair is at most
 * 2 * 128 * 127 < 32767.
 *
 * The block-of-32 types share one shape: a per-type unpack of 32 weights to bytes, then dot32_* and one FMA per
 * block. The K-quants Q2_K .. Q6_K and IQ4_XS are in gemm_qk_avx2.c (gemm_qk_impl.h), which folds the constant
 * offset of their weights (-4 for Q3_K, -32 for Q6_K) into Q8_K's bsums instead of widening.
 */
#include <immintrin.h>

#include "g4j_internal.h"

static inline float hsum_ps(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static inline float h2f(g4j_half h) { return _cvtsh_ss(h); }

/* ---- helpers for blocks of 32 ---- */

/* 8 s32 partial sums of 32 signed x 32 signed bytes (x may be -128, y in [-127, 127]). */
static inline __m256i dot32_ss(__m256i x, __m256i y) {
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* 8 s32 partial sums of 32 unsigned (<= 127) x 32 signed bytes. */
static inline __m256i dot32_us(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

/* 16 packed nibbles -> 32 bytes: low nibbles are elements 0..15, high nibbles 16..31. */
static inline __m256i nibbles32(const uint8_t *q) {
    const __m128i t = _mm_loadu_si128((const __m128i *)q);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}

/* bit i of the 32-bit word at q -> byte i: 0x10 if set, else 0. */
static inline __m256i bits32_to_0x10(const uint8_t *q) {
    uint32_t w;
    memcpy(&w, q, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)w),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))

/* Blocks of 32 against Q8_0: two accumulators, one FMA of d_x * d_y per block. UNPACK(xb) gives the 32 signed
 * weights of block xb as bytes. */
#define DOT_Q8_0_FAMILY(NAME, BLOCK, UNPACK)                                                                        \
    static void NAME(int64_t n, const void *vx, const void *vy, float *out) {                                       \
        const BLOCK *x = (const BLOCK *)vx;                                                                          \
        const g4j_block_q8_0 *y = (const g4j_block_q8_0 *)vy;                                                        \
        const int64_t nb = n / 32;                                                                                   \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                                               \
        int64_t b = 0;                                                                                               \
        for (; b + 2 <= nb; b += 2) {                                                                                \
            const __m256i p0 = dot32_ss(UNPACK((&x[b])), LOAD256(y[b].qs));                                          \
            const __m256i p1 = dot32_ss(UNPACK((&x[b + 1])), LOAD256(y[b + 1].qs));                                  \
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);         \
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b + 1].d) * h2f(y[b + 1].d)), _mm256_cvtepi32_ps(p1), acc1); \
        }                                                                                                            \
        for (; b < nb; b++) {                                                                                        \
            const __m256i p0 = dot32_ss(UNPACK((&x[b])), LOAD256(y[b].qs));                                          \
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);         \
        }                                                                                                            \
        *out = hsum_ps(_mm256_add_ps(acc0, acc1));                                                                   \
    }

static inline __m256i unpack_q8_0(const g4j_block_q8_0 *b) { return LOAD256(b->qs); }
static inline __m256i unpack_q4_0(const g4j_block_q4_0 *b) { return _mm256_sub_epi8(nibbles32(b->qs), _mm256_set1_epi8(8)); }
static inline __m256i unpack_q5_0(const g4j_block_q5_0 *b) {
    return _mm256_sub_epi8(_mm256_or_si256(nibbles32(b->qs), bits32_to_0x10(b->qh)), _mm256_set1_epi8(16));
}
static inline __m256i unpack_iq4_nl(const g4j_block_iq4_nl *b) {
    const __m256i lut = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)g4j_iq4nl_values));
    return _mm256_shuffle_epi8(lut, nibbles32(b->qs));
}

DOT_Q8_0_FAMILY(vec_dot_q8_0, g4j_block_q8_0, unpack_q8_0)
DOT_Q8_0_FAMILY(vec_dot_q4_0, g4j_block_q4_0, unpack_q4_0)
DOT_Q8_0_FAMILY(vec_dot_q5_0, g4j_block_q5_0, unpack_q5_0)
DOT_Q8_0_FAMILY(vec_dot_iq4_nl, g4j_block_iq4_nl, unpack_iq4_nl)

/* Blocks of 32 with a min against Q8_1: d_x d_y sum(q_x q_y) + m_x s_y; unsigned weights. */
#define DOT_Q8_1_FAMILY(NAME, BLOCK, UNPACK)                                                                        \
    static void NAME(int64_t n, const void *vx, const void *vy, float *out) {                                       \
        const BLOCK *x = (const BLOCK *)vx;                                                                          \
        const g4j_block_q8_1 *y = (const g4j_block_q8_1 *)vy;                                                        \
        const int64_t nb = n / 32;                                                                                   \
        __m256 acc = _mm256_setzero_ps();                                                                            \
        float summs = 0.0f;                                                                                          \
        for (int64_t b = 0; b < nb; b++) {                                                                           \
            const __m256i p = dot32_us(UNPACK((&x[b])), LOAD256(y[b].qs));                                           \
            acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p), acc);            \
            summs += h2f(x[b].m) * h2f(y[b].s);                                                                      \
        }                                                                                                            \
        *out = hsum_ps(acc) + summs;                                                                                 \
    }

static inline __m256i unpack_q4_1(const g4j_block_q4_1 *b) { return nibbles32(b->qs); }
static inline __m256i unpack_q5_1(const g4j_block_q5_1 *b) { return _mm256_or_si256(nibbles32(b->qs), bits32_to_0x10(b->qh)); }

DOT_Q8_1_FAMILY(vec_dot_q4_1, g4j_block_q4_1, unpack_q4_1)
DOT_Q8_1_FAMILY(vec_dot_q5_1, g4j_block_q5_1, unpack_q5_1)

/* ---- K-quants (x Q8_K): Q2_K .. Q6_K and IQ4_XS live in gemm_qk_avx2.c (tiles with their vec_dot twins) ---- */

/* ---- float rows ----
 * The scalar reference's order exactly (kernels_scalar.c, "float rows"): lane 8k+j of the 32 is register r_k's
 * lane j, one FMA per element of each full group of 32; (r0+r1)+(r2+r3), then hsum_ps (halves of 4, 2, 1, the
 * reference's tree); the last n % 32 products added one by one (no contraction: -ffp-contract=off). Every variant
 * uses these (kernels_avx512.c has no float rows of its own), so float weights give the same bits everywhere. */

#define FLOAT_ROW_DOT(NAME, T, LOAD8, TO_F32)                                                              \
    static void NAME(int64_t n, const void *vx, const void *vy, float *out) {                              \
        const T *x = (const T *)vx, *y = (const T *)vy;                                                     \
        __m256 r0 = _mm256_setzero_ps(), r1 = _mm256_setzero_ps();                                          \
        __m256 r2 = _mm256_setzero_ps(), r3 = _mm256_setzero_ps();                                          \
        int64_t i = 0;                                                                                      \
        for (; i + 32 <= n; i += 32) {                                                                      \
            r0 = _mm256_fmadd_ps(LOAD8(x + i), LOAD8(y + i), r0);                                           \
            r1 = _mm256_fmadd_ps(LOAD8(x + i + 8), LOAD8(y + i + 8), r1);                                   \
            r2 = _mm256_fmadd_ps(LOAD8(x + i + 16), LOAD8(y + i + 16), r2);                                 \
            r3 = _mm256_fmadd_ps(LOAD8(x + i + 24), LOAD8(y + i + 24), r3);                                 \
        }                                                                                                   \
        float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(r0, r1), _mm256_add_ps(r2, r3)));                   \
        for (; i < n; i++) sum += TO_F32(x[i]) * TO_F32(y[i]);                                              \
        *out = sum;                                                                                         \
    }

#define LOAD8_F32(p) _mm256_loadu_ps(p)
#define LOAD8_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD8_BF16(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
static inline float f32_id(float v) { return v; }

FLOAT_ROW_DOT(vec_dot_f32, float, LOAD8_F32, f32_id)
FLOAT_ROW_DOT(vec_dot_f16, g4j_half, LOAD8_F16, h2f)
FLOAT_ROW_DOT(vec_dot_bf16, uint16_t, LOAD8_BF16, g4j_bf16_to_float)

/* ---- activation conversion: Q8_K ----
 * kernels_scalar.c's from_float_q8_K (quantize_row_q8_K_ref) vectorized, with the same bits: the largest magnitude
 * by max_ps (which, like the reference's `>`, keeps the running maximum for a NaN), max = the first element of that
 * magnitude, iscale = -127 / max, q = min(127, nearest_int(iscale * x)) by the same 1.5 * 2^23 float trick, kept
 * as its low byte (the reference's wrapping int8 conversion), d = 1 / iscale, bsums = sums of 16. */
void g4j_from_float_q8_K_avx2(int64_t n, const float *x, void *vout) {
    g4j_block_q8_K *y = (g4j_block_q8_K *)vout;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i lowbyte = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (int64_t b = 0; b < n / G4J_QK_K; b++, x += G4J_QK_K) {
        __m256 vmax = _mm256_setzero_ps();
        for (int j = 0; j < G4J_QK_K; j += 8) vmax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), absmask), vmax);
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        int first = 0;
        for (int j = 0; j < G4J_QK_K; j += 8) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), absmask),
                                                             _mm256_set1_ps(amax), _CMP_EQ_OQ));
            if (hit) {
                first = j + __builtin_ctz((unsigned)hit);
                break;
            }
        }
        const float iscale = -127.f / x[first];
        const __m256 vs = _mm256_set1_ps(iscale), magic = _mm256_set1_ps(12582912.0f);
        const __m256i mant = _mm256_set1_epi32(0x007fffff), off = _mm256_set1_epi32(0x00400000), top = _mm256_set1_epi32(127);
        for (int j = 0; j < G4J_QK_K; j += 8) {
            const __m256 f = _mm256_add_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j)), magic);
            const __m256i v = _mm256_min_epi32(_mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(f), mant), off), top);
            const __m256i bytes = _mm256_shuffle_epi8(v, lowbyte); /* 4 low bytes per 128-bit lane */
            const uint32_t lo = (uint32_t)_mm256_extract_epi32(bytes, 0), hi = (uint32_t)_mm256_extract_epi32(bytes, 4);
            memcpy(y[b].qs + j, &lo, 4);
            memcpy(y[b].qs + j + 4, &hi, 4);
        }
        for (int j = 0; j < G4J_QK_K / 16; j++) {
            const __m256i q = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(y[b].qs + 16 * j)));
            __m128i s = _mm_add_epi16(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
            s = _mm_add_epi16(s, _mm_unpackhi_epi64(s, s));
            s = _mm_add_epi16(s, _mm_shufflelo_epi16(s, _MM_SHUFFLE(1, 0, 3, 2)));
            s = _mm_add_epi16(s, _mm_shufflelo_epi16(s, _MM_SHUFFLE(2, 3, 0, 1)));
            y[b].bsums[j] = (int16_t)_mm_extract_epi16(s, 0);
        }
        y[b].d = 1 / iscale;
    }
}

/* ---- activation conversion: Q8_0 ----
 * kernels_scalar.c's from_float_q8_0 (ggml's AVX quantize_row_q8_0) with the instructions it emulates: amax by
 * max_ps (NaN keeps the running maximum, as the reference's `>`), d = f16(amax / 127), multiplier 127 / amax (0 for
 * amax 0), cvtps_epi32 (nearest-even) and saturating packs. The same bits. */
void g4j_from_float_q8_0_avx2(int64_t n, const float *x, void *vout) {
    g4j_block_q8_0 *y = (g4j_block_q8_0 *)vout;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < n / G4J_QK8_0; b++, x += G4J_QK8_0) {
        const __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8), v2 = _mm256_loadu_ps(x + 16),
                     v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_and_ps(v0, absmask), _mm256_setzero_ps());
        m = _mm256_max_ps(_mm256_and_ps(v1, absmask), m);
        m = _mm256_max_ps(_mm256_and_ps(v2, absmask), m);
        m = _mm256_max_ps(_mm256_and_ps(v3, absmask), m);
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[b].d = g4j_float_to_half(d);
        const __m256 mul = _mm256_set1_ps(id);
        const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, mul)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, mul));
        const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, mul)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, mul));
        /* packs work per 128-bit lane: the permute puts the 32 bytes back in element order */
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)y[b].qs, _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
}

const g4j_kernel_table g4j_kernels_avx2 = {
    .vec_dot = {
        [G4J_TYPE_F32] = vec_dot_f32,
        [G4J_TYPE_F16] = vec_dot_f16,
        [G4J_TYPE_BF16] = vec_dot_bf16,
        [G4J_TYPE_Q4_0] = vec_dot_q4_0,
        [G4J_TYPE_Q4_1] = vec_dot_q4_1,
        [G4J_TYPE_Q5_0] = vec_dot_q5_0,
        [G4J_TYPE_Q5_1] = vec_dot_q5_1,
        [G4J_TYPE_Q8_0] = vec_dot_q8_0,
        [G4J_TYPE_IQ4_NL] = vec_dot_iq4_nl,
    },
};
