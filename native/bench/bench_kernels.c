/*
 * bench_kernels.c - times each kernel variant on the same data (not a test: run it by hand, see
 * docs/benchmarks.md). Matrix-vector over a weight matrix larger than L2, so memory behaviour is realistic.
 *   build/bench_kernels [rows] [cols] [reps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf4j.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    const int64_t rows = argc > 1 ? atoll(argv[1]) : 4096, cols = argc > 2 ? atoll(argv[2]) : 4096;
    const int reps = argc > 3 ? atoi(argv[3]) : 31;
    const int types[] = {8, 1, 0}; /* Q8_0, F16, F32 */
    const char *names[] = {"q8_0", "f16", "f32"};
    float *x = malloc(sizeof(float) * cols), *y = malloc(sizeof(float) * rows);
    for (int64_t i = 0; i < cols; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    printf("# rows %lld cols %lld, median of %d matvecs, GB/s = weight bytes / time\n", (long long)rows, (long long)cols, reps);
    printf("%-6s %-8s %10s %8s\n", "type", "variant", "ms", "GB/s");
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        int64_t be, bb;
        g4j_type_layout(types[t], &be, &bb);
        const int64_t row_bytes = cols / be * bb;
        unsigned char *w = malloc((size_t)(rows * row_bytes));
        for (int64_t i = 0; i < rows * row_bytes; i++) w[i] = (unsigned char)(i * 2654435761u >> 13);
        if (types[t] == 8 || types[t] == 1) /* keep f16 scales/values finite: clear exponent bits */
            for (int64_t i = 1; i < rows * row_bytes; i += 2) if (types[t] == 1 || (i % 34) == 1) w[i] &= 0x3b;
        if (types[t] == 0) for (int64_t i = 0; i < rows * cols; i++) ((float *)w)[i] = (float)(i % 17) * 0.01f;
        for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
            if (!g4j_isa_available(isa)) continue;
            double *ts = malloc(sizeof(double) * reps);
            g4j_matvec(isa, types[t], rows, cols, w, row_bytes, x, y); /* warm-up */
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                g4j_matvec(isa, types[t], rows, cols, w, row_bytes, x, y);
                ts[r] = now() - t0;
            }
            qsort(ts, reps, sizeof(double), cmp);
            printf("%-6s %-8s %10.3f %8.2f\n", names[t], g4j_isa_name(isa), ts[reps / 2] * 1e3, rows * row_bytes / ts[reps / 2] / 1e9);
            free(ts);
        }
        free(w);
    }
    free(x); free(y);
    return 0;
}
