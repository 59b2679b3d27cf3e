/*
 * gemm_qk_avx2.c - register-blocked tiles (see g4j_gemm_fn in g4j_internal.h) for the k-quants. Compiled with
 * the avx2 flags. The code is gemm_qk_impl.h (shared with the AVX-512 variant): tiles of 2 rows x 4 columns of
 * ymm sums, one super-block of the 2 rows decoded once per block of 64 columns.
 */
#include "gemm_qk_impl.h"

const g4j_kernel_table g4j_kernels_avx2_qk = QK_TABLE;
