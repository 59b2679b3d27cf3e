/*
 * gemm_qk_avx512vnni.c - the k-quant tiles of gemm_qk_avx512.c with AVX-512 VNNI: the row-pair gemm's madd + add
 * is one vpdpwssd (the same exact integer sums, so the same bits). Compiled with the avx512vnni flags.
 */
#define G4J_QK_512 1
#define G4J_QK_VNNI 1
#include "gemm_qk_impl.h"

const g4j_kernel_table g4j_kernels_avx512vnni_qk = QK_TABLE;
