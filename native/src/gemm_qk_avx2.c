/*
 * gemm_qk_avx2.c - register-blocked tiles (see g4j_gemm_fn in g4j_internal.h). Compiled with the avx2 flags.
 */
#include <immintrin.h>

#include "g4j_internal.h"

const g4j_kernel_table g4j_kernels_avx2_qk = {.vec_dot = {0}};
