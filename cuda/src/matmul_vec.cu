/*
 * matmul_vec.cu - matrix times a few vectors (n_tokens <= 8): decode-time matmul, bound by reading the weights.
 *
 * Quantized weights: the activations were quantized to Q8_1 first (quantize_q8_1.cu). One warp per weight row,
 * 4 rows per 128-thread block. Lane l walks the row's units (32 weights each) l, l + 32, ...: it decodes the unit's
 * quants and scales once (blocks.cuh g4j_unit_words / g4j_unit_params) and dots them with every token's Q8_1 block
 * with dp4a (g4j_dot_prepared), keeping NT float sums; a shuffle reduction per token ends the row, lane 0 writes.
 * The weights are read once for all NT tokens.
 *
 * Float weights (F32, F16, BF16): the same warp-per-row mapping, lanes over elements (coalesced), FMA against the
 * F32 activations, no quantization.
 *
 * A lane's share of a row is matmul_lanes.cuh's g4j_matvec_q_lane / g4j_matvec_f_lane (__host__ __device__), which
 * the host test runs for all 32 lanes and sums, as the shuffle reduction here does.
 *
 * What a faster kernel would do (llama.cpp's mmvq): 16-byte vector loads of several units per lane, two or more
 * rows per warp to hide latency, and the Q8_1 activations staged in shared memory.
 */
#include "blocks.cuh"
#include "g4j_cuda_internal.h"
#include "matmul_lanes.cuh"

#define G4J_MV_ROWS 4 /* warps (rows) per block */

template <int T, int NT>
__global__ void __launch_bounds__(32 * G4J_MV_ROWS)
g4j_matvec_q_kernel(const uint8_t *__restrict__ w, int64_t rows, int64_t units, int64_t row_bytes,
                    const g4j_block_q8_1 *__restrict__ q8, float *__restrict__ y, int64_t y_stride) {
    const int64_t r = (int64_t)blockIdx.x * G4J_MV_ROWS + threadIdx.y;
    if (r >= rows) return;
    float acc[NT];
    g4j_matvec_q_lane<T, NT>(w + r * row_bytes, units, (int)threadIdx.x, q8, acc);
#pragma unroll
    for (int t = 0; t < NT; t++) {
        float v = acc[t];
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) y[t * y_stride + r] = v;
    }
}

template <int T, int NT>
__global__ void __launch_bounds__(32 * G4J_MV_ROWS)
g4j_matvec_f_kernel(const uint8_t *__restrict__ w, int64_t rows, int64_t cols, int64_t row_bytes,
                    const float *__restrict__ x, int64_t x_stride, float *__restrict__ y, int64_t y_stride) {
    const int64_t r = (int64_t)blockIdx.x * G4J_MV_ROWS + threadIdx.y;
    if (r >= rows) return;
    float acc[NT];
    g4j_matvec_f_lane<T, NT>(w + r * row_bytes, cols, (int)threadIdx.x, x, x_stride, acc);
#pragma unroll
    for (int t = 0; t < NT; t++) {
        float v = acc[t];
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) y[t * y_stride + r] = v;
    }
}

template <int T, int NT>
static void launch_q(cudaStream_t s, dim3 grid, dim3 block, const void *w, int64_t rows, int64_t cols,
                     int64_t row_bytes, const void *q8, float *y, int64_t y_stride) {
    g4j_matvec_q_kernel<T, NT><<<grid, block, 0, s>>>((const uint8_t *)w, rows, cols / 32, row_bytes,
                                                     (const g4j_block_q8_1 *)q8, y, y_stride);
}
template <int T, int NT>
static void launch_f(cudaStream_t s, dim3 grid, dim3 block, const void *w, int64_t rows, int64_t cols,
                     int64_t row_bytes, const float *x, int64_t x_stride, float *y, int64_t y_stride) {
    g4j_matvec_f_kernel<T, NT><<<grid, block, 0, s>>>((const uint8_t *)w, rows, cols, row_bytes, x, x_stride, y, y_stride);
}

#define G4J_NT_SWITCH(FN, T, ...) switch (n_tokens) { \
    case 1: FN<T, 1>(__VA_ARGS__); break; case 2: FN<T, 2>(__VA_ARGS__); break; \
    case 3: FN<T, 3>(__VA_ARGS__); break; case 4: FN<T, 4>(__VA_ARGS__); break; \
    case 5: FN<T, 5>(__VA_ARGS__); break; case 6: FN<T, 6>(__VA_ARGS__); break; \
    case 7: FN<T, 7>(__VA_ARGS__); break; default: FN<T, 8>(__VA_ARGS__); break; }

g4j_status g4j_cuda_launch_matvec(cudaStream_t stream, int32_t type, const void *w, int64_t rows, int64_t cols,
                                  int64_t row_bytes, int64_t n_tokens, const float *x, int64_t x_stride,
                                  const void *q8, float *y, int64_t y_stride) {
    if (n_tokens < 1 || n_tokens > G4J_MATVEC_MAX_TOKENS)
        return g4j_cuda_fail(G4J_E_INTERNAL, "matvec: n_tokens %lld out of [1, %d]", (long long)n_tokens, G4J_MATVEC_MAX_TOKENS);
    const dim3 grid((unsigned)((rows + G4J_MV_ROWS - 1) / G4J_MV_ROWS)), block(32, G4J_MV_ROWS);
    switch (type) {
    case G4J_TYPE_F32: G4J_NT_SWITCH(launch_f, G4J_TYPE_F32, stream, grid, block, w, rows, cols, row_bytes, x, x_stride, y, y_stride) break;
    case G4J_TYPE_F16: G4J_NT_SWITCH(launch_f, G4J_TYPE_F16, stream, grid, block, w, rows, cols, row_bytes, x, x_stride, y, y_stride) break;
    case G4J_TYPE_BF16: G4J_NT_SWITCH(launch_f, G4J_TYPE_BF16, stream, grid, block, w, rows, cols, row_bytes, x, x_stride, y, y_stride) break;
#define X(T) case T: G4J_NT_SWITCH(launch_q, T, stream, grid, block, w, rows, cols, row_bytes, q8, y, y_stride) break;
        G4J_FOR_QUANT_TYPES(X)
#undef X
    default: return g4j_cuda_fail(G4J_E_UNSUPPORTED_TYPE, "matvec: type %d has no CUDA kernel", (int)type);
    }
    G4J_LAUNCH_CHECK("matmul (matrix-vector)");
    return G4J_OK;
}
