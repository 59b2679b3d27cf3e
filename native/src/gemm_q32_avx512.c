/*
 * gemm_q32_avx512.c - register-blocked tiles for the blocks of 32 (see gemm_q32_impl.h and g4j_gemm_fn in
 * g4j_internal.h). Compiled with the avx512 flags: the same tiles as AVX2, with 32 vector registers.
 */
#define G4J_Q32_VNNI 0
#include "gemm_q32_impl.h"

const g4j_kernel_table g4j_kernels_avx512_q32 = Q32_TABLE;
