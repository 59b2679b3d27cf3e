/*
 * gguf4j_cuda.h - the C ABI of libgguf4j_cuda, gguf4j's GPU library. Same rules as gguf4j.h (whose status
 * codes it uses): g4j_cuda_ prefix, sized types, a status from every fallible call, a thread-local message
 * from g4j_cuda_last_error(), never an abort, an exit or a print.
 *
 * The library links the CUDA runtime statically: at run time it needs only the NVIDIA driver. Without a
 * driver or a GPU, g4j_cuda_device_count() reports zero devices and says why; nothing crashes.
 */
#ifndef GGUF4J_CUDA_H
#define GGUF4J_CUDA_H

#include <stdint.h>

#include "gguf4j.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(G4J_CUDA_BUILDING_LIBRARY) && defined(__GNUC__)
#define G4J_CUDA_API __attribute__((visibility("default")))
#else
#define G4J_CUDA_API
#endif

#define G4J_CUDA_ABI_VERSION 5

typedef struct g4j_cuda_device_info {
    char name[256];
    int64_t total_memory_bytes;
    int64_t free_memory_bytes;
    int32_t compute_major;
    int32_t compute_minor;
    int32_t multiprocessors;
    int32_t reserved;
} g4j_cuda_device_info;

G4J_CUDA_API uint32_t g4j_cuda_abi_version(void);
/* Message of the last failure on this thread, "" if none. */
G4J_CUDA_API const char *g4j_cuda_last_error(void);
/* CUDA runtime version this library was built with (e.g. 13000 for 13.0). */
G4J_CUDA_API int32_t g4j_cuda_runtime_version(void);
/* Driver's CUDA version, 0 when no driver is installed. */
G4J_CUDA_API int32_t g4j_cuda_driver_version(void);
/* Number of usable devices. With no driver or no GPU: *count = 0 and G4J_E_NO_DEVICE, the message says why. */
G4J_CUDA_API g4j_status g4j_cuda_device_count(int32_t *count);
/* Properties and current free memory of a device. */
G4J_CUDA_API g4j_status g4j_cuda_device_info_get(int32_t device, g4j_cuda_device_info *info);

/* ---- contexts, device memory, transfers ---------------------------------------------------------------------
 * A context is one device and one stream with its scratch (activation quantization buffers, reduction space). It
 * is not thread-safe: a session owns one. Device memory comes from cudaMalloc (never managed memory); everything
 * a context allocated is freed by g4j_cuda_ctx_destroy. */
typedef struct g4j_cuda_ctx g4j_cuda_ctx;
typedef struct g4j_cuda_graph g4j_cuda_graph;

G4J_CUDA_API g4j_status g4j_cuda_ctx_create(int32_t device, g4j_cuda_ctx **out);
/* Frees the context's stream, scratch, graphs and every buffer still allocated through it. NULL is a no-op. */
G4J_CUDA_API void g4j_cuda_ctx_destroy(g4j_cuda_ctx *ctx);
G4J_CUDA_API g4j_status g4j_cuda_mem_info(g4j_cuda_ctx *ctx, int64_t *free_bytes, int64_t *total_bytes);
/* *dev = bytes of device memory (256-byte aligned). G4J_E_OUT_OF_MEMORY names the request and the free memory. */
G4J_CUDA_API g4j_status g4j_cuda_alloc(g4j_cuda_ctx *ctx, int64_t bytes, void **dev);
G4J_CUDA_API g4j_status g4j_cuda_free(g4j_cuda_ctx *ctx, void *dev);
/* Host -> device copy, ordered on the stream; returns when host_src may be reused. */
G4J_CUDA_API g4j_status g4j_cuda_upload(g4j_cuda_ctx *ctx, void *dev_dst, const void *host_src, int64_t bytes);
/* Device -> host copy after everything enqueued so far; returns when host_dst holds the bytes. */
G4J_CUDA_API g4j_status g4j_cuda_download(g4j_cuda_ctx *ctx, void *host_dst, const void *dev_src, int64_t bytes);
G4J_CUDA_API g4j_status g4j_cuda_memset(g4j_cuda_ctx *ctx, void *dev, int32_t byte_value, int64_t bytes);
/* Waits for the stream; reports an asynchronous kernel failure (G4J_E_DEVICE naming the op) if one happened. */
G4J_CUDA_API g4j_status g4j_cuda_synchronize(g4j_cuda_ctx *ctx);

/* ---- ops ---------------------------------------------------------------------------------------------------
 * Enqueued on the context's stream; every pointer is a device pointer unless named host_; activations are F32,
 * row-major [tokens][dim]. Arguments are checked before anything is enqueued (G4J_E_INVALID_ARGUMENT naming the
 * argument, value and limit); a failed launch is G4J_E_DEVICE naming the op. */

/* Y[t][r] = dot(row r of W, X[t]) for t < n_tokens, r < rows: W holds rows rows of cols elements of ggml type
 * `type` (any type libgguf4j has a dot kernel for: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K..Q6_K IQ4_NL
 * IQ4_XS), row_bytes apart. X rows are x_stride floats apart, Y rows y_stride. Activations are quantized on the
 * device where the kernel uses integer dot products (Q8_1 blocks, as llama.cpp's CUDA backend does), so results
 * match libgguf4j's CPU kernels to a tolerance, not bit for bit. n_tokens == 1 is the matrix-vector path. */
G4J_CUDA_API g4j_status g4j_cuda_matmul(g4j_cuda_ctx *ctx, int32_t type, const void *w, int64_t rows, int64_t cols,
                                        int64_t row_bytes, int64_t n_tokens, const float *x, int64_t x_stride,
                                        float *y, int64_t y_stride);
/* 1 if g4j_cuda_matmul takes weights of ggml type `type`, else 0: the library's own answer (its type table), which
 * callers ask instead of keeping a list. Needs no device or context. */
G4J_CUDA_API int32_t g4j_cuda_matmul_supports(int32_t type);
/* y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight, per token; y may alias x. */
G4J_CUDA_API g4j_status g4j_cuda_rms_norm(g4j_cuda_ctx *ctx, int64_t n_tokens, int64_t dim, const float *x,
                                          const float *weight, float eps, float *y);
/* y = a + b over n floats; y may alias a or b. */
G4J_CUDA_API g4j_status g4j_cuda_add(g4j_cuda_ctx *ctx, int64_t n, const float *a, const float *b, float *y);
/* x[t] += bias for every token (qwen2's q/k/v biases). */
G4J_CUDA_API g4j_status g4j_cuda_add_bias(g4j_cuda_ctx *ctx, int64_t n_tokens, int64_t dim, float *x,
                                          const float *bias);
/* y = s * x (accumulate 0) or y = y + s * x (accumulate 1) over n floats, the product rounded before the sum (no
 * fused multiply-add: the CPU's weighted sum of a mixture-of-experts layer); y may alias x. */
G4J_CUDA_API g4j_status g4j_cuda_scale_add(g4j_cuda_ctx *ctx, int64_t n, float s, const float *x, int32_t accumulate,
                                           float *y);
/* y = silu(gate) * up over n floats; y may alias gate or up. */
G4J_CUDA_API g4j_status g4j_cuda_swiglu(g4j_cuda_ctx *ctx, int64_t n, const float *gate, const float *up, float *y);
/* y = gelu(gate) * up over n floats (gemma's GEGLU), GELU as ggml's CPU computes it: 0 for gate <= -10, gate for
 * gate >= 10, else the tanh GELU of gate rounded to binary16, evaluated in float and rounded to binary16 (the
 * entry of ggml's F16 GELU table); y may alias gate or up. */
G4J_CUDA_API g4j_status g4j_cuda_geglu(g4j_cuda_ctx *ctx, int64_t n, const float *gate, const float *up, float *y);
/* y = tanhf(x * (1 / cap)) * cap over n floats (gemma2's final logit soft-capping), cap > 0; y may alias x. */
G4J_CUDA_API g4j_status g4j_cuda_soft_cap(g4j_cuda_ctx *ctx, int64_t n, float cap, const float *x, float *y);
/* RoPE in place on x [n_tokens][n_heads][head_dim], token t at position *pos0 + t (pos0 is a device int, so a
 * captured graph replays with a new position). The first n_rot dimensions rotate: pairs (2i, 2i+1) when neox
 * is 0 (llama), (i, i + n_rot/2) when 1 (qwen2). theta_extrap_i = pos * freq_base^(-2i/n_rot), divided by
 * freq_factors[i] when that (device, n_rot/2 floats) is not NULL (llama3 rope_freqs, LongRoPE's long or short
 * factors); theta_interp_i = freq_scale * theta_extrap_i. As ggml's rope_yarn: with ext_factor 0 the angle is
 * theta_interp and cos, sin are multiplied by attn_factor (1: plain RoPE); with ext_factor != 0 (YaRN) the angle
 * is theta_interp (1 - mix) + theta_extrap mix, mix = ext_factor (1 - clamp((i - corr_lo) / max(0.001,
 * corr_hi - corr_lo), 0, 1)), and cos, sin are multiplied by attn_factor (1 + 0.1 ln(1 / freq_scale)). */
G4J_CUDA_API g4j_status g4j_cuda_rope(g4j_cuda_ctx *ctx, int32_t neox, int64_t n_tokens, int64_t n_heads,
                                      int64_t head_dim, int64_t n_rot, const int32_t *pos0, float freq_base,
                                      float freq_scale, float ext_factor, float attn_factor, float corr_lo,
                                      float corr_hi, const float *freq_factors, float *x);
/* Causal attention with a KV cache in device memory. kv_type is G4J_TYPE_F16 or G4J_TYPE_F32; k_cache and v_cache
 * hold n_ctx positions of [n_head_kv][head_dim]. Stores k, v [n_tokens][n_head_kv][head_dim] at positions
 * *pos0 .. *pos0 + n_tokens - 1 (converted to kv_type), then for token t and head h (grouped: KV head
 * h / (n_head / n_head_kv)) out[t][h] = softmax(scale * cap(q[t][h] . K[p0 .. *pos0 + t])) V. soft_cap > 0 caps each
 * product d as soft_cap * tanhf(d * (1 / soft_cap)) (gemma2), 0: no cap; window > 0 lets the query at position p
 * see positions (p - window, p] only (sliding window: p0 = max(0, p + 1 - window)), 0: every earlier position.
 * q and out are [n_tokens][n_head][head_dim]. *pos0 + n_tokens must not exceed n_ctx (checked on the device; a
 * violation is reported by the next synchronize). */
G4J_CUDA_API g4j_status g4j_cuda_attention(g4j_cuda_ctx *ctx, int32_t kv_type, int64_t n_tokens, const int32_t *pos0,
                                           int64_t n_ctx, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                                           const float *q, const float *k, const float *v, void *k_cache,
                                           void *v_cache, float scale, float soft_cap, int32_t window, float *out);
/* *out (device int) = the index of the largest of n floats (the lowest index among equals), for greedy sampling
 * without copying the logits. */
G4J_CUDA_API g4j_status g4j_cuda_argmax(g4j_cuda_ctx *ctx, int64_t n, const float *x, int32_t *out);

/* ---- graphs: the per-token step captured once, replayed each token ------------------------------------------
 * Ops enqueued between begin and end are recorded, not run (their argument checks still happen); launch replays
 * them on the context's stream. Pointers are baked in: change inputs through device memory (e.g. pos0). */
G4J_CUDA_API g4j_status g4j_cuda_graph_begin(g4j_cuda_ctx *ctx);
G4J_CUDA_API g4j_status g4j_cuda_graph_end(g4j_cuda_ctx *ctx, g4j_cuda_graph **out);
G4J_CUDA_API g4j_status g4j_cuda_graph_launch(g4j_cuda_ctx *ctx, g4j_cuda_graph *graph);
G4J_CUDA_API void g4j_cuda_graph_destroy(g4j_cuda_ctx *ctx, g4j_cuda_graph *graph);

#ifdef __cplusplus
}
#endif

#endif /* GGUF4J_CUDA_H */
