/*
 * argmax.cu - *out = index of the largest of n floats, the lowest index among equals; NaN never wins (with only
 * NaNs the result is 0). The tie rule is op_math.cuh's g4j_argmax_better (host-tested).
 *
 * Thread mapping: a single 1024-thread block (vocabularies are ~32k-256k floats: one pass of coalesced reads). Each
 * thread scans i = tid, tid + 1024, ... keeping its best (value, index); warps reduce with shuffles under the same
 * rule (which is associative and commutative, so the order does not matter), then warp 0 reduces the 32 warp
 * winners and thread 0 writes the index.
 */
#include <stdint.h>

#include "g4j_cuda_internal.h"
#include "op_math.cuh"

__device__ __forceinline__ void g4j_argmax_warp(float *v, int32_t *i) {
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, *v, o);
        const int32_t oi = __shfl_xor_sync(0xffffffffu, *i, o);
        if (g4j_argmax_better(ov, oi, *v, *i)) { *v = ov; *i = oi; }
    }
}

__global__ void __launch_bounds__(1024) g4j_argmax_kernel(int64_t n, const float *__restrict__ x, int32_t *out) {
    __shared__ float sv[32];
    __shared__ int32_t si[32];
    float bv = -INFINITY;
    int32_t bi = INT32_MAX;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
        if (g4j_argmax_better(x[i], (int32_t)i, bv, bi)) { bv = x[i]; bi = (int32_t)i; }
    g4j_argmax_warp(&bv, &bi);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) { sv[warp] = bv; si[warp] = bi; }
    __syncthreads();
    if (warp == 0) {
        bv = sv[lane];
        bi = si[lane];
        g4j_argmax_warp(&bv, &bi);
        if (lane == 0) *out = bi == INT32_MAX ? 0 : bi;
    }
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_argmax(g4j_cuda_ctx *ctx, int64_t n, const float *x, int32_t *out) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_argmax");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(x && out, "g4j_cuda_argmax: NULL pointer");
    G4J_ARG_CHECK(n >= 1 && n < INT32_MAX, "g4j_cuda_argmax: n = %lld, must be in [1, 2^31 - 1)", (long long)n);
    g4j_argmax_kernel<<<1, 1024, 0, ctx->stream>>>(n, x, out);
    G4J_LAUNCH_CHECK("argmax");
    return G4J_OK;
}
