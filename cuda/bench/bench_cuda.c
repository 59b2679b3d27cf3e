/*
 * bench_cuda.c - matmul timings of libgguf4j_cuda on TinyLlama-1.1B and Llama-3-8B weight shapes, for Q4_K, Q8_0,
 * Q4_0 and Q6_K, at n_tokens 1 (decode: GB/s of weight bytes read) and 512 (prefill: TFLOP/s, 2 * rows * cols *
 * n_tokens), next to the device's measured memory bandwidth (a device-to-device cudaMemcpy of 1 GiB: 2 bytes moved
 * per byte copied). Weights are random valid blocks (timings do not depend on the values).
 *
 *   bench_cuda [--quick]     --quick: TinyLlama shapes only
 * Without a GPU it prints "SKIP: <reason>" and exits 0.
 */
#define _POSIX_C_SOURCE 199309L
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf4j_cuda.h"
#include "test_util.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define OK(call) do { g4j_status st_ = (call); if (st_ != G4J_OK) { \
    fprintf(stderr, "%s failed: %s\n", #call, g4j_cuda_last_error()); exit(1); } } while (0)

static g4j_cuda_ctx *ctx;

/* seconds per call: 2 warm-up calls, then batches (10 calls at n = 1, else 1) until 0.2 s or 500 calls */
static double time_matmul(int32_t type, void *w, int64_t rows, int64_t cols, int64_t rb, int64_t nt, float *x, float *y) {
    for (int i = 0; i < 2; i++) OK(g4j_cuda_matmul(ctx, type, w, rows, cols, rb, nt, x, cols, y, rows));
    OK(g4j_cuda_synchronize(ctx));
    const int batch = nt == 1 ? 10 : 1;
    int n = 0;
    const double t0 = now_s();
    double t1;
    do {
        for (int i = 0; i < batch; i++) OK(g4j_cuda_matmul(ctx, type, w, rows, cols, rb, nt, x, cols, y, rows));
        n += batch;
        OK(g4j_cuda_synchronize(ctx));
        t1 = now_s();
    } while (t1 - t0 < 0.2 && n < 500);
    return (t1 - t0) / n;
}

static double device_bandwidth(void) {
    const size_t bytes = (size_t)1 << 30;
    void *a = NULL, *b = NULL;
    if (g4j_cuda_alloc(ctx, (int64_t)bytes, &a) != G4J_OK || g4j_cuda_alloc(ctx, (int64_t)bytes, &b) != G4J_OK) return 0;
    OK(g4j_cuda_memset(ctx, a, 1, (int64_t)bytes));
    OK(g4j_cuda_synchronize(ctx));
    cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaDeviceSynchronize();
    const int reps = 10;
    const double t0 = now_s();
    for (int i = 0; i < reps; i++) cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaDeviceSynchronize();
    const double t = (now_s() - t0) / reps;
    OK(g4j_cuda_free(ctx, a));
    OK(g4j_cuda_free(ctx, b));
    return 2.0 * (double)bytes / t / 1e9;
}

int main(int argc, char **argv) {
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int32_t ndev = 0;
    if (g4j_cuda_device_count(&ndev) != G4J_OK) {
        printf("SKIP: %s\n", g4j_cuda_last_error());
        return 0;
    }
    g4j_cuda_device_info info;
    OK(g4j_cuda_device_info_get(0, &info));
    OK(g4j_cuda_ctx_create(0, &ctx));
    const double bw = device_bandwidth();
    printf("device: %s (sm_%d%d, %d SMs, %lld MiB)\n", info.name, info.compute_major, info.compute_minor,
           info.multiprocessors, (long long)(info.total_memory_bytes >> 20));
    printf("measured memory bandwidth (device-to-device copy, 1 GiB): %.0f GB/s\n\n", bw);

    static const struct { const char *model, *what; int64_t rows, cols; } shapes[] = {
        {"TinyLlama", "q/o 2048x2048", 2048, 2048}, {"TinyLlama", "k/v 256x2048", 256, 2048},
        {"TinyLlama", "gate/up 5632x2048", 5632, 2048}, {"TinyLlama", "down 2048x5632", 2048, 5632},
        {"TinyLlama", "output 32000x2048", 32000, 2048},
        {"Llama-3-8B", "q/o 4096x4096", 4096, 4096}, {"Llama-3-8B", "k/v 1024x4096", 1024, 4096},
        {"Llama-3-8B", "gate/up 14336x4096", 14336, 4096}, {"Llama-3-8B", "down 4096x14336", 4096, 14336},
        {"Llama-3-8B", "output 128256x4096", 128256, 4096},
    };
    static const int32_t types[] = {G4J_TYPE_Q4_K, G4J_TYPE_Q8_0, G4J_TYPE_Q4_0, G4J_TYPE_Q6_K};
    const int nshapes = quick ? 5 : (int)(sizeof shapes / sizeof shapes[0]);
    const int64_t nt_big = 512;

    /* activations for up to 512 tokens of 14336 */
    const int64_t xmax = nt_big * 14336;
    float *hx = malloc(sizeof(float) * (size_t)xmax);
    for (int64_t i = 0; i < xmax; i++) hx[i] = tu_gauss();
    void *dx = NULL, *dy = NULL;
    OK(g4j_cuda_alloc(ctx, (int64_t)sizeof(float) * xmax, &dx));
    OK(g4j_cuda_upload(ctx, dx, hx, (int64_t)sizeof(float) * xmax));
    OK(g4j_cuda_alloc(ctx, (int64_t)sizeof(float) * nt_big * 128256, &dy));
    free(hx);

    printf("| model      | matrix               | type | weight MiB | n=1 us | n=1 GB/s | %% of copy bw | n=512 ms | n=512 TFLOP/s |\n");
    printf("|------------|----------------------|------|-----------:|-------:|---------:|-------------:|---------:|--------------:|\n");
    for (int s = 0; s < nshapes; s++)
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            const int32_t type = types[ti];
            const int64_t rows = shapes[s].rows, cols = shapes[s].cols, rb = tu_row_bytes(type, cols);
            const int64_t bytes = rb * rows;
            void *dw = NULL;
            if (g4j_cuda_alloc(ctx, bytes, &dw) != G4J_OK) { printf("| %s: %s\n", shapes[s].what, g4j_cuda_last_error()); continue; }
            /* 64 random rows, repeated */
            const int64_t pat_rows = rows < 64 ? rows : 64;
            uint8_t *pat = malloc((size_t)(rb * pat_rows));
            for (int64_t r = 0; r < pat_rows; r++) tu_fill_row(type, pat + r * rb, cols);
            for (int64_t r = 0; r < rows; r += pat_rows) {
                const int64_t n = rows - r < pat_rows ? rows - r : pat_rows;
                OK(g4j_cuda_upload(ctx, (uint8_t *)dw + r * rb, pat, n * rb));
            }
            free(pat);
            const double t1 = time_matmul(type, dw, rows, cols, rb, 1, dx, dy);
            const double t512 = time_matmul(type, dw, rows, cols, rb, nt_big, dx, dy);
            const double gbs = (double)bytes / t1 / 1e9;
            printf("| %-10s | %-20s | %-4s | %10.1f | %6.1f | %8.0f | %11.0f%% | %8.2f | %13.1f |\n", shapes[s].model,
                   shapes[s].what, tu_type_name(type), bytes / 1048576.0, t1 * 1e6, gbs, bw > 0 ? 100.0 * gbs / bw : 0.0,
                   t512 * 1e3, 2.0 * rows * cols * nt_big / t512 / 1e12);
            fflush(stdout);
            OK(g4j_cuda_free(ctx, dw));
        }
    g4j_cuda_ctx_destroy(ctx);
    return 0;
}
