/*
 * gemm_q32_avx512.c - register-blocked tiles (see g4j_gemm_fn in g4j_internal.h). Compiled with the avx512 flags.
 */
#include <immintrin.h>

#include "g4j_internal.h"

const g4j_kernel_table g4j_kernels_avx512_q32 = {.vec_dot = {0}};
