/*
 * gemm_q32_impl.h - register-blocked tiles for the blocks of 32 (Q4_0, Q5_0, Q8_0, IQ4_NL against Q8_0; Q4_1, Q5_1
 * against Q8_1), included once by each of gemm_q32_avx2.c, gemm_q32_avx512.c and gemm_q32_avx512vnni.c, which
 * are compiled with their variant's flags. G4J_Q32_VNNI (0/1) picks the integer dot product.
 *
 * The arithmetic, per output element (row r, activation vector c), the same in every path and tile shape:
 *     acc = 0.0f
 *     for each block b:  acc = fmaf(dx[r][b] * dy[c][b], (float)isum(r, c, b), acc)          (one rounding each)
 *                        (Q4_1, Q5_1 also)  acc = fmaf(mx[r][b], sy[c][b], acc)
 *     y = acc
 * isum is the exact integer dot product of the block's 32 weights and 32 activation bytes (|isum| < 2^24, so the
 * conversion is exact). The vector lanes hold different output elements, so a result never depends on how the
 * rows and columns were tiled: vec_dot is this gemm with nr = nc = 1, and matvec/matmat equal it bit for bit.
 *
 * Paths (all compute the arithmetic above; which one runs depends on the variant, the column count and whether
 * there is a single row only):
 *  - "row1" (one row: vec_dot): per block one 8-lane integer dot product summed to a scalar, scalar float steps.
 *  - "rr" (AVX2/AVX-512, between Q32_QR8_MAX_COLS and Q32_PK8_MIN_COLS columns: unused with the defaults, which
 *    meet at 4): 8 rows x C columns (C <= 4). Each weight block
 *    is unpacked once per tile and used for the C columns; per (row, column) one 8-lane integer dot product,
 *    then the 8 rows' partial sums are reduced together (hadd tree) into one vector whose lanes are the 8 rows,
 *    and one FMA per block serves 8 outputs.
 *  - "qr8" (AVX2/AVX-512, 1..3 columns: matvec) and "qr" (VNNI, 1..7 columns): the same, with two (ymm) or four
 *    (zmm) rows per vector as 128-bit lanes of half blocks, so that unpacking and the reduction cost less; the
 *    next tile's rows are prefetched into L2 as one sequential stream meanwhile (short rows read 8 or 16 at a
 *    time are many short streams for the hardware prefetcher).
 *  - "pk" (VNNI, 8 or more columns) and "pk8" (AVX2/AVX-512, 4 or more columns, every type): the
 *    weights of 16 (8) rows are unpacked and interleaved by groups of 4 bytes into a stack buffer, a chunk of
 *    blocks at a time, so that one vpdpbusd zmm (maddubs ymm) with a broadcast group of 4 activation bytes
 *    advances 16 (8) outputs with no reduction at all (what llama.cpp gets from repacking its weights, done here
 *    on the fly, per call, without copying the matrix). Partial accumulators live in y between chunks.
 *
 * Integer forms: each type unpacks to 32 bytes "u" with u = q + OFF, 0 <= u <= 255 (OFF: Q4_0 8, Q5_0 16,
 * Q8_0 and IQ4_NL 128, Q4_1 and Q5_1 0). isum = dot(u, y) - OFF * sum(y).
 *  - VNNI: vpdpbusd(u8 u, s8 y) starting from -OFF * (sums of y), computed once per (column, block).
 *  - pk8: maddubs(u, y) of four groups summed in s16 (u <= 31: at most 4 * 2 * 31 * 127 = 31496), then madd;
 *    OFF = 128 (Q8_0, IQ4_NL): the signed weights are interleaved instead, and each group is
 *    madd(maddubs(|q|, sign(y, q)), 1) on its own (a pair may reach 32512, no s16 headroom to add groups).
 *  - maddubs: OFF <= 16: maddubs(u, y) - maddubs(OFF, y) in s16 (|.| <= 2*31*127, no saturation), then madd;
 *    OFF = 128: the signed weights q = u ^ 0x80 with the sign trick maddubs(|q|, sign(y, q)) (|q| <= 128, y in
 *    [-127, 127]: a pair is at most 32512), then madd.
 */
#include <immintrin.h>
#include <stdint.h>

#include "g4j_internal.h"
#include "r8.h"

#ifndef G4J_Q32_VNNI
#error "define G4J_Q32_VNNI"
#endif

#define Q32_INLINE static inline __attribute__((always_inline))
#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))

Q32_INLINE float q32_h2f(g4j_half h) { return _cvtsh_ss(h); }
Q32_INLINE g4j_half q32_half_at(const void *p) { g4j_half h; memcpy(&h, p, 2); return h; }

/* 16 packed nibbles -> 32 bytes: low nibbles are elements 0..15, high nibbles 16..31. */
Q32_INLINE __m256i q32_nibbles(const uint8_t *q) {
    const __m128i t = _mm_loadu_si128((const __m128i *)q);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}
/* bit i of the 32-bit word at q -> byte i: 0x10 if set, else 0. */
Q32_INLINE __m256i q32_bits_0x10(const uint8_t *q) {
    uint32_t w;
    memcpy(&w, q, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)w),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

/* ---- per type: block size, scale offsets, the unsigned form u (see above) ---- */

/* unpack to u (bytes), from the block's start */
Q32_INLINE __m256i u_q8_0(const uint8_t *b) { return _mm256_xor_si256(LOAD256(b + 2), _mm256_set1_epi8((char)0x80)); }
Q32_INLINE __m256i u_q4_0(const uint8_t *b) { return q32_nibbles(b + 2); }
Q32_INLINE __m256i u_q5_0(const uint8_t *b) { return _mm256_or_si256(q32_nibbles(b + 6), q32_bits_0x10(b + 2)); }
Q32_INLINE __m256i u_iq4_nl(const uint8_t *b) {
    /* the levels + 128 */
    static const uint8_t lut[16] __attribute__((aligned(16))) = {1, 24, 45, 63, 79, 93, 106, 118, 129, 141, 153, 166, 181, 197, 217, 241};
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)lut)), q32_nibbles(b + 2));
}
Q32_INLINE __m256i u_q4_1(const uint8_t *b) { return q32_nibbles(b + 4); }
Q32_INLINE __m256i u_q5_1(const uint8_t *b) { return _mm256_or_si256(q32_nibbles(b + 8), q32_bits_0x10(b + 4)); }

/* ---- the 8-lane integer dot product of one (row, column) block pair ---- */

#if G4J_Q32_VNNI
/* per (column, block): -OFF * (sums of 4 activation bytes) */
Q32_INLINE __m256i q32_act_aux(__m256i y, int off) {
    if (off == 0) return _mm256_setzero_si256();
    return _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)off), y));
}
/* per (row, block): the form the dot product wants */
Q32_INLINE __m256i q32_row_form(__m256i u, int off) { (void)off; return u; }
Q32_INLINE __m256i q32_dot(__m256i w, __m256i y, __m256i aux, int off) { (void)off; return _mm256_dpbusd_epi32(aux, w, y); }
#else
Q32_INLINE __m256i q32_act_aux(__m256i y, int off) {
    if (off == 0 || off == 128) return _mm256_setzero_si256();
    return _mm256_maddubs_epi16(_mm256_set1_epi8((char)off), y);
}
/* OFF 128: the signed weights; their magnitudes are recomputed per column (abs is one cheap op) */
Q32_INLINE __m256i q32_row_form(__m256i u, int off) {
    return off == 128 ? _mm256_xor_si256(u, _mm256_set1_epi8((char)0x80)) : u;
}
Q32_INLINE __m256i q32_dot(__m256i w, __m256i y, __m256i aux, int off) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (off == 128) return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(y, w)), ones);
    if (off == 0) return _mm256_madd_epi16(_mm256_maddubs_epi16(w, y), ones);
    return _mm256_madd_epi16(_mm256_sub_epi16(_mm256_maddubs_epi16(w, y), aux), ones);
}
#endif

/* 8 vectors of 8 s32 partial sums -> one vector, lane r = sum of p[r] */
Q32_INLINE __m256i q32_reduce8(const __m256i p[8]) {
    const __m256i h01 = _mm256_hadd_epi32(p[0], p[1]), h23 = _mm256_hadd_epi32(p[2], p[3]);
    const __m256i h45 = _mm256_hadd_epi32(p[4], p[5]), h67 = _mm256_hadd_epi32(p[6], p[7]);
    const __m256i q0 = _mm256_hadd_epi32(h01, h23), q1 = _mm256_hadd_epi32(h45, h67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x21), _mm256_blend_epi32(q0, q1, 0xf0));
}

/* 8 halves, one per row, at the same offset of each row's block b -> 8 floats */
Q32_INLINE __m256 q32_row_halves(const uint8_t *const rows[8], int64_t at) {
    __m128i h = _mm_cvtsi32_si128(q32_half_at(rows[0] + at));
    h = _mm_insert_epi16(h, q32_half_at(rows[1] + at), 1);
    h = _mm_insert_epi16(h, q32_half_at(rows[2] + at), 2);
    h = _mm_insert_epi16(h, q32_half_at(rows[3] + at), 3);
    h = _mm_insert_epi16(h, q32_half_at(rows[4] + at), 4);
    h = _mm_insert_epi16(h, q32_half_at(rows[5] + at), 5);
    h = _mm_insert_epi16(h, q32_half_at(rows[6] + at), 6);
    h = _mm_insert_epi16(h, q32_half_at(rows[7] + at), 7);
    return _mm256_cvtph_ps(h);
}

/* Stores lanes [0, nrow) of v at out, out + 1, ... */
Q32_INLINE void q32_store_rows(float *out, __m256 v, int64_t nrow) {
    if (nrow == 8) { _mm256_storeu_ps(out, v); return; }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int64_t i = 0; i < nrow; i++) out[i] = t[i];
}

/* Stores lanes [lo, hi) of v at out + lo, ... (out is lane 0's place; the lanes below lo are not stored) */
Q32_INLINE void q32_store_lanes(float *out, __m256 v, int64_t lo, int64_t hi) {
    if (lo == 0) { q32_store_rows(out, v, hi); return; }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int64_t i = lo; i < hi; i++) out[i] = t[i];
}

/* ---- r8 copies (r8.h): group g of a block as the tiles want it, lane r = bytes 4g..4g+3 of row r's block in the u
 * form (Q4_0: the nibbles; Q8_0: q + 128), and the 8 rows' scales ---- */
Q32_INLINE __m256i q32_r8_u(const uint8_t *blk, int g, const int32_t type) {
    const uint8_t *q = blk + G4J_R8_SCALES;
    if (type == G4J_TYPE_Q8_0) return _mm256_xor_si256(LOAD256(q + 32 * g), _mm256_set1_epi8((char)0x80));
    const __m256i t = LOAD256(q + 32 * (g & 3));
    return _mm256_and_si256(g < 4 ? t : _mm256_srli_epi16(t, 4), _mm256_set1_epi8(0x0f));
}
Q32_INLINE __m128i q32_r8_scales(const uint8_t *blk) { return _mm_loadu_si128((const __m128i *)blk); }

/* The rr tile: rows rows[0..7] (missing rows repeat a valid one; their lanes are not stored), C columns. */
Q32_INLINE void q32_rr_tile(int64_t nb, const uint8_t *const rows[8], int64_t nrow, const uint8_t *act, int64_t act_stride,
                            float *y, int64_t y_stride, const int C, const int BS, const int ABS, const int OFF,
                            const int HAS_MIN, __m256i (*unpack)(const uint8_t *)) {
    __m256 acc[4];
    for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const int64_t at = b * BS;
        const __m256 dx = q32_row_halves(rows, at);
        __m256 mx = _mm256_setzero_ps();
        if (HAS_MIN) mx = q32_row_halves(rows, at + 2);
        __m256i w[8];
        for (int r = 0; r < 8; r++) w[r] = q32_row_form(unpack(rows[r] + at), OFF);
        for (int c = 0; c < C; c++) {
            const uint8_t *yb = act + c * act_stride + b * ABS;
            const __m256i yq = LOAD256(yb + (HAS_MIN ? 4 : 2));
            const __m256i aux = q32_act_aux(yq, OFF);
            __m256i p[8];
            for (int r = 0; r < 8; r++) p[r] = q32_dot(w[r], yq, aux, OFF);
            const __m256 s = _mm256_cvtepi32_ps(q32_reduce8(p));
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(q32_h2f(q32_half_at(yb)))), s, acc[c]);
            if (HAS_MIN) acc[c] = _mm256_fmadd_ps(mx, _mm256_set1_ps(q32_h2f(q32_half_at(yb + 2))), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) q32_store_rows(y + c * y_stride, acc[c], nrow);
}

/* One row (vec_dot): per block one 8-lane integer dot product summed to a scalar, then the same float steps as
 * the vector lanes (a product of the scales, one FMA), in scalar instructions. */
Q32_INLINE void q32_row1(int64_t n, const uint8_t *w, const uint8_t *act, int64_t act_stride, int64_t nc, float *y,
                         int64_t y_stride, const int BS, const int ABS, const int OFF, const int HAS_MIN,
                         __m256i (*unpack)(const uint8_t *)) {
    const int64_t nb = n / 32;
    for (int64_t c = 0; c < nc; c++) {
        __m128 acc = _mm_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *xb = w + b * BS, *yb = act + c * act_stride + b * ABS;
            const __m256i yq = LOAD256(yb + (HAS_MIN ? 4 : 2));
            const __m256i p = q32_dot(q32_row_form(unpack(xb), OFF), yq, q32_act_aux(yq, OFF), OFF);
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
            h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
            const __m128 d = _mm_mul_ss(_mm_set_ss(q32_h2f(q32_half_at(xb))), _mm_set_ss(q32_h2f(q32_half_at(yb))));
            acc = _mm_fmadd_ss(d, _mm_cvtepi32_ps(h), acc);
            if (HAS_MIN)
                acc = _mm_fmadd_ss(_mm_set_ss(q32_h2f(q32_half_at(xb + 2))), _mm_set_ss(q32_h2f(q32_half_at(yb + 2))), acc);
        }
        y[c * y_stride] = _mm_cvtss_f32(acc);
    }
}

/* All rows in tiles of 8, columns in tiles of up to 4. */
Q32_INLINE void q32_rr(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts, int64_t act_stride,
                       int64_t nc, float *y, int64_t y_stride, const int BS, const int ABS, const int OFF,
                       const int HAS_MIN, __m256i (*unpack)(const uint8_t *)) {
    const int64_t nb = n / 32;
    for (int64_t r0 = 0; r0 < nr; r0 += 8) {
        const int64_t nrow = nr - r0 < 8 ? nr - r0 : 8;
        const uint8_t *rows[8];
        for (int r = 0; r < 8; r++) rows[r] = (const uint8_t *)w + (r0 + (r < nrow ? r : nrow - 1)) * row_bytes;
        for (int64_t c0 = 0; c0 < nc; c0 += 4) {
            const uint8_t *a = (const uint8_t *)acts + c0 * act_stride;
            float *yo = y + c0 * y_stride + r0;
            switch (nc - c0 < 4 ? nc - c0 : 4) {
            case 1: q32_rr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, 1, BS, ABS, OFF, HAS_MIN, unpack); break;
            case 2: q32_rr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, 2, BS, ABS, OFF, HAS_MIN, unpack); break;
            case 3: q32_rr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, 3, BS, ABS, OFF, HAS_MIN, unpack); break;
            default: q32_rr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, 4, BS, ABS, OFF, HAS_MIN, unpack); break;
            }
        }
    }
}

/* 8 rows of 8 dwords -> 8 vectors, vector g = dword g of each row (lane r) */
Q32_INLINE void q32_transpose8(const __m256i r[8], __m256i t[8]) {
    __m256i a[8], u[8];
    for (int i = 0; i < 4; i++) {
        a[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i + 0] = _mm256_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
        u[4 * i + 1] = _mm256_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
        u[4 * i + 2] = _mm256_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
        u[4 * i + 3] = _mm256_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
    }
    for (int g = 0; g < 4; g++) {
        t[g] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x20);
        t[g + 4] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x31);
    }
}

#if !G4J_Q32_VNNI
#ifndef Q32_PF_HINT
#define Q32_PF_HINT _MM_HINT_T1
#endif
#ifndef Q32_PF_ROWS
#define Q32_PF_ROWS 8
#endif
/* ---- qr8 (maddubs, few columns: matvec): 8 rows, two per ymm as 128-bit lanes of half blocks ---- */

/* The u form of one block of rows r[0], r[1] as two ymm: lane k of lo = elements 0..15 of row k, hi = 16..31. */
typedef void (*q32_unpack2_fn)(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi);

Q32_INLINE __m256i q32_load2x16(const uint8_t *const r[2], int64_t at) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(r[0] + at))),
                                   _mm_loadu_si128((const __m128i *)(r[1] + at)), 1);
}
Q32_INLINE void q32_nib2(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi) {
    const __m256i q = q32_load2x16(r, at), m = _mm256_set1_epi8(0x0f);
    *lo = _mm256_and_si256(q, m);
    *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m);
}
Q32_INLINE void q32_bits2(const uint8_t *const r[2], int64_t qh_at, __m256i *lo, __m256i *hi) {
    uint32_t w0, w1;
    memcpy(&w0, r[0] + qh_at, 4);
    memcpy(&w1, r[1] + qh_at, 4);
    const __m256i q = _mm256_set_epi32((int)w1, (int)w1, (int)w1, (int)w1, (int)w0, (int)w0, (int)w0, (int)w0);
    const __m256i il = _mm256_set_epi64x(0x0101010101010101, 0x0000000000000000, 0x0101010101010101, 0x0000000000000000);
    const __m256i ih = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0303030303030303, 0x0202020202020202);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull), b5 = _mm256_set1_epi8(0x10);
    const __m256i sl = _mm256_and_si256(_mm256_shuffle_epi8(q, il), bit), sh = _mm256_and_si256(_mm256_shuffle_epi8(q, ih), bit);
    *lo = _mm256_or_si256(*lo, _mm256_and_si256(_mm256_cmpeq_epi8(sl, bit), b5));
    *hi = _mm256_or_si256(*hi, _mm256_and_si256(_mm256_cmpeq_epi8(sh, bit), b5));
}
Q32_INLINE void u2_q4_0(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi) { q32_nib2(r, at + 2, lo, hi); }
Q32_INLINE void u2_q4_1(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi) { q32_nib2(r, at + 4, lo, hi); }
Q32_INLINE void u2_q5_0(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi) {
    q32_nib2(r, at + 6, lo, hi);
    q32_bits2(r, at + 2, lo, hi);
}
Q32_INLINE void u2_q5_1(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi) {
    q32_nib2(r, at + 8, lo, hi);
    q32_bits2(r, at + 4, lo, hi);
}
/* OFF 128: the signed weights directly (the only form qr8 uses for them) */
Q32_INLINE void u2_q8_0(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi) {
    *lo = q32_load2x16(r, at + 2);
    *hi = q32_load2x16(r, at + 18);
}
Q32_INLINE void u2_iq4_nl(const uint8_t *const r[2], int64_t at, __m256i *lo, __m256i *hi) {
    const __m256i l = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)g4j_iq4nl_values));
    q32_nib2(r, at + 2, lo, hi);
    *lo = _mm256_shuffle_epi8(l, *lo);
    *hi = _mm256_shuffle_epi8(l, *hi);
}

Q32_INLINE void q32_qr8_tile(int64_t nb, const uint8_t *const rows[8], int64_t nrow, const uint8_t *act, int64_t act_stride,
                             float *y, int64_t y_stride, const char *pf, int64_t pf_bytes, const int C, const int BS, const int ABS, const int OFF,
                             const int HAS_MIN, q32_unpack2_fn unpack2) {
    const int QO = HAS_MIN ? 4 : 2;
    const uint8_t *const g[4][2] = {{rows[0], rows[4]}, {rows[1], rows[5]}, {rows[2], rows[6]}, {rows[3], rows[7]}};
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[3];
    for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    const int64_t pf_step = nb > 0 ? (pf_bytes / nb + 127) & ~(int64_t)63 : 0;
    for (int64_t b = 0; b < nb; b++) {
        const int64_t at = b * BS;
        /* the next tile's rows, into L2 as one sequential stream (see q32_qr_tile) */
        for (int64_t off = b * pf_step; off < (b + 1) * pf_step && off < pf_bytes; off += 64) _mm_prefetch(pf + off, Q32_PF_HINT);
        __m256i lo[4], hi[4];
        for (int i = 0; i < 4; i++) unpack2(g[i], at, &lo[i], &hi[i]);
        const __m256 dx = q32_row_halves(rows, at);
        __m256 mx = _mm256_setzero_ps();
        if (HAS_MIN) mx = q32_row_halves(rows, at + 2);
        for (int c = 0; c < C; c++) {
            const uint8_t *yb = act + c * act_stride + b * ABS;
            const __m256i ylo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(yb + QO)));
            const __m256i yhi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(yb + QO + 16)));
            __m256i v[4];
            if (OFF == 128) {
                for (int i = 0; i < 4; i++)
                    v[i] = _mm256_add_epi32(
                        _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(lo[i]), _mm256_sign_epi8(ylo, lo[i])), ones),
                        _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(hi[i]), _mm256_sign_epi8(yhi, hi[i])), ones));
            } else {
                /* s16: |u y| pairs <= 7874 each half, offset pairs <= 4064 each half: no saturation */
                __m256i yo = _mm256_setzero_si256();
                if (OFF) {
                    const __m256i o = _mm256_set1_epi8((char)OFF);
                    yo = _mm256_add_epi16(_mm256_maddubs_epi16(o, ylo), _mm256_maddubs_epi16(o, yhi));
                }
                for (int i = 0; i < 4; i++)
                    v[i] = _mm256_madd_epi16(_mm256_sub_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo[i], ylo),
                                                                               _mm256_maddubs_epi16(hi[i], yhi)), yo), ones);
            }
            /* lane k of v[i] holds row i + 4k: three hadds leave rows 0..3 | 4..7 */
            const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(q32_h2f(q32_half_at(yb)))), _mm256_cvtepi32_ps(s), acc[c]);
            if (HAS_MIN) acc[c] = _mm256_fmadd_ps(mx, _mm256_set1_ps(q32_h2f(q32_half_at(yb + 2))), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) q32_store_rows(y + c * y_stride, acc[c], nrow);
}

Q32_INLINE void q32_qr8(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts, int64_t act_stride,
                        int64_t nc, float *y, int64_t y_stride, const int BS, const int ABS, const int OFF,
                        const int HAS_MIN, q32_unpack2_fn unpack2) {
    const int64_t nb = n / 32;
    for (int64_t r0 = 0; r0 < nr; r0 += 8) {
        const int64_t nrow = nr - r0 < 8 ? nr - r0 : 8;
        const uint8_t *rows[8];
        for (int r = 0; r < 8; r++) rows[r] = (const uint8_t *)w + (r0 + (r < nrow ? r : nrow - 1)) * row_bytes;
        const int64_t next = nr - r0 - 8 < Q32_PF_ROWS ? nr - r0 - 8 : Q32_PF_ROWS;
        const char *pf = (const char *)w + (r0 + 8 + Q32_PF_ROWS - 8) * row_bytes;
        for (int64_t c0 = 0; c0 < nc; c0 += 3) {
            const uint8_t *a = (const uint8_t *)acts + c0 * act_stride;
            float *yo = y + c0 * y_stride + r0;
            const int64_t pf_bytes = c0 + 3 >= nc && next > Q32_PF_ROWS - 8 ? (next - (Q32_PF_ROWS - 8)) * row_bytes : 0;
            switch (nc - c0 < 3 ? nc - c0 : 3) {
            case 1: q32_qr8_tile(nb, rows, nrow, a, act_stride, yo, y_stride, pf, pf_bytes, 1, BS, ABS, OFF, HAS_MIN, unpack2); break;
            case 2: q32_qr8_tile(nb, rows, nrow, a, act_stride, yo, y_stride, pf, pf_bytes, 2, BS, ABS, OFF, HAS_MIN, unpack2); break;
            default: q32_qr8_tile(nb, rows, nrow, a, act_stride, yo, y_stride, pf, pf_bytes, 3, BS, ABS, OFF, HAS_MIN, unpack2); break;
            }
        }
    }
}
#endif

#if !G4J_Q32_VNNI
/* ---- pk8 (maddubs, many columns): 8 interleaved rows, one maddubs per 4-byte group of activations. Q4_0, Q4_1,
 * Q5_0, Q5_1: u <= 31, so a maddubs pair is at most 2 * 31 * 127 = 7874 and four groups add up in s16 (31496).
 * Q8_0, IQ4_NL (OFF 128): the signed form q is packed, and every group takes the sign trick and its own madd
 * (on AVX2 this replaced rr, whose 8 rows x 4 columns of ymm live values spilled: 49 -> 70 GFLOP/s for Q8_0 at
 * 2048 x 2048, batch 256, on a Zen 3). ---- */

#define Q32_PK8_CHUNK 16
#define Q32_PK8_COLS 4
#define Q32_PK8_MIN_COLS 4

typedef struct {
    __m256i q[8]; /* group g: lane r = bytes 4g..4g+3 of row r's block (u form) */
    __m256 d, m;
} q32_pk8_block;

Q32_INLINE void q32_pk8_pack(q32_pk8_block *out, const uint8_t *const rows[8], int64_t at, const int OFF, const int HAS_MIN,
                             __m256i (*unpack)(const uint8_t *)) {
    __m256i r[8];
    for (int i = 0; i < 8; i++) r[i] = q32_row_form(unpack(rows[i] + at), OFF);
    q32_transpose8(r, out->q);
    out->d = q32_row_halves(rows, at);
    out->m = HAS_MIN ? q32_row_halves(rows, at + 2) : _mm256_setzero_ps();
}

typedef struct {
    int32_t corr[Q32_PK8_COLS][Q32_PK8_CHUNK];
    float dy[Q32_PK8_COLS][Q32_PK8_CHUNK], sy[Q32_PK8_COLS][Q32_PK8_CHUNK];
} q32_pk8_acts;

Q32_INLINE void q32_pk8_prep(q32_pk8_acts *pa, const uint8_t *act, int64_t act_stride, int64_t nc, int64_t kb,
                             const int ABS, const int OFF, const int HAS_MIN) {
    const int QO = HAS_MIN ? 4 : 2;
    for (int64_t c = 0; c < nc; c++)
        for (int64_t b = 0; b < kb; b++) {
            const uint8_t *yb = act + c * act_stride + b * ABS;
            pa->dy[c][b] = q32_h2f(q32_half_at(yb));
            if (HAS_MIN) pa->sy[c][b] = q32_h2f(q32_half_at(yb + 2));
            if (OFF && OFF != 128) {
                const __m256i t = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8((char)OFF), LOAD256(yb + QO)),
                                                    _mm256_set1_epi16(1));
                __m128i h = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
                h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
                h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
                pa->corr[c][b] = -_mm_cvtsi128_si32(h);
            }
        }
}

Q32_INLINE void q32_pk8_tile(const q32_pk8_block *pk, int64_t kb, const q32_pk8_acts *pa, const uint8_t *act,
                             int64_t act_stride, int first, float *y, int64_t y_stride, int64_t lo, int64_t nrow,
                             const int C, const int ABS, const int OFF, const int HAS_MIN) {
    const int QO = HAS_MIN ? 4 : 2;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[Q32_PK8_COLS];
    for (int c = 0; c < C; c++) {
        if (first) { acc[c] = _mm256_setzero_ps(); continue; }
        float t[8] = {0};
        for (int64_t i = lo; i < nrow; i++) t[i] = y[c * y_stride + i];
        acc[c] = _mm256_loadu_ps(t);
    }
    for (int64_t b = 0; b < kb; b++) {
        __m256i s[Q32_PK8_COLS];
        for (int c = 0; c < C; c++) s[c] = OFF && OFF != 128 ? _mm256_set1_epi32(pa->corr[c][b]) : _mm256_setzero_si256();
        if (OFF == 128) {
            /* signed weights: maddubs(|w|, y with w's sign) per group, each pair summed to s32 at once */
            for (int g = 0; g < 8; g++) {
                const __m256i wq = pk[b].q[g], wa = _mm256_abs_epi8(wq);
                for (int c = 0; c < C; c++) {
                    int32_t yv;
                    memcpy(&yv, act + c * act_stride + b * ABS + QO + 4 * g, 4);
                    s[c] = _mm256_add_epi32(s[c], _mm256_madd_epi16(_mm256_maddubs_epi16(wa, _mm256_sign_epi8(_mm256_set1_epi32(yv), wq)), ones));
                }
            }
        } else
        for (int g0 = 0; g0 < 8; g0 += 4) {
            __m256i h[Q32_PK8_COLS];
            for (int g = g0; g < g0 + 4; g++) {
                const __m256i wq = pk[b].q[g];
                for (int c = 0; c < C; c++) {
                    int32_t yv;
                    memcpy(&yv, act + c * act_stride + b * ABS + QO + 4 * g, 4);
                    const __m256i p = _mm256_maddubs_epi16(wq, _mm256_set1_epi32(yv));
                    h[c] = g == g0 ? p : _mm256_add_epi16(h[c], p);
                }
            }
            for (int c = 0; c < C; c++) s[c] = _mm256_add_epi32(s[c], _mm256_madd_epi16(h[c], ones));
        }
        for (int c = 0; c < C; c++) {
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(pk[b].d, _mm256_set1_ps(pa->dy[c][b])), _mm256_cvtepi32_ps(s[c]), acc[c]);
            if (HAS_MIN) acc[c] = _mm256_fmadd_ps(pk[b].m, _mm256_set1_ps(pa->sy[c][b]), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) q32_store_lanes(y + c * y_stride, acc[c], lo, nrow);
}

/* The column blocks of one chunk of kb blocks over ntiles packed tiles of 8 rows: tile t is output rows
 * [rel0 + 8t, rel0 + 8t + 8) of y (rel0 may be negative: the lanes outside [0, nr) are neither read nor written). */
Q32_INLINE void q32_pk8_columns(const q32_pk8_block (*pk)[Q32_PK8_CHUNK], int64_t ntiles, int64_t kb, int first,
                                const uint8_t *a0, int64_t act_stride, int64_t nc, float *y, int64_t y_stride,
                                int64_t rel0, int64_t nr, const int ABS, const int OFF, const int HAS_MIN) {
    q32_pk8_acts pa;
    for (int64_t c0 = 0; c0 < nc; c0 += Q32_PK8_COLS) {
        const uint8_t *a = a0 + c0 * act_stride;
        const int64_t ncol = nc - c0 < Q32_PK8_COLS ? nc - c0 : Q32_PK8_COLS;
        q32_pk8_prep(&pa, a, act_stride, ncol, kb, ABS, OFF, HAS_MIN);
        for (int64_t t = 0; t < ntiles; t++) {
            const int64_t base = rel0 + 8 * t, lo = base < 0 ? -base : 0, hi = nr - base < 8 ? nr - base : 8;
            /* lane 0's place; below y when lo > 0, never dereferenced there */
            float *yo = (float *)((uintptr_t)(y + c0 * y_stride) + (uintptr_t)(base * (int64_t)sizeof(float)));
#define Q32_PK8_CASE(CC) case CC: q32_pk8_tile(pk[t], kb, &pa, a, act_stride, first, yo, y_stride, lo, hi, CC, ABS, OFF, HAS_MIN); break;
            switch (ncol) {
            Q32_PK8_CASE(1) Q32_PK8_CASE(2) Q32_PK8_CASE(3) default: Q32_PK8_CASE(4)
            }
#undef Q32_PK8_CASE
        }
    }
}

Q32_INLINE void q32_pk8(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts, int64_t act_stride,
                        int64_t nc, float *y, int64_t y_stride, const int BS, const int ABS, const int OFF,
                        const int HAS_MIN, __m256i (*unpack)(const uint8_t *)) {
    const int64_t nb = n / 32;
    enum { TILES = 8 }; /* 64 rows x 16 blocks x 320 bytes = 40 KiB of stack */
    q32_pk8_block pk[TILES][Q32_PK8_CHUNK] __attribute__((aligned(32)));
    for (int64_t s0 = 0; s0 < nr; s0 += 8 * TILES) {
        const int64_t ntiles = (nr - s0 + 7) / 8 < TILES ? (nr - s0 + 7) / 8 : TILES;
        for (int64_t k0 = 0; k0 < nb; k0 += Q32_PK8_CHUNK) {
            const int64_t kb = nb - k0 < Q32_PK8_CHUNK ? nb - k0 : Q32_PK8_CHUNK;
            for (int64_t t = 0; t < ntiles; t++) {
                const int64_t r0 = s0 + 8 * t, nrow = nr - r0 < 8 ? nr - r0 : 8;
                const uint8_t *rows[8];
                for (int r = 0; r < 8; r++) rows[r] = (const uint8_t *)w + (r0 + (r < nrow ? r : nrow - 1)) * row_bytes;
                for (int64_t b = 0; b < kb; b++) q32_pk8_pack(&pk[t][b], rows, (k0 + b) * BS, OFF, HAS_MIN, unpack);
            }
            q32_pk8_columns(pk, ntiles, kb, k0 == 0, (const uint8_t *)acts + k0 * ABS, act_stride, nc, y, y_stride, s0,
                            nr, ABS, OFF, HAS_MIN);
        }
    }
}
/* pk8 over an r8 copy (r8.h): a tile is one group of the copy, so packing a block is 8 loads (no transpose, no
 * scattered scales). Rows [r0, r0 + nr): tiles start at group boundaries, lanes outside the range are not stored. */
Q32_INLINE void q32_pk8_r8(int64_t n, const uint8_t *packed, int64_t r0, int64_t nr, const void *acts,
                           int64_t act_stride, int64_t nc, float *y, int64_t y_stride, const int32_t type, const int OFF) {
    const int64_t nb = n / 32, bb = g4j_r8_block_bytes(type), gbytes = nb * bb, end = r0 + nr;
    enum { TILES = 8 };
    q32_pk8_block pk[TILES][Q32_PK8_CHUNK] __attribute__((aligned(32)));
    for (int64_t s0 = r0 & ~(int64_t)7; s0 < end; s0 += 8 * TILES) {
        const int64_t ntiles = (end - s0 + 7) / 8 < TILES ? (end - s0 + 7) / 8 : TILES;
        for (int64_t k0 = 0; k0 < nb; k0 += Q32_PK8_CHUNK) {
            const int64_t kb = nb - k0 < Q32_PK8_CHUNK ? nb - k0 : Q32_PK8_CHUNK;
            for (int64_t t = 0; t < ntiles; t++) {
                const uint8_t *blk = packed + (s0 / 8 + t) * gbytes + k0 * bb;
                for (int64_t b = 0; b < kb; b++, blk += bb) {
                    for (int g = 0; g < 8; g++) pk[t][b].q[g] = q32_row_form(q32_r8_u(blk, g, type), OFF);
                    pk[t][b].d = _mm256_cvtph_ps(q32_r8_scales(blk));
                    pk[t][b].m = _mm256_setzero_ps();
                }
            }
            q32_pk8_columns(pk, ntiles, kb, k0 == 0, (const uint8_t *)acts + k0 * 34, act_stride, nc, y, y_stride,
                            s0 - r0, nr, 34, OFF, 0);
        }
    }
}
#endif


#if G4J_Q32_VNNI
/* ---- pk: 16 interleaved rows, one vpdpbusd zmm per 4-byte group of activations ---- */

#define Q32_PK_CHUNK 16 /* blocks per chunk */
#define Q32_PK_TILES 4  /* row tiles of 16 packed per chunk: 4 x 16 x 640 bytes = 40 KiB of stack */
#ifndef Q32_PK_COLS
#define Q32_PK_COLS 8   /* columns per register tile: 8 or 12 */
#endif
#define Q32_PK_MIN_COLS 8

typedef struct {
    __m512i q[8]; /* group g: lane r = bytes 4g..4g+3 of row r's block (u form) */
    __m512 d, m;  /* row scales (and mins) as floats */
} q32_pk_block;

/* Interleaves one block of 16 rows. */
Q32_INLINE void q32_pk_pack(q32_pk_block *out, const uint8_t *const rows[16], int64_t at, const int HAS_MIN,
                            __m256i (*unpack)(const uint8_t *)) {
    __m256i r[8], lo[8], hi[8];
    for (int i = 0; i < 8; i++) r[i] = unpack(rows[i] + at);
    q32_transpose8(r, lo);
    for (int i = 0; i < 8; i++) r[i] = unpack(rows[8 + i] + at);
    q32_transpose8(r, hi);
    for (int g = 0; g < 8; g++) out->q[g] = _mm512_inserti64x4(_mm512_castsi256_si512(lo[g]), hi[g], 1);
    uint16_t hd[16], hm[16];
    for (int i = 0; i < 16; i++) {
        hd[i] = q32_half_at(rows[i] + at);
        hm[i] = HAS_MIN ? q32_half_at(rows[i] + at + 2) : 0;
    }
    out->d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)hd));
    out->m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)hm));
}

/* Per (column, block) of a chunk: -OFF * sum(y) and the scales as floats. */
typedef struct {
    int32_t corr[Q32_PK_COLS][Q32_PK_CHUNK];
    float dy[Q32_PK_COLS][Q32_PK_CHUNK], sy[Q32_PK_COLS][Q32_PK_CHUNK];
} q32_pk_acts;

Q32_INLINE void q32_pk_prep(q32_pk_acts *pa, const uint8_t *act, int64_t act_stride, int64_t nc, int64_t kb,
                            const int ABS, const int OFF, const int HAS_MIN) {
    const int QO = HAS_MIN ? 4 : 2;
    for (int64_t c = 0; c < nc; c++)
        for (int64_t b = 0; b < kb; b++) {
            const uint8_t *yb = act + c * act_stride + b * ABS;
            pa->dy[c][b] = q32_h2f(q32_half_at(yb));
            if (HAS_MIN) pa->sy[c][b] = q32_h2f(q32_half_at(yb + 2));
            if (OFF) {
                const __m256i t = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)OFF), LOAD256(yb + QO));
                __m128i h = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
                h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
                h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
                pa->corr[c][b] = -_mm_cvtsi128_si32(h);
            }
        }
}

/* One register tile: 16 packed rows x C columns over the kb blocks of a chunk; accumulators in y between chunks. */
Q32_INLINE void q32_pk_tile(const q32_pk_block *pk, int64_t kb, const q32_pk_acts *pa, const uint8_t *act,
                            int64_t act_stride, int first, float *y, int64_t y_stride, int64_t lo, int64_t nrow,
                            const int C, const int ABS, const int OFF, const int HAS_MIN) {
    const int QO = HAS_MIN ? 4 : 2;
    /* lanes [lo, nrow): y is lane 0's place, the lanes below lo are neither read nor written */
    const __mmask16 mask = (__mmask16)(((1u << nrow) - 1u) & ~((1u << lo) - 1u));
    __m512 acc[Q32_PK_COLS];
    for (int c = 0; c < C; c++) acc[c] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, y + c * y_stride);
    for (int64_t b = 0; b < kb; b++) {
        __m512i s[Q32_PK_COLS];
        for (int c = 0; c < C; c++) s[c] = OFF ? _mm512_set1_epi32(pa->corr[c][b]) : _mm512_setzero_si512();
        for (int g = 0; g < 8; g++) {
            const __m512i wq = pk[b].q[g];
            for (int c = 0; c < C; c++) {
                int32_t yv;
                memcpy(&yv, act + c * act_stride + b * ABS + QO + 4 * g, 4);
                s[c] = _mm512_dpbusd_epi32(s[c], wq, _mm512_set1_epi32(yv));
            }
        }
        for (int c = 0; c < C; c++) {
            acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(pk[b].d, _mm512_set1_ps(pa->dy[c][b])), _mm512_cvtepi32_ps(s[c]), acc[c]);
            if (HAS_MIN) acc[c] = _mm512_fmadd_ps(pk[b].m, _mm512_set1_ps(pa->sy[c][b]), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(y + c * y_stride, mask, acc[c]);
}

/* The column blocks of one chunk of kb blocks over ntiles packed tiles of 16 rows: tile t is output rows
 * [rel0 + 16t, rel0 + 16t + 16) of y (rel0 may be negative: the mask keeps the lanes outside [0, nr) untouched). */
Q32_INLINE void q32_pk_columns(const q32_pk_block (*pk)[Q32_PK_CHUNK], int64_t ntiles, int64_t kb, int first,
                               const uint8_t *a0, int64_t act_stride, int64_t nc, float *y, int64_t y_stride,
                               int64_t rel0, int64_t nr, const int ABS, const int OFF, const int HAS_MIN) {
    q32_pk_acts pa;
    for (int64_t c0 = 0; c0 < nc; c0 += Q32_PK_COLS) {
        const uint8_t *a = a0 + c0 * act_stride;
        const int64_t ncol = nc - c0 < Q32_PK_COLS ? nc - c0 : Q32_PK_COLS;
        q32_pk_prep(&pa, a, act_stride, ncol, kb, ABS, OFF, HAS_MIN);
        for (int64_t t = 0; t < ntiles; t++) {
            const int64_t base = rel0 + 16 * t, lo = base < 0 ? -base : 0, hi = nr - base < 16 ? nr - base : 16;
            /* lane 0's place; below y when lo > 0, where the mask keeps it from being touched */
            float *yo = (float *)((uintptr_t)(y + c0 * y_stride) + (uintptr_t)(base * (int64_t)sizeof(float)));
#define Q32_PK_CASE(CC) case CC: q32_pk_tile(pk[t], kb, &pa, a, act_stride, first, yo, y_stride, lo, hi, CC, ABS, OFF, HAS_MIN); break;
            switch (ncol) {
            Q32_PK_CASE(1) Q32_PK_CASE(2) Q32_PK_CASE(3) Q32_PK_CASE(4)
            Q32_PK_CASE(5) Q32_PK_CASE(6) Q32_PK_CASE(7)
#if Q32_PK_COLS > 8
            Q32_PK_CASE(8) Q32_PK_CASE(9) Q32_PK_CASE(10) Q32_PK_CASE(11) default: Q32_PK_CASE(12)
#else
            default: Q32_PK_CASE(8)
#endif
            }
#undef Q32_PK_CASE
        }
    }
}

Q32_INLINE void q32_pk(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts, int64_t act_stride,
                       int64_t nc, float *y, int64_t y_stride, const int BS, const int ABS, const int OFF,
                       const int HAS_MIN, __m256i (*unpack)(const uint8_t *)) {
    const int64_t nb = n / 32;
    q32_pk_block pk[Q32_PK_TILES][Q32_PK_CHUNK] __attribute__((aligned(64)));
    for (int64_t s0 = 0; s0 < nr; s0 += 16 * Q32_PK_TILES) {
        const int64_t ntiles = (nr - s0 + 15) / 16 < Q32_PK_TILES ? (nr - s0 + 15) / 16 : Q32_PK_TILES;
        for (int64_t k0 = 0; k0 < nb; k0 += Q32_PK_CHUNK) {
            const int64_t kb = nb - k0 < Q32_PK_CHUNK ? nb - k0 : Q32_PK_CHUNK;
            for (int64_t t = 0; t < ntiles; t++) {
                const int64_t r0 = s0 + 16 * t, nrow = nr - r0 < 16 ? nr - r0 : 16;
                const uint8_t *rows[16];
                for (int r = 0; r < 16; r++) rows[r] = (const uint8_t *)w + (r0 + (r < nrow ? r : nrow - 1)) * row_bytes;
                for (int64_t b = 0; b < kb; b++) q32_pk_pack(&pk[t][b], rows, (k0 + b) * BS, HAS_MIN, unpack);
            }
            q32_pk_columns(pk, ntiles, kb, k0 == 0, (const uint8_t *)acts + k0 * ABS, act_stride, nc, y, y_stride, s0,
                           nr, ABS, OFF, HAS_MIN);
        }
    }
}
/* pk over an r8 copy (r8.h): a tile is two groups of the copy, each zmm the same load of both, so packing a block
 * is 16 loads (no transpose, no scattered scales). Rows [r0, r0 + nr): tiles start at group boundaries, lanes
 * outside the range are not stored, and a group past the range is not read. */
Q32_INLINE void q32_pk_r8(int64_t n, const uint8_t *packed, int64_t r0, int64_t nr, const void *acts,
                          int64_t act_stride, int64_t nc, float *y, int64_t y_stride, const int32_t type, const int OFF) {
    const int64_t nb = n / 32, bb = g4j_r8_block_bytes(type), gbytes = nb * bb, end = r0 + nr;
    q32_pk_block pk[Q32_PK_TILES][Q32_PK_CHUNK] __attribute__((aligned(64)));
    for (int64_t s0 = r0 & ~(int64_t)7; s0 < end; s0 += 16 * Q32_PK_TILES) {
        const int64_t ntiles = (end - s0 + 15) / 16 < Q32_PK_TILES ? (end - s0 + 15) / 16 : Q32_PK_TILES;
        for (int64_t k0 = 0; k0 < nb; k0 += Q32_PK_CHUNK) {
            const int64_t kb = nb - k0 < Q32_PK_CHUNK ? nb - k0 : Q32_PK_CHUNK;
            for (int64_t t = 0; t < ntiles; t++) {
                const int64_t base = s0 + 16 * t;
                const int second = base + 8 < end;
                const uint8_t *ba = packed + base / 8 * gbytes + k0 * bb, *bh = second ? ba + gbytes : ba;
                for (int64_t b = 0; b < kb; b++, ba += bb, bh += bb) {
                    for (int g = 0; g < 8; g++) {
                        const __m256i hi = second ? q32_r8_u(bh, g, type) : _mm256_setzero_si256();
                        pk[t][b].q[g] = _mm512_inserti64x4(_mm512_castsi256_si512(q32_r8_u(ba, g, type)), hi, 1);
                    }
                    pk[t][b].d = _mm512_cvtph_ps(_mm256_set_m128i(second ? q32_r8_scales(bh) : _mm_setzero_si128(),
                                                                  q32_r8_scales(ba)));
                    pk[t][b].m = _mm512_setzero_ps();
                }
            }
            q32_pk_columns(pk, ntiles, kb, k0 == 0, (const uint8_t *)acts + k0 * 34, act_stride, nc, y, y_stride,
                           s0 - r0, nr, 34, OFF, 0);
        }
    }
}
#endif


#if G4J_Q32_VNNI
/* ---- qr (VNNI, few columns: matvec): 16 rows, four per zmm as 128-bit lanes of half blocks ---- */

/* The u form of one block of 4 rows as two zmm: lane k of lo = elements 0..15 of row k, of hi = elements 16..31. */
typedef void (*q32_unpack4_fn)(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi);

Q32_INLINE __m512i q32_load4x16(const uint8_t *const r[4], int64_t at) {
    __m512i q = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(r[0] + at)));
    q = _mm512_inserti32x4(q, _mm_loadu_si128((const __m128i *)(r[1] + at)), 1);
    q = _mm512_inserti32x4(q, _mm_loadu_si128((const __m128i *)(r[2] + at)), 2);
    return _mm512_inserti32x4(q, _mm_loadu_si128((const __m128i *)(r[3] + at)), 3);
}
Q32_INLINE void q32_nib4(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi) {
    const __m512i q = q32_load4x16(r, at), m = _mm512_set1_epi8(0x0f);
    *lo = _mm512_and_si512(q, m);
    *hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m);
}
/* the fifth bits: qh words of the 4 rows (at qh_at) -> 0x10 where set, lo (bits 0..15) and hi (bits 16..31) */
Q32_INLINE void q32_bits4(const uint8_t *const r[4], int64_t qh_at, __m512i *lo, __m512i *hi) {
    uint32_t w[4];
    for (int k = 0; k < 4; k++) memcpy(&w[k], r[k] + qh_at, 4);
    const __m512i q = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)w));
    /* lane k: byte j of lo takes byte 4k + j/8 of q, of hi byte 4k + 2 + j/8 */
    const __m512i il = _mm512_set_epi64(0x0d0d0d0d0d0d0d0d, 0x0c0c0c0c0c0c0c0c, 0x0909090909090909, 0x0808080808080808,
                                        0x0505050505050505, 0x0404040404040404, 0x0101010101010101, 0x0000000000000000);
    const __m512i ih = _mm512_add_epi8(il, _mm512_set1_epi8(2));
    const __m512i bit = _mm512_set1_epi64((long long)0x8040201008040201ull), b5 = _mm512_set1_epi8(0x10);
    *lo = _mm512_or_si512(*lo, _mm512_maskz_mov_epi8(_mm512_test_epi8_mask(_mm512_shuffle_epi8(q, il), bit), b5));
    *hi = _mm512_or_si512(*hi, _mm512_maskz_mov_epi8(_mm512_test_epi8_mask(_mm512_shuffle_epi8(q, ih), bit), b5));
}
Q32_INLINE void u4_q4_0(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi) { q32_nib4(r, at + 2, lo, hi); }
Q32_INLINE void u4_q4_1(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi) { q32_nib4(r, at + 4, lo, hi); }
Q32_INLINE void u4_q5_0(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi) {
    q32_nib4(r, at + 6, lo, hi);
    q32_bits4(r, at + 2, lo, hi);
}
Q32_INLINE void u4_q5_1(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi) {
    q32_nib4(r, at + 8, lo, hi);
    q32_bits4(r, at + 4, lo, hi);
}
Q32_INLINE void u4_q8_0(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi) {
    const __m512i x = _mm512_set1_epi8((char)0x80);
    *lo = _mm512_xor_si512(q32_load4x16(r, at + 2), x);
    *hi = _mm512_xor_si512(q32_load4x16(r, at + 18), x);
}
Q32_INLINE void u4_iq4_nl(const uint8_t *const r[4], int64_t at, __m512i *lo, __m512i *hi) {
    static const uint8_t lut[16] __attribute__((aligned(16))) = {1, 24, 45, 63, 79, 93, 106, 118, 129, 141, 153, 166, 181, 197, 217, 241};
    const __m512i l = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)lut));
    q32_nib4(r, at + 2, lo, hi);
    *lo = _mm512_shuffle_epi8(l, *lo);
    *hi = _mm512_shuffle_epi8(l, *hi);
}

/* 16 halves at the same offset of 16 rows -> 16 floats */
Q32_INLINE __m512 q32_row_halves16(const uint8_t *const rows[16], int64_t at) {
    /* combined in general registers: 16 narrow stores and one wide load would miss store forwarding */
    uint64_t q[4];
    for (int i = 0; i < 4; i++)
        q[i] = (uint64_t)q32_half_at(rows[4 * i] + at) | (uint64_t)q32_half_at(rows[4 * i + 1] + at) << 16 |
               (uint64_t)q32_half_at(rows[4 * i + 2] + at) << 32 | (uint64_t)q32_half_at(rows[4 * i + 3] + at) << 48;
    const __m128i lo = _mm_insert_epi64(_mm_cvtsi64_si128((long long)q[0]), (long long)q[1], 1);
    const __m128i hi = _mm_insert_epi64(_mm_cvtsi64_si128((long long)q[2]), (long long)q[3], 1);
    return _mm512_cvtph_ps(_mm256_set_m128i(hi, lo));
}

Q32_INLINE void q32_qr_tile(int64_t nb, const uint8_t *const rows[16], int64_t nrow, const uint8_t *act, int64_t act_stride,
                            float *y, int64_t y_stride, const char *pf, int64_t pf_bytes, const int C, const int BS,
                            const int ABS, const int OFF, const int HAS_MIN, q32_unpack4_fn unpack4) {
    const int QO = HAS_MIN ? 4 : 2;
    const int64_t pf_step = nb > 0 ? (pf_bytes / nb + 127) & ~(int64_t)63 : 0;
    const uint8_t *const g[4][4] = {{rows[0], rows[4], rows[8], rows[12]}, {rows[1], rows[5], rows[9], rows[13]},
                                    {rows[2], rows[6], rows[10], rows[14]}, {rows[3], rows[7], rows[11], rows[15]}};
    __m512 acc[4];
    for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const int64_t at = b * BS;
        /* the next tile's rows, spread over this tile's blocks, into L2 as one sequential stream (short rows are
         * many short streams for the hardware prefetcher) */
        for (int64_t off = b * pf_step; off < (b + 1) * pf_step && off < pf_bytes; off += 64) _mm_prefetch(pf + off, _MM_HINT_T1);
        __m512i lo[4], hi[4];
        for (int i = 0; i < 4; i++) unpack4(g[i], at, &lo[i], &hi[i]);
        const __m512 dx = q32_row_halves16(rows, at);
        __m512 mx = _mm512_setzero_ps();
        if (HAS_MIN) mx = q32_row_halves16(rows, at + 2);
        for (int c = 0; c < C; c++) {
            const uint8_t *yb = act + c * act_stride + b * ABS;
            const __m512i ylo = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(yb + QO)));
            const __m512i yhi = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(yb + QO + 16)));
            __m512i init = _mm512_setzero_si512();
            if (OFF) {
                const __m512i o = _mm512_set1_epi8((char)OFF);
                init = _mm512_sub_epi32(init, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(init, o, ylo), o, yhi));
            }
            __m512i v[4];
            for (int i = 0; i < 4; i++) v[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(init, lo[i], ylo), hi[i], yhi);
            const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
            const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
            const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
            acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(q32_h2f(q32_half_at(yb)))), _mm512_cvtepi32_ps(s), acc[c]);
            if (HAS_MIN) acc[c] = _mm512_fmadd_ps(mx, _mm512_set1_ps(q32_h2f(q32_half_at(yb + 2))), acc[c]);
        }
    }
    const __mmask16 mask = (__mmask16)((1u << nrow) - 1u);
    for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(y + c * y_stride, mask, acc[c]);
}

Q32_INLINE void q32_qr(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts, int64_t act_stride,
                       int64_t nc, float *y, int64_t y_stride, const int BS, const int ABS, const int OFF,
                       const int HAS_MIN, q32_unpack4_fn unpack4) {
    const int64_t nb = n / 32;
    for (int64_t r0 = 0; r0 < nr; r0 += 16) {
        const int64_t nrow = nr - r0 < 16 ? nr - r0 : 16;
        const uint8_t *rows[16];
        for (int r = 0; r < 16; r++) rows[r] = (const uint8_t *)w + (r0 + (r < nrow ? r : nrow - 1)) * row_bytes;
        const int64_t next = nr - r0 - 16 < 16 ? nr - r0 - 16 : 16;
        const char *pf = (const char *)w + (r0 + 16) * row_bytes;
        for (int64_t c0 = 0; c0 < nc; c0 += 4) {
            const uint8_t *a = (const uint8_t *)acts + c0 * act_stride;
            float *yo = y + c0 * y_stride + r0;
            /* the next tile's rows are prefetched during the last column tile of this one */
            const int64_t pf_bytes = c0 + 4 >= nc && next > 0 ? next * row_bytes : 0;
            switch (nc - c0 < 4 ? nc - c0 : 4) {
            case 1: q32_qr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, pf, pf_bytes, 1, BS, ABS, OFF, HAS_MIN, unpack4); break;
            case 2: q32_qr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, pf, pf_bytes, 2, BS, ABS, OFF, HAS_MIN, unpack4); break;
            case 3: q32_qr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, pf, pf_bytes, 3, BS, ABS, OFF, HAS_MIN, unpack4); break;
            default: q32_qr_tile(nb, rows, nrow, a, act_stride, yo, y_stride, pf, pf_bytes, 4, BS, ABS, OFF, HAS_MIN, unpack4); break;
            }
        }
    }
}
#endif

/* ---- the table ---- */

#if G4J_Q32_VNNI
#define Q32_GEMM_BODY(NAME, BS, ABS, OFF, HAS_MIN, UNPACK)                                                              \
    if (nc >= Q32_PK_MIN_COLS && n > 0) q32_pk(n, w, row_bytes, nr, acts, act_stride, nc, y, y_stride, BS, ABS, OFF, HAS_MIN, UNPACK); \
    else q32_qr(n, w, row_bytes, nr, acts, act_stride, nc, y, y_stride, BS, ABS, OFF, HAS_MIN, u4_##NAME);
#else
/* pk8 for every type at 4 or more columns (Q8_0 and IQ4_NL with the sign trick), qr8 below that */
#define Q32_GEMM_BODY(NAME, BS, ABS, OFF, HAS_MIN, UNPACK)                                                              \
    if (nc >= Q32_PK8_MIN_COLS && n > 0) q32_pk8(n, w, row_bytes, nr, acts, act_stride, nc, y, y_stride, BS, ABS, OFF, HAS_MIN, UNPACK); \
    else if (nc < Q32_QR8_MAX_COLS) q32_qr8(n, w, row_bytes, nr, acts, act_stride, nc, y, y_stride, BS, ABS, OFF, HAS_MIN, u2_##NAME); \
    else q32_rr(n, w, row_bytes, nr, acts, act_stride, nc, y, y_stride, BS, ABS, OFF, HAS_MIN, UNPACK);
#ifndef Q32_QR8_MAX_COLS
#define Q32_QR8_MAX_COLS 4
#endif
#endif

#define Q32_KERNELS(NAME, BS, ABS, OFF, HAS_MIN, UNPACK)                                                          \
    static void gemm_##NAME(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts,             \
                            int64_t act_stride, int64_t nc, float *y, int64_t y_stride) {                           \
        if (nr == 1) { q32_row1(n, (const uint8_t *)w, (const uint8_t *)acts, act_stride, nc, y, y_stride, BS, ABS, OFF, HAS_MIN, UNPACK); return; } \
        Q32_GEMM_BODY(NAME, BS, ABS, OFF, HAS_MIN, UNPACK)                                                              \
    }                                                                                                            \
    static void vec_dot_##NAME(int64_t n, const void *x, const void *vy, float *out) {                           \
        gemm_##NAME(n, x, 0, 1, vy, 0, 1, out, 1);                                                               \
    }

Q32_KERNELS(q8_0, 34, 34, 128, 0, u_q8_0)
Q32_KERNELS(q4_0, 18, 34, 8, 0, u_q4_0)
Q32_KERNELS(q5_0, 22, 34, 16, 0, u_q5_0)
Q32_KERNELS(iq4_nl, 18, 34, 128, 0, u_iq4_nl)
Q32_KERNELS(q4_1, 20, 36, 0, 1, u_q4_1)
Q32_KERNELS(q5_1, 24, 36, 0, 1, u_q5_1)

#if G4J_Q32_VNNI
/* Q8_0's matrix-vector product over an r8 copy with vpdpbusd, as this variant's plain tiles compute it (u = q + 128,
 * exact for every activation byte, -128 included; the sign trick of r8_avx2.c is not, there): per group of 8 rows
 * and block, 8 loads of the interleaved quants, each one vpdpbusd with its 4 activation bytes broadcast into the
 * rows' lanes (two chains, added in integers), -128 * sum(y) per block computed once per call; then the float
 * steps of every path, acc = fma(dx * dy, isum, acc). */
static void q32_r8_matvec_q8_0(int64_t nb, const uint8_t *packed, int64_t r0, int64_t nr, const void *act, float *y) {
    enum { CH = 1024 }; /* blocks whose corrections are kept on the stack */
    int32_t corr[CH];
    float dy[CH];
    const g4j_block_q8_0 *a = (const g4j_block_q8_0 *)act;
    const int64_t bb = g4j_r8_block_bytes(G4J_TYPE_Q8_0), gbytes = nb * bb, g0 = r0 / 8, g1 = (r0 + nr - 1) / 8 + 1;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int64_t g = g0; g < g1; g++) {
        __m256 acc = _mm256_setzero_ps();
        for (int64_t k0 = 0; k0 < nb; k0 += CH) {
            const int64_t kb = nb - k0 < CH ? nb - k0 : CH;
            if (g == g0 || nb > CH)
                for (int64_t b = 0; b < kb; b++) {
                    const __m256i t = q32_act_aux(LOAD256(a[k0 + b].qs), 128);
                    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
                    h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
                    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
                    corr[b] = _mm_cvtsi128_si32(h);
                    dy[b] = q32_h2f(a[k0 + b].d);
                }
            const uint8_t *blk = packed + g * gbytes + k0 * bb;
            for (int64_t b = 0; b < kb; b++, blk += bb) {
                if (G4J_R8_PF)
                    for (int64_t o = 0; o < bb; o += bb / 4) _mm_prefetch((const char *)blk + G4J_R8_PF + o, _MM_HINT_T0);
                const uint8_t *q = blk + G4J_R8_SCALES;
                int32_t yq[8];
                memcpy(yq, a[k0 + b].qs, 32);
                __m256i s0 = _mm256_set1_epi32(corr[b]), s1 = _mm256_setzero_si256();
                for (int k = 0; k < 8; k += 2) {
                    s0 = _mm256_dpbusd_epi32(s0, _mm256_xor_si256(LOAD256(q + 32 * k), flip), _mm256_set1_epi32(yq[k]));
                    s1 = _mm256_dpbusd_epi32(s1, _mm256_xor_si256(LOAD256(q + 32 * k + 32), flip), _mm256_set1_epi32(yq[k + 1]));
                }
                const __m256 dx = _mm256_cvtph_ps(q32_r8_scales(blk));
                acc = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(dy[b])),
                                      _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
            }
        }
        const int64_t lo = g * 8 > r0 ? g * 8 - r0 : 0, hi = g * 8 + 8 < r0 + nr ? g * 8 + 8 - r0 : nr;
        float t[8];
        _mm256_storeu_ps(t, acc);
        for (int64_t i = lo; i < hi; i++) y[i] = t[i + r0 - g * 8];
    }
}
#define Q32_R8_MATVEC_Q8_0(nb, p, r0, nr, a, y) q32_r8_matvec_q8_0(nb, (const uint8_t *)(p), r0, nr, a, y)
#define Q32_R8_TILES q32_pk_r8
#else
#define Q32_R8_MATVEC_Q8_0 g4j_matvec_r8_q8_0_avx2
#define Q32_R8_TILES q32_pk8_r8
#endif

/* Products over r8 copies (r8.h): the matrix-vector kernel for one column, the tiles for more. The OFF of each type
 * is its Q32_KERNELS line's. */
static void gemm_r8_q4_0(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts, int64_t act_stride,
                         int64_t nc, float *y, int64_t y_stride) {
    if (nc == 1) g4j_matvec_r8_q4_0_avx2(n / 32, packed, r0, nr, acts, y);
    else Q32_R8_TILES(n, (const uint8_t *)packed, r0, nr, acts, act_stride, nc, y, y_stride, G4J_TYPE_Q4_0, 8);
}
static void gemm_r8_q8_0(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts, int64_t act_stride,
                         int64_t nc, float *y, int64_t y_stride) {
    if (nc == 1) Q32_R8_MATVEC_Q8_0(n / 32, packed, r0, nr, acts, y);
    else Q32_R8_TILES(n, (const uint8_t *)packed, r0, nr, acts, act_stride, nc, y, y_stride, G4J_TYPE_Q8_0, 128);
}

#define Q32_TABLE                                                                                                \
    {                                                                                                            \
        .vec_dot = {[G4J_TYPE_Q4_0] = vec_dot_q4_0, [G4J_TYPE_Q4_1] = vec_dot_q4_1, [G4J_TYPE_Q5_0] = vec_dot_q5_0, \
                    [G4J_TYPE_Q5_1] = vec_dot_q5_1, [G4J_TYPE_Q8_0] = vec_dot_q8_0, [G4J_TYPE_IQ4_NL] = vec_dot_iq4_nl}, \
        .gemm = {[G4J_TYPE_Q4_0] = gemm_q4_0, [G4J_TYPE_Q4_1] = gemm_q4_1, [G4J_TYPE_Q5_0] = gemm_q5_0,            \
                 [G4J_TYPE_Q5_1] = gemm_q5_1, [G4J_TYPE_Q8_0] = gemm_q8_0, [G4J_TYPE_IQ4_NL] = gemm_iq4_nl},        \
        .gemm_r8 = {[G4J_TYPE_Q4_0] = gemm_r8_q4_0, [G4J_TYPE_Q8_0] = gemm_r8_q8_0},                              \
    }
