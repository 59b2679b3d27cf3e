/*
 * bench_quantize.c - g4j_quantize_rows by type and kernel variant, one thread, CPU time (not a test: run it by
 * hand, see docs/benchmarks.md). Input: rows x cols F16 gaussian values (a TinyLlama-sized matrix by default),
 * importance weights log-normal when asked. Prints ns per element, the best of reps.
 *   bench_quantize [rows] [cols] [reps]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf4j.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static uint64_t state = 88172645463325252ull;
static double unif(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return ((state >> 11) + 0.5) / 9007199254740992.0; }
static float gauss(void) { return (float)(sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif())); }
static uint16_t to_half(float f) { /* truncating is enough for bench input */
    uint32_t u; memcpy(&u, &f, 4);
    const uint32_t s = (u >> 16) & 0x8000; const int e = (int)((u >> 23) & 0xff) - 127 + 15;
    if (e <= 0) return (uint16_t)s;
    return (uint16_t)(s | (uint32_t)e << 10 | ((u >> 13) & 0x3ff));
}

int main(int argc, char **argv) {
    const int64_t rows = argc > 1 ? atoll(argv[1]) : 256, cols = argc > 2 ? atoll(argv[2]) : 2048;
    const int reps = argc > 3 ? atoi(argv[3]) : 3;
    static const struct { int id; const char *name; } T[] = {{2, "q4_0"}, {3, "q4_1"}, {6, "q5_0"}, {7, "q5_1"},
        {8, "q8_0"}, {20, "iq4_nl"}, {10, "q2_K"}, {11, "q3_K"}, {12, "q4_K"}, {13, "q5_K"}, {14, "q6_K"}, {30, "bf16"}, {0, "f32"}};
    uint16_t *src = malloc((size_t)(rows * cols * 2));
    float *qw = malloc((size_t)cols * 4);
    void *dst = malloc((size_t)(rows * cols * 4));
    for (int64_t i = 0; i < rows * cols; ++i) src[i] = to_half(gauss() * 0.02f);
    for (int64_t i = 0; i < cols; ++i) qw[i] = (float)exp(gauss());
    printf("%-6s %-3s", "type", "im");
    for (int isa = 0; isa < G4J_ISA_COUNT; ++isa) if (g4j_isa_available(isa)) printf(" %10s", g4j_isa_name(isa));
    printf("   (ns/element, %lld x %lld F16, best of %d)\n", (long long)rows, (long long)cols, reps);
    for (size_t t = 0; t < sizeof T / sizeof T[0]; ++t)
        for (int im = 0; im < 2; ++im) {
            printf("%-6s %-3s", T[t].name, im ? "yes" : "no");
            for (int isa = 0; isa < G4J_ISA_COUNT; ++isa) {
                if (!g4j_isa_available(isa)) continue;
                double best = 1e30;
                for (int r = 0; r < reps; ++r) {
                    const double t0 = now();
                    if (g4j_quantize_rows(isa, 1, src, cols * 2, T[t].id, dst, rows, cols, im ? qw : NULL, NULL) != G4J_OK) {
                        printf(" %10s", "-");
                        best = -1;
                        break;
                    }
                    const double dt = now() - t0;
                    if (dt < best) best = dt;
                }
                if (best >= 0) printf(" %10.2f", best * 1e9 / (double)(rows * cols));
            }
            printf("\n");
        }
    free(src); free(qw); free(dst);
    return 0;
}
