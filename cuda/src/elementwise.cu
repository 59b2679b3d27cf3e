/*
 * elementwise.cu - add, add_bias, scale_add, swiglu, geglu and soft_cap: one thread per float, grid-stride loops (at most 65535 * 4 blocks of
 * 256 threads, each looping), so any n works. Every thread reads its inputs before writing its output, so y may
 * alias an input.
 */
#include "g4j_cuda_internal.h"
#include "op_math.cuh"

static unsigned g4j_ew_blocks(int64_t n) {
    const int64_t b = (n + 255) / 256;
    return (unsigned)(b < 262140 ? b : 262140);
}

__global__ void g4j_add_kernel(int64_t n, const float *a, const float *b, float *y) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = a[i] + b[i];
}

__global__ void g4j_add_bias_kernel(int64_t n, int64_t dim, float *x, const float *__restrict__ bias) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        x[i] += bias[i % dim];
}

__global__ void g4j_scale_add_kernel(int64_t n, float s, const float *x, int32_t accumulate, float *y) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        y[i] = g4j_scale_add_one(x[i], s, accumulate, accumulate ? y[i] : 0.0f);
    }
}

__global__ void g4j_swiglu_kernel(int64_t n, const float *gate, const float *up, float *y) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float g = gate[i];
        y[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

__global__ void g4j_geglu_kernel(int64_t n, const float *gate, const float *up, float *y) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = g4j_geglu_one(gate[i], up[i]);
}

__global__ void g4j_soft_cap_kernel(int64_t n, float cap, const float *x, float *y) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = g4j_soft_cap(x[i], cap);
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_add(g4j_cuda_ctx *ctx, int64_t n, const float *a, const float *b, float *y) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_add");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(a && b && y, "g4j_cuda_add: NULL pointer");
    G4J_ARG_CHECK(n >= 1, "g4j_cuda_add: n = %lld, must be >= 1", (long long)n);
    g4j_add_kernel<<<g4j_ew_blocks(n), 256, 0, ctx->stream>>>(n, a, b, y);
    G4J_LAUNCH_CHECK("add");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_add_bias(g4j_cuda_ctx *ctx, int64_t n_tokens, int64_t dim, float *x, const float *bias) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_add_bias");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(x && bias, "g4j_cuda_add_bias: NULL pointer");
    G4J_ARG_CHECK(n_tokens >= 1 && dim >= 1, "g4j_cuda_add_bias: n_tokens = %lld, dim = %lld, both must be >= 1",
                  (long long)n_tokens, (long long)dim);
    g4j_add_bias_kernel<<<g4j_ew_blocks(n_tokens * dim), 256, 0, ctx->stream>>>(n_tokens * dim, dim, x, bias);
    G4J_LAUNCH_CHECK("add_bias");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_scale_add(g4j_cuda_ctx *ctx, int64_t n, float s, const float *x,
                                                     int32_t accumulate, float *y) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_scale_add");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(x && y, "g4j_cuda_scale_add: NULL pointer");
    G4J_ARG_CHECK(n >= 1, "g4j_cuda_scale_add: n = %lld, must be >= 1", (long long)n);
    g4j_scale_add_kernel<<<g4j_ew_blocks(n), 256, 0, ctx->stream>>>(n, s, x, accumulate, y);
    G4J_LAUNCH_CHECK("scale_add");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_swiglu(g4j_cuda_ctx *ctx, int64_t n, const float *gate, const float *up, float *y) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_swiglu");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(gate && up && y, "g4j_cuda_swiglu: NULL pointer");
    G4J_ARG_CHECK(n >= 1, "g4j_cuda_swiglu: n = %lld, must be >= 1", (long long)n);
    g4j_swiglu_kernel<<<g4j_ew_blocks(n), 256, 0, ctx->stream>>>(n, gate, up, y);
    G4J_LAUNCH_CHECK("swiglu");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_geglu(g4j_cuda_ctx *ctx, int64_t n, const float *gate, const float *up, float *y) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_geglu");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(gate && up && y, "g4j_cuda_geglu: NULL pointer");
    G4J_ARG_CHECK(n >= 1, "g4j_cuda_geglu: n = %lld, must be >= 1", (long long)n);
    g4j_geglu_kernel<<<g4j_ew_blocks(n), 256, 0, ctx->stream>>>(n, gate, up, y);
    G4J_LAUNCH_CHECK("geglu");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_soft_cap(g4j_cuda_ctx *ctx, int64_t n, float cap, const float *x, float *y) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_soft_cap");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(x && y, "g4j_cuda_soft_cap: NULL pointer");
    G4J_ARG_CHECK(n >= 1, "g4j_cuda_soft_cap: n = %lld, must be >= 1", (long long)n);
    G4J_ARG_CHECK(cap > 0.0f && cap < INFINITY, "g4j_cuda_soft_cap: cap = %g, must be finite and > 0", (double)cap);
    g4j_soft_cap_kernel<<<g4j_ew_blocks(n), 256, 0, ctx->stream>>>(n, cap, x, y);
    G4J_LAUNCH_CHECK("soft_cap");
    return G4J_OK;
}
