/*
 * r8.h - weights interleaved by 8 rows (the layout is described in gguf4j.h, "r8"): Q4_0 and Q8_0 (blocks of 32),
 * Q4_K and Q6_K (super-blocks of 256). The repacking, the matrix-vector kernels over it, the k-quants' arithmetic
 * over it, and its geometry, stated once here for the runtime, the kernels and the tiles of gemm_q32_impl.h and
 * gemm_rk_impl.h. Nothing here is ABI.
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

/* The k-quants' group block (8 rows x one super-block of 256), byte offsets of its parts (gguf4j.h):
 *   Q4_K: d[8] and dmin[8] (binary16), scale byte 8j + r = scale j of row r (j < 8), min byte 16i + 2r + s = min
 *         2i + s of row r (i < 4), then qs interleaved by 4 bytes (byte 32k + 4r + i = qs[4k + i] of row r, k < 32);
 *   Q5_K: Q4_K's group block, then qh interleaved by 4 bytes (k < 8);
 *   Q6_K: d[8], scale byte 8j + r = scale j of row r (signed, j < 16), then ql (k < 32) and qh (k < 16)
 *         interleaved by 4 bytes the same way. */
#define G4J_R8K_Q4K_DMIN 16
#define G4J_R8K_Q4K_SC 32
#define G4J_R8K_Q4K_MN 96
#define G4J_R8K_Q4K_QS 160
#define G4J_R8K_Q4K_BYTES 1184
#define G4J_R8K_Q5K_QH 1184
#define G4J_R8K_Q5K_BYTES 1440
#define G4J_R8K_Q6K_SC 16
#define G4J_R8K_Q6K_QL 144
#define G4J_R8K_Q6K_QH 1168
#define G4J_R8K_Q6K_BYTES 1680

/* Elements per block of a type with an r8 layout (32 or 256), 0 for a type without one. */
static inline int g4j_r8_block_elems(int32_t type) {
    return g4j_r8_quant_bytes(type) ? 32 : type == G4J_TYPE_Q4_K || type == G4J_TYPE_Q5_K || type == G4J_TYPE_Q6_K ? 256 : 0;
}

/* Bytes of one block of the type's own layout: Q4_0 18 (binary16 d, then the quants), Q8_0 34, Q4_K 144, Q5_K
 * 176, Q6_K 210. */
static inline int64_t g4j_r8_row_block_bytes(int32_t type) {
    switch (type) {
    case G4J_TYPE_Q4_K: return (int64_t)sizeof(g4j_block_q4_K);
    case G4J_TYPE_Q5_K: return (int64_t)sizeof(g4j_block_q5_K);
    case G4J_TYPE_Q6_K: return (int64_t)sizeof(g4j_block_q6_K);
    default: return 2 + (int64_t)g4j_r8_quant_bytes(type);
    }
}

/* Bytes of one group's block (8 rows x one block): Q4_0 144, Q8_0 272, Q4_K 1184 and Q5_K 1440 (the unpacked 6-bit
 * scales and mins: 32 more than the 8 rows'), Q6_K 1680. */
static inline int64_t g4j_r8_block_bytes(int32_t type) {
    switch (type) {
    case G4J_TYPE_Q4_K: return G4J_R8K_Q4K_BYTES;
    case G4J_TYPE_Q5_K: return G4J_R8K_Q5K_BYTES;
    case G4J_TYPE_Q6_K: return G4J_R8K_Q6K_BYTES;
    default: return G4J_R8_SCALES + 8 * (int64_t)g4j_r8_quant_bytes(type);
    }
}

/* Bytes of one block of the activations the type's products take: Q8_0 34 (blocks of 32), Q8_K 292. */
static inline int64_t g4j_r8_act_block_bytes(int32_t type) {
    return g4j_r8_block_elems(type) == 256 ? (int64_t)sizeof(g4j_block_q8_K) : (int64_t)sizeof(g4j_block_q8_0);
}

/* Software prefetch distance of the matrix-vector kernels, in bytes (0: none): see docs/benchmarks.md. */
#ifndef G4J_R8_PF
#define G4J_R8_PF 4608
/* The k-quants over an r8 copy compute their own arithmetic, not vec_dot's (whose 8 float lanes per row and
 * column would need 8 accumulators per row in the interleaved tiles). Per row x, column y (Q8_K) and super-block,
 * in super-block order, with exact integers S and M:
 *   Q4_K, Q5_K: S = sum_j sc_j * sum_{i in sub-block j} u_i q_i,  M = sum_j m_j * (bsums[2j] + bsums[2j + 1]) (j < 8)
 *         acc = fmaf(d_x * d_y, (float)S, acc);  acc = fmaf(-(dmin_x * d_y), (float)M, acc)
 *   Q6_K: S = sum_j sc_j * (sum_{i in sub-block j} u_i q_i - 32 * bsums[j])                               (j < 16)
 *         acc = fmaf(d_x * d_y, (float)S, acc)
 * (u the unsigned quants: Q4_K 0..15, Q5_K 0..31, Q6_K 0..63), starting from acc = 0. Every variant computes exactly these
 * operations in this order, so the result is the same bits in all of them (scalar included) and for every batch
 * size. g4j_r8k_dot is its definition, one row of the type's own layout against one column. */
float g4j_r8k_dot(int32_t type, int64_t nb, const void *row, const g4j_block_q8_K *y);

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

/* The k-quants over an r8 copy compute their own arithmetic, not vec_dot's (whose 8 float lanes per row and
 * column would need 8 accumulators per row in the interleaved tiles). Per row x, column y (Q8_K) and super-block,
 * in super-block order, with exact integers S and M:
 *   Q4_K, Q5_K: S = sum_j sc_j * sum_{i in sub-block j} u_i q_i,  M = sum_j m_j * (bsums[2j] + bsums[2j + 1]) (j < 8)
 *         acc = fmaf(d_x * d_y, (float)S, acc);  acc = fmaf(-(dmin_x * d_y), (float)M, acc)
 *   Q6_K: S = sum_j sc_j * (sum_{i in sub-block j} u_i q_i - 32 * bsums[j])                               (j < 16)
 *         acc = fmaf(d_x * d_y, (float)S, acc)
 * (u the unsigned quants: Q4_K 0..15, Q5_K 0..31, Q6_K 0..63), starting from acc = 0. Every variant computes exactly these
 * operations in this order, so the result is the same bits in all of them (scalar included) and for every batch
 * size. g4j_r8k_dot is its definition, one row of the type's own layout against one column. */
float g4j_r8k_dot(int32_t type, int64_t nb, const void *row, const g4j_block_q8_K *y);

#endif
