/*
 * test_blocks_host.cu - runs without a GPU: the __host__ __device__ math the kernels use (cuda/src/blocks.cuh,
 * cuda/src/op_math.cuh), compiled by nvcc for the host and checked against libgguf4j's scalar kernels and plain C.
 *
 *  1. Q8_1 activation blocks (g4j_q8_1_block): bit-identical to a plain C reference and to libgguf4j's Q8_1
 *     conversion (g4j_quantize_activations for a Q4_1 row).
 *  2. Per weight type, rows of 1, 2, 3 blocks and 4096 elements, two activation kinds:
 *     a. integer unit dots (g4j_dot_unit, what the matrix-vector kernel runs) against the exact dot of the
 *        dequantized weights with the dequantized Q8_1 activations: |err| <= 1e-6 * sum|w x_q| (float rounding
 *        only: the integer sums must be exact);
 *     b. the same dots against libgguf4j's scalar g4j_vec_dot (activations in Q8_0/Q8_K there, Q8_1 here):
 *        |err| <= 3e-2 * sum|w x| per row, and the mean over the type's rows <= 2e-3 (Q8_K has one scale per 256
 *        values, so with block magnitudes varying by 2^6 (activation kind 1) the CPU side is the less exact one);
 *     c. dequantized units (g4j_dequant_unit, what the matrix-matrix kernel loads) dotted with x in double
 *        against g4j_vec_dot: |err| <= 3e-2 * sum|w x|.
 *  3. The kernels' per-thread work (matmul_lanes.cuh) run for every thread on the host: the matrix-vector lanes
 *     (32 lanes summed, 3 tokens) and the tensor-core tile loaders (128 threads per tile, tiles multiplied here in
 *     float, as the F32-accumulating wmma does) over matrices that cross the 64-row/64-token tile edges, against
 *     libgguf4j's g4j_matmat, with activations every format represents exactly (test_util.h tu_fill_x_exact):
 *     max |err| <= 2e-3 * rms(ref) for the lanes, <= 5e-3 * rms(ref) for the tiles (weights rounded to F16).
 *  4. Attention's per-lane work (attention_lanes.cuh) for every lane of every warp, F32 and F16 caches, grouped heads
 *     (8 query / 2 KV heads), head_dim 64 / 80 / 128, prefill then decode steps up to 64 positions, plain and with
 *     gemma2's soft-cap and a sliding window of 5, against a double-precision softmax over the same cache contents:
 *     max abs err <= 1e-4.
 *  5. RoPE angle (freq factors, YaRN mix and magnitude against ggml's rope_yarn in double, attention factor) and
 *     pairing, online softmax merge across partial states, argmax tie rule, scale_add's rounding, the F16-table GELU
 *     (all 65536 binary16 inputs bit-identical to ggml's table formula) and soft-capping.
 */
#include "blocks.cuh"
#include "matmul_lanes.cuh"
#include "attention_lanes.cuh"
#include "op_math.cuh"

#include <stdio.h>
#include <stdlib.h>
#include <vector>

#include "test_util.h"

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* ---- dispatch of the templates by type id ---- */
static float unit_dot(int32_t type, const uint8_t *row, int64_t u, const g4j_block_q8_1 *y) {
    switch (type) {
#define X(T) case T: return g4j_dot_unit<T>(row, u, y);
        G4J_FOR_QUANT_TYPES(X)
#undef X
    }
    return NAN;
}
static void unit_dequant(int32_t type, const uint8_t *row, int64_t u, float *out) {
    switch (type) {
#define X(T) case T: g4j_dequant_unit<T>(row, u, out); return;
        G4J_FOR_QUANT_TYPES(X)
#undef X
    }
}

/* plain C Q8_1: amax, d = amax/127, q = nearbyint(x * 127/amax) (ties to even under the default rounding mode) */
static void ref_q8_1(const float *x, g4j_block_q8_1 *b) {
    float amax = 0;
    for (int j = 0; j < 32; j++) if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    const float d = amax / 127.f, id = amax != 0 ? 127.f / amax : 0.f;
    int sum = 0;
    for (int j = 0; j < 32; j++) { int q = (int)nearbyintf(x[j] * id); b->qs[j] = (int8_t)q; sum += q; }
    b->d = tu_half_of(d);
    b->s = tu_half_of(d * (float)sum);
}

static void test_q8_1(void) {
    const int64_t n = 4096;
    std::vector<float> x(n);
    for (int kind = 0; kind < 2; kind++) {
        tu_fill_x(x.data(), n, kind);
        std::vector<g4j_block_q8_1> got(n / 32), ref(n / 32), lib(n / 32);
        for (int64_t b = 0; b < n / 32; b++) { g4j_q8_1_block(&x[32 * b], &got[b]); ref_q8_1(&x[32 * b], &ref[b]); }
        CHECK(g4j_quantize_activations(G4J_TYPE_Q4_1, n, x.data(), lib.data(), (int64_t)(lib.size() * sizeof lib[0])) == G4J_OK,
              "g4j_quantize_activations: %s", g4j_last_error());
        CHECK(memcmp(got.data(), ref.data(), got.size() * sizeof got[0]) == 0, "q8_1 kind %d differs from plain C", kind);
        CHECK(memcmp(got.data(), lib.data(), got.size() * sizeof got[0]) == 0, "q8_1 kind %d differs from libgguf4j", kind);
    }
    printf("q8_1 quantization: bit-identical to plain C and libgguf4j (2 x 4096 values)\n");
}

static void test_type(int32_t type, const char *name) {
    const int64_t be = tu_block_elems(type);
    const int64_t sizes[] = {be, 2 * be, 3 * be, 4096};
    double worst_exact = 0, worst_lib = 0, worst_deq = 0, sum_rel = 0;
    int count = 0;
    for (int si = 0; si < 4; si++) {
        const int64_t n = sizes[si];
        for (int kind = 0; kind < 2; kind++) {
            for (int rep = 0; rep < 8; rep++) {
                std::vector<uint8_t> row((size_t)tu_row_bytes(type, n));
                std::vector<float> x(n), w(n);
                tu_fill_row(type, row.data(), n);
                tu_fill_x(x.data(), n, kind);
                float ref = 0;
                CHECK(g4j_vec_dot(G4J_ISA_SCALAR, type, n, row.data(), x.data(), &ref) == G4J_OK, "vec_dot %s", g4j_last_error());
                std::vector<g4j_block_q8_1> y(n / 32);
                for (int64_t b = 0; b < n / 32; b++) g4j_q8_1_block(&x[32 * b], &y[b]);
                double got = 0, exact = 0, abs_q = 0, deq = 0, abs_x = 0;
                for (int64_t u = 0; u < n / 32; u++) {
                    got += unit_dot(type, row.data(), u, &y[u]);
                    unit_dequant(type, row.data(), u, &w[32 * u]);
                    const double dy = tu_half_value(y[u].d);
                    for (int j = 0; j < 32; j++) {
                        const double xq = dy * y[u].qs[j];
                        exact += (double)w[32 * u + j] * xq;
                        abs_q += fabs((double)w[32 * u + j] * xq);
                        deq += (double)w[32 * u + j] * x[32 * u + j];
                        abs_x += fabs((double)w[32 * u + j] * x[32 * u + j]);
                    }
                }
                const double e_exact = fabs(got - exact) / (abs_q + 1e-30);
                const double e_lib = fabs(got - ref) / (abs_x + 1e-30);
                const double e_deq = fabs(deq - ref) / (abs_x + 1e-30);
                CHECK(e_exact <= 1e-6, "%s n=%lld kind %d: unit dot %.9g vs exact %.9g (rel %.3g)", name, (long long)n, kind, got, exact, e_exact);
                CHECK(e_lib <= 3e-2, "%s n=%lld kind %d: unit dot %.9g vs libgguf4j %.9g (rel %.3g)", name, (long long)n, kind, got, (double)ref, e_lib);
                CHECK(e_deq <= 3e-2, "%s n=%lld kind %d: dequant dot %.9g vs libgguf4j %.9g (rel %.3g)", name, (long long)n, kind, deq, (double)ref, e_deq);
                worst_exact = fmax(worst_exact, e_exact);
                worst_lib = fmax(worst_lib, e_lib);
                worst_deq = fmax(worst_deq, e_deq);
                sum_rel += e_lib;
                count++;
            }
        }
    }
    CHECK(sum_rel / count <= 2e-3, "%s: mean error vs libgguf4j %.3g", name, sum_rel / count);
    printf("%-7s unit dot vs exact: max %.2e | vs libgguf4j: max %.2e mean %.2e | dequant vs libgguf4j: max %.2e\n",
           name, worst_exact, worst_lib, sum_rel / count, worst_deq);
}

/* The float weight types: the device dots them with FMA against F32 x; checked against libgguf4j (which rounds x
 * to the weight type first). */
static void test_float_types(void) {
    for (int32_t type : {G4J_TYPE_F32, G4J_TYPE_F16, G4J_TYPE_BF16}) {
        const int64_t n = 4099;
        std::vector<uint8_t> row((size_t)tu_row_bytes(type, n));
        std::vector<float> x(n);
        tu_fill_row(type, row.data(), n);
        tu_fill_x(x.data(), n, 0);
        float ref = 0;
        g4j_vec_dot(G4J_ISA_SCALAR, type, n, row.data(), x.data(), &ref);
        double got = 0, mag = 0;
        for (int64_t i = 0; i < n; i++) {
            float w;
            if (type == G4J_TYPE_F32) memcpy(&w, &row[4 * i], 4);
            else {
                uint16_t h; memcpy(&h, &row[2 * i], 2);
                w = type == G4J_TYPE_F16 ? g4j_h2f(h) : g4j_bf2f(h);
            }
            got += (double)w * x[i];
            mag += fabs((double)w * x[i]);
        }
        const double rel = fabs(got - ref) / mag;
        CHECK(rel <= (type == G4J_TYPE_F32 ? 1e-6 : type == G4J_TYPE_F16 ? 1e-3 : 1e-2), "%s: %.9g vs %.9g", tu_type_name(type), got, (double)ref);
        printf("%-7s element decode vs libgguf4j: rel %.2e\n", tu_type_name(type), rel);
    }
}

/* ---- kernel emulation: every thread's share, run in a loop ---- */
static void matvec_lanes(int32_t type, const uint8_t *row, int64_t cols, int lane, const g4j_block_q8_1 *q8, const float *x,
                         int64_t xs, float acc[3]) {
    switch (type) {
    case G4J_TYPE_F32: g4j_matvec_f_lane<G4J_TYPE_F32, 3>(row, cols, lane, x, xs, acc); return;
    case G4J_TYPE_F16: g4j_matvec_f_lane<G4J_TYPE_F16, 3>(row, cols, lane, x, xs, acc); return;
    case G4J_TYPE_BF16: g4j_matvec_f_lane<G4J_TYPE_BF16, 3>(row, cols, lane, x, xs, acc); return;
#define X(T) case T: g4j_matvec_q_lane<T, 3>(row, cols / 32, lane, q8, acc); return;
        G4J_FOR_QUANT_TYPES(X)
#undef X
    }
}
static void mm_load_w(int32_t type, const uint8_t *w, int64_t rows, int64_t cols, int64_t rb, int64_t r0, int64_t k0, int tid,
                      __half (*a)[G4J_MM_LDA]) {
    switch (type) {
#define X(T) case T: g4j_mm_load_w<T>(w, rows, cols, rb, r0, k0, tid, a); return;
        G4J_FOR_QUANT_TYPES(X)
#undef X
    }
}

static double rel_to_rms(const float *got, const float *ref, int64_t rows, int64_t nt, int64_t ys) {
    double ss = 0, emax = 0;
    for (int64_t t = 0; t < nt; t++)
        for (int64_t r = 0; r < rows; r++) {
            ss += (double)ref[t * ys + r] * ref[t * ys + r];
            const double e = fabs((double)got[t * ys + r] - ref[t * ys + r]);
            if (!(e <= emax)) emax = isnan(e) ? INFINITY : e;
        }
    return emax / (sqrt(ss / (double)(rows * nt)) + 1e-30);
}

static void test_kernel_emulation(void) {
    for (int ti = 0; ti < TU_NTYPES; ti++) {
        const int32_t type = TU_TYPES[ti].id;
        const int quant = tu_block_elems(type) > 1;
        const int64_t cols = quant ? 3 * (tu_block_elems(type) == 256 ? 256 : 64) + (tu_block_elems(type) == 32 ? 32 : 0) : 99;
        const int64_t rows = 70, nt_mv = 3, nt_mm = 70, xs = cols + 1, ys = rows + 2;
        const int64_t rb = tu_row_bytes(type, cols);
        std::vector<uint8_t> w((size_t)(rb * rows));
        std::vector<float> x((size_t)(xs * nt_mm)), ref((size_t)(ys * nt_mm)), got((size_t)(ys * nt_mm), 0.0f);
        for (int64_t r = 0; r < rows; r++) tu_fill_row(type, &w[r * rb], cols);
        for (int64_t t = 0; t < nt_mm; t++) tu_fill_x_exact(&x[t * xs], xs);
        /* matrix-vector: 3 tokens */
        CHECK(g4j_matmat(G4J_ISA_SCALAR, type, rows, cols, w.data(), rb, nt_mv, x.data(), xs, ref.data(), ys) == G4J_OK, "matmat");
        std::vector<g4j_block_q8_1> q8(quant ? nt_mv * cols / 32 : 1);
        if (quant)
            for (int64_t t = 0; t < nt_mv; t++)
                for (int64_t b = 0; b < cols / 32; b++) g4j_q8_1_block(&x[t * xs + 32 * b], &q8[t * (cols / 32) + b]);
        for (int64_t r = 0; r < rows; r++) {
            float sum[3] = {0, 0, 0};
            for (int lane = 0; lane < 32; lane++) {
                float acc[3];
                matvec_lanes(type, &w[r * rb], cols, lane, q8.data(), x.data(), xs, acc);
                for (int t = 0; t < 3; t++) sum[t] += acc[t];
            }
            for (int t = 0; t < 3; t++) got[t * ys + r] = sum[t];
        }
        const double e_mv = rel_to_rms(got.data(), ref.data(), rows, nt_mv, ys);
        CHECK(e_mv <= 2e-3, "%s matrix-vector lanes: max err / rms %.3g", TU_TYPES[ti].name, e_mv);
        if (!quant) { printf("%-7s kernel emulation: matrix-vector lanes %.2e\n", TU_TYPES[ti].name, e_mv); continue; }
        /* tensor-core tiles: 70 rows x 70 tokens = 2 x 2 blocks, partial on both edges */
        CHECK(g4j_matmat(G4J_ISA_SCALAR, type, rows, cols, w.data(), rb, nt_mm, x.data(), xs, ref.data(), ys) == G4J_OK, "matmat");
        static __half a[G4J_MM_BM][G4J_MM_LDA], b[G4J_MM_BN][G4J_MM_LDA];
        for (int64_t r0 = 0; r0 < rows; r0 += G4J_MM_BM)
            for (int64_t t0 = 0; t0 < nt_mm; t0 += G4J_MM_BN) {
                static float c[G4J_MM_BN][G4J_MM_BM];
                memset(c, 0, sizeof c);
                for (int64_t k0 = 0; k0 < cols; k0 += G4J_MM_BK) {
                    for (int tid = 0; tid < G4J_MM_THREADS; tid++) {
                        mm_load_w(type, w.data(), rows, cols, rb, r0, k0, tid, a);
                        g4j_mm_load_x(x.data(), xs, nt_mm, cols, t0, k0, tid, b);
                    }
                    for (int t = 0; t < G4J_MM_BN; t++)
                        for (int r = 0; r < G4J_MM_BM; r++)
                            for (int k = 0; k < G4J_MM_BK; k++) c[t][r] += __half2float(a[r][k]) * __half2float(b[t][k]);
                }
                for (int t = 0; t < G4J_MM_BN; t++)
                    for (int r = 0; r < G4J_MM_BM; r++)
                        if (t0 + t < nt_mm && r0 + r < rows) got[(t0 + t) * ys + r0 + r] = c[t][r];
            }
        const double e_mm = rel_to_rms(got.data(), ref.data(), rows, nt_mm, ys);
        CHECK(e_mm <= 5e-3, "%s tensor-core tiles: max err / rms %.3g", TU_TYPES[ti].name, e_mm);
        printf("%-7s kernel emulation (max err / rms vs libgguf4j): matrix-vector lanes %.2e, tensor-core tiles %.2e\n",
               TU_TYPES[ti].name, e_mv, e_mm);
    }
}

/* One (head, token) block of the attention kernel, lanes and warps in loops. */
template <typename KV>
static void emulate_attention(int64_t nt, int32_t p0, int64_t nh, int64_t nkv, int hd, const float *q, const KV *kc,
                              const KV *vc, float scale, float soft_cap, int32_t window, float *out) {
    static float sm_m[G4J_ATT_WARPS], sm_l[G4J_ATT_WARPS], sm_acc[G4J_ATT_WARPS][G4J_ATT_MAX_DIM];
    for (int64_t t = 0; t < nt; t++)
        for (int64_t h = 0; h < nh; h++) {
            const int64_t kvh = g4j_attn_kv_head(h, nh, nkv), npos = (int64_t)p0 + t + 1;
            const int64_t first = g4j_attn_first_pos(npos, window);
            for (int w = 0; w < G4J_ATT_WARPS; w++) {
                float qr[32][G4J_ATT_PER_LANE], acc[32][G4J_ATT_PER_LANE];
                g4j_softmax_state st[32];
                for (int lane = 0; lane < 32; lane++) {
                    g4j_attn_lane_init(q, t, h, nh, hd, lane, qr[lane], acc[lane]);
                    st[lane] = g4j_softmax_empty();
                }
                for (int64_t p0w = first + w; p0w < npos; p0w += G4J_ATT_ILP * G4J_ATT_WARPS)
                    for (int i = 0; i < G4J_ATT_ILP; i++) { /* the kernel's visiting order */
                        const int64_t p = p0w + (int64_t)i * G4J_ATT_WARPS;
                        if (p >= npos) continue;
                        const int64_t off = g4j_attn_kv_offset(p, kvh, nkv, hd);
                        float s = 0.0f;
                        for (int lane = 0; lane < 32; lane++) s += g4j_attn_lane_score(qr[lane], kc + off, hd, lane);
                        for (int lane = 0; lane < 32; lane++) g4j_attn_lane_update(&st[lane], acc[lane], g4j_attn_score(s, scale, soft_cap), vc + off, hd, lane);
                    }
                sm_m[w] = st[0].m;
                sm_l[w] = st[0].l;
                for (int lane = 0; lane < 32; lane++)
                    for (int j = 0; j < G4J_ATT_PER_LANE; j++)
                        if (lane + 32 * j < hd) sm_acc[w][lane + 32 * j] = acc[lane][j];
            }
            for (int d = 0; d < hd; d++) out[(t * nh + h) * hd + d] = g4j_attn_merge(sm_m, sm_l, sm_acc, d);
        }
}

template <typename KV> static void attention_case(int hd, float soft_cap, int32_t window) {
    const int64_t n_ctx = 64, nh = 8, nkv = 2, row = nkv * hd;
    std::vector<KV> kc(n_ctx * row), vc(n_ctx * row);
    std::vector<float> kf(n_ctx * row), vf(n_ctx * row);
    const int64_t steps[][2] = {{0, 21}, {21, 1}, {22, 3}, {25, 39}};
    double worst = 0;
    for (auto &st : steps) {
        const int32_t p0 = (int32_t)st[0];
        const int64_t nt = st[1];
        std::vector<float> q(nt * nh * hd), k(nt * row), v(nt * row), out(nt * nh * hd);
        for (auto &x : q) x = tu_gauss();
        for (int64_t i = 0; i < nt * row; i++) {
            k[i] = tu_gauss(); v[i] = tu_gauss();
            const int64_t dst = g4j_attn_store_index(p0, row, i); /* the store kernel's mapping */
            g4j_kv_put(kc.data(), dst, k[i]);
            g4j_kv_put(vc.data(), dst, v[i]);
            kf[dst] = g4j_kv_get(kc.data(), dst);
            vf[dst] = g4j_kv_get(vc.data(), dst);
        }
        const float scale = soft_cap > 0 ? 1.0f : 1.0f / sqrtf((float)hd);
        if (soft_cap > 0)
            for (auto &x : q) x *= 1.0f / sqrtf((float)hd) * 4; /* gemma2: q pre-scaled; large enough to bend tanh */
        emulate_attention<KV>(nt, p0, nh, nkv, hd, q.data(), kc.data(), vc.data(), scale, soft_cap, window, out.data());
        for (int64_t t = 0; t < nt; t++)
            for (int64_t h = 0; h < nh; h++) {
                const int64_t kvh = h / (nh / nkv), np = p0 + t + 1;
                const int64_t lo = window > 0 && np > window ? np - window : 0; /* positions (p - window, p] */
                std::vector<double> sc(np);
                double mx = -INFINITY, den = 0;
                for (int64_t p = lo; p < np; p++) {
                    double dsum = 0;
                    for (int d = 0; d < hd; d++) dsum += (double)q[(t * nh + h) * hd + d] * kf[(p * nkv + kvh) * hd + d];
                    if (soft_cap > 0) dsum = soft_cap * tanh(dsum / soft_cap);
                    sc[p] = dsum * scale;
                    mx = fmax(mx, sc[p]);
                }
                for (int64_t p = lo; p < np; p++) { sc[p] = exp(sc[p] - mx); den += sc[p]; }
                for (int d = 0; d < hd; d++) {
                    double a = 0;
                    for (int64_t p = lo; p < np; p++) a += sc[p] * vf[(p * nkv + kvh) * hd + d];
                    worst = fmax(worst, fabs(a / den - out[(t * nh + h) * hd + d]));
                }
            }
    }
    CHECK(worst <= 1e-4, "attention emulation %s head_dim %d cap %g window %d: max abs err %.3g", sizeof(KV) == 2 ? "F16" : "F32",
          hd, (double)soft_cap, (int)window, worst);
    printf("attention emulation, %s cache, head_dim %3d, 8/2 heads, prefill 21 + decode 1 + 3 + 39, soft-cap %g, window %d: "
           "max abs err %.2e\n", sizeof(KV) == 2 ? "F16" : "F32", hd, (double)soft_cap, (int)window, worst);
}

static void test_attention_emulation(void) {
    for (int hd : {64, 80, 128}) {
        attention_case<float>(hd, 0.0f, 0);
        attention_case<uint16_t>(hd, 0.0f, 0);
    }
    attention_case<float>(128, 5.0f, 5); /* gemma2: soft-capped, sliding window */
    attention_case<uint16_t>(128, 5.0f, 5);
    attention_case<float>(64, 0.0f, 16); /* phi3: window only */
}

/* ggml's rope_yarn (ggml-cpu ops.cpp, c392e50) in double: the reference for g4j_rope_yarn */
static void ref_rope_yarn(double theta_extrap, int i, double freq_scale, double ext_factor, double attn_factor,
                          double lo, double hi, double *theta, double *mag) {
    const double interp = freq_scale * theta_extrap;
    *theta = interp;
    *mag = attn_factor;
    if (ext_factor != 0.0) {
        const double y = (i - lo) / fmax(0.001, hi - lo);
        const double mix = (1 - fmin(1.0, fmax(0.0, y))) * ext_factor;
        *theta = interp * (1 - mix) + theta_extrap * mix;
        *mag *= 1.0 + 0.1 * log(1.0 / freq_scale);
    }
}

static void test_rope(void) {
    const float ff[4] = {1.0f, 2.0f, 4.0f, 8.0f};
    double worst = 0;
    for (int i = 0; i < 4; i++)
        for (int32_t pos : {0, 1, 17, 4095}) {
            const float t = g4j_rope_yarn(g4j_rope_theta_extrap(pos, i, 8, 10000.0f, ff), i, 0.5f, 0.0f, 1.0f, 0, 0).theta;
            const double want = pos * 0.5 * pow(10000.0, -2.0 * i / 8.0) / ff[i];
            worst = fmax(worst, fabs(t - want) / fmax(1.0, fabs(want)));
            const float t2 = g4j_rope_theta_extrap(pos, i, 8, 500000.0f, nullptr);
            const double want2 = pos * pow(500000.0, -2.0 * i / 8.0);
            worst = fmax(worst, fabs(t2 - want2) / fmax(1.0, fabs(want2)));
        }
    CHECK(worst < 1e-5, "rope theta rel error %.3g", worst);
    /* YaRN (llama-yarn: factor 4, corr dims [lo, hi]) and LongRoPE's attention factor, 32 pairs, positions to 511 */
    double worst_yarn = 0;
    for (int yarn = 0; yarn < 2; yarn++)
        for (int i = 0; i < 32; i++)
            for (int32_t pos : {0, 3, 100, 511}) {
                const float fs = yarn ? 0.25f : 1.0f, ext = yarn ? 1.0f : 0.0f, af = yarn ? 1.0f : 1.2247449f;
                const float lo = 9.0f, hi = 20.0f;
                const float e = g4j_rope_theta_extrap(pos, i, 64, 10000.0f, nullptr);
                const g4j_rope_angle an = g4j_rope_yarn(e, i, fs, ext, af, lo, hi);
                double th, mag;
                ref_rope_yarn(e, i, fs, ext, af, lo, hi, &th, &mag);
                worst_yarn = fmax(worst_yarn, fabs(an.theta - th) / fmax(1.0, fabs(th)));
                worst_yarn = fmax(worst_yarn, fabs(an.mag - mag) / mag);
            }
    CHECK(worst_yarn < 1e-6, "rope YaRN / attn_factor rel error %.3g", worst_yarn);
    int a, b;
    g4j_rope_pair(0, 3, 64, &a, &b);
    CHECK(a == 6 && b == 7, "llama pair 3 = (%d, %d)", a, b);
    g4j_rope_pair(1, 3, 64, &a, &b);
    CHECK(a == 3 && b == 35, "neox pair 3 = (%d, %d)", a, b);
    float x0 = 1.0f, x1 = 0.0f;
    g4j_rope_rotate({1.5707963f, 1.0f}, &x0, &x1);
    CHECK(fabsf(x0) < 1e-6f && fabsf(x1 - 1.0f) < 1e-6f, "rotation by pi/2 gives (%g, %g)", x0, x1);
    x0 = 1.0f, x1 = 0.0f;
    g4j_rope_rotate({0.0f, 1.5f}, &x0, &x1);
    CHECK(x0 == 1.5f && x1 == 0.0f, "rotation by 0 with magnitude 1.5 gives (%g, %g)", x0, x1);
    printf("rope: theta (freq_base, freq_scale, freq_factors) max rel err %.2e, YaRN / attn_factor %.2e, llama/neox pairing,"
           " rotation and magnitude: ok\n", worst, worst_yarn);
}

/* ggml's F16 GELU table entry (ggml-cpu.c ggml_cpu_init: table_gelu_f16[i] = fp16(ggml_gelu_f32(f)), ggml_gelu_f32
 * as ggml writes it), for every binary16 input, against g4j_gelu_f16; and soft-capping against double */
static void test_gelu_soft_cap(void) {
    const float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f, GELU_COEF_A = 0.044715f;
    int bad = 0, finite = 0;
    for (int h = 0; h < 65536; h++) {
        const float f = (float)tu_half_value((uint16_t)h);
        if (!isfinite(f)) continue;
        finite++;
        float want;
        if (f <= -10.0f) want = 0.0f;
        else if (f >= 10.0f) want = f;
        else {
            volatile float inner = SQRT_2_OVER_PI * f * (1.0f + GELU_COEF_A * f * f);
            volatile float g = 0.5f * f * (1.0f + tanhf(inner));
            want = (float)tu_half_value(tu_half_of(g));
        }
        const float got = g4j_gelu_f16(f);
        if (memcmp(&got, &want, 4) != 0 && !(got == 0.0f && want == 0.0f)) {
            if (bad++ < 5) fprintf(stderr, "gelu(%a) = %a, table %a\n", f, got, want);
        }
    }
    CHECK(bad == 0, "gelu: %d of %d binary16 inputs differ from ggml's table", bad, finite);
    /* an input between binary16 values uses the entry of its rounding */
    CHECK(g4j_gelu_f16(1.00001f) == g4j_gelu_f16(1.0f), "gelu of 1.00001 is not the entry of fp16(1.00001) = 1");
    CHECK(g4j_geglu_one(-11.0f, 3.0f) == 0.0f && g4j_geglu_one(11.0f, 0.5f) == 5.5f, "geglu outside [-10, 10]");
    double worst = 0;
    for (int i = 0; i < 10000; i++) {
        const float x = tu_gauss() * 20, cap = 3.0f + (float)(i % 5);
        worst = fmax(worst, fabs(g4j_soft_cap(x, cap) - cap * tanh((double)x / cap)));
    }
    CHECK(worst < 4e-6 * 7, "soft_cap abs err %.3g", worst);
    printf("gelu: %d binary16 inputs bit-identical to ggml's F16 table; soft_cap max abs err %.2e\n", finite, worst);
}

/* Attention's softmax: scores split among 4 partial states (as 4 warps see them), merged, vs direct softmax. */
static void test_softmax(void) {
    double worst = 0;
    for (int n : {1, 2, 3, 5, 64, 1000}) {
        std::vector<float> s(n), v(n);
        for (int i = 0; i < n; i++) { s[i] = tu_gauss() * 8; v[i] = tu_gauss(); }
        double mx = -INFINITY, den = 0, num = 0;
        for (int i = 0; i < n; i++) mx = fmax(mx, s[i]);
        for (int i = 0; i < n; i++) { den += exp(s[i] - mx); num += exp(s[i] - mx) * v[i]; }
        const double want = num / den;
        g4j_softmax_state st[4];
        float acc[4] = {0, 0, 0, 0};
        for (int w = 0; w < 4; w++) st[w] = g4j_softmax_empty();
        for (int i = 0; i < n; i++) {
            const int w = i % 4;
            float corr, p;
            g4j_softmax_add(&st[w], s[i], &corr, &p);
            acc[w] = acc[w] * corr + p * v[i];
        }
        float m = -INFINITY;
        for (int w = 0; w < 4; w++) m = fmaxf(m, st[w].m);
        float l = 0, a = 0;
        for (int w = 0; w < 4; w++) { const float f = g4j_softmax_rescale(st[w], m); l += st[w].l * f; a += acc[w] * f; }
        const double err = fabs(a / l - want) / fmax(1.0, fabs(want));
        worst = fmax(worst, err);
        CHECK(err < 1e-5, "online softmax n=%d: %.9g vs %.9g", n, a / l, want);
    }
    printf("online softmax (4 partial states merged, n = 1..1000): max err %.2e\n", worst);
}

static void test_argmax(void) {
    CHECK(g4j_argmax_better(2.0f, 5, 1.0f, 0), "larger wins");
    CHECK(!g4j_argmax_better(1.0f, 0, 2.0f, 5), "smaller loses");
    CHECK(g4j_argmax_better(1.0f, 3, 1.0f, 7), "equal: lower index wins");
    CHECK(!g4j_argmax_better(1.0f, 7, 1.0f, 3), "equal: higher index loses");
    CHECK(!g4j_argmax_better(NAN, 0, 1.0f, 3), "NaN never wins");
    CHECK(g4j_argmax_better(-INFINITY, 2, -INFINITY, INT32_MAX), "-inf beats the initial state");
    /* a reduction in any order gives the first maximum */
    float x[9] = {1, 5, 2, 5, NAN, 5, -1, 0, 3};
    int32_t bi = INT32_MAX; float bv = -INFINITY;
    for (int i : {8, 3, 6, 1, 4, 0, 5, 2, 7}) if (g4j_argmax_better(x[i], i, bv, bi)) { bv = x[i]; bi = i; }
    CHECK(bi == 1, "argmax in shuffled order: %d", bi);
    printf("argmax tie rule: ok\n");
}

/* scale_add's element: bit-identical to the correctly rounded float product, then the correctly rounded float sum
 * (computed in double: both exact there or rounded once, the sum of two floats rounded twice is still correct) */
static void test_scale_add(void) {
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        const float x = tu_gauss() * 3, s = tu_gauss(), y = tu_gauss() * 2;
        const float p = (float)((double)x * (double)s);
        const float want = (float)((double)y + (double)p);
        float got = g4j_scale_add_one(x, s, 1, y);
        if (memcmp(&got, &want, 4) != 0) bad++;
        got = g4j_scale_add_one(x, s, 0, y);
        if (memcmp(&got, &p, 4) != 0) bad++;
    }
    CHECK(bad == 0, "scale_add: %d of 200000 results differ from the rounded product / sum", bad);
    printf("scale_add: 200000 results bit-identical to the rounded float product and sum\n");
}

int main(void) {
    test_q8_1();
    for (int t = 0; t < TU_NTYPES; t++)
        if (TU_TYPES[t].id != G4J_TYPE_F32 && TU_TYPES[t].id != G4J_TYPE_F16 && TU_TYPES[t].id != G4J_TYPE_BF16)
            test_type(TU_TYPES[t].id, TU_TYPES[t].name);
    test_float_types();
    test_kernel_emulation();
    test_attention_emulation();
    test_rope();
    test_softmax();
    test_argmax();
    test_scale_add();
    test_gelu_soft_cap();
    if (failures) { fprintf(stderr, "%d failures\n", failures); return 1; }
    printf("host block math tests passed\n");
    return 0;
}
