/*
 * matmul.cu - g4j_cuda_matmul: checks the arguments and picks the kernel (no kernels of its own).
 *
 *   quantized weights, n_tokens <= 8:  quantize x to Q8_1 (quantize_q8_1.cu) into the context's scratch, then the
 *                                      dp4a matrix-vector kernel (matmul_vec.cu);
 *   quantized weights, n_tokens > 8:   the tensor-core kernel on dequantized F16 tiles (matmul_mma.cu);
 *   F32 / F16 / BF16 weights:          the FMA matrix-vector kernel, over chunks of 8 tokens.
 */
#include "blocks.cuh"
#include "g4j_cuda_internal.h"

extern "C" G4J_CUDA_API g4j_status g4j_cuda_matmul(g4j_cuda_ctx *ctx, int32_t type, const void *w, int64_t rows,
                                                   int64_t cols, int64_t row_bytes, int64_t n_tokens, const float *x,
                                                   int64_t x_stride, float *y, int64_t y_stride) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_matmul");
    if (st != G4J_OK) return st;
    int64_t be = 0, bb = 0;
    int quantized = 0;
    if (!g4j_cuda_type_geometry(type, &be, &bb, &quantized))
        return g4j_cuda_fail(G4J_E_UNSUPPORTED_TYPE, "g4j_cuda_matmul: type %d has no CUDA kernel", (int)type);
    G4J_ARG_CHECK(w && x && y, "g4j_cuda_matmul: NULL pointer (w %p, x %p, y %p)", w, (const void *)x, (void *)y);
    G4J_ARG_CHECK(rows >= 1 && rows <= (int64_t)1 << 31, "g4j_cuda_matmul: rows = %lld, must be in [1, 2^31]", (long long)rows);
    G4J_ARG_CHECK(cols >= 1 && cols % be == 0, "g4j_cuda_matmul: cols = %lld, must be a positive multiple of %lld (type %d)",
                  (long long)cols, (long long)be, (int)type);
    G4J_ARG_CHECK(row_bytes >= cols / be * bb, "g4j_cuda_matmul: row_bytes = %lld, a row of %lld elements needs %lld",
                  (long long)row_bytes, (long long)cols, (long long)(cols / be * bb));
    const int64_t align = type == G4J_TYPE_F32 ? 4 : 2;
    G4J_ARG_CHECK(row_bytes % align == 0 && (uintptr_t)w % align == 0,
                  "g4j_cuda_matmul: w %p and row_bytes %lld must be %lld-byte aligned", w, (long long)row_bytes, (long long)align);
    G4J_ARG_CHECK(n_tokens >= 1, "g4j_cuda_matmul: n_tokens = %lld, must be >= 1", (long long)n_tokens);
    G4J_ARG_CHECK(x_stride >= cols, "g4j_cuda_matmul: x_stride = %lld, must be >= cols = %lld", (long long)x_stride, (long long)cols);
    G4J_ARG_CHECK(y_stride >= rows, "g4j_cuda_matmul: y_stride = %lld, must be >= rows = %lld", (long long)y_stride, (long long)rows);
    G4J_ARG_CHECK((uintptr_t)x % 4 == 0 && (uintptr_t)y % 4 == 0, "g4j_cuda_matmul: x and y must be 4-byte aligned");

    if (quantized && n_tokens > G4J_MATVEC_MAX_TOKENS)
        return g4j_cuda_launch_matmul_mma(ctx->stream, type, w, rows, cols, row_bytes, n_tokens, x, x_stride, y, y_stride);
    if (quantized) {
        void *q8 = NULL;
        st = g4j_cuda_scratch(ctx, n_tokens * (cols / 32) * (int64_t)sizeof(g4j_block_q8_1), &q8);
        if (st != G4J_OK) return st;
        st = g4j_cuda_launch_quantize_q8_1(ctx->stream, x, cols, n_tokens, x_stride, q8);
        if (st != G4J_OK) return st;
        return g4j_cuda_launch_matvec(ctx->stream, type, w, rows, cols, row_bytes, n_tokens, x, x_stride, q8, y, y_stride);
    }
    for (int64_t t = 0; t < n_tokens; t += G4J_MATVEC_MAX_TOKENS) {
        const int64_t nt = n_tokens - t < G4J_MATVEC_MAX_TOKENS ? n_tokens - t : G4J_MATVEC_MAX_TOKENS;
        st = g4j_cuda_launch_matvec(ctx->stream, type, w, rows, cols, row_bytes, nt, x + t * x_stride, x_stride, NULL,
                                    y + t * y_stride, y_stride);
        if (st != G4J_OK) return st;
    }
    return G4J_OK;
}

extern "C" G4J_CUDA_API int32_t g4j_cuda_matmul_supports(int32_t type) {
    int64_t be = 0, bb = 0;
    int quantized = 0;
    return g4j_cuda_type_geometry(type, &be, &bb, &quantized) ? 1 : 0;
}
