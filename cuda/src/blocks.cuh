/*
 * blocks.cuh - per-type block math of the CUDA library, as __host__ __device__ inline functions so that the very
 * code the kernels run is compiled for the host too and tested against libgguf4j's scalar kernels
 * (cuda/tests/test_blocks_host.cu). Layouts come from native/src/g4j_blocks.h (the one C definition).
 *
 * The unit of work is 32 consecutive weights of a row ("a unit"): every quantized type's block is 32 or 256
 * weights, so a row of cols weights is cols / 32 units, and unit u pairs with Q8_1 activation block u. For each
 * quantized type T:
 *   g4j_dot_unit<T>(row, u, y)      float dot of unit u of the row with the Q8_1 block y: integer dp4a sums of
 *                                   the weight quants against y's int8 quants, then the block scales;
 *   g4j_dequant_unit<T>(row, u, f)  the 32 weights of unit u as floats (the matrix-matrix path's F16 tiles).
 * Loads are 16-bit aligned (every block size is even, so every block is 2-byte aligned in a row whose
 * row_bytes is even): 32-bit words are assembled from two 16-bit loads, as llama.cpp's get_int_b2 does.
 *
 * Q8_1 activations (g4j_q8_1_*): d = amax / 127, q = round-to-nearest-even(x * 127 / amax), s = d * sum(q);
 * the same arithmetic as libgguf4j's Q8_1 conversion (ggml's x86 quantize_row_q8_1), so the host test expects
 * bit-identical blocks.
 */
#ifndef G4J_CUDA_BLOCKS_CUH
#define G4J_CUDA_BLOCKS_CUH

#include <stdint.h>
#include <math.h>
#include <cuda_fp16.h>

/* g4j_blocks.h checks its sizes with C11's _Static_assert, which nvcc's C++ front end spells static_assert. */
#define _Static_assert static_assert
#include "g4j_blocks.h"
#undef _Static_assert

#define G4J_HD __host__ __device__ __forceinline__
/* #pragma unroll for the device pass only (the host compiler warns about it) */
#ifdef __CUDA_ARCH__
#define G4J_UNROLL _Pragma("unroll")
#else
#define G4J_UNROLL
#endif

/* ---- scalar helpers ---- */

G4J_HD float g4j_h2f(uint16_t h) {
    __half_raw r;
    r.x = h;
    return __half2float(__half(r));
}
G4J_HD float g4j_bf2f(uint16_t h) {
    union { uint32_t u; float f; } v;
    v.u = (uint32_t)h << 16;
    return v.f;
}
G4J_HD uint16_t g4j_f2h(float f) {
    __half_raw r = __half_raw(__float2half_rn(f));
    return r.x;
}
G4J_HD uint16_t g4j_ld16(const uint8_t *p) { return *(const uint16_t *)p; }
/* A 32-bit little-endian word from a 2-byte aligned address. */
G4J_HD int g4j_ld32_b2(const uint8_t *p) {
    const uint16_t *q = (const uint16_t *)p;
    return (int)((uint32_t)q[0] | ((uint32_t)q[1] << 16));
}
/* A 32-bit word from a 4-byte aligned address. */
G4J_HD int g4j_ld32_b4(const uint8_t *p) { return *(const int *)p; }

/* Signed byte-wise dot of a and b plus c: __dp4a on the device, its definition on the host. */
G4J_HD int g4j_dp4a(int a, int b, int c) {
#ifdef __CUDA_ARCH__
    return __dp4a(a, b, c);
#else
    for (int i = 0; i < 4; i++) c += (int)(int8_t)(a >> (8 * i)) * (int)(int8_t)(b >> (8 * i));
    return c;
#endif
}

/* IQ4_NL's 16 non-linear levels (the values of g4j_iq4nl_values) packed in two 64-bit constants, so device and host
 * read them without a table in memory. */
G4J_HD int g4j_iq4nl_value(int i) {
    const uint64_t lo = 0xF6EADDCFBFAD9881ull; /* -127 -104 -83 -65 -49 -35 -22 -10, byte 0 first */
    const uint64_t hi = 0x7159453526190D01ull; /*    1   13  25  38  53  69  89 113 */
    return (int)(int8_t)(uint8_t)(((i & 8) ? hi : lo) >> (8 * (i & 7)));
}
/* Four nibbles (bits 0-3 of each byte of v) mapped through the IQ4_NL levels, as four int8 bytes. */
G4J_HD int g4j_iq4nl_word(int v) {
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) r |= (uint32_t)(uint8_t)g4j_iq4nl_value((v >> (8 * i)) & 0xf) << (8 * i);
    return (int)r;
}
/* Bit k of nibble-sized n spread to bit 4 of byte k (Q5_0/Q5_1's fifth bits). */
G4J_HD int g4j_spread4(uint32_t n) {
    return (int)(((n & 1u) << 4) | ((n & 2u) << 11) | ((n & 4u) << 18) | ((n & 8u) << 25));
}

/* Q4_K/Q5_K: 6-bit scale and min j (0..7) from the 12 packed bytes. */
G4J_HD void g4j_k4_scale_min(const uint8_t *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}
/* Q3_K: signed 6-bit scale j (0..15) from the 12 packed bytes. */
G4J_HD int g4j_q3k_scale(const uint8_t *s, int j) {
    const int lo = j < 8 ? (s[j] & 0xf) : (s[j - 8] >> 4);
    const int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
    return (lo | (hi << 4)) - 32;
}
/* IQ4_XS: scale of sub-block s (0..7), minus 32. */
G4J_HD int g4j_iq4xs_scale(const g4j_block_iq4_xs *b, int s) {
    const int ls = ((b->scales_l[s / 2] >> (4 * (s % 2))) & 0xf) | (((b->scales_h >> (2 * s)) & 3) << 4);
    return ls - 32;
}

/* ---- Q8_1 activations ---- */

struct g4j_q8_1_params { float d, id; };
G4J_HD g4j_q8_1_params g4j_q8_1_scale(float amax) {
    g4j_q8_1_params p;
    p.d = amax / 127.f;
    p.id = amax != 0.0f ? 127.f / amax : 0.0f;
    return p;
}
/* One quant: x * id rounded to nearest-even (|x * id| <= 127 up to rounding of id; clamped for safety). */
G4J_HD int g4j_q8_1_quant(float x, float id) {
    float r = rintf(x * id);
    r = r > 127.f ? 127.f : (r < -128.f ? -128.f : r);
    return (int)r;
}
/* A whole block on one thread (the host test's oracle-free path; the kernel spreads it over a warp). */
G4J_HD void g4j_q8_1_block(const float *x, g4j_block_q8_1 *out) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    const g4j_q8_1_params p = g4j_q8_1_scale(amax);
    int sum = 0;
    for (int j = 0; j < 32; j++) {
        const int q = g4j_q8_1_quant(x[j], p.id);
        out->qs[j] = (int8_t)q;
        sum += q;
    }
    out->d = g4j_f2h(p.d);
    out->s = g4j_f2h(p.d * (float)sum);
}

/* The 8 int32 words of a Q8_1 block's quants (4-byte aligned: the block is 36 bytes, qs at offset 4). */
#define G4J_Y8(y, i) g4j_ld32_b4((const uint8_t *)(y)->qs + 4 * (i))

/* ---- per-type unit math ---- */

template <int T> struct g4j_type_traits;
#define G4J_TRAITS(T, blk, n) template <> struct g4j_type_traits<T> { typedef blk block; enum { elems = n, units = n / 32 }; };
G4J_TRAITS(G4J_TYPE_Q4_0, g4j_block_q4_0, 32)
G4J_TRAITS(G4J_TYPE_Q4_1, g4j_block_q4_1, 32)
G4J_TRAITS(G4J_TYPE_Q5_0, g4j_block_q5_0, 32)
G4J_TRAITS(G4J_TYPE_Q5_1, g4j_block_q5_1, 32)
G4J_TRAITS(G4J_TYPE_Q8_0, g4j_block_q8_0, 32)
G4J_TRAITS(G4J_TYPE_IQ4_NL, g4j_block_iq4_nl, 32)
G4J_TRAITS(G4J_TYPE_Q2_K, g4j_block_q2_K, 256)
G4J_TRAITS(G4J_TYPE_Q3_K, g4j_block_q3_K, 256)
G4J_TRAITS(G4J_TYPE_Q4_K, g4j_block_q4_K, 256)
G4J_TRAITS(G4J_TYPE_Q5_K, g4j_block_q5_K, 256)
G4J_TRAITS(G4J_TYPE_Q6_K, g4j_block_q6_K, 256)
G4J_TRAITS(G4J_TYPE_IQ4_XS, g4j_block_iq4_xs, 256)
#undef G4J_TRAITS

/* The block holding unit u of a row, and u's index inside it. */
#define G4J_UNIT_BLOCK(T, row, u, b, s) \
    const typename g4j_type_traits<T>::block *b = \
        (const typename g4j_type_traits<T>::block *)(row) + (u) / g4j_type_traits<T>::units; \
    const int s = (int)((u) % g4j_type_traits<T>::units); (void)s;

/* Integer sums of one unit: sumi = sum of q_w * q_y over 32, from 8 weight words already holding the 32 weight
 * quants as int8 bytes (element 4i + k in byte k of word i). */
G4J_HD int g4j_dot8(const int w[8], const g4j_block_q8_1 *y) {
    int s = 0;
    for (int i = 0; i < 8; i++) s = g4j_dp4a(w[i], G4J_Y8(y, i), s);
    return s;
}
/* Sum of y's quants over words i0 .. i0+3 (16 elements). */
G4J_HD int g4j_ysum16(const g4j_block_q8_1 *y, int i0) {
    int s = 0;
    for (int i = i0; i < i0 + 4; i++) s = g4j_dp4a(0x01010101, G4J_Y8(y, i), s);
    return s;
}

/* The weight quants of unit u as 8 words of int8 (unsigned/offset forms as stored; the offsets and scales are
 * applied by g4j_dot_unit / g4j_dequant_unit), and the unit's float parameters. */
template <int T> G4J_HD void g4j_unit_words(const uint8_t *row, int64_t u, int w[8]);

template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q4_0>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q4_0, row, u, b, s)
    for (int i = 0; i < 4; i++) {
        const int v = g4j_ld32_b2(b->qs + 4 * i);
        w[i] = v & 0x0f0f0f0f;
        w[i + 4] = (v >> 4) & 0x0f0f0f0f;
    }
}
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q4_1>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q4_1, row, u, b, s)
    for (int i = 0; i < 4; i++) {
        const int v = g4j_ld32_b2(b->qs + 4 * i);
        w[i] = v & 0x0f0f0f0f;
        w[i + 4] = (v >> 4) & 0x0f0f0f0f;
    }
}
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q5_0>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q5_0, row, u, b, s)
    const uint32_t h = (uint32_t)g4j_ld32_b2(b->qh);
    for (int i = 0; i < 4; i++) {
        const int v = g4j_ld32_b2(b->qs + 4 * i);
        w[i] = (v & 0x0f0f0f0f) | g4j_spread4((h >> (4 * i)) & 0xf);
        w[i + 4] = ((v >> 4) & 0x0f0f0f0f) | g4j_spread4((h >> (16 + 4 * i)) & 0xf);
    }
}
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q5_1>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q5_1, row, u, b, s)
    const uint32_t h = (uint32_t)g4j_ld32_b2(b->qh);
    for (int i = 0; i < 4; i++) {
        const int v = g4j_ld32_b2(b->qs + 4 * i);
        w[i] = (v & 0x0f0f0f0f) | g4j_spread4((h >> (4 * i)) & 0xf);
        w[i + 4] = ((v >> 4) & 0x0f0f0f0f) | g4j_spread4((h >> (16 + 4 * i)) & 0xf);
    }
}
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q8_0>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q8_0, row, u, b, s)
    for (int i = 0; i < 8; i++) w[i] = g4j_ld32_b2((const uint8_t *)b->qs + 4 * i);
}
template <> G4J_HD void g4j_unit_words<G4J_TYPE_IQ4_NL>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_IQ4_NL, row, u, b, s)
    for (int i = 0; i < 4; i++) {
        const int v = g4j_ld32_b2(b->qs + 4 * i);
        w[i] = g4j_iq4nl_word(v & 0x0f0f0f0f);
        w[i + 4] = g4j_iq4nl_word((v >> 4) & 0x0f0f0f0f);
    }
}
/* Q2_K unit s: h = s / 4, k = s % 4; element l is bits 2k..2k+1 of qs[32h + l]. */
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q2_K>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q2_K, row, u, b, s)
    const int h = s / 4, k = s % 4;
    for (int i = 0; i < 8; i++) w[i] = (g4j_ld32_b2(b->qs + 32 * h + 4 * i) >> (2 * k)) & 0x03030303;
}
/* Q3_K unit s: low bits as Q2_K, plus 4 where bit s of hmask[l] is set (the stored value is q + 4). */
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q3_K>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q3_K, row, u, b, s)
    const int h = s / 4, k = s % 4;
    for (int i = 0; i < 8; i++) {
        const int lo = (g4j_ld32_b2(b->qs + 32 * h + 4 * i) >> (2 * k)) & 0x03030303;
        const int hi = ((g4j_ld32_b2(b->hmask + 4 * i) >> s) & 0x01010101) << 2;
        w[i] = lo | hi;
    }
}
/* Q4_K unit s: nibble (s % 2) of qs[32 (s / 2) + l]. */
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q4_K>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q4_K, row, u, b, s)
    for (int i = 0; i < 8; i++) w[i] = (g4j_ld32_b2(b->qs + 32 * (s / 2) + 4 * i) >> (4 * (s % 2))) & 0x0f0f0f0f;
}
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q5_K>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q5_K, row, u, b, s)
    for (int i = 0; i < 8; i++) {
        const int lo = (g4j_ld32_b2(b->qs + 32 * (s / 2) + 4 * i) >> (4 * (s % 2))) & 0x0f0f0f0f;
        const int hi = ((g4j_ld32_b2(b->qh + 4 * i) >> s) & 0x01010101) << 4;
        w[i] = lo | hi;
    }
}
/* Q6_K unit s: h = s / 4, k = s % 4; low nibble (k / 2) of ql[64h + 32 (k % 2) + l], bits 2k.. of qh[32h + l]
 * above it (stored value q + 32). */
template <> G4J_HD void g4j_unit_words<G4J_TYPE_Q6_K>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q6_K, row, u, b, s)
    const int h = s / 4, k = s % 4;
    for (int i = 0; i < 8; i++) {
        const int lo = (g4j_ld32_b2(b->ql + 64 * h + 32 * (k % 2) + 4 * i) >> (4 * (k / 2))) & 0x0f0f0f0f;
        const int hi = ((g4j_ld32_b2(b->qh + 32 * h + 4 * i) >> (2 * k)) & 0x03030303) << 4;
        w[i] = lo | hi;
    }
}
/* IQ4_XS unit s: elements 0..15 low nibbles of qs[16s ..], 16..31 high nibbles. */
template <> G4J_HD void g4j_unit_words<G4J_TYPE_IQ4_XS>(const uint8_t *row, int64_t u, int w[8]) {
    G4J_UNIT_BLOCK(G4J_TYPE_IQ4_XS, row, u, b, s)
    for (int i = 0; i < 4; i++) {
        const int v = g4j_ld32_b2(b->qs + 16 * s + 4 * i);
        w[i] = g4j_iq4nl_word(v & 0x0f0f0f0f);
        w[i + 4] = g4j_iq4nl_word((v >> 4) & 0x0f0f0f0f);
    }
}

/* The affine map of a unit: weight j = a[j / 16] * word_byte(j) - c[j / 16], with per-half (16 elements)
 * parameters so that every type fits. */
struct g4j_unit_affine { float a0, a1, c0, c1; };

template <int T> G4J_HD g4j_unit_affine g4j_unit_params(const uint8_t *row, int64_t u);

template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q4_0>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q4_0, row, u, b, s)
    const float d = g4j_h2f(b->d);
    return {d, d, 8.f * d, 8.f * d};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q4_1>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q4_1, row, u, b, s)
    const float d = g4j_h2f(b->d), m = g4j_h2f(b->m);
    return {d, d, -m, -m};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q5_0>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q5_0, row, u, b, s)
    const float d = g4j_h2f(b->d);
    return {d, d, 16.f * d, 16.f * d};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q5_1>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q5_1, row, u, b, s)
    const float d = g4j_h2f(b->d), m = g4j_h2f(b->m);
    return {d, d, -m, -m};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q8_0>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q8_0, row, u, b, s)
    const float d = g4j_h2f(b->d);
    return {d, d, 0.f, 0.f};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_IQ4_NL>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_IQ4_NL, row, u, b, s)
    const float d = g4j_h2f(b->d);
    return {d, d, 0.f, 0.f};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q2_K>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q2_K, row, u, b, s)
    const float d = g4j_h2f(b->d), dm = g4j_h2f(b->dmin);
    const int s0 = b->scales[2 * s], s1 = b->scales[2 * s + 1];
    return {d * (float)(s0 & 0xf), d * (float)(s1 & 0xf), dm * (float)(s0 >> 4), dm * (float)(s1 >> 4)};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q3_K>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q3_K, row, u, b, s)
    const float d = g4j_h2f(b->d);
    const float a0 = d * (float)g4j_q3k_scale(b->scales, 2 * s), a1 = d * (float)g4j_q3k_scale(b->scales, 2 * s + 1);
    return {a0, a1, 4.f * a0, 4.f * a1};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q4_K>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q4_K, row, u, b, s)
    int sc, mn;
    g4j_k4_scale_min(b->scales, s, &sc, &mn);
    const float a = g4j_h2f(b->d) * (float)sc, c = g4j_h2f(b->dmin) * (float)mn;
    return {a, a, c, c};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q5_K>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q5_K, row, u, b, s)
    int sc, mn;
    g4j_k4_scale_min(b->scales, s, &sc, &mn);
    const float a = g4j_h2f(b->d) * (float)sc, c = g4j_h2f(b->dmin) * (float)mn;
    return {a, a, c, c};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_Q6_K>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_Q6_K, row, u, b, s)
    const float d = g4j_h2f(b->d);
    const float a0 = d * (float)b->scales[2 * s], a1 = d * (float)b->scales[2 * s + 1];
    return {a0, a1, 32.f * a0, 32.f * a1};
}
template <> G4J_HD g4j_unit_affine g4j_unit_params<G4J_TYPE_IQ4_XS>(const uint8_t *row, int64_t u) {
    G4J_UNIT_BLOCK(G4J_TYPE_IQ4_XS, row, u, b, s)
    const float a = g4j_h2f(b->d) * (float)g4j_iq4xs_scale(b, s);
    return {a, a, 0.f, 0.f};
}

/* dot(unit u of the row, y) = sum_j (a_h * q_j - c_h) * d_y * qy_j over the two halves h:
 *   = d_y * (a0 * S0 + a1 * S1 - c0 * Y0 - c1 * Y1), S_h the integer dot of half h, Y_h the sum of y's quants.
 * Y_h are exact integer sums (dp4a with 0x01010101), not y's f16 s (llama.cpp uses s for Q4_0/Q4_1/Q5_x): the
 * offset terms of Q4_0/Q5_0 nearly cancel the main sum, so s's 2^-11 rounding would cost ~1e-4 relative. */
template <int T> G4J_HD float g4j_dot_prepared(const int w[8], const g4j_unit_affine p, const g4j_block_q8_1 *y) {
    const float dy = g4j_h2f(y->d);
    int s0 = 0, s1 = 0;
    for (int i = 0; i < 4; i++) s0 = g4j_dp4a(w[i], G4J_Y8(y, i), s0);
    for (int i = 4; i < 8; i++) s1 = g4j_dp4a(w[i], G4J_Y8(y, i), s1);
    /* halves in the words' element order: for the nibble-split 32-blocks, words 0..3 are elements 0..15 */
    if (T == G4J_TYPE_Q8_0 || T == G4J_TYPE_IQ4_NL || T == G4J_TYPE_IQ4_XS)
        return p.a0 * dy * (float)(s0 + s1);
    const int y0 = g4j_ysum16(y, 0), y1 = g4j_ysum16(y, 4);
    return dy * (p.a0 * (float)s0 + p.a1 * (float)s1 - p.c0 * (float)y0 - p.c1 * (float)y1);
}

/* The same for one unit read from the row (the kernels read a unit once and dot it with several tokens). */
template <int T> G4J_HD float g4j_dot_unit(const uint8_t *row, int64_t u, const g4j_block_q8_1 *y) {
    int w[8];
    g4j_unit_words<T>(row, u, w);
    return g4j_dot_prepared<T>(w, g4j_unit_params<T>(row, u), y);
}

/* The 32 weights of unit u, in element order. */
template <int T> G4J_HD void g4j_dequant_unit(const uint8_t *row, int64_t u, float out[32]) {
    int w[8];
    g4j_unit_words<T>(row, u, w);
    const g4j_unit_affine p = g4j_unit_params<T>(row, u);
    for (int j = 0; j < 32; j++) {
        const int q = (T == G4J_TYPE_Q8_0 || T == G4J_TYPE_IQ4_NL || T == G4J_TYPE_IQ4_XS)
                          ? (int)(int8_t)(w[j / 4] >> (8 * (j % 4)))
                          : (int)(uint8_t)(w[j / 4] >> (8 * (j % 4)));
        out[j] = j < 16 ? p.a0 * (float)q - p.c0 : p.a1 * (float)q - p.c1;
    }
}

/* Which types have unit math, and their block geometry (host-side dispatch). */
static inline int g4j_cuda_type_geometry(int32_t type, int64_t *block_elems, int64_t *block_bytes, int *quantized) {
    int64_t e = 1, b = 0;
    int q = 1;
    switch (type) {
    case G4J_TYPE_F32: b = 4; q = 0; break;
    case G4J_TYPE_F16: b = 2; q = 0; break;
    case G4J_TYPE_BF16: b = 2; q = 0; break;
    case G4J_TYPE_Q4_0: e = 32; b = sizeof(g4j_block_q4_0); break;
    case G4J_TYPE_Q4_1: e = 32; b = sizeof(g4j_block_q4_1); break;
    case G4J_TYPE_Q5_0: e = 32; b = sizeof(g4j_block_q5_0); break;
    case G4J_TYPE_Q5_1: e = 32; b = sizeof(g4j_block_q5_1); break;
    case G4J_TYPE_Q8_0: e = 32; b = sizeof(g4j_block_q8_0); break;
    case G4J_TYPE_IQ4_NL: e = 32; b = sizeof(g4j_block_iq4_nl); break;
    case G4J_TYPE_Q2_K: e = 256; b = sizeof(g4j_block_q2_K); break;
    case G4J_TYPE_Q3_K: e = 256; b = sizeof(g4j_block_q3_K); break;
    case G4J_TYPE_Q4_K: e = 256; b = sizeof(g4j_block_q4_K); break;
    case G4J_TYPE_Q5_K: e = 256; b = sizeof(g4j_block_q5_K); break;
    case G4J_TYPE_Q6_K: e = 256; b = sizeof(g4j_block_q6_K); break;
    case G4J_TYPE_IQ4_XS: e = 256; b = sizeof(g4j_block_iq4_xs); break;
    default: return 0;
    }
    if (block_elems) *block_elems = e;
    if (block_bytes) *block_bytes = b;
    if (quantized) *quantized = q;
    return 1;
}

/* Calls F<T>::run(args...) for the quantized type id `type` (a switch over the template instances). */
#define G4J_FOR_QUANT_TYPES(X) \
    X(G4J_TYPE_Q4_0) X(G4J_TYPE_Q4_1) X(G4J_TYPE_Q5_0) X(G4J_TYPE_Q5_1) X(G4J_TYPE_Q8_0) X(G4J_TYPE_IQ4_NL) \
    X(G4J_TYPE_Q2_K) X(G4J_TYPE_Q3_K) X(G4J_TYPE_Q4_K) X(G4J_TYPE_Q5_K) X(G4J_TYPE_Q6_K) X(G4J_TYPE_IQ4_XS)

#endif /* G4J_CUDA_BLOCKS_CUH */
