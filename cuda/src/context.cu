/*
 * context.cu - contexts, device memory and transfers: no kernels, only CUDA runtime calls.
 *
 * A context is a device, a non-blocking stream, the buffers allocated through it (so that ctx_destroy frees what a
 * caller forgot), a growable scratch buffer for quantized activations, two ints of device memory where kernels
 * report preconditions they can only check on the device (attention's positions), and the graphs captured on it.
 * Every entry point first makes the context's device current (g4j_cuda_enter), so contexts on different devices
 * may be used from one thread. While a graph is being captured, the calls that would synchronize (upload, download,
 * synchronize, free) are refused: they cannot be recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "g4j_cuda_internal.h"

int g4j_cuda_ptr_push(void ***arr, int64_t *n, int64_t *cap, void *p) {
    if (*n == *cap) {
        const int64_t nc = *cap ? 2 * *cap : 16;
        void **na = (void **)realloc(*arr, (size_t)nc * sizeof *na);
        if (!na) return 0;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = p;
    return 1;
}

g4j_status g4j_cuda_enter(g4j_cuda_ctx *ctx, const char *op) {
    if (!ctx) return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "%s: ctx is NULL", op);
    G4J_CUDA_CHECK(cudaSetDevice(ctx->device), "cudaSetDevice");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_ctx_create(int32_t device, g4j_cuda_ctx **out) {
    if (!out) return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "g4j_cuda_ctx_create: out is NULL");
    *out = NULL;
    int32_t count = 0;
    g4j_status st = g4j_cuda_device_count(&count);
    if (st != G4J_OK) return st;
    if (device < 0 || device >= count)
        return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "g4j_cuda_ctx_create: device %d out of range [0, %d)", (int)device, (int)count);
    G4J_CUDA_CHECK(cudaSetDevice(device), "cudaSetDevice");
    g4j_cuda_ctx *ctx = (g4j_cuda_ctx *)calloc(1, sizeof *ctx);
    if (!ctx) return g4j_cuda_fail(G4J_E_OUT_OF_MEMORY, "g4j_cuda_ctx_create: out of host memory");
    ctx->device = device;
    cudaError_t err = cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking);
    if (err == cudaSuccess) err = cudaMalloc((void **)&ctx->dev_flags, 2 * sizeof(int));
    if (err == cudaSuccess) err = cudaMemsetAsync(ctx->dev_flags, 0, 2 * sizeof(int), ctx->stream);
    if (err != cudaSuccess) {
        g4j_cuda_ctx_destroy(ctx);
        return g4j_cuda_fail(err == cudaErrorMemoryAllocation ? G4J_E_OUT_OF_MEMORY : G4J_E_DEVICE,
                             "g4j_cuda_ctx_create: %s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
    }
    *out = ctx;
    return G4J_OK;
}

extern "C" G4J_CUDA_API void g4j_cuda_ctx_destroy(g4j_cuda_ctx *ctx) {
    if (!ctx) return;
    cudaSetDevice(ctx->device);
    if (ctx->capturing) {
        cudaGraph_t g = NULL;
        if (cudaStreamEndCapture(ctx->stream, &g) == cudaSuccess && g) cudaGraphDestroy(g);
    }
    if (ctx->stream) cudaStreamSynchronize(ctx->stream);
    for (int64_t i = 0; i < ctx->n_graphs; i++) g4j_cuda_graph_release(ctx->graphs[i]);
    for (int64_t i = 0; i < ctx->n_allocs; i++) cudaFree(ctx->allocs[i]);
    for (int64_t i = 0; i < ctx->n_retired; i++) cudaFree(ctx->retired[i]);
    if (ctx->scratch) cudaFree(ctx->scratch);
    if (ctx->dev_flags) cudaFree(ctx->dev_flags);
    if (ctx->stream) cudaStreamDestroy(ctx->stream);
    (void)cudaGetLastError();
    free(ctx->graphs);
    free(ctx->allocs);
    free(ctx->retired);
    free(ctx);
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_mem_info(g4j_cuda_ctx *ctx, int64_t *free_bytes, int64_t *total_bytes) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_mem_info");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(free_bytes && total_bytes, "g4j_cuda_mem_info: NULL output pointer");
    size_t f = 0, t = 0;
    G4J_CUDA_CHECK(cudaMemGetInfo(&f, &t), "g4j_cuda_mem_info: cudaMemGetInfo");
    *free_bytes = (int64_t)f;
    *total_bytes = (int64_t)t;
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_alloc(g4j_cuda_ctx *ctx, int64_t bytes, void **dev) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_alloc");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(dev, "g4j_cuda_alloc: dev is NULL");
    *dev = NULL;
    G4J_ARG_CHECK(bytes > 0, "g4j_cuda_alloc: bytes = %lld, must be > 0", (long long)bytes);
    void *p = NULL;
    cudaError_t err = cudaMalloc(&p, (size_t)bytes);
    size_t f = 0, t = 0;
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        cudaMemGetInfo(&f, &t);
    }
    /* an absurd size may come back as cudaErrorInvalidValue rather than cudaErrorMemoryAllocation */
    if (err == cudaErrorMemoryAllocation || (err == cudaErrorInvalidValue && (size_t)bytes > t)) {
        return g4j_cuda_fail(G4J_E_OUT_OF_MEMORY, "g4j_cuda_alloc: out of device memory: %lld bytes requested, %lld of %lld free",
                             (long long)bytes, (long long)f, (long long)t);
    }
    G4J_CUDA_CHECK(err, "g4j_cuda_alloc: cudaMalloc");
    if (!g4j_cuda_ptr_push(&ctx->allocs, &ctx->n_allocs, &ctx->cap_allocs, p)) {
        cudaFree(p);
        return g4j_cuda_fail(G4J_E_OUT_OF_MEMORY, "g4j_cuda_alloc: out of host memory");
    }
    *dev = p;
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_free(g4j_cuda_ctx *ctx, void *dev) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_free");
    if (st != G4J_OK) return st;
    if (!dev) return G4J_OK;
    G4J_ARG_CHECK(!ctx->capturing, "g4j_cuda_free: not allowed while a graph is being captured");
    for (int64_t i = 0; i < ctx->n_allocs; i++) {
        if (ctx->allocs[i] == dev) {
            ctx->allocs[i] = ctx->allocs[--ctx->n_allocs];
            G4J_CUDA_CHECK(cudaFree(dev), "g4j_cuda_free: cudaFree");
            return G4J_OK;
        }
    }
    return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "g4j_cuda_free: %p was not allocated by this context (or freed already)", dev);
}

g4j_status g4j_cuda_scratch(g4j_cuda_ctx *ctx, int64_t bytes, void **out) {
    if (bytes > ctx->scratch_bytes) {
        int64_t want = bytes + bytes / 4;
        void *p = NULL;
        cudaError_t err = cudaMalloc(&p, (size_t)want);
        if (err == cudaErrorMemoryAllocation) {
            (void)cudaGetLastError();
            return g4j_cuda_fail(G4J_E_OUT_OF_MEMORY, "matmul: out of device memory for %lld bytes of activation scratch", (long long)want);
        }
        G4J_CUDA_CHECK(err, "matmul scratch: cudaMalloc");
        if (ctx->scratch && !g4j_cuda_ptr_push(&ctx->retired, &ctx->n_retired, &ctx->cap_retired, ctx->scratch)) {
            cudaFree(p);
            return g4j_cuda_fail(G4J_E_OUT_OF_MEMORY, "matmul scratch: out of host memory");
        }
        ctx->scratch = p;
        ctx->scratch_bytes = want;
    }
    *out = ctx->scratch;
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_upload(g4j_cuda_ctx *ctx, void *dev_dst, const void *host_src, int64_t bytes) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_upload");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(dev_dst && host_src, "g4j_cuda_upload: NULL pointer");
    G4J_ARG_CHECK(bytes >= 0, "g4j_cuda_upload: bytes = %lld, must be >= 0", (long long)bytes);
    G4J_ARG_CHECK(!ctx->capturing, "g4j_cuda_upload: not allowed while a graph is being captured");
    if (bytes == 0) return G4J_OK;
    G4J_CUDA_CHECK(cudaMemcpyAsync(dev_dst, host_src, (size_t)bytes, cudaMemcpyHostToDevice, ctx->stream), "g4j_cuda_upload: cudaMemcpyAsync");
    G4J_CUDA_CHECK(cudaStreamSynchronize(ctx->stream), "g4j_cuda_upload: cudaStreamSynchronize");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_download(g4j_cuda_ctx *ctx, void *host_dst, const void *dev_src, int64_t bytes) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_download");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(host_dst && dev_src, "g4j_cuda_download: NULL pointer");
    G4J_ARG_CHECK(bytes >= 0, "g4j_cuda_download: bytes = %lld, must be >= 0", (long long)bytes);
    G4J_ARG_CHECK(!ctx->capturing, "g4j_cuda_download: not allowed while a graph is being captured");
    if (bytes == 0) return G4J_OK;
    G4J_CUDA_CHECK(cudaMemcpyAsync(host_dst, dev_src, (size_t)bytes, cudaMemcpyDeviceToHost, ctx->stream), "g4j_cuda_download: cudaMemcpyAsync");
    G4J_CUDA_CHECK(cudaStreamSynchronize(ctx->stream), "g4j_cuda_download: cudaStreamSynchronize");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_memset(g4j_cuda_ctx *ctx, void *dev, int32_t byte_value, int64_t bytes) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_memset");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(dev, "g4j_cuda_memset: dev is NULL");
    G4J_ARG_CHECK(bytes >= 0, "g4j_cuda_memset: bytes = %lld, must be >= 0", (long long)bytes);
    if (bytes == 0) return G4J_OK;
    G4J_CUDA_CHECK(cudaMemsetAsync(dev, byte_value & 0xff, (size_t)bytes, ctx->stream), "g4j_cuda_memset: cudaMemsetAsync");
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_synchronize(g4j_cuda_ctx *ctx) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_synchronize");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(!ctx->capturing, "g4j_cuda_synchronize: not allowed while a graph is being captured");
    G4J_CUDA_CHECK(cudaStreamSynchronize(ctx->stream), "g4j_cuda_synchronize (an enqueued kernel failed)");
    int flags[2] = {0, 0};
    G4J_CUDA_CHECK(cudaMemcpy(flags, ctx->dev_flags, sizeof flags, cudaMemcpyDeviceToHost), "g4j_cuda_synchronize: reading the device flags");
    if (flags[0]) {
        G4J_CUDA_CHECK(cudaMemsetAsync(ctx->dev_flags, 0, sizeof flags, ctx->stream), "g4j_cuda_synchronize: clearing the device flags");
        if (flags[0] & G4J_DEV_FLAG_ATTN_POS)
            return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "g4j_cuda_attention: *pos0 + n_tokens out of [0, n_ctx] (*pos0 = %d); "
                                 "the op did nothing", flags[1]);
        return g4j_cuda_fail(G4J_E_DEVICE, "device flag 0x%x set", flags[0]);
    }
    return G4J_OK;
}
