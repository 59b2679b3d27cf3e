/*
 * bench_kernels.c - times each kernel variant on the same data (not a test: run it by hand, see
 * docs/benchmarks.md). Matrix-vector over a weight matrix larger than L2, so memory behaviour is realistic; each
 * matvec includes converting x to the type's vec_dot_type, as ggml does once per mul_mat.
 *   build/bench_kernels [rows] [cols] [reps] [type-name ...]
 * The type names q4_0_r8, q8_0_r8, q4_K_r8, q5_K_r8 and q6_K_r8 time g4j_matmat_r8 on the r8 copy of the same
 * matrix (the copy is made once, before timing; the conversion of x is timed as for the others; the k-quants' r8
 * products are their own arithmetic, gguf4j.h).
 * With G4J_BENCH_BATCH=n (n > 1) it times g4j_matmat over a batch of n activation vectors instead (prompt
 * processing): GFLOP/s = 2 * rows * cols * n / time, conversion of the batch included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf4j.h"

/* G4J_BENCH_CPUTIME=1: this thread's CPU time instead of wall time (on a shared machine, time spent descheduled
 * does not count; cache interference from other processes still does) */
static clockid_t clock_id = CLOCK_MONOTONIC;
static double now(void) { struct timespec t; clock_gettime(clock_id, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

/* id, name, byte offsets of the block's f16 scale fields (-1: none) */
static const struct { int id; const char *name; int f16_at[2]; } TYPES[] = {
    {0, "f32", {-1, -1}}, {1, "f16", {-1, -1}}, {30, "bf16", {-1, -1}}, {2, "q4_0", {0, -1}}, {3, "q4_1", {0, 2}},
    {6, "q5_0", {0, -1}}, {7, "q5_1", {0, 2}}, {8, "q8_0", {0, -1}}, {10, "q2_K", {80, 82}}, {11, "q3_K", {108, -1}},
    {12, "q4_K", {0, 2}}, {13, "q5_K", {0, 2}}, {14, "q6_K", {208, -1}}, {20, "iq4_nl", {0, -1}}, {23, "iq4_xs", {0, -1}},
    {2, "q4_0_r8", {0, -1}}, {8, "q8_0_r8", {0, -1}}, {12, "q4_K_r8", {0, 2}}, {13, "q5_K_r8", {0, 2}},
    {14, "q6_K_r8", {208, -1}},
};

/* Bytes of one converted activation vector of cols elements for an r8 type (Q8_0, or Q8_K for the k-quants). */
static int64_t r8_act_bytes(int type, int64_t cols) { return type >= 10 ? cols / 256 * 292 : cols / 32 * 34; }

/* r8: the copy, and room for the converted activations */
static void *packed, *acts;

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }

static int run(int isa, int type, int64_t rows, int64_t cols, const void *w, int64_t row_bytes, int64_t batch,
               const float *x, float *y) {
    if (packed) {
        const int64_t ab = r8_act_bytes(type, cols);
        for (int64_t j = 0; j < batch; j++) {
            const int st = g4j_quantize_activations(type, cols, x + j * cols, (char *)acts + j * ab, ab);
            if (st) return st;
        }
        return g4j_matmat_r8(isa, type, rows, cols, packed, 0, 0, rows, batch, acts, ab, y, rows);
    }
    if (batch == 1) return g4j_matvec(isa, type, rows, cols, w, row_bytes, x, y);
    return g4j_matmat(isa, type, rows, cols, w, row_bytes, batch, x, cols, y, rows);
}

int main(int argc, char **argv) {
    const int64_t rows = argc > 1 ? atoll(argv[1]) : 4096, cols = argc > 2 ? atoll(argv[2]) : 4096;
    const int reps = argc > 3 ? atoi(argv[3]) : 15;
    const char *cpu_env = getenv("G4J_BENCH_CPUTIME");
    if (cpu_env && atoi(cpu_env)) clock_id = CLOCK_THREAD_CPUTIME_ID;
    const char *batch_env = getenv("G4J_BENCH_BATCH");
    const int64_t batch = batch_env && atoll(batch_env) > 1 ? atoll(batch_env) : 1;
    float *x = malloc(sizeof(float) * cols * batch), *y = malloc(sizeof(float) * rows * batch);
    for (int64_t i = 0; i < cols * batch; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    if (batch > 1)
        printf("# rows %lld cols %lld batch %lld, median of %d matmats (x converted each time), GFLOP/s = 2 rows cols batch / time\n",
               (long long)rows, (long long)cols, (long long)batch, reps);
    else
        printf("# rows %lld cols %lld, median of %d matvecs (x converted each time), GB/s = weight bytes / time\n",
               (long long)rows, (long long)cols, reps);
    printf("%-7s %-10s %10s %8s\n", "type", "variant", "ms", batch > 1 ? "GFLOP/s" : "GB/s");
    for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
        if (argc > 4) {
            int wanted = 0;
            for (int a = 4; a < argc; a++) wanted |= strcmp(argv[a], TYPES[t].name) == 0;
            if (!wanted) continue;
        }
        const int type = TYPES[t].id;
        int64_t be, bb;
        if (g4j_type_layout(type, &be, &bb) != 0 || cols % be != 0) continue;
        const int64_t row_bytes = cols / be * bb, nblocks = rows * (cols / be);
        unsigned char *w = malloc((size_t)(rows * row_bytes));
        for (int64_t i = 0; i < rows * row_bytes; i++) w[i] = (unsigned char)rnd();
        if (type == 0) for (int64_t i = 0; i < rows * cols; i++) ((float *)w)[i] = (float)(i % 17) * 0.01f;
        if (type == 1) for (int64_t i = 0; i < rows * cols; i++) ((unsigned short *)w)[i] &= 0xbbff; /* finite */
        if (type == 30) for (int64_t i = 0; i < rows * cols; i++) ((unsigned short *)w)[i] &= 0xbfff;
        for (int f = 0; f < 2; f++) {
            if (TYPES[t].f16_at[f] < 0) continue;
            for (int64_t b = 0; b < nblocks; b++) {
                unsigned short h = (unsigned short)(0x1c00 | (rnd() & 0x3ff)); /* 2^-8 .. 2^-7 */
                memcpy(w + b * bb + TYPES[t].f16_at[f], &h, 2);
            }
        }
        if (strstr(TYPES[t].name, "_r8")) {
            const int64_t pb = g4j_r8_bytes(type, rows, cols);
            packed = malloc((size_t)pb);
            acts = realloc(acts, (size_t)(r8_act_bytes(type, cols) * batch));
            if (g4j_repack_r8(type, rows, cols, w, row_bytes, packed, pb) != 0) { printf("%s\n", g4j_last_error()); return 1; }
        }
        /* the variants take turns within each repetition, so drifting load on the machine hits all alike */
        double *ts = malloc(sizeof(double) * reps * G4J_ISA_COUNT);
        int ok[G4J_ISA_COUNT];
        for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
            /* (the scalar reference is skipped for batches: minutes per matmat) */
            ok[isa] = g4j_isa_available(isa) && !(batch > 1 && isa == 0) && run(isa, type, rows, cols, w, row_bytes, batch, x, y) == 0; /* warm-up */
            if (g4j_isa_available(isa) && !ok[isa] && !(batch > 1 && isa == 0)) printf("%-7s %-10s %s\n", TYPES[t].name, g4j_isa_name(isa), g4j_last_error());
        }
        for (int r = 0; r < reps; r++)
            for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
                if (!ok[isa]) continue;
                double t0 = now();
                run(isa, type, rows, cols, w, row_bytes, batch, x, y);
                ts[isa * reps + r] = now() - t0;
            }
        for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
            if (!ok[isa]) continue;
            qsort(ts + isa * reps, reps, sizeof(double), cmp);
            const double med = ts[isa * reps + reps / 2];
            printf("%-7s %-10s %10.3f %8.2f\n", TYPES[t].name, g4j_isa_name(isa), med * 1e3,
                   batch > 1 ? 2.0 * rows * cols * batch / med / 1e9 : rows * row_bytes / med / 1e9);
        }
        fflush(stdout);
        free(ts);
        free(w);
        free(packed); free(acts);
        packed = acts = NULL;
    }
    free(x); free(y);
    return 0;
}
