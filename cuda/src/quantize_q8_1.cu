/*
 * quantize_q8_1.cu - F32 activations to Q8_1 blocks, the input of the integer (dp4a) matrix-vector kernels.
 *
 * Thread mapping: one warp per block of 32 values, one lane per value; 8 warps per thread block; grid
 * (ceil(blocks per token / 8), n_tokens). The warp reduces |x| to amax and the quants to their sum with shuffles;
 * lane 0 writes d and s. The arithmetic is blocks.cuh's g4j_q8_1_* (host-tested bit-identical to libgguf4j's
 * Q8_1 conversion): d = amax / 127, q = rint(x * 127 / amax), s = d * sum(q).
 */
#include "blocks.cuh"
#include "g4j_cuda_internal.h"

__global__ void g4j_quantize_q8_1_kernel(const float *__restrict__ x, int64_t blocks_per_token, int64_t x_stride,
                                         g4j_block_q8_1 *__restrict__ out) {
    const int64_t b = (int64_t)blockIdx.x * 8 + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (b >= blocks_per_token) return;
    const int64_t t = blockIdx.y;
    const float v = x[t * x_stride + b * 32 + lane];
    float amax = fabsf(v);
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const g4j_q8_1_params p = g4j_q8_1_scale(amax);
    const int q = g4j_q8_1_quant(v, p.id);
    int sum = q;
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    g4j_block_q8_1 *blk = out + t * blocks_per_token + b;
    blk->qs[lane] = (int8_t)q;
    if (lane == 0) {
        blk->d = g4j_f2h(p.d);
        blk->s = g4j_f2h(p.d * (float)sum);
    }
}

g4j_status g4j_cuda_launch_quantize_q8_1(cudaStream_t stream, const float *x, int64_t cols, int64_t n_tokens,
                                         int64_t x_stride, void *out) {
    const int64_t blocks = cols / 32;
    dim3 grid((unsigned)((blocks + 7) / 8), (unsigned)n_tokens);
    g4j_quantize_q8_1_kernel<<<grid, 256, 0, stream>>>(x, blocks, x_stride, (g4j_block_q8_1 *)out);
    G4J_LAUNCH_CHECK("quantize_q8_1");
    return G4J_OK;
}
