/*
 * matmul_mma.cu - matrix times many vectors (n_tokens > 8, prompt processing) on tensor cores.
 *
 * Each 128-thread block computes a 64-row x 64-token tile of Y. Per step of 64 columns (two 32-weight units):
 * the 128 threads dequantize the 64 x 2 weight units (blocks.cuh g4j_dequant_unit, one unit per thread) into a
 * shared F16 tile, and load the 64 tokens x 64 activations as F16 into another; then the 4 warps (2 x 2, each
 * owning 32 x 32 of the tile) run wmma 16x16x16 F16 multiplies with F32 accumulators. At the end the accumulators
 * go through shared memory so that Y (token-major) is written coalesced, with row/token bounds checks. Rows and
 * tokens past the edges are zero-padded; a trailing half step (cols % 64 == 32) is zero-padded too.
 *
 * The two tile loads are matmul_lanes.cuh's g4j_mm_load_w / g4j_mm_load_x (__host__ __device__): the host test runs
 * them for all 128 threads and multiplies the tiles itself, checking the tiling against libgguf4j.
 *
 * Precision: weights and activations rounded to F16 (11-bit significands) instead of Q8_1, accumulation in F32;
 * activations must stay below 65504 in magnitude.
 *
 * What a faster kernel would need (llama.cpp's mmq): int8 mma (m16n8k32) on the raw quants against Q8_1
 * activations with the scales applied per block in registers, larger tiles (128 x 128) with double-buffered
 * cp.async loads, and ldmatrix-friendly swizzled shared layouts; the dequantize-to-F16 staging here costs ALU and
 * shared bandwidth that mmq avoids.
 */
#include <mma.h>

#include "blocks.cuh"
#include "g4j_cuda_internal.h"
#include "matmul_lanes.cuh"

using namespace nvcuda;


struct g4j_mm_smem {
    union {
        struct {
            __half a[G4J_MM_BM][G4J_MM_LDA]; /* weights [row][k] */
            __half b[G4J_MM_BN][G4J_MM_LDA]; /* activations [token][k] */
        } in;
        float c[G4J_MM_BN][G4J_MM_LDC];      /* result [token][row] */
    };
};

template <int T>
__global__ void __launch_bounds__(128)
g4j_matmul_mma_kernel(const uint8_t *__restrict__ w, int64_t rows, int64_t cols, int64_t row_bytes, int64_t n_tokens,
                      const float *__restrict__ x, int64_t x_stride, float *__restrict__ y, int64_t y_stride) {
    __shared__ __align__(32) g4j_mm_smem sm;
    const int tid = threadIdx.x, warp = tid / 32;
    const int wm = warp / 2, wn = warp % 2;
    const int64_t r0 = (int64_t)blockIdx.x * G4J_MM_BM, t0 = (int64_t)blockIdx.y * G4J_MM_BN;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int64_t k0 = 0; k0 < cols; k0 += G4J_MM_BK) {
        g4j_mm_load_w<T>(w, rows, cols, row_bytes, r0, k0, tid, sm.in.a);
        g4j_mm_load_x(x, x_stride, n_tokens, cols, t0, k0, tid, sm.in.b);
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < G4J_MM_BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], &sm.in.a[wm * 32 + i * 16][kk], G4J_MM_LDA);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &sm.in.b[wn * 32 + j * 16][kk], G4J_MM_LDA);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads();
    }
    /* C[row][token] stored column-major = [token][row] */
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(&sm.c[wn * 32 + j * 16][wm * 32 + i * 16], acc[i][j], G4J_MM_LDC, wmma::mem_col_major);
    __syncthreads();
    for (int idx = tid; idx < G4J_MM_BN * G4J_MM_BM; idx += 128) {
        const int t = idx / G4J_MM_BM, r = idx % G4J_MM_BM;
        if (t0 + t < n_tokens && r0 + r < rows) y[(t0 + t) * y_stride + r0 + r] = sm.c[t][r];
    }
}

g4j_status g4j_cuda_launch_matmul_mma(cudaStream_t stream, int32_t type, const void *w, int64_t rows, int64_t cols,
                                      int64_t row_bytes, int64_t n_tokens, const float *x, int64_t x_stride, float *y,
                                      int64_t y_stride) {
    const int64_t gy = (n_tokens + G4J_MM_BN - 1) / G4J_MM_BN;
    if (gy > 65535)
        return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "g4j_cuda_matmul: n_tokens = %lld, limit %d", (long long)n_tokens, 65535 * G4J_MM_BN);
    const dim3 grid((unsigned)((rows + G4J_MM_BM - 1) / G4J_MM_BM), (unsigned)gy);
    const uint8_t *wb = (const uint8_t *)w;
    switch (type) {
#define X(T) case T: g4j_matmul_mma_kernel<T><<<grid, 128, 0, stream>>>(wb, rows, cols, row_bytes, n_tokens, x, x_stride, y, y_stride); break;
        G4J_FOR_QUANT_TYPES(X)
#undef X
    default: return g4j_cuda_fail(G4J_E_UNSUPPORTED_TYPE, "matmul (tensor cores): type %d has no CUDA kernel", (int)type);
    }
    G4J_LAUNCH_CHECK("matmul (tensor cores)");
    return G4J_OK;
}
