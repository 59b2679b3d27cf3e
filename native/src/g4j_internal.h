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

/* One kernel: *out = dot(row x of n elements of some type, y[0..n)). Arguments are already validated. */
typedef void (*g4j_vec_dot_fn)(int64_t n, const void *x, const float *y, float *out);

/* A variant's kernels by ggml type id; NULL where the variant has no kernel of its own for that type (the
 * dispatcher then uses the next variant down, by design: a wider variant is only written where it pays). */
typedef struct {
    g4j_vec_dot_fn vec_dot[G4J_TYPE_ID_LIMIT];
} g4j_kernel_table;

extern const g4j_kernel_table g4j_kernels_scalar;
extern const g4j_kernel_table g4j_kernels_avx2;
extern const g4j_kernel_table g4j_kernels_avx512;

/* cpuid probe, done once (g4j_cpu.c). */
uint64_t g4j_probe_cpu_features(void);

#endif /* G4J_INTERNAL_H */
