/*
 * r8.h - weights of the blocks of 32 interleaved by 8 rows (the layout is described in gguf4j.h, "r8"): Q4_0 and
 * Q8_0. The repacking, the matrix-vector kernels over it, and its geometry, stated once here for the runtime, the
 * kernels and the tiles of gemm_q32_impl.h. Nothing here is ABI.
 */
#ifndef G4J_R8_H
#define G4J_R8_H

#include <stdint.h>

#include "g4j_internal.h"

/* Bytes of the 8 rows' scales at the start of each r8 block (binary16, row 0 first). */
#define G4J_R8_SCALES 16

/* Bytes of quants one row's block holds in an r8 copy: Q4_0 16 (packed nibbles), Q8_0 32; 0 for a type without an
 * r8 layout. The quants of the 8 rows follow the scales, interleaved by 4 bytes: byte 32k + 4r + i of them is byte
 * 4k + i of row r's quants. */
static inline int g4j_r8_quant_bytes(int32_t type) {
    return type == G4J_TYPE_Q4_0 ? 16 : type == G4J_TYPE_Q8_0 ? 32 : 0;
}

/* Bytes of one block of the type's own layout (binary16 d, then the quants): Q4_0 18, Q8_0 34. */
static inline int64_t g4j_r8_row_block_bytes(int32_t type) { return 2 + (int64_t)g4j_r8_quant_bytes(type); }

/* Bytes of one group's block (8 rows x one block of 32): Q4_0 144, Q8_0 272. */
static inline int64_t g4j_r8_block_bytes(int32_t type) { return G4J_R8_SCALES + 8 * (int64_t)g4j_r8_quant_bytes(type); }

/* Software prefetch distance of the matrix-vector kernels, in bytes (0: none): see docs/benchmarks.md. */
#ifndef G4J_R8_PF
#define G4J_R8_PF 4608
#endif

/* Rows [g0 * 8, g1 * 8) of w (rows r >= rows are written as zero rows) into their groups of out. */
void g4j_repack_r8_groups(int32_t type, int64_t rows, int64_t nb, const void *w, int64_t row_bytes, int64_t g0,
                          int64_t g1, void *out);

/* Row r of the copy back in the type's own block layout: nb blocks into out (nb * block bytes). */
void g4j_r8_row(int32_t type, int64_t nb, const void *packed, int64_t r, void *out);

/* y[i] = dot(row r0 + i, act) for i < nr, act one Q8_0 vector of nb blocks; packed is the whole copy. The float
 * steps of the plain kernels of gemm_q32_impl.h (acc = fma(dx * dy, isum, acc), blocks in order), which every
 * variant but scalar uses, so the AVX-512 variants run this one as it is. */
typedef void (*g4j_r8_matvec_fn)(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y);
void g4j_matvec_r8_q4_0_avx2(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y);
void g4j_matvec_r8_q8_0_avx2(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y);
/* (The avx512vnni variant's Q8_0 matrix-vector product is its own, in gemm_q32_impl.h: the sign trick above and
 * that variant's vpdpbusd differ where an activation byte is -128, which converted activations never hold.) */

#endif
