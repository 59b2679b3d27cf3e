/*
 * attention_lanes.cuh - the per-lane work of attention.cu's kernels as __host__ __device__ functions, so that the
 * host test can run all lanes of all warps of a (head, token) block in loops (with the warp's score reduction done
 * as a plain sum) and check the indexing: grouped heads, cache rows, positions, the online softmax and the merge.
 * F16 caches are handled as uint16_t binary16 bits (blocks.cuh g4j_h2f / g4j_f2h).
 */
#ifndef G4J_CUDA_ATTENTION_LANES_CUH
#define G4J_CUDA_ATTENTION_LANES_CUH

#include "blocks.cuh"
#include "op_math.cuh"

#define G4J_ATT_WARPS 16
#define G4J_ATT_ILP 4 /* positions a warp scores at once */
#define G4J_ATT_MAX_DIM 256
#define G4J_ATT_PER_LANE (G4J_ATT_MAX_DIM / 32)

G4J_HD float g4j_kv_get(const float *p, int64_t i) { return p[i]; }
G4J_HD float g4j_kv_get(const uint16_t *p, int64_t i) { return g4j_h2f(p[i]); }
G4J_HD void g4j_kv_put(float *p, int64_t i, float v) { p[i] = v; }
G4J_HD void g4j_kv_put(uint16_t *p, int64_t i, float v) { p[i] = g4j_f2h(v); }

G4J_HD bool g4j_attn_pos_ok(int32_t p0, int64_t n_tokens, int64_t n_ctx) {
    return p0 >= 0 && (int64_t)p0 + n_tokens <= n_ctx;
}
/* element i of k/v [n_tokens][n_head_kv][head_dim] (row = n_head_kv * head_dim) goes to cache index p0 * row + i */
G4J_HD int64_t g4j_attn_store_index(int32_t p0, int64_t row, int64_t i) { return (int64_t)p0 * row + i; }
/* KV head of query head h */
G4J_HD int64_t g4j_attn_kv_head(int64_t h, int64_t n_head, int64_t n_head_kv) { return h / (n_head / n_head_kv); }
/* offset of (position p, KV head kvh) in a cache of [n_ctx][n_head_kv][head_dim] */
G4J_HD int64_t g4j_attn_kv_offset(int64_t p, int64_t kvh, int64_t n_head_kv, int64_t head_dim) {
    return (p * n_head_kv + kvh) * head_dim;
}

/* lane's q values (dimensions lane + 32 j) of token t, head h; acc zeroed */
G4J_HD void g4j_attn_lane_init(const float *q, int64_t t, int64_t h, int64_t n_head, int head_dim, int lane,
                               float qr[G4J_ATT_PER_LANE], float acc[G4J_ATT_PER_LANE]) {
    const float *qh = q + (t * n_head + h) * head_dim;
    G4J_UNROLL
    for (int j = 0; j < G4J_ATT_PER_LANE; j++) {
        const int d = lane + 32 * j;
        qr[j] = d < head_dim ? qh[d] : 0.0f;
        acc[j] = 0.0f;
    }
}
/* lane's part of q . k (the warp sums the 32 parts) */
template <typename KV>
G4J_HD float g4j_attn_lane_score(const float qr[G4J_ATT_PER_LANE], const KV *kp, int head_dim, int lane) {
    float s = 0.0f;
    G4J_UNROLL
    for (int j = 0; j < G4J_ATT_PER_LANE; j++) {
        const int d = lane + 32 * j;
        if (d < head_dim) s = fmaf(qr[j], g4j_kv_get(kp, d), s);
    }
    return s;
}
/* folds one position's (scaled) score and value row into the lane's softmax state and accumulator */
template <typename KV>
G4J_HD void g4j_attn_lane_update(g4j_softmax_state *st, float acc[G4J_ATT_PER_LANE], float score, const KV *vp,
                                 int head_dim, int lane) {
    float corr, pw;
    g4j_softmax_add(st, score, &corr, &pw);
    G4J_UNROLL
    for (int j = 0; j < G4J_ATT_PER_LANE; j++) {
        const int d = lane + 32 * j;
        if (d < head_dim) acc[j] = acc[j] * corr + pw * g4j_kv_get(vp, d);
    }
}
/* out[d] from the warps' states (m, l) and accumulators acc[w][d]: sum_w acc[w][d] f_w / sum_w l_w f_w */
G4J_HD float g4j_attn_merge(const float *m, const float *l, const float (*acc)[G4J_ATT_MAX_DIM], int d) {
    float mx = -INFINITY;
    for (int w = 0; w < G4J_ATT_WARPS; w++) mx = fmaxf(mx, m[w]);
    float den = 0.0f, num = 0.0f;
    for (int w = 0; w < G4J_ATT_WARPS; w++) {
        const g4j_softmax_state part = {m[w], l[w]};
        const float f = g4j_softmax_rescale(part, mx);
        den += l[w] * f;
        num += acc[w][d] * f;
    }
    return num / den;
}

#endif
