/*
 * attention.cu - causal attention over a KV cache in device memory (F16 or F32), grouped-query heads.
 *
 * Two kernels on the stream:
 *  1. store: one thread per element of k and v [n_tokens][n_head_kv][head_dim]; writes them (converted to the cache
 *     type) at positions *pos0 .. *pos0 + n_tokens - 1. pos0 is read on the device (graphs replay with a new one);
 *     if *pos0 < 0 or *pos0 + n_tokens > n_ctx, it sets the context's device flag (reported by the next
 *     g4j_cuda_synchronize) and neither kernel does anything.
 *  2. attend: one 512-thread block (16 warps) per (head, token); grid (n_head, n_tokens). Lane l holds q and the
 *     output accumulator for dimensions l, l + 32, ... (head_dim <= 256: at most 8 per lane). Warp w takes cache
 *     positions first + w, first + w + 16, ... <= *pos0 + t (first: 0, or the sliding window's first position,
 *     op_math.cuh g4j_attn_first_pos), 4 at a time (independent loads and reductions overlap): the warp's lanes
 *     dot q with the position's key (shuffle reduction), soft-cap and scale it (g4j_attn_score), and
 *     fold the score into the warp's online-softmax state (op_math.cuh g4j_softmax_add: running max m, sum l, and
 *     acc = acc * corr + p * v). The 16 warp states are merged through shared memory (g4j_softmax_rescale) and
 *     out = acc / l.
 *
 * The per-lane work is attention_lanes.cuh's (__host__ __device__), which the host test runs for every lane of every
 * warp, the score reduction done as a plain sum.
 *
 * Limits: head_dim <= 256 (checked by the launcher), n_tokens <= 65535, n_head a multiple of n_head_kv.
 * What a faster decode kernel would do (llama.cpp's fattn-vec): split the positions of one head over several blocks
 * (flash-decoding) and combine, load K/V as half2 vectors, and score several positions per warp at once; prefill
 * would use tensor-core tiles (fattn-mma).
 */
#include "attention_lanes.cuh"
#include "g4j_cuda_internal.h"

template <typename KV>
__global__ void g4j_kv_store_kernel(int64_t n_tokens, const int32_t *__restrict__ pos0, int64_t n_ctx, int64_t row,
                                    const float *__restrict__ k, const float *__restrict__ v, KV *k_cache, KV *v_cache,
                                    int *flags) {
    const int32_t p0 = *pos0;
    if (!g4j_attn_pos_ok(p0, n_tokens, n_ctx)) {
        if (blockIdx.x == 0 && threadIdx.x == 0) {
            atomicOr(&flags[0], G4J_DEV_FLAG_ATTN_POS);
            flags[1] = p0;
        }
        return;
    }
    const int64_t n = n_tokens * row;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t dst = g4j_attn_store_index(p0, row, i);
        g4j_kv_put(k_cache, dst, k[i]);
        g4j_kv_put(v_cache, dst, v[i]);
    }
}

template <typename KV>
__global__ void __launch_bounds__(32 * G4J_ATT_WARPS)
g4j_attention_kernel(int64_t n_tokens, const int32_t *__restrict__ pos0, int64_t n_ctx, int64_t n_head,
                     int64_t n_head_kv, int head_dim, const float *__restrict__ q, const KV *__restrict__ k_cache,
                     const KV *__restrict__ v_cache, float scale, float soft_cap, int32_t window,
                     float *__restrict__ out) {
    __shared__ float sm_m[G4J_ATT_WARPS], sm_l[G4J_ATT_WARPS];
    __shared__ float sm_acc[G4J_ATT_WARPS][G4J_ATT_MAX_DIM];
    const int32_t p0 = *pos0;
    if (!g4j_attn_pos_ok(p0, n_tokens, n_ctx)) return;
    const int64_t h = blockIdx.x, t = blockIdx.y;
    const int64_t kvh = g4j_attn_kv_head(h, n_head, n_head_kv);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t npos = (int64_t)p0 + t + 1;
    const int64_t first = g4j_attn_first_pos(npos, window);

    float qr[G4J_ATT_PER_LANE], acc[G4J_ATT_PER_LANE];
    g4j_attn_lane_init(q, t, h, n_head, head_dim, lane, qr, acc);
    g4j_softmax_state st = g4j_softmax_empty();
    /* G4J_ATT_ILP positions per iteration: their key loads and score reductions are independent, so they overlap */
    for (int64_t p = first + warp; p < npos; p += G4J_ATT_ILP * G4J_ATT_WARPS) {
        float s[G4J_ATT_ILP];
#pragma unroll
        for (int i = 0; i < G4J_ATT_ILP; i++) {
            const int64_t pi = p + (int64_t)i * G4J_ATT_WARPS;
            s[i] = pi < npos ? g4j_attn_lane_score(qr, k_cache + g4j_attn_kv_offset(pi, kvh, n_head_kv, head_dim), head_dim, lane) : 0.0f;
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1)
#pragma unroll
            for (int i = 0; i < G4J_ATT_ILP; i++) s[i] += __shfl_xor_sync(0xffffffffu, s[i], o);
#pragma unroll
        for (int i = 0; i < G4J_ATT_ILP; i++) {
            const int64_t pi = p + (int64_t)i * G4J_ATT_WARPS;
            if (pi < npos)
                g4j_attn_lane_update(&st, acc, g4j_attn_score(s[i], scale, soft_cap), v_cache + g4j_attn_kv_offset(pi, kvh, n_head_kv, head_dim), head_dim, lane);
        }
    }
    if (lane == 0) { sm_m[warp] = st.m; sm_l[warp] = st.l; }
#pragma unroll
    for (int j = 0; j < G4J_ATT_PER_LANE; j++) {
        const int d = lane + 32 * j;
        if (d < head_dim) sm_acc[warp][d] = acc[j];
    }
    __syncthreads();
    float *oh = out + (t * n_head + h) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) oh[d] = g4j_attn_merge(sm_m, sm_l, sm_acc, d);
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_attention(g4j_cuda_ctx *ctx, int32_t kv_type, int64_t n_tokens,
                                                      const int32_t *pos0, int64_t n_ctx, int64_t n_head, int64_t n_head_kv,
                                                      int64_t head_dim, const float *q, const float *k, const float *v,
                                                      void *k_cache, void *v_cache, float scale, float soft_cap,
                                                      int32_t window, float *out) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_attention");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(kv_type == G4J_TYPE_F16 || kv_type == G4J_TYPE_F32, "g4j_cuda_attention: kv_type = %d, must be F16 (1) or F32 (0)", (int)kv_type);
    G4J_ARG_CHECK(pos0 && q && k && v && k_cache && v_cache && out, "g4j_cuda_attention: NULL pointer");
    G4J_ARG_CHECK(n_tokens >= 1 && n_tokens <= 65535, "g4j_cuda_attention: n_tokens = %lld, must be in [1, 65535]", (long long)n_tokens);
    G4J_ARG_CHECK(n_ctx >= 1 && n_ctx <= INT32_MAX, "g4j_cuda_attention: n_ctx = %lld, must be in [1, 2^31)", (long long)n_ctx);
    G4J_ARG_CHECK(n_head_kv >= 1 && n_head >= n_head_kv && n_head % n_head_kv == 0 && n_head <= INT32_MAX,
                  "g4j_cuda_attention: n_head = %lld must be a multiple of n_head_kv = %lld", (long long)n_head, (long long)n_head_kv);
    G4J_ARG_CHECK(head_dim >= 1 && head_dim <= G4J_ATT_MAX_DIM, "g4j_cuda_attention: head_dim = %lld, must be in [1, %d]",
                  (long long)head_dim, G4J_ATT_MAX_DIM);
    G4J_ARG_CHECK(soft_cap >= 0.0f && soft_cap < INFINITY && window >= 0,
                  "g4j_cuda_attention: soft_cap = %g, window = %d (need a finite soft_cap >= 0 and window >= 0; 0: none)",
                  (double)soft_cap, (int)window);
    const int64_t row = n_head_kv * head_dim;
    const int64_t n = n_tokens * row;
    const unsigned store_blocks = (unsigned)((n + 255) / 256 < 65535 ? (n + 255) / 256 : 65535);
    const dim3 grid((unsigned)n_head, (unsigned)n_tokens);
    if (kv_type == G4J_TYPE_F16) {
        g4j_kv_store_kernel<uint16_t><<<store_blocks, 256, 0, ctx->stream>>>(n_tokens, pos0, n_ctx, row, k, v, (uint16_t *)k_cache,
                                                                          (uint16_t *)v_cache, ctx->dev_flags);
        G4J_LAUNCH_CHECK("attention (kv store)");
        g4j_attention_kernel<uint16_t><<<grid, 32 * G4J_ATT_WARPS, 0, ctx->stream>>>(
            n_tokens, pos0, n_ctx, n_head, n_head_kv, (int)head_dim, q, (const uint16_t *)k_cache, (const uint16_t *)v_cache, scale, soft_cap, window, out);
    } else {
        g4j_kv_store_kernel<float><<<store_blocks, 256, 0, ctx->stream>>>(n_tokens, pos0, n_ctx, row, k, v, (float *)k_cache,
                                                                         (float *)v_cache, ctx->dev_flags);
        G4J_LAUNCH_CHECK("attention (kv store)");
        g4j_attention_kernel<float><<<grid, 32 * G4J_ATT_WARPS, 0, ctx->stream>>>(
            n_tokens, pos0, n_ctx, n_head, n_head_kv, (int)head_dim, q, (const float *)k_cache, (const float *)v_cache, scale, soft_cap, window, out);
    }
    G4J_LAUNCH_CHECK("attention");
    return G4J_OK;
}
