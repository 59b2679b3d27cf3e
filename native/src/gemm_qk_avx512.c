/*
 * gemm_qk_avx512.c - register-blocked tiles (see g4j_gemm_fn in g4j_internal.h) for the k-quants. Compiled with
 * the avx512 flags. The code is gemm_qk_impl.h with G4J_QK_512: tiles of 4 rows x 4 columns of zmm sums over
 * chunks of 64 elements, one super-block of the 4 rows decoded once per block of 64 columns.
 */
#define G4J_QK_512 1
#include "gemm_qk_impl.h"

const g4j_kernel_table g4j_kernels_avx512_qk = QK_TABLE;
