/*
 * bench_gemm_qk.c - matrix x matrix timings of the k-quant kernels (not a test; run by hand). For each type,
 * shape rows x cols and batch: g4j_matmat on one thread (activation conversion included, as ggml's mul_mat
 * converts src1 once), median of reps (and the best rep); GFLOP/s = 2 rows cols batch / time. Also the matvec of the same matrix.
 *   build/bench_gemm_qk [reps] [type-name ...]      (shapes 2048x2048, 5632x2048, 2048x5632; batches 128, 512)
 * Times are this thread's CPU time (the machine is shared), wall time with BENCH_WALL=1.
 * Env BENCH_SHAPES="r:c:b,r:c:b" overrides the shape list; BENCH_ISA=avx2|avx512 picks one variant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf4j.h"

static double now(void) { struct timespec t; clock_gettime(getenv("BENCH_WALL") ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static const struct { int id; const char *name; int f16_at[2]; } TYPES[] = {
    {10, "q2_K", {80, 82}}, {11, "q3_K", {108, -1}}, {12, "q4_K", {0, 2}}, {13, "q5_K", {0, 2}}, {14, "q6_K", {208, -1}},
    {23, "iq4_xs", {0, -1}},
};

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }

int main(int argc, char **argv) {
    const int reps = argc > 1 ? atoi(argv[1]) : 5;
    int64_t shapes[16][3] = {{2048, 2048, 128}, {2048, 2048, 512}, {5632, 2048, 128}, {5632, 2048, 512},
                             {2048, 5632, 128}, {2048, 5632, 512}};
    int nshapes = 6;
    const char *env = getenv("BENCH_SHAPES");
    if (env) {
        nshapes = 0;
        for (const char *p = env; *p && nshapes < 16;) {
            long long a, b, c;
            int used = 0;
            if (sscanf(p, "%lld:%lld:%lld%n", &a, &b, &c, &used) != 3) break;
            shapes[nshapes][0] = a; shapes[nshapes][1] = b; shapes[nshapes][2] = c; nshapes++;
            p += used;
            if (*p == ',') p++;
        }
    }
    const char *isa_env = getenv("BENCH_ISA");
    printf("# median of %d, 1 thread; matmat GFLOP/s = 2*rows*cols*batch/t; matvec in ms\n", reps);
    printf("%-7s %-7s %6s %6s %6s %10s %9s %9s %10s\n", "type", "variant", "rows", "cols", "batch", "matmat_ms", "GFLOP/s", "best_GF/s", "matvec_ms");
    for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
        if (argc > 2) {
            int wanted = 0;
            for (int a = 2; a < argc; a++) wanted |= strcmp(argv[a], TYPES[t].name) == 0;
            if (!wanted) continue;
        }
        const int type = TYPES[t].id;
        int64_t be, bb;
        if (g4j_type_layout(type, &be, &bb) != 0) continue;
        for (int s = 0; s < nshapes; s++) {
            const int64_t rows = shapes[s][0], cols = shapes[s][1], batch = shapes[s][2];
            const int64_t row_bytes = cols / be * bb, nblocks = rows * (cols / be);
            unsigned char *w = malloc((size_t)(rows * row_bytes));
            for (int64_t i = 0; i < rows * row_bytes; i++) w[i] = (unsigned char)rnd();
            for (int f = 0; f < 2; f++) {
                if (TYPES[t].f16_at[f] < 0) continue;
                for (int64_t b = 0; b < nblocks; b++) {
                    unsigned short h = (unsigned short)(0x1c00 | (rnd() & 0x3ff));
                    memcpy(w + b * bb + TYPES[t].f16_at[f], &h, 2);
                }
            }
            float *x = malloc(sizeof(float) * (size_t)(cols * batch)), *y = malloc(sizeof(float) * (size_t)(rows * batch));
            for (int64_t i = 0; i < cols * batch; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
            for (int isa = G4J_ISA_AVX2; isa < G4J_ISA_COUNT; isa++) {
                if (!g4j_isa_available(isa)) continue;
                if (isa_env && strcmp(isa_env, g4j_isa_name(isa)) != 0) continue;
                double *ts = malloc(sizeof(double) * reps), *tv = malloc(sizeof(double) * reps);
                if (g4j_matmat(isa, type, rows, cols, w, row_bytes, batch, x, cols, y, rows) != 0) {
                    printf("%s: %s\n", TYPES[t].name, g4j_last_error());
                    return 1;
                }
                for (int r = 0; r < reps; r++) {
                    double t0 = now();
                    g4j_matmat(isa, type, rows, cols, w, row_bytes, batch, x, cols, y, rows);
                    ts[r] = now() - t0;
                    t0 = now();
                    g4j_matvec(isa, type, rows, cols, w, row_bytes, x, y);
                    tv[r] = now() - t0;
                }
                qsort(ts, reps, sizeof(double), cmp);
                qsort(tv, reps, sizeof(double), cmp);
                const double med = ts[reps / 2];
                printf("%-7s %-7s %6lld %6lld %6lld %10.2f %9.1f %9.1f %10.3f\n", TYPES[t].name, g4j_isa_name(isa), (long long)rows,
                       (long long)cols, (long long)batch, med * 1e3, 2.0 * rows * cols * batch / med / 1e9,
                       2.0 * rows * cols * batch / ts[0] / 1e9, tv[reps / 2] * 1e3);
                fflush(stdout);
                free(ts); free(tv);
            }
            free(w); free(x); free(y);
        }
    }
    return 0;
}
