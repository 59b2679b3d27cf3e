/*
 * test_util.h - what the CUDA tests and the bench share (C and C++): a deterministic RNG, binary16 conversion in
 * double arithmetic (independent of the library), random valid weight rows of every type the library supports,
 * and the list of those types.
 */
#ifndef G4J_CUDA_TEST_UTIL_H
#define G4J_CUDA_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gguf4j.h"
#include "g4j_blocks.h" /* type ids; a .cu includes blocks.cuh first */

static uint64_t tu_rng_state = 0x9E3779B97F4A7C15ull;
static inline uint32_t tu_rnd(void) {
    tu_rng_state ^= tu_rng_state << 13; tu_rng_state ^= tu_rng_state >> 7; tu_rng_state ^= tu_rng_state << 17;
    return (uint32_t)(tu_rng_state >> 11);
}
static inline float tu_rndf(void) { return (float)((tu_rnd() & 0xffffff) / 16777216.0 * 2.0 - 1.0); }
static inline float tu_gauss(void) {
    double u = ((tu_rnd() & 0xffffff) + 1) / 16777217.0, v = (tu_rnd() & 0xffffff) / 16777216.0;
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

/* nearest-even binary16 of a finite float */
static inline uint16_t tu_half_of(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (a >= 65520.0) return sign | 0x7c00;
    if (a < ldexp(1, -14)) return sign | (uint16_t)nearbyint(a * ldexp(1, 24));
    int e; frexp(a, &e);
    double q = nearbyint(ldexp(a, 11 - e));
    if (q == 2048) { q = 1024; e++; }
    if (e + 14 >= 31) return sign | 0x7c00;
    return sign | (uint16_t)((e + 14) << 10) | (uint16_t)((int)q - 1024);
}
static inline double tu_half_value(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff; double s = (h & 0x8000) ? -1 : 1;
    if (e == 31) return m ? NAN : s * INFINITY;
    return e == 0 ? s * m * ldexp(1, -24) : s * (1024 + m) * ldexp(1, e - 25);
}
static inline uint16_t tu_bf16_of(float f) {
    uint32_t u; memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
static inline void tu_put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* a random finite binary16 with |value| in [2^lo, 2^hi) */
static inline uint16_t tu_rnd_half(int lo, int hi, int allow_negative) {
    int e = lo + (int)(tu_rnd() % (unsigned)(hi - lo));
    uint16_t h = tu_half_of(ldexpf(1.0f + (tu_rnd() & 0x3ff) / 1024.0f, e));
    return (uint16_t)(h | (allow_negative && (tu_rnd() & 1) ? 0x8000 : 0));
}

typedef struct { int32_t id; const char *name; } tu_type;
static const tu_type TU_TYPES[] = {
    {G4J_TYPE_F32, "F32"}, {G4J_TYPE_F16, "F16"}, {G4J_TYPE_BF16, "BF16"}, {G4J_TYPE_Q4_0, "Q4_0"},
    {G4J_TYPE_Q4_1, "Q4_1"}, {G4J_TYPE_Q5_0, "Q5_0"}, {G4J_TYPE_Q5_1, "Q5_1"}, {G4J_TYPE_Q8_0, "Q8_0"},
    {G4J_TYPE_Q2_K, "Q2_K"}, {G4J_TYPE_Q3_K, "Q3_K"}, {G4J_TYPE_Q4_K, "Q4_K"}, {G4J_TYPE_Q5_K, "Q5_K"},
    {G4J_TYPE_Q6_K, "Q6_K"}, {G4J_TYPE_IQ4_NL, "IQ4_NL"}, {G4J_TYPE_IQ4_XS, "IQ4_XS"},
};
#define TU_NTYPES ((int)(sizeof TU_TYPES / sizeof TU_TYPES[0]))

static inline const char *tu_type_name(int32_t id) {
    for (int i = 0; i < TU_NTYPES; i++) if (TU_TYPES[i].id == id) return TU_TYPES[i].name;
    return "?";
}

/* Bytes of a row of n elements (n a multiple of the block size). */
static inline int64_t tu_row_bytes(int32_t type, int64_t n) {
    int64_t be = 0, bb = 0;
    if (g4j_type_layout(type, &be, &bb) != G4J_OK) return -1;
    return n / be * bb;
}
static inline int64_t tu_block_elems(int32_t type) {
    int64_t be = 0, bb = 0;
    g4j_type_layout(type, &be, &bb);
    return be;
}

/* A random valid row of n elements: random bytes with sane f16 scales (as native/tests/test_kernels.c does). */
static inline void tu_fill_row(int32_t type, uint8_t *row, int64_t n) {
    if (type == G4J_TYPE_F32) { for (int64_t i = 0; i < n; i++) { float f = tu_gauss(); memcpy(row + 4 * i, &f, 4); } return; }
    if (type == G4J_TYPE_F16) { for (int64_t i = 0; i < n; i++) tu_put16(row + 2 * i, tu_half_of(tu_gauss())); return; }
    if (type == G4J_TYPE_BF16) { for (int64_t i = 0; i < n; i++) tu_put16(row + 2 * i, tu_bf16_of(tu_gauss())); return; }
    int64_t be = 0, bb = 0;
    g4j_type_layout(type, &be, &bb);
    const int64_t nb = n / be;
    for (int64_t i = 0; i < nb * bb; i++) row[i] = (uint8_t)tu_rnd();
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *p = row + b * bb;
        switch (type) {
        case G4J_TYPE_Q4_0: case G4J_TYPE_Q5_0: case G4J_TYPE_Q8_0: case G4J_TYPE_IQ4_NL: case G4J_TYPE_IQ4_XS:
            tu_put16(p, tu_rnd_half(-12, -4, 1)); break;
        case G4J_TYPE_Q4_1: case G4J_TYPE_Q5_1: tu_put16(p, tu_rnd_half(-12, -4, 1)); tu_put16(p + 2, tu_rnd_half(-10, -2, 1)); break;
        case G4J_TYPE_Q4_K: case G4J_TYPE_Q5_K: tu_put16(p, tu_rnd_half(-14, -6, 0)); tu_put16(p + 2, tu_rnd_half(-14, -6, 0)); break;
        case G4J_TYPE_Q2_K: tu_put16(p + 80, tu_rnd_half(-12, -4, 0)); tu_put16(p + 82, tu_rnd_half(-12, -4, 0)); break;
        case G4J_TYPE_Q3_K: tu_put16(p + 108, tu_rnd_half(-12, -4, 1)); break;
        case G4J_TYPE_Q6_K: tu_put16(p + 208, tu_rnd_half(-14, -6, 1)); break;
        default: break;
        }
    }
}

/* Activations: gaussian, with some blocks scaled up or zeroed (kind 1). */
static inline void tu_fill_x(float *x, int64_t n, int kind) {
    for (int64_t i = 0; i < n; i++) {
        if (kind == 0) x[i] = tu_gauss();
        else x[i] = (i / 32) % 5 == 3 ? 0.0f : tu_gauss() * ldexpf(1.0f, (int)((i / 32) % 7) - 3);
    }
}

/* Activations that every activation format represents exactly: x = k * 2^e, k an integer in [-127, 127], e fixed per
 * 256 values, and every 32-value block holding one k = +-127. Then Q8_0/Q8_1 (d = amax / 127 = 2^e), Q8_K (one
 * scale per 256), F16 and BF16 all reproduce x exactly, so a GPU result and libgguf4j's differ only by the order of
 * float additions and the F16 rounding of dequantized weights: tight tolerances become possible. */
static inline void tu_fill_x_exact(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const int e = -8 + (int)((i / 256) % 5);
        x[i] = ldexpf((float)((int)(tu_rnd() % 255) - 127), e);
    }
    for (int64_t b = 0; b + 32 <= n; b += 32) {
        const int e = -8 + (int)((b / 256) % 5);
        x[b + tu_rnd() % 32] = ldexpf((tu_rnd() & 1) ? 127.0f : -127.0f, e);
    }
}

#endif /* G4J_CUDA_TEST_UTIL_H */
