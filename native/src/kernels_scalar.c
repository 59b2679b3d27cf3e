/*
 * kernels_scalar.c - the scalar reference kernels: plain C, no ISA flags. They are the oracle every vector
 * variant is tested against (native/tests, and Java's NativeKernelTest), and they serve any type a vector
 * variant has no kernel for.
 */
#include "g4j_internal.h"

static void vec_dot_f32(int64_t n, const void *vx, const float *y, float *out) {
    const float *x = (const float *)vx;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    *out = sum;
}

static void vec_dot_f16(int64_t n, const void *vx, const float *y, float *out) {
    const g4j_half *x = (const g4j_half *)vx;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += g4j_half_to_float(x[i]) * y[i];
    *out = sum;
}

/* Q8_0: x = d * q per block of 32. */
static void vec_dot_q8_0(int64_t n, const void *vx, const float *y, float *out) {
    const g4j_block_q8_0 *x = (const g4j_block_q8_0 *)vx;
    const int64_t nb = n / G4J_QK8_0;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        float block = 0.0f;
        for (int j = 0; j < G4J_QK8_0; j++) block += (float)x[b].qs[j] * y[b * G4J_QK8_0 + j];
        sum += g4j_half_to_float(x[b].d) * block;
    }
    *out = sum;
}

const g4j_kernel_table g4j_kernels_scalar = {
    .vec_dot = {
        [G4J_TYPE_F32] = vec_dot_f32,
        [G4J_TYPE_F16] = vec_dot_f16,
        [G4J_TYPE_Q8_0] = vec_dot_q8_0,
    },
};
