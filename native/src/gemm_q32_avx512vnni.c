/*
 * gemm_q32_avx512vnni.c - register-blocked tiles for the blocks of 32 with AVX-512 VNNI (vpdpbusd), see
 * gemm_q32_impl.h. Compiled with the avx512vnni flags.
 */
#define G4J_Q32_VNNI 1
#include "gemm_q32_impl.h"

const g4j_kernel_table g4j_kernels_avx512vnni_q32 = Q32_TABLE;
