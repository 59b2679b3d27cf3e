/*
 * gemm_qk_avx512.c - register-blocked tiles (see g4j_gemm_fn in g4j_internal.h) for Q2_K .. Q6_K and IQ4_XS,
 * with their vec_dot twins. Compiled with the avx512 flags. The code is gemm_qk_impl.h with G4J_QK_512: Q2_K ..
 * Q6_K in row pairs (two rows' 8 s32 lanes per zmm, super-blocks decoded once per block of QP_RB rows x QP_CB
 * columns), IQ4_XS in tiles of 4 rows x 4 columns of zmm sums over chunks of 64 elements. Same arithmetic as the
 * AVX2 variant, so both give the same bits.
 */
#define G4J_QK_512 1
#include "gemm_qk_impl.h"

const g4j_kernel_table g4j_kernels_avx512_qk = QK_TABLE;
