/*
 * g4j_cuda_internal.h - what the CUDA library's files share: error reporting (every CUDA runtime call goes through
 * G4J_CUDA_CHECK, which returns a g4j_status naming the call and the CUDA error; every launch through
 * G4J_LAUNCH_CHECK), the context struct, and the launchers each op file provides to the others.
 */
#ifndef G4J_CUDA_INTERNAL_H
#define G4J_CUDA_INTERNAL_H

#include <cuda_runtime.h>

#include "gguf4j_cuda.h"

g4j_status g4j_cuda_fail(g4j_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define G4J_CUDA_CHECK(call, what) do { \
        cudaError_t g4j_err_ = (call); \
        if (g4j_err_ != cudaSuccess) \
            return g4j_cuda_fail(G4J_E_DEVICE, "%s failed: %s (%s)", what, cudaGetErrorString(g4j_err_), cudaGetErrorName(g4j_err_)); \
    } while (0)

/* After a kernel launch: a launch error (bad configuration, no kernel image for this GPU) becomes G4J_E_DEVICE
 * naming the op. */
#define G4J_LAUNCH_CHECK(op) G4J_CUDA_CHECK(cudaGetLastError(), op " kernel launch")

/* Argument checks: G4J_E_INVALID_ARGUMENT naming the op, the argument, its value and the limit. */
#define G4J_ARG_CHECK(cond, ...) do { if (!(cond)) return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, __VA_ARGS__); } while (0)

/* Device-side error flags (ctx->dev_flags[0]): kernels that find a violated precondition they could only check on
 * the device set a bit and skip their work; g4j_cuda_synchronize reports and clears it. dev_flags[1] holds the
 * offending value. */
enum { G4J_DEV_FLAG_ATTN_POS = 1 };

struct g4j_cuda_ctx {
    int device;
    cudaStream_t stream;
    int capturing;              /* between graph_begin and graph_end */
    void **allocs;              /* live g4j_cuda_alloc buffers */
    int64_t n_allocs, cap_allocs;
    void *scratch;              /* quantized activations (Q8_1) for matmul */
    int64_t scratch_bytes;
    void **retired;             /* outgrown scratch buffers: a captured graph may still use them */
    int64_t n_retired, cap_retired;
    int *dev_flags;             /* 2 ints of device memory, zeroed */
    g4j_cuda_graph **graphs;
    int64_t n_graphs, cap_graphs;
};

/* Makes ctx's device current on this thread (each API entry does this: contexts on several devices may share a
 * thread). Checks ctx for NULL. */
g4j_status g4j_cuda_enter(g4j_cuda_ctx *ctx, const char *op);
/* ctx->scratch with at least bytes bytes (grown, never shrunk; the old buffer is kept until destroy). */
g4j_status g4j_cuda_scratch(g4j_cuda_ctx *ctx, int64_t bytes, void **out);
/* Appends p to a growable pointer array. */
int g4j_cuda_ptr_push(void ***arr, int64_t *n, int64_t *cap, void *p);

/* graph.cu: frees a graph's executable and graph (ctx_destroy calls it for graphs still alive). */
void g4j_cuda_graph_release(g4j_cuda_graph *graph);

/* quantize_q8_1.cu: x [n_tokens][x_stride floats] -> out [n_tokens][cols / 32] Q8_1 blocks (cols % 32 == 0). */
g4j_status g4j_cuda_launch_quantize_q8_1(cudaStream_t stream, const float *x, int64_t cols, int64_t n_tokens,
                                         int64_t x_stride, void *out);
/* matmul_vec.cu: n_tokens <= G4J_MATVEC_MAX_TOKENS. q8 is x quantized (quantized types only). */
#define G4J_MATVEC_MAX_TOKENS 8
g4j_status g4j_cuda_launch_matvec(cudaStream_t stream, int32_t type, const void *w, int64_t rows, int64_t cols,
                                  int64_t row_bytes, int64_t n_tokens, const float *x, int64_t x_stride,
                                  const void *q8, float *y, int64_t y_stride);
/* matmul_mma.cu: quantized types, any n_tokens (meant for > 8): tensor-core tiles of dequantized weights. */
g4j_status g4j_cuda_launch_matmul_mma(cudaStream_t stream, int32_t type, const void *w, int64_t rows, int64_t cols,
                                      int64_t row_bytes, int64_t n_tokens, const float *x, int64_t x_stride, float *y,
                                      int64_t y_stride);

#endif
