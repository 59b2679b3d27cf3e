/*
 * q4_0_r8.h - Q4_0 weights interleaved by 8 rows (the layout is described in gguf4j.h, "q4_0_r8"): the repacking
 * and the matrix-vector kernels over it. Nothing here is ABI.
 */
#ifndef G4J_Q4_0_R8_H
#define G4J_Q4_0_R8_H

#include <stdint.h>

/* Bytes of one group's block: 8 scales + 8 x 16 bytes of nibbles. */
#define G4J_Q4_0_R8_BLOCK 144

/* Rows [g0 * 8, g1 * 8) of w (rows r >= rows are written as zero rows) into their groups of out. */
void g4j_repack_q4_0_r8_groups(int64_t rows, int64_t nb, const void *w, int64_t row_bytes, int64_t g0, int64_t g1,
                               void *out);

/* y[i] = dot(row r0 + i, act) for i < nr, act one Q8_0 vector of nb blocks; packed is the whole copy. The float
 * steps of each variant's plain Q4_0 kernel: scalar (sumf += isum * dx * dy) and avx2 (acc = fma(dx * dy, isum,
 * acc), the arithmetic of every path of gemm_q32_impl.h, so AVX-512 variants use it as it is). */
typedef void (*g4j_q4_0_r8_fn)(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y);
void g4j_matvec_q4_0_r8_scalar(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y);
void g4j_matvec_q4_0_r8_avx2(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y);

#endif
