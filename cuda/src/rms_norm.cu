/*
 * rms_norm.cu - y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight, per token.
 *
 * Thread mapping: one 256-thread block per token; each thread sums the squares of elements tid, tid + 256, ...,
 * a block reduction (block_reduce.cuh) gives the total, then each thread scales the same elements it read, so y may
 * alias x.
 */
#include "block_reduce.cuh"
#include "g4j_cuda_internal.h"

__global__ void __launch_bounds__(256)
g4j_rms_norm_kernel(int64_t dim, const float *x, const float *__restrict__ weight, float eps, float *y) {
    const int64_t t = blockIdx.x;
    const float *xt = x + t * dim;
    float *yt = y + t * dim;
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) ss = fmaf(xt[i], xt[i], ss);
    ss = g4j_block_sum(ss);
    const float scale = rsqrtf(ss / (float)dim + eps);
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) yt[i] = xt[i] * scale * weight[i];
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_rms_norm(g4j_cuda_ctx *ctx, int64_t n_tokens, int64_t dim, const float *x,
                                                     const float *weight, float eps, float *y) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_rms_norm");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(x && weight && y, "g4j_cuda_rms_norm: NULL pointer");
    G4J_ARG_CHECK(n_tokens >= 1 && n_tokens <= INT32_MAX, "g4j_cuda_rms_norm: n_tokens = %lld, must be in [1, 2^31)", (long long)n_tokens);
    G4J_ARG_CHECK(dim >= 1, "g4j_cuda_rms_norm: dim = %lld, must be >= 1", (long long)dim);
    G4J_ARG_CHECK(eps >= 0.0f, "g4j_cuda_rms_norm: eps = %g, must be >= 0", (double)eps);
    g4j_rms_norm_kernel<<<(unsigned)n_tokens, 256, 0, ctx->stream>>>(dim, x, weight, eps, y);
    G4J_LAUNCH_CHECK("rms_norm");
    return G4J_OK;
}
