/*
 * gemm_qk_avx2.c - register-blocked tiles (see g4j_gemm_fn in g4j_internal.h) for Q2_K .. Q6_K and IQ4_XS, with
 * their vec_dot twins. Compiled with the avx2 flags. The code is gemm_qk_impl.h (shared with the AVX-512
 * variant): tiles of 2 rows x 4 columns of ymm sums over super-blocks decoded once per block of 16 rows x 32
 * columns.
 */
#include "gemm_qk_impl.h"

const g4j_kernel_table g4j_kernels_avx2_qk = QK_TABLE;
