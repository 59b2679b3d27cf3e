// ggml_mm.cpp - the peer side of bench_kernels: times ggml's mul_mat of one ROWS x COLS weight matrix of TYPE
// (ggml's type name: q4_0, q8_0, q4_K, q6_K, ...) against BATCH F32 activation vectors on the CPU backend, one
// thread, thread CPU time, median of REPS after one warm-up; with "repack" the weights go into the CPU_AARCH64
// buffer type, where llama.cpp puts Q4_0 (q4_0_8x8 on AVX2). The activations' conversion is included, as in
// bench_kernels. Not built by CMake (it needs a llama.cpp build); see docs/benchmarks.md, "AVX2-only machine":
//   L=path/to/llama.cpp; g++ -O2 -std=c++17 -I$L/ggml/include native/bench/ggml_mm.cpp -L$L/build/bin \
//     -lggml -lggml-base -lggml-cpu -Wl,-rpath,$L/build/bin -o ggml_mm
//   ggml_mm TYPE ROWS COLS BATCH REPS [repack]
#include "ggml.h"
#include "ggml-cpu.h"
#include "ggml-backend.h"
#include "ggml-alloc.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <algorithm>
#include <ctime>
static double now() { timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: ggml_mm TYPE ROWS COLS BATCH REPS [repack]\n"); return 2; }
    const char *tn = argv[1];
    int64_t rows = atoll(argv[2]), cols = atoll(argv[3]), batch = atoll(argv[4]);
    int reps = atoi(argv[5]);
    bool repack = argc > 6 && !strcmp(argv[6], "repack");
    ggml_type type = GGML_TYPE_COUNT;
    for (int t = 0; t < GGML_TYPE_COUNT; t++) { auto *tr = ggml_get_type_traits((ggml_type)t); if (tr->type_name && !strcmp(tr->type_name, tn)) type = (ggml_type)t; }
    if (type == GGML_TYPE_COUNT) { fprintf(stderr, "ggml_mm: unknown type %s\n", tn); return 2; }
    ggml_cpu_init();
    ggml_backend_t be = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(be, 1);
    ggml_backend_buffer_type_t wbuft = ggml_backend_cpu_buffer_type();
    if (repack) {
        ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
        auto f = (ggml_backend_buffer_type_t *(*)(ggml_backend_dev_t))ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
        ggml_backend_buffer_type_t *b = f(dev);
        wbuft = b[0];
        fprintf(stderr, "weights in %s\n", ggml_backend_buft_name(wbuft));
    }
    ggml_init_params p = {64 * ggml_tensor_overhead() + ggml_graph_overhead(), nullptr, true};
    ggml_context *cw = ggml_init(p), *ca = ggml_init(p);
    ggml_tensor *w = ggml_new_tensor_2d(cw, type, cols, rows);
    ggml_tensor *x = ggml_new_tensor_2d(ca, GGML_TYPE_F32, cols, batch);
    ggml_tensor *y = ggml_mul_mat(ca, w, x);
    ggml_backend_buffer_t bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, wbuft);
    ggml_backend_buffer_t ba = ggml_backend_alloc_ctx_tensors_from_buft(ca, ggml_backend_cpu_buffer_type());
    std::vector<float> src(rows * cols), xs(cols * batch);
    srand(1);
    for (auto &v : src) v = (rand() / (float)RAND_MAX - 0.5f);
    for (auto &v : xs) v = (rand() / (float)RAND_MAX - 0.5f);
    std::vector<uint8_t> q(ggml_row_size(type, cols) * rows);
    ggml_quantize_chunk(type, src.data(), q.data(), 0, rows, cols, nullptr);
    ggml_backend_tensor_set(w, q.data(), 0, q.size());
    ggml_backend_tensor_set(x, xs.data(), 0, xs.size() * 4);
    ggml_cgraph *gf = ggml_new_graph(ca);
    ggml_build_forward_expand(gf, y);
    std::vector<double> ts;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = now();
        ggml_backend_graph_compute(be, gf);
        double dt = now() - t0;
        if (r) ts.push_back(dt);
    }
    std::sort(ts.begin(), ts.end());
    double med = ts[ts.size() / 2];
    printf("ggml%s %s %lldx%lld batch %lld: %.3f ms  %.1f GFLOP/s\n", repack ? "-repack" : "", tn, (long long)rows, (long long)cols, (long long)batch, med * 1e3, 2.0 * rows * cols * batch / med * 1e-9);
    (void)bw; (void)ba;
    return 0;
}
