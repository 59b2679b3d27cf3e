/*
 * matmul_lanes.cuh - the per-thread work of the matmul kernels as __host__ __device__ functions, so that the host
 * test (cuda/tests/test_blocks_host.cu) can run every thread of a warp or a block in a loop and check the index
 * mapping, leaving only the shuffles, barriers and wmma calls untested off the GPU.
 *
 *   g4j_matvec_q_lane<T, NT>   lane l of a row's warp: units l, l + 32, ... dotted with NT tokens' Q8_1 blocks
 *   g4j_matvec_f_lane<T, NT>   the same for float weights, elements l, l + 32, ...
 *   g4j_mm_load_w<T>           thread tid of the tensor-core block: dequantizes weight unit (tid % 2) of tile row
 *                              tid / 2 into the F16 tile a[64][G4J_MM_LDA] (zeros past the matrix)
 *   g4j_mm_load_x              thread tid: its share of the 64 tokens x 64 columns activation tile b[64][G4J_MM_LDA]
 */
#ifndef G4J_CUDA_MATMUL_LANES_CUH
#define G4J_CUDA_MATMUL_LANES_CUH

#include "blocks.cuh"

template <int T, int NT>
G4J_HD void g4j_matvec_q_lane(const uint8_t *row, int64_t units, int lane, const g4j_block_q8_1 *q8, float acc[NT]) {
G4J_UNROLL
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
    for (int64_t u = lane; u < units; u += 32) {
        int wq[8];
        g4j_unit_words<T>(row, u, wq);
        const g4j_unit_affine p = g4j_unit_params<T>(row, u);
G4J_UNROLL
        for (int t = 0; t < NT; t++) acc[t] += g4j_dot_prepared<T>(wq, p, q8 + t * units + u);
    }
}

template <int T> G4J_HD float g4j_float_weight(const uint8_t *row, int64_t i) {
    if (T == G4J_TYPE_F32) return ((const float *)row)[i];
    if (T == G4J_TYPE_F16) return g4j_h2f(((const uint16_t *)row)[i]);
    return g4j_bf2f(((const uint16_t *)row)[i]);
}

template <int T, int NT>
G4J_HD void g4j_matvec_f_lane(const uint8_t *row, int64_t cols, int lane, const float *x, int64_t x_stride, float acc[NT]) {
G4J_UNROLL
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
    for (int64_t i = lane; i < cols; i += 32) {
        const float wv = g4j_float_weight<T>(row, i);
G4J_UNROLL
        for (int t = 0; t < NT; t++) acc[t] = fmaf(wv, x[t * x_stride + i], acc[t]);
    }
}

#define G4J_MM_BM 64 /* rows per block */
#define G4J_MM_BN 64 /* tokens per block */
#define G4J_MM_BK 64 /* columns per step */
#define G4J_MM_THREADS 128
#define G4J_MM_LDA (G4J_MM_BK + 8)
#define G4J_MM_LDC (G4J_MM_BM + 4)

template <int T>
G4J_HD void g4j_mm_load_w(const uint8_t *w, int64_t rows, int64_t cols, int64_t row_bytes, int64_t r0, int64_t k0, int tid,
                          __half (*a)[G4J_MM_LDA]) {
    const int r = tid / 2, uu = tid % 2;
    const int64_t u = k0 / 32 + uu;
    float f[32];
    if (r0 + r < rows && u < cols / 32) {
        g4j_dequant_unit<T>(w + (r0 + r) * row_bytes, u, f);
    } else {
G4J_UNROLL
        for (int j = 0; j < 32; j++) f[j] = 0.0f;
    }
G4J_UNROLL
    for (int j = 0; j < 32; j++) a[r][uu * 32 + j] = __float2half_rn(f[j]);
}

G4J_HD void g4j_mm_load_x(const float *x, int64_t x_stride, int64_t n_tokens, int64_t cols, int64_t t0, int64_t k0, int tid,
                          __half (*b)[G4J_MM_LDA]) {
    for (int idx = tid; idx < G4J_MM_BN * G4J_MM_BK; idx += G4J_MM_THREADS) {
        const int t = idx / G4J_MM_BK, k = idx % G4J_MM_BK;
        float v = 0.0f;
        if (t0 + t < n_tokens && k0 + k < cols) v = x[(t0 + t) * x_stride + k0 + k];
        b[t][k] = __float2half_rn(v);
    }
}

#endif
