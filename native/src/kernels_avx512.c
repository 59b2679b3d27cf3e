/*
 * kernels_avx512.c - AVX-512 (F/BW/DQ/VL) variants. This file alone is compiled with the AVX-512 flags
 * (cmake/G4jIsa.cmake). Only kernels that beat their AVX2 twin belong here (docs/benchmarks.md); the
 * dispatcher fills the rest from the AVX2 table.
 *
 * Nothing of its own at present. Measured on an AMD EPYC (Zen 4, 512-bit ops double-pumped), 1 thread, 4096 x 4096
 * and 256 x 4096 matvecs, 512-bit per-row versions of Q8_0, Q4_0 (two blocks per zmm) and Q4_K (one chunk of 64 per
 * zmm) did not beat AVX2's; the k-quant tiles with their vec_dot twins are in gemm_qk_avx512.c and the blocks of 32
 * in gemm_q32_avx512.c. F32/F16/BF16 rows are deliberately not here: a 512-bit F32 row was a few percent faster,
 * but every variant sums float rows in one order (kernels_scalar.c, "float rows") so that models with float weights
 * give the same bits on AVX2 and AVX-512 machines. (ggml's lead on Q4_0/Q8_0 in compute-bound runs comes from
 * AVX-512 VNNI: gemm_q32_avx512vnni.c.)
 */
#include <immintrin.h>

#include "g4j_internal.h"

const g4j_kernel_table g4j_kernels_avx512 = {
    .vec_dot = {
        [G4J_TYPE_F32] = NULL, /* nothing of its own: see above */
    },
};
