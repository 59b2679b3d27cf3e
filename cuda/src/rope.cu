/*
 * rope.cu - rotary position embedding in place on x [n_tokens][n_heads][head_dim].
 *
 * Thread mapping: one thread per rotated pair: grid (ceil(n_heads * n_rot / 2 / 256), n_tokens), 256 threads.
 * Token t's position is *pos0 + t, read on the device so a captured graph replays with a new position. The angle
 * (YaRN mix, attention factor) and pairing are op_math.cuh's g4j_rope_theta_extrap / g4j_rope_yarn / g4j_rope_pair
 * (host-tested); dimensions >= n_rot are untouched.
 */
#include "g4j_cuda_internal.h"
#include "op_math.cuh"

__global__ void g4j_rope_kernel(int neox, int64_t n_heads, int64_t head_dim, int n_rot, const int32_t *__restrict__ pos0,
                                float freq_base, float freq_scale, float ext_factor, float attn_factor, float corr_lo,
                                float corr_hi, const float *__restrict__ freq_factors, float *x) {
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int half = n_rot / 2;
    if (idx >= n_heads * half) return;
    const int64_t t = blockIdx.y, h = idx / half;
    const int i = (int)(idx % half);
    const int32_t pos = *pos0 + (int32_t)t;
    int a, b;
    g4j_rope_pair(neox, i, n_rot, &a, &b);
    float *xh = x + (t * n_heads + h) * head_dim;
    const float extrap = g4j_rope_theta_extrap(pos, i, n_rot, freq_base, freq_factors);
    g4j_rope_rotate(g4j_rope_yarn(extrap, i, freq_scale, ext_factor, attn_factor, corr_lo, corr_hi), &xh[a], &xh[b]);
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_rope(g4j_cuda_ctx *ctx, int32_t neox, int64_t n_tokens, int64_t n_heads,
                                                 int64_t head_dim, int64_t n_rot, const int32_t *pos0, float freq_base,
                                                 float freq_scale, float ext_factor, float attn_factor, float corr_lo,
                                                 float corr_hi, const float *freq_factors, float *x) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_rope");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(pos0 && x, "g4j_cuda_rope: NULL pointer (pos0 %p, x %p)", (const void *)pos0, (void *)x);
    G4J_ARG_CHECK(neox == 0 || neox == 1, "g4j_cuda_rope: neox = %d, must be 0 or 1", (int)neox);
    G4J_ARG_CHECK(n_tokens >= 1 && n_tokens <= 65535, "g4j_cuda_rope: n_tokens = %lld, must be in [1, 65535]", (long long)n_tokens);
    G4J_ARG_CHECK(n_heads >= 1 && head_dim >= 2, "g4j_cuda_rope: n_heads = %lld, head_dim = %lld", (long long)n_heads, (long long)head_dim);
    G4J_ARG_CHECK(n_rot >= 2 && n_rot <= head_dim && n_rot % 2 == 0,
                  "g4j_cuda_rope: n_rot = %lld, must be even and in [2, head_dim = %lld]", (long long)n_rot, (long long)head_dim);
    G4J_ARG_CHECK(freq_base > 0.0f, "g4j_cuda_rope: freq_base = %g, must be > 0", (double)freq_base);
    G4J_ARG_CHECK(freq_scale > 0.0f && isfinite(ext_factor) && isfinite(attn_factor) && isfinite(corr_lo) && isfinite(corr_hi),
                  "g4j_cuda_rope: freq_scale = %g (must be > 0), ext_factor = %g, attn_factor = %g, corr_dims = [%g, %g] (finite)",
                  (double)freq_scale, (double)ext_factor, (double)attn_factor, (double)corr_lo, (double)corr_hi);
    const int64_t pairs = n_heads * (n_rot / 2);
    const dim3 grid((unsigned)((pairs + 255) / 256), (unsigned)n_tokens);
    g4j_rope_kernel<<<grid, 256, 0, ctx->stream>>>(neox, n_heads, head_dim, (int)n_rot, pos0, freq_base, freq_scale,
                                                              ext_factor, attn_factor, corr_lo, corr_hi, freq_factors, x);
    G4J_LAUNCH_CHECK("rope");
    return G4J_OK;
}
