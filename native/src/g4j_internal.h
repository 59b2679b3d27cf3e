/*
 * g4j_internal.h - what the library's translation units share: error reporting, fp16 conversion and the
 * kernel tables. Nothing here is ABI.
 */
#ifndef G4J_INTERNAL_H
#define G4J_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "gguf4j.h"
#include "g4j_blocks.h"

/* Records a failure message for g4j_last_error() and returns code. */
g4j_status g4j_fail(g4j_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Exact binary16 -> binary32 conversion (every half is representable as a float). */
static inline float g4j_half_to_float(g4j_half h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1fu) {               /* inf / nan */
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {            /* normal */
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    } else if (mant == 0) {           /* signed zero */
        bits = sign;
    } else {                          /* subnormal: normalise */
        exp = 113u;
        while ((mant & 0x400u) == 0) { mant <<= 1; exp--; }
        bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Float bits, both ways. */
static inline uint32_t g4j_float_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
static inline float g4j_bits_float(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }

/* binary32 -> binary16, round to nearest-even, overflow to infinity, subnormals kept (what F16C's vcvtps2ph with
 * imm 0 and ggml's software ggml_compute_fp32_to_fp16 both compute); NaN -> sign | 0x7e00 as ggml's software
 * conversion (the one ggml_fp32_to_fp16_row uses in ggml-base). */
static inline g4j_half g4j_float_to_half(float f) {
    const uint32_t b = g4j_float_bits(f);
    const uint32_t sign = (b >> 16) & 0x8000u;
    const uint32_t a = b & 0x7fffffffu;
    if (a > 0x7f800000u) return (g4j_half)(sign | 0x7e00u);   /* NaN */
    if (a >= 0x477ff000u) return (g4j_half)(sign | 0x7c00u);  /* >= 65520 (half-way above 65504): infinity */
    if (a >= 0x38800000u)                                     /* normal half: rebias, round on bit 13 */
        return (g4j_half)(sign | ((a - 0x38000000u + 0xfffu + ((a >> 13) & 1u)) >> 13));
    const uint32_t e = a >> 23;                               /* subnormal half or zero: m * 2^-24 */
    if (e < 102) return (g4j_half)sign;                       /* below 2^-25: rounds to zero */
    const uint32_t mant = (a & 0x7fffffu) | 0x800000u, shift = 126u - e; /* 14 .. 24 */
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (g4j_half)(sign | q);
}

/* bfloat16 bits -> float, and float -> bfloat16 with round to nearest-even, NaN made quiet (ggml's
 * ggml_compute_fp32_to_bf16). */
static inline float g4j_bf16_to_float(uint16_t h) { return g4j_bits_float((uint32_t)h << 16); }
static inline uint16_t g4j_float_to_bf16(float f) {
    const uint32_t u = g4j_float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* Q4_K / Q5_K: the 8 six-bit scales and mins packed in 12 bytes, as little-endian words: scales 0..3 in sc[0],
 * 4..7 in sc[1], mins likewise in mn[0], mn[1] (one byte each). */
static inline void g4j_k4_scale_words(const uint8_t packed[12], uint32_t sc[2], uint32_t mn[2]) {
    uint32_t a, b, c;
    memcpy(&a, packed, 4);
    memcpy(&b, packed + 4, 4);
    memcpy(&c, packed + 8, 4);
    sc[0] = a & 0x3f3f3f3fu;
    mn[0] = b & 0x3f3f3f3fu;
    sc[1] = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
    mn[1] = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
}
static inline void g4j_unpack_k4_scales(const uint8_t packed[12], uint8_t sc[8], uint8_t mn[8]) {
    uint32_t s[2], m[2];
    g4j_k4_scale_words(packed, s, m);
    for (int j = 0; j < 8; j++) {
        sc[j] = (uint8_t)(s[j / 4] >> (8 * (j % 4)));
        mn[j] = (uint8_t)(m[j / 4] >> (8 * (j % 4)));
    }
}

/* Q3_K: the 16 six-bit scales packed in 12 bytes (low 4 bits: nibbles of bytes 0..7, scales 0..7 low then
 * 8..15 high; high 2 bits: bit pairs of bytes 8..11, scale i in bits 2*(i/4) of byte 8 + i%4), as
 * little-endian words of 4 unsigned scales each (the signed scale is the byte minus 32). */
static inline void g4j_q3k_scale_words(const uint8_t packed[12], uint32_t w[4]) {
    uint32_t a0, a1, h;
    memcpy(&a0, packed, 4);
    memcpy(&a1, packed + 4, 4);
    memcpy(&h, packed + 8, 4);
    w[0] = (a0 & 0x0f0f0f0fu) | ((h & 0x03030303u) << 4);
    w[1] = (a1 & 0x0f0f0f0fu) | (((h >> 2) & 0x03030303u) << 4);
    w[2] = ((a0 >> 4) & 0x0f0f0f0fu) | (((h >> 4) & 0x03030303u) << 4);
    w[3] = ((a1 >> 4) & 0x0f0f0f0fu) | (((h >> 6) & 0x03030303u) << 4);
}
static inline void g4j_unpack_q3k_scales(const uint8_t packed[12], int8_t sc[16]) {
    uint32_t w[4];
    g4j_q3k_scale_words(packed, w);
    for (int i = 0; i < 16; i++) sc[i] = (int8_t)((int)((w[i / 4] >> (8 * (i % 4))) & 0xff) - 32);
}

/* IQ4_NL / IQ4_XS: the 16 non-linear levels (ggml-common.h). */
static const int8_t g4j_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* One kernel: *out = dot(row x of n elements of some weight type, y), where y holds the n activations already
 * converted to the type's vec_dot_type (F32 for F32 weights). Arguments are already validated. */
typedef void (*g4j_vec_dot_fn)(int64_t n, const void *x, const void *y, float *out);

/* Activation conversion: n F32 values -> n / block_elems blocks of an activation type (F16, BF16, Q8_0, Q8_1,
 * Q8_K). Plain C (kernels_scalar.c), the same for every variant. */
typedef void (*g4j_from_float_fn)(int64_t n, const float *x, void *out);
g4j_from_float_fn g4j_from_float(int32_t act_type);
/* Q8_K and Q8_0 conversions with AVX2 (kernels_avx2.c): the bits of g4j_from_float's; used where the CPU has AVX2. */
void g4j_from_float_q8_K_avx2(int64_t n, const float *x, void *out);
void g4j_from_float_q8_0_avx2(int64_t n, const float *x, void *out);

/* A register-blocked tile: y[c * y_stride + r] = dot(row r of w, activation vector c) for r < nr, c < nc. Rows are
 * row_bytes apart; the activation vectors, already converted to the vec_dot_type, are act_stride bytes apart.
 * Every y element must be bit-identical to the same variant's vec_dot of that row and vector (the same integer
 * sums and the same order of float additions), so that batch size never changes a result. nr and nc are any
 * positive counts: the kernel tiles them itself (the runtime does the cache blocking around it). */
typedef void (*g4j_gemm_fn)(int64_t n, const void *w, int64_t row_bytes, int64_t nr, const void *acts,
                            int64_t act_stride, int64_t nc, float *y, int64_t y_stride);

/* A variant's kernels by ggml type id; NULL where the variant has no kernel of its own for that type (the
 * dispatcher then uses the next variant down, by design: a wider variant is only written where it pays).
 * vec_dot and gemm of one type are a pair: a table that has a gemm for a type has its vec_dot too, and the
 * dispatcher always takes both from the same table. Without a gemm, matvec/matmat loop over vec_dot. */
/* The same over an r8 copy (r8.h) of a matrix of Q4_0 or Q8_0 rows: y[c * y_stride + i] = dot(row r0 + i, vector c)
 * for i < nr, c < nc, each element bit-identical to the variant's gemm on the original rows. */
typedef void (*g4j_gemm_r8_fn)(int64_t n, const void *packed, int64_t r0, int64_t nr, const void *acts,
                               int64_t act_stride, int64_t nc, float *y, int64_t y_stride);

typedef struct {
    g4j_vec_dot_fn vec_dot[G4J_TYPE_ID_LIMIT];
    g4j_gemm_fn gemm[G4J_TYPE_ID_LIMIT];
    g4j_gemm_r8_fn gemm_r8[G4J_TYPE_ID_LIMIT];
} g4j_kernel_table;

extern const g4j_kernel_table g4j_kernels_scalar;
extern const g4j_kernel_table g4j_kernels_avx2;
extern const g4j_kernel_table g4j_kernels_avx512;
/* Register-blocked tiles (gemm, with their vec_dot twins): blocks of 32 (Q4_0 .. Q8_0, IQ4_NL) and k-quants. A
 * variant's tables are searched in the order listed in g4j_runtime.c; the first with a vec_dot for a type wins. */
extern const g4j_kernel_table g4j_kernels_avx2_q32;
extern const g4j_kernel_table g4j_kernels_avx512_q32;
extern const g4j_kernel_table g4j_kernels_avx512vnni_q32;
extern const g4j_kernel_table g4j_kernels_avx2_qk;
extern const g4j_kernel_table g4j_kernels_avx512_qk;
extern const g4j_kernel_table g4j_kernels_avx512vnni_qk;

/* Resolves G4J_ISA_AUTO to the selected variant; G4J_E_UNSUPPORTED_ISA (with the message set) for an unknown id or a
 * variant this CPU does not run. Every entry point that takes an isa calls it first. */
g4j_status g4j_resolve_isa(int32_t *isa);

/* Where (i, j), i <= j, is in an n x n upper triangle packed by rows (row i holds columns i .. n-1). */
static inline int64_t g4j_packed_index(int64_t n, int64_t i, int64_t j) {
    return i * n - i * (i - 1) / 2 + (j - i);
}

/* GPTQ's super-block column loop (gptq_impl.h), per build; g4j_gptq_block picks one. */
#define G4J_GPTQ_BLOCK_ARGS int64_t n, int64_t col0, const float *u, float *w, int32_t sub, int32_t code_lo, \
    int32_t code_hi, int32_t level_lo, int32_t level_hi, int32_t min_hi, int32_t resub, float d, float dmin, \
    int32_t *ls, int32_t *lm, int32_t *q
void g4j_gptq_block_generic(G4J_GPTQ_BLOCK_ARGS);
void g4j_gptq_block_avx2(G4J_GPTQ_BLOCK_ARGS);
void g4j_gptq_block_avx512(G4J_GPTQ_BLOCK_ARGS);

/* cpuid probe, done once (g4j_cpu.c). */
uint64_t g4j_probe_cpu_features(void);

#endif /* G4J_INTERNAL_H */
