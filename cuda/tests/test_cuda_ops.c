/*
 * test_cuda_ops.c - every op of libgguf4j_cuda on the GPU against CPU references. Without a GPU it prints
 * "SKIP: <reason>" and exits 77 (ctest reports the test skipped).
 *
 *  - context lifecycle: bad arguments, an out-of-memory request of 1 PB (G4J_E_OUT_OF_MEMORY with a message),
 *    alloc/free bookkeeping, and no leak: free device memory after 20 create / alloc / destroy cycles (buffers left
 *    allocated on purpose) is within 64 MiB of what it was before;
 *  - matmul for every type against libgguf4j's g4j_matmat: rows 1, 7, 257; cols 1..3 blocks and 4096; n_tokens 1, 3,
 *    8, 9, 64, 512; padded strides (y's padding must stay untouched). The activations are ones every format
 *    represents exactly (test_util.h tu_fill_x_exact: Q8_1 on the GPU, Q8_0/Q8_K/F16/BF16 on the CPU, F16 tiles on the
 *    tensor-core path all reproduce them), so GPU and CPU differ only by float summation order and, on the
 *    tensor-core path, the F16 rounding of dequantized weights: max |gpu - cpu| <= 2e-3 * rms(cpu) (5e-3 on the
 *    tensor-core path), mean <= 1e-3 * rms(cpu) (2e-3); a layout or indexing bug gives errors of order 1;
 *  - rms_norm, add, add_bias, scale_add, swiglu, geglu (F16-table GELU), soft_cap (in place too), rope (llama and
 *    neox pairing, freq_factors, YaRN, attn_factor, pos0 on the device), attention (F16 and F32 caches, grouped
 *    heads, prefill then decode, head_dim 64 / 80 / 128, soft-cap and sliding window, out-of-range pos0 reported by
 *    synchronize), argmax (ties, NaN): plain C references in double;
 *  - graphs: a captured matmul + rope + argmax step replayed with new positions equals eager execution.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf4j_cuda.h"
#include "test_util.h"

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define OK(call) do { g4j_status st_ = (call); if (st_ != G4J_OK) { failures++; \
    fprintf(stderr, "FAIL %s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, st_, g4j_cuda_last_error()); } } while (0)

static g4j_cuda_ctx *ctx;

static void *dev_alloc(int64_t bytes) {
    void *p = NULL;
    OK(g4j_cuda_alloc(ctx, bytes, &p));
    return p;
}
static void *dev_upload(const void *host, int64_t bytes) {
    void *p = dev_alloc(bytes);
    if (p) OK(g4j_cuda_upload(ctx, p, host, bytes));
    return p;
}
static void dev_free(void *p) { OK(g4j_cuda_free(ctx, p)); }

/* ---- lifecycle ---- */
static void test_lifecycle(void) {
    g4j_cuda_ctx *c = NULL;
    CHECK(g4j_cuda_ctx_create(-1, &c) == G4J_E_INVALID_ARGUMENT && c == NULL, "device -1 accepted");
    CHECK(g4j_cuda_ctx_create(1 << 20, &c) == G4J_E_INVALID_ARGUMENT, "device 2^20 accepted");
    CHECK(g4j_cuda_ctx_create(0, NULL) == G4J_E_INVALID_ARGUMENT, "NULL out accepted");
    void *p = NULL;
    CHECK(g4j_cuda_alloc(NULL, 16, &p) == G4J_E_INVALID_ARGUMENT, "NULL ctx accepted");
    CHECK(g4j_cuda_alloc(ctx, 0, &p) == G4J_E_INVALID_ARGUMENT, "0 bytes accepted");
    CHECK(g4j_cuda_alloc(ctx, -5, &p) == G4J_E_INVALID_ARGUMENT, "-5 bytes accepted");
    g4j_status st = g4j_cuda_alloc(ctx, (int64_t)1 << 50, &p);
    CHECK(st == G4J_E_OUT_OF_MEMORY && p == NULL && strstr(g4j_cuda_last_error(), "requested") != NULL,
          "1 PB: status %d, message '%s'", st, g4j_cuda_last_error());
    printf("1 PB request: %s\n", g4j_cuda_last_error());
    void *a = dev_alloc(1000), *b = dev_alloc(3);
    CHECK(((uintptr_t)a % 256) == 0 && ((uintptr_t)b % 256) == 0, "allocations not 256-byte aligned");
    dev_free(a);
    CHECK(g4j_cuda_free(ctx, a) == G4J_E_INVALID_ARGUMENT, "double free accepted");
    int local;
    CHECK(g4j_cuda_free(ctx, &local) == G4J_E_INVALID_ARGUMENT, "free of a host pointer accepted");
    OK(g4j_cuda_free(ctx, NULL));
    dev_free(b);
    OK(g4j_cuda_synchronize(ctx));

    int64_t free0 = 0, total = 0, free1 = 0;
    OK(g4j_cuda_mem_info(ctx, &free0, &total));
    for (int i = 0; i < 20; i++) {
        g4j_cuda_ctx *c2 = NULL;
        OK(g4j_cuda_ctx_create(0, &c2));
        if (!c2) break;
        for (int j = 0; j < 4; j++) { void *q = NULL; OK(g4j_cuda_alloc(c2, 64 << 20, &q)); }
        g4j_cuda_graph *g = NULL; /* a graph left alive too */
        void *q = NULL;
        OK(g4j_cuda_alloc(c2, 4096, &q));
        OK(g4j_cuda_graph_begin(c2));
        OK(g4j_cuda_memset(c2, q, 0, 4096));
        OK(g4j_cuda_graph_end(c2, &g));
        g4j_cuda_ctx_destroy(c2);
    }
    g4j_cuda_ctx_destroy(NULL);
    OK(g4j_cuda_mem_info(ctx, &free1, &total));
    CHECK(free0 - free1 < (64 << 20), "leak: free memory %lld MiB before, %lld MiB after 20 cycles",
          (long long)(free0 >> 20), (long long)(free1 >> 20));
    printf("lifecycle: ok (free before %lld MiB, after 20 create/alloc/destroy cycles %lld MiB)\n",
           (long long)(free0 >> 20), (long long)(free1 >> 20));
}

/* ---- matmul ---- */
static double worst_by_type[64];

static void matmul_case(int32_t type, int64_t rows, int64_t cols, int64_t nt) {
    const int64_t rb = tu_row_bytes(type, cols);
    const int64_t xs = cols + 3, ys = rows + 5;
    uint8_t *w = malloc((size_t)(rb * rows));
    float *x = malloc(sizeof(float) * (size_t)(xs * nt));
    float *ref = malloc(sizeof(float) * (size_t)(ys * nt));
    float *got = malloc(sizeof(float) * (size_t)(ys * nt));
    for (int64_t r = 0; r < rows; r++) tu_fill_row(type, w + r * rb, cols);
    for (int64_t t = 0; t < nt; t++) tu_fill_x_exact(x + t * xs, xs);
    OK(g4j_matmat(G4J_ISA_AUTO, type, rows, cols, w, rb, nt, x, xs, ref, ys));
    void *dw = dev_upload(w, rb * rows), *dx = dev_upload(x, (int64_t)sizeof(float) * xs * nt);
    void *dy = dev_alloc((int64_t)sizeof(float) * ys * nt);
    OK(g4j_cuda_memset(ctx, dy, 0xff, (int64_t)sizeof(float) * ys * nt));
    OK(g4j_cuda_matmul(ctx, type, dw, rows, cols, rb, nt, dx, xs, dy, ys));
    OK(g4j_cuda_synchronize(ctx));
    OK(g4j_cuda_download(ctx, got, dy, (int64_t)sizeof(float) * ys * nt));
    double ss = 0, emax = 0, esum = 0;
    int pad_ok = 1;
    for (int64_t t = 0; t < nt; t++) {
        for (int64_t r = 0; r < rows; r++) ss += (double)ref[t * ys + r] * ref[t * ys + r];
        for (int64_t r = rows; r < ys; r++) { uint32_t u; memcpy(&u, &got[t * ys + r], 4); pad_ok &= u == 0xffffffffu; }
    }
    const double rms = sqrt(ss / (double)(rows * nt)) + 1e-30;
    for (int64_t t = 0; t < nt; t++)
        for (int64_t r = 0; r < rows; r++) {
            const double e = fabs((double)got[t * ys + r] - ref[t * ys + r]);
            if (!(e <= emax)) emax = isnan(e) ? INFINITY : e;
            esum += e;
        }
    const double rel = emax / rms, mean = esum / (double)(rows * nt) / rms;
    const int mma = nt > 8 && tu_block_elems(type) > 1;
    CHECK(rel <= (mma ? 5e-3 : 2e-3) && mean <= (mma ? 2e-3 : 1e-3), "matmul %s rows %lld cols %lld n_tokens %lld: max err %.3g, mean %.3g (x rms %.3g)",
          tu_type_name(type), (long long)rows, (long long)cols, (long long)nt, rel, mean, rms);
    CHECK(pad_ok, "matmul %s rows %lld cols %lld n_tokens %lld wrote into y's padding", tu_type_name(type), (long long)rows,
          (long long)cols, (long long)nt);
    if (rel > worst_by_type[type]) worst_by_type[type] = rel;
    dev_free(dw); dev_free(dx); dev_free(dy);
    free(w); free(x); free(ref); free(got);
}

static void test_matmul(void) {
    static const int64_t rows_list[] = {1, 7, 257};
    static const int64_t nt_list[] = {1, 3, 8, 9, 64, 512};
    for (int ti = 0; ti < TU_NTYPES; ti++) {
        const int32_t type = TU_TYPES[ti].id;
        const int64_t be = tu_block_elems(type) == 1 ? 32 : tu_block_elems(type);
        const int64_t cols_list[] = {tu_block_elems(type) == 1 ? 1 : be, 2 * be + (tu_block_elems(type) == 1 ? 3 : 0), 3 * be, 4096};
        for (int ri = 0; ri < 3; ri++)
            for (int ci = 0; ci < 4; ci++)
                for (int ni = 0; ni < 6; ni++) {
                    if (nt_list[ni] == 512 && !(cols_list[ci] == 4096 && rows_list[ri] == 257) && cols_list[ci] != be) continue;
                    matmul_case(type, rows_list[ri], cols_list[ci], nt_list[ni]);
                }
        printf("matmul %-7s worst max error / rms: %.2e\n", TU_TYPES[ti].name, worst_by_type[type]);
    }
    /* argument errors */
    void *d = dev_alloc(1 << 20);
    CHECK(g4j_cuda_matmul(ctx, G4J_TYPE_IQ2_XXS, d, 1, 256, 66, 1, d, 256, d, 1) == G4J_E_UNSUPPORTED_TYPE, "IQ2_XXS accepted");
    CHECK(g4j_cuda_matmul(ctx, G4J_TYPE_Q4_0, d, 1, 48, 18, 1, d, 48, d, 1) == G4J_E_INVALID_ARGUMENT, "cols 48 for Q4_0 accepted");
    CHECK(g4j_cuda_matmul(ctx, G4J_TYPE_Q4_0, d, 2, 64, 18, 1, d, 64, d, 2) == G4J_E_INVALID_ARGUMENT, "short row_bytes accepted");
    CHECK(g4j_cuda_matmul(ctx, G4J_TYPE_Q4_0, d, 4, 64, 36, 1, d, 64, d, 3) == G4J_E_INVALID_ARGUMENT, "y_stride < rows accepted");
    printf("matmul argument errors: %s\n", g4j_cuda_last_error());
    dev_free(d);
}

/* ---- small ops ---- */
static double max_rel(const float *a, const double *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        const double e = fabs(a[i] - b[i]) / (fabs(b[i]) + 1e-3);
        if (!(e <= m)) m = isnan(e) ? INFINITY : e;
    }
    return m;
}

static void test_elementwise(void) {
    const int64_t nt = 3, dim = 1000, n = nt * dim;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n), *wt = malloc(sizeof(float) * dim), *got = malloc(sizeof(float) * n);
    double *ref = malloc(sizeof(double) * n);
    for (int64_t i = 0; i < n; i++) { x[i] = tu_gauss() * 3; y[i] = tu_gauss(); }
    for (int64_t i = 0; i < dim; i++) wt[i] = tu_gauss();
    float *dx = dev_upload(x, 4 * n), *dy = dev_upload(y, 4 * n), *dw = dev_upload(wt, 4 * dim), *dout = dev_alloc(4 * n);
    /* rms_norm */
    for (int64_t t = 0; t < nt; t++) {
        double ss = 0;
        for (int64_t i = 0; i < dim; i++) ss += (double)x[t * dim + i] * x[t * dim + i];
        const double s = 1.0 / sqrt(ss / dim + 1e-5);
        for (int64_t i = 0; i < dim; i++) ref[t * dim + i] = x[t * dim + i] * s * wt[i];
    }
    OK(g4j_cuda_rms_norm(ctx, nt, dim, dx, dw, 1e-5f, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-4, "rms_norm: rel err %.3g", max_rel(got, ref, n));
    OK(g4j_cuda_upload(ctx, dout, x, 4 * n));
    OK(g4j_cuda_rms_norm(ctx, nt, dim, dout, dw, 1e-5f, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-4, "rms_norm in place: rel err %.3g", max_rel(got, ref, n));
    /* add */
    for (int64_t i = 0; i < n; i++) ref[i] = (double)x[i] + y[i];
    OK(g4j_cuda_add(ctx, n, dx, dy, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-6, "add: rel err %.3g", max_rel(got, ref, n));
    OK(g4j_cuda_upload(ctx, dout, x, 4 * n));
    OK(g4j_cuda_add(ctx, n, dout, dy, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-6, "add in place: rel err %.3g", max_rel(got, ref, n));
    /* add_bias */
    for (int64_t i = 0; i < n; i++) ref[i] = (double)x[i] + wt[i % dim];
    OK(g4j_cuda_upload(ctx, dout, x, 4 * n));
    OK(g4j_cuda_add_bias(ctx, nt, dim, dout, dw));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-6, "add_bias: rel err %.3g", max_rel(got, ref, n));
    /* swiglu */
    for (int64_t i = 0; i < n; i++) ref[i] = x[i] / (1.0 + exp(-(double)x[i])) * y[i];
    OK(g4j_cuda_swiglu(ctx, n, dx, dy, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-5, "swiglu: rel err %.3g", max_rel(got, ref, n));
    OK(g4j_cuda_upload(ctx, dout, x, 4 * n));
    OK(g4j_cuda_swiglu(ctx, n, dout, dy, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-5, "swiglu in place: rel err %.3g", max_rel(got, ref, n));
    /* scale_add: y = s x, then y += s x (in place: y is dout) */
    for (int64_t i = 0; i < n; i++) ref[i] = (double)(float)((double)x[i] * 0.375) + (double)(float)((double)y[i] * -1.5);
    OK(g4j_cuda_scale_add(ctx, n, 0.375f, dx, 0, dout));
    OK(g4j_cuda_scale_add(ctx, n, -1.5f, dy, 1, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-6, "scale_add: rel err %.3g", max_rel(got, ref, n));
    CHECK(g4j_cuda_scale_add(ctx, 0, 1.0f, dx, 0, dout) == G4J_E_INVALID_ARGUMENT, "scale_add n = 0 accepted");
    /* geglu: gelu of the binary16-rounded gate (ggml's F16 table: the result rounded to binary16 too) times up */
    for (int64_t i = 0; i < n; i++) {
        const double f = tu_half_value(tu_half_of(x[i] * 4));
        const double g = x[i] * 4 <= -10 ? 0 : x[i] * 4 >= 10 ? x[i] * 4
                       : tu_half_value(tu_half_of((float)(0.5 * f * (1 + tanh(0.7978845608028654 * f * (1 + 0.044715 * f * f))))));
        ref[i] = g * y[i];
    }
    for (int64_t i = 0; i < n; i++) got[i] = x[i] * 4;
    OK(g4j_cuda_upload(ctx, dout, got, 4 * n));
    OK(g4j_cuda_geglu(ctx, n, dout, dy, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 2e-3, "geglu in place: rel err %.3g", max_rel(got, ref, n));
    /* soft_cap: 3 tanh(x / 3) on x * 8 */
    for (int64_t i = 0; i < n; i++) { ref[i] = 3.0 * tanh((double)(x[i] * 8) / 3.0); got[i] = x[i] * 8; }
    OK(g4j_cuda_upload(ctx, dout, got, 4 * n));
    OK(g4j_cuda_soft_cap(ctx, n, 3.0f, dout, dout));
    OK(g4j_cuda_download(ctx, got, dout, 4 * n));
    CHECK(max_rel(got, ref, n) < 1e-5, "soft_cap in place: rel err %.3g", max_rel(got, ref, n));
    CHECK(g4j_cuda_soft_cap(ctx, n, 0.0f, dx, dout) == G4J_E_INVALID_ARGUMENT, "soft_cap cap = 0 accepted");
    CHECK(g4j_cuda_add(ctx, 0, dx, dy, dout) == G4J_E_INVALID_ARGUMENT, "add n = 0 accepted");
    CHECK(g4j_cuda_rms_norm(ctx, 1, 10, NULL, dw, 1e-5f, dout) == G4J_E_INVALID_ARGUMENT, "rms_norm NULL x accepted");
    OK(g4j_cuda_synchronize(ctx));
    dev_free(dx); dev_free(dy); dev_free(dw); dev_free(dout);
    free(x); free(y); free(wt); free(got); free(ref);
    printf("rms_norm, add, add_bias, scale_add, swiglu, geglu, soft_cap (and in place): ok\n");
}

static void ref_rope(int neox, int64_t nt, int64_t nh, int64_t hd, int64_t n_rot, int32_t pos0, double base, double fs,
                     double ext, double af, double lo, double hi, const float *ff, const float *x, double *out) {
    for (int64_t i = 0; i < nt * nh * hd; i++) out[i] = x[i];
    for (int64_t t = 0; t < nt; t++)
        for (int64_t h = 0; h < nh; h++)
            for (int64_t i = 0; i < n_rot / 2; i++) {
                double e = (pos0 + t) * pow(base, -2.0 * i / n_rot); /* ggml rope_yarn */
                if (ff) e /= ff[i];
                double th = fs * e, mag = af;
                if (ext != 0) {
                    const double mix = (1 - fmin(1.0, fmax(0.0, (i - lo) / fmax(0.001, hi - lo)))) * ext;
                    th = th * (1 - mix) + e * mix;
                    mag *= 1 + 0.1 * log(1 / fs);
                }
                const int64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
                double *o = out + (t * nh + h) * hd;
                const double x0 = o[a], x1 = o[b];
                o[a] = (x0 * cos(th) - x1 * sin(th)) * mag;
                o[b] = (x0 * sin(th) + x1 * cos(th)) * mag;
            }
}

static void test_rope(void) {
    const int64_t nt = 3, nh = 4, hd = 64, n = nt * nh * hd;
    float *x = malloc(4 * n), *got = malloc(4 * n), ff[32];
    double *ref = malloc(8 * n);
    for (int64_t i = 0; i < n; i++) x[i] = tu_gauss();
    for (int i = 0; i < 32; i++) ff[i] = 1.0f + (float)i / 4;
    int32_t pos = 1000;
    int32_t *dpos = dev_upload(&pos, 4);
    float *dx = dev_alloc(4 * n), *dff = dev_upload(ff, sizeof ff);
    for (int neox = 0; neox < 2; neox++)
        for (int with_ff = 0; with_ff < 2; with_ff++)
            for (int64_t n_rot = 32; n_rot <= 64; n_rot += 32) {
                OK(g4j_cuda_upload(ctx, dx, x, 4 * n));
                for (int yarn = 0; yarn < 3; yarn++) { /* plain; YaRN x4 with corr dims [9, 20]; attn_factor (LongRoPE) */
                    const float fs = yarn == 1 ? 0.25f : 1.0f, ext = yarn == 1 ? 1.0f : 0.0f, af = yarn == 2 ? 1.2247449f : 1.0f;
                    OK(g4j_cuda_upload(ctx, dx, x, 4 * n));
                    OK(g4j_cuda_rope(ctx, neox, nt, nh, hd, n_rot, dpos, 10000.0f, fs, ext, af, 9.0f, 20.0f, with_ff ? dff : NULL, dx));
                    OK(g4j_cuda_download(ctx, got, dx, 4 * n));
                    ref_rope(neox, nt, nh, hd, n_rot, pos, 10000.0, fs, ext, af, 9.0, 20.0, with_ff ? ff : NULL, x, ref);
                    double e = 0;
                    for (int64_t i = 0; i < n; i++) e = fmax(e, fabs(got[i] - ref[i]));
                    CHECK(e < 2e-3, "rope neox %d ff %d n_rot %lld kind %d: max abs err %.3g", neox, with_ff, (long long)n_rot, yarn, e);
                }
            }
    CHECK(g4j_cuda_rope(ctx, 0, nt, nh, hd, 65, dpos, 1e4f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, NULL, dx) == G4J_E_INVALID_ARGUMENT, "odd n_rot accepted");
    dev_free(dpos); dev_free(dx); dev_free(dff);
    free(x); free(got); free(ref);
    printf("rope (llama / neox, freq_factors, YaRN, attn_factor, n_rot < head_dim, position 1000 on the device): ok\n");
}

/* attention reference in double; the cache holds values as the GPU stores them (rounded to f16 for F16) */
static void ref_attention(int64_t nt, int32_t pos0, int64_t nh, int64_t nkv, int64_t hd, const float *q, const float *kc,
                          const float *vc, float scale, float soft_cap, int32_t window, double *out) {
    double *s = malloc(sizeof(double) * (size_t)(pos0 + nt));
    for (int64_t t = 0; t < nt; t++)
        for (int64_t h = 0; h < nh; h++) {
            const int64_t kvh = h / (nh / nkv), np = pos0 + t + 1;
            const int64_t lo = window > 0 && np > window ? np - window : 0;
            double mx = -INFINITY, den = 0;
            for (int64_t p = lo; p < np; p++) {
                double d = 0;
                for (int64_t i = 0; i < hd; i++) d += (double)q[(t * nh + h) * hd + i] * kc[(p * nkv + kvh) * hd + i];
                if (soft_cap > 0) d = soft_cap * tanh(d / soft_cap);
                s[p] = d * scale;
                mx = fmax(mx, s[p]);
            }
            for (int64_t p = lo; p < np; p++) { s[p] = exp(s[p] - mx); den += s[p]; }
            for (int64_t i = 0; i < hd; i++) {
                double a = 0;
                for (int64_t p = lo; p < np; p++) a += s[p] * vc[(p * nkv + kvh) * hd + i];
                out[(t * nh + h) * hd + i] = a / den;
            }
        }
    free(s);
}

static void test_attention(void) {
    const int64_t n_ctx = 96, nh = 8, nkv = 2;
    for (int variant = 0; variant < 3; variant++) /* plain; gemma2's soft-cap 5 + window 8; phi3's window 16 */
    for (int kv = 0; kv < 2; kv++)
        for (int64_t hd = 64; hd <= 128; hd += (hd == 64 ? 16 : 48)) {
            const float soft_cap = variant == 1 ? 5.0f : 0.0f;
            const int32_t window = variant == 1 ? 8 : variant == 2 ? 16 : 0;
            const int32_t kv_type = kv ? G4J_TYPE_F16 : G4J_TYPE_F32;
            const int64_t esz = kv ? 2 : 4, row = nkv * hd;
            float *kc = calloc((size_t)(n_ctx * row), 4), *vc = calloc((size_t)(n_ctx * row), 4);
            void *dk = dev_alloc(n_ctx * row * esz), *dv = dev_alloc(n_ctx * row * esz);
            int32_t *dpos = dev_alloc(4);
            const int64_t steps[][2] = {{0, 37}, {37, 1}, {38, 1}, {39, 9}};
            double worst = 0;
            for (int si = 0; si < 4; si++) {
                const int32_t pos0 = (int32_t)steps[si][0];
                const int64_t nt = steps[si][1];
                float *q = malloc(4 * nt * nh * hd), *k = malloc(4 * nt * row), *v = malloc(4 * nt * row), *got = malloc(4 * nt * nh * hd);
                double *ref = malloc(8 * nt * nh * hd);
                for (int64_t i = 0; i < nt * nh * hd; i++) q[i] = tu_gauss() * (variant == 1 ? 0.5f : 1.0f);
                for (int64_t i = 0; i < nt * row; i++) {
                    k[i] = tu_gauss(); v[i] = tu_gauss();
                    kc[pos0 * row + i] = kv ? (float)tu_half_value(tu_half_of(k[i])) : k[i];
                    vc[pos0 * row + i] = kv ? (float)tu_half_value(tu_half_of(v[i])) : v[i];
                }
                float *dq = dev_upload(q, 4 * nt * nh * hd), *dkk = dev_upload(k, 4 * nt * row), *dvv = dev_upload(v, 4 * nt * row);
                float *dout = dev_alloc(4 * nt * nh * hd);
                OK(g4j_cuda_upload(ctx, dpos, &pos0, 4));
                const float scale = 1.0f / sqrtf((float)hd);
                OK(g4j_cuda_attention(ctx, kv_type, nt, dpos, n_ctx, nh, nkv, hd, dq, dkk, dvv, dk, dv, scale, soft_cap, window, dout));
                OK(g4j_cuda_synchronize(ctx));
                OK(g4j_cuda_download(ctx, got, dout, 4 * nt * nh * hd));
                ref_attention(nt, pos0, nh, nkv, hd, q, kc, vc, scale, soft_cap, window, ref);
                for (int64_t i = 0; i < nt * nh * hd; i++) worst = fmax(worst, fabs(got[i] - ref[i]));
                dev_free(dq); dev_free(dkk); dev_free(dvv); dev_free(dout);
                free(q); free(k); free(v); free(got); free(ref);
            }
            CHECK(worst < 1e-4, "attention %s head_dim %lld cap %g window %d: max abs err %.3g", kv ? "F16" : "F32", (long long)hd,
                  (double)soft_cap, (int)window, worst);
            printf("attention %s cache, head_dim %lld, 8/2 heads, prefill 37 + decode 1 + 1 + 9, soft-cap %g, window %d: "
                   "max abs err %.2e\n", kv ? "F16" : "F32", (long long)hd, (double)soft_cap, (int)window, worst);
            /* out-of-range position: reported by synchronize */
            const int32_t bad = (int32_t)n_ctx;
            OK(g4j_cuda_upload(ctx, dpos, &bad, 4));
            float *dq = dev_alloc(4 * nh * hd), *dout = dev_alloc(4 * nh * hd), *dkk = dev_alloc(4 * row);
            OK(g4j_cuda_attention(ctx, kv_type, 1, dpos, n_ctx, nh, nkv, hd, dq, dkk, dkk, dk, dv, 1.0f, 0.0f, 0, dout));
            g4j_status st = g4j_cuda_synchronize(ctx);
            CHECK(st == G4J_E_INVALID_ARGUMENT && strstr(g4j_cuda_last_error(), "pos0"), "pos0 = n_ctx: status %d '%s'", st, g4j_cuda_last_error());
            OK(g4j_cuda_synchronize(ctx)); /* cleared */
            CHECK(g4j_cuda_attention(ctx, kv_type, 1, dpos, n_ctx, nh, nkv, 300, dq, dkk, dkk, dk, dv, 1.0f, 0.0f, 0, dout) == G4J_E_INVALID_ARGUMENT,
                  "head_dim 300 accepted");
            CHECK(g4j_cuda_attention(ctx, kv_type, 1, dpos, n_ctx, 6, 4, hd, dq, dkk, dkk, dk, dv, 1.0f, 0.0f, 0, dout) == G4J_E_INVALID_ARGUMENT,
                  "n_head 6 / n_head_kv 4 accepted");
            CHECK(g4j_cuda_attention(ctx, kv_type, 1, dpos, n_ctx, nh, nkv, hd, dq, dkk, dkk, dk, dv, 1.0f, -1.0f, 0, dout) == G4J_E_INVALID_ARGUMENT,
                  "soft_cap -1 accepted");
            CHECK(g4j_cuda_attention(ctx, kv_type, 1, dpos, n_ctx, nh, nkv, hd, dq, dkk, dkk, dk, dv, 1.0f, 0.0f, -2, dout) == G4J_E_INVALID_ARGUMENT,
                  "window -2 accepted");
            dev_free(dq); dev_free(dout); dev_free(dkk);
            dev_free(dk); dev_free(dv); dev_free(dpos);
            free(kc); free(vc);
        }
}

static void test_argmax(void) {
    const int64_t n = 32003;
    float *x = malloc(4 * n);
    for (int64_t i = 0; i < n; i++) x[i] = tu_gauss();
    x[777] = 9.0f; x[20000] = 9.0f; x[31000] = 9.0f; x[5] = NAN;
    float *dx = dev_upload(x, 4 * n);
    int32_t *dout = dev_alloc(4), got = -1;
    OK(g4j_cuda_argmax(ctx, n, dx, dout));
    OK(g4j_cuda_download(ctx, &got, dout, 4));
    CHECK(got == 777, "argmax with ties: %d, want 777", got);
    OK(g4j_cuda_argmax(ctx, 1, dx + 100, dout));
    OK(g4j_cuda_download(ctx, &got, dout, 4));
    CHECK(got == 0, "argmax n = 1: %d", got);
    for (int64_t i = 0; i < 100; i++) x[i] = NAN;
    OK(g4j_cuda_upload(ctx, dx, x, 400));
    OK(g4j_cuda_argmax(ctx, 100, dx, dout));
    OK(g4j_cuda_download(ctx, &got, dout, 4));
    CHECK(got == 0, "argmax of NaNs: %d", got);
    for (int64_t i = 0; i < n; i++) x[i] = -INFINITY;
    x[n - 1] = -1e30f;
    OK(g4j_cuda_upload(ctx, dx, x, 4 * n));
    OK(g4j_cuda_argmax(ctx, n, dx, dout));
    OK(g4j_cuda_download(ctx, &got, dout, 4));
    CHECK(got == n - 1, "argmax last: %d", got);
    dev_free(dx); dev_free(dout);
    free(x);
    printf("argmax (ties -> lowest index, NaN, n = 1, last element): ok\n");
}

/* One decode-like step: y = W x; rope(y) at *pos; tok = argmax(y). Captured once, replayed with 3 positions. */
static void test_graph(void) {
    const int64_t rows = 512, cols = 1024, rb = tu_row_bytes(G4J_TYPE_Q4_0, cols);
    uint8_t *w = malloc((size_t)(rb * rows));
    float *x = malloc(4 * cols), *y_eager = malloc(4 * rows), *y_graph = malloc(4 * rows);
    for (int64_t r = 0; r < rows; r++) tu_fill_row(G4J_TYPE_Q4_0, w + r * rb, cols);
    for (int64_t i = 0; i < cols; i++) x[i] = tu_gauss();
    void *dw = dev_upload(w, rb * rows);
    float *dx = dev_upload(x, 4 * cols), *dy = dev_alloc(4 * rows);
    int32_t *dpos = dev_alloc(4), *dtok = dev_alloc(4);
    g4j_cuda_graph *g = NULL;
    OK(g4j_cuda_graph_begin(ctx));
    CHECK(g4j_cuda_graph_begin(ctx) == G4J_E_INVALID_ARGUMENT, "nested begin accepted");
    CHECK(g4j_cuda_upload(ctx, dx, x, 4) == G4J_E_INVALID_ARGUMENT, "upload while capturing accepted");
    OK(g4j_cuda_matmul(ctx, G4J_TYPE_Q4_0, dw, rows, cols, rb, 1, dx, cols, dy, rows));
    OK(g4j_cuda_rope(ctx, 0, 1, rows / 64, 64, 64, dpos, 10000.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, NULL, dy));
    OK(g4j_cuda_argmax(ctx, rows, dy, dtok));
    OK(g4j_cuda_graph_end(ctx, &g));
    for (int32_t pos = 3; pos < 6; pos++) {
        int32_t tok_eager = -1, tok_graph = -2;
        OK(g4j_cuda_upload(ctx, dpos, &pos, 4));
        OK(g4j_cuda_matmul(ctx, G4J_TYPE_Q4_0, dw, rows, cols, rb, 1, dx, cols, dy, rows));
        OK(g4j_cuda_rope(ctx, 0, 1, rows / 64, 64, 64, dpos, 10000.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, NULL, dy));
        OK(g4j_cuda_argmax(ctx, rows, dy, dtok));
        OK(g4j_cuda_download(ctx, y_eager, dy, 4 * rows));
        OK(g4j_cuda_download(ctx, &tok_eager, dtok, 4));
        OK(g4j_cuda_memset(ctx, dy, 0, 4 * rows));
        OK(g4j_cuda_graph_launch(ctx, g));
        OK(g4j_cuda_synchronize(ctx));
        OK(g4j_cuda_download(ctx, y_graph, dy, 4 * rows));
        OK(g4j_cuda_download(ctx, &tok_graph, dtok, 4));
        CHECK(memcmp(y_eager, y_graph, 4 * rows) == 0 && tok_eager == tok_graph, "graph replay at pos %d differs from eager", pos);
    }
    g4j_cuda_graph_destroy(ctx, g);
    CHECK(g4j_cuda_graph_end(ctx, &g) == G4J_E_INVALID_ARGUMENT, "end without begin accepted");
    dev_free(dw); dev_free(dx); dev_free(dy); dev_free(dpos); dev_free(dtok);
    free(w); free(x); free(y_eager); free(y_graph);
    printf("graphs: capture of matmul + rope + argmax replayed at 3 positions = eager: ok\n");
}

int main(void) {
    int32_t n = 0;
    g4j_status st = g4j_cuda_device_count(&n);
    if (st != G4J_OK) {
        char reason[512];
        snprintf(reason, sizeof reason, "%s", g4j_cuda_last_error());
        g4j_cuda_ctx *c = NULL;
        if (g4j_cuda_ctx_create(0, &c) != G4J_E_NO_DEVICE || c != NULL) { fprintf(stderr, "FAIL ctx_create without a device\n"); return 1; }
        printf("SKIP: %s\n", reason);
        return 77;
    }
    g4j_cuda_device_info info;
    OK(g4j_cuda_device_info_get(0, &info));
    printf("device 0: %s, sm_%d%d\n", info.name, info.compute_major, info.compute_minor);
    OK(g4j_cuda_ctx_create(0, &ctx));
    if (!ctx) return 1;
    test_lifecycle();
    test_elementwise();
    test_rope();
    test_attention();
    test_argmax();
    test_graph();
    test_matmul();
    g4j_cuda_ctx_destroy(ctx);
    if (failures) { fprintf(stderr, "%d failures\n", failures); return 1; }
    printf("cuda op tests passed\n");
    return 0;
}
