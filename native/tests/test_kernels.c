/*
 * test_kernels.c - native unit tests (ctest): every kernel variant this CPU runs against a double-precision
 * oracle written here, independent of the library's own code; argument checking; type layouts against
 * ggml's published block sizes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf4j.h"

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17; return (uint32_t)(rng_state >> 11); }
static float rndf(void) { return (float)((rnd() & 0xffffff) / 16777216.0 * 2.0 - 1.0); }

/* half of a value known to be a normal binary16 number with at most 11 significant bits */
static uint16_t exact_half(float f) {
    uint32_t b; memcpy(&b, &f, 4);
    if ((b & 0x7fffffff) == 0) return (uint16_t)(b >> 16);
    uint32_t sign = (b >> 16) & 0x8000, exp = ((b >> 23) & 0xff) - 112, mant = (b >> 13) & 0x3ff;
    return (uint16_t)(sign | (exp << 10) | mant);
}
static double half_value(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff; double s = (h & 0x8000) ? -1 : 1;
    return e == 0 ? s * m * ldexp(1, -24) : s * (1024 + m) * ldexp(1, e - 25);
}

#define QK 32
#define BLOCK_BYTES 34

/* fills n/32 Q8_0 blocks with random scales exactly representable in binary16 and random quants */
static void fill_q8_0(unsigned char *x, int64_t n) {
    for (int64_t b = 0; b < n / QK; b++) {
        unsigned char *blk = x + b * BLOCK_BYTES;
        float d = ldexpf((float)(1024 + rnd() % 1024), -(int)(16 + rnd() % 6)); /* 11-bit mantissa, normal range */
        uint16_t h = exact_half(d);
        memcpy(blk, &h, 2);
        for (int j = 0; j < QK; j++) blk[2 + j] = (unsigned char)(int8_t)((int)(rnd() % 255) - 127);
    }
}

static double oracle_q8_0(int64_t n, const unsigned char *x, const float *y, double *abs_sum) {
    double s = 0, a = 0;
    for (int64_t b = 0; b < n / QK; b++) {
        const unsigned char *blk = x + b * BLOCK_BYTES;
        uint16_t h; memcpy(&h, blk, 2);
        double d = half_value(h);
        for (int j = 0; j < QK; j++) {
            double t = d * (int8_t)blk[2 + j] * y[b * QK + j];
            s += t; a += fabs(t);
        }
    }
    *abs_sum = a;
    return s;
}

static void test_q8_0_dot(void) {
    static const int64_t lengths[] = {0, 32, 64, 96, 256, 288, 4096, 4096 + 32, 11008};
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        const int64_t n = lengths[li];
        unsigned char *x = malloc((size_t)(n / QK * BLOCK_BYTES) + 1);
        float *y = malloc(sizeof(float) * (size_t)n + 4);
        fill_q8_0(x, n);
        for (int64_t i = 0; i < n; i++) y[i] = rndf();
        double abs_sum;
        const double want = oracle_q8_0(n, x, y, &abs_sum);
        float scalar = NAN;
        CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 8, n, x, y, &scalar) == G4J_OK, "scalar dot failed: %s", g4j_last_error());
        for (int isa = G4J_ISA_SCALAR; isa < G4J_ISA_COUNT; isa++) {
            if (!g4j_isa_available(isa)) { printf("skip %s (not supported by this CPU)\n", g4j_isa_name(isa)); continue; }
            float got = NAN;
            CHECK(g4j_vec_dot(isa, 8, n, x, y, &got) == G4J_OK, "%s dot failed: %s", g4j_isa_name(isa), g4j_last_error());
            /* float accumulation over n terms: error bound ~ n * eps * sum|terms| */
            const double tol = 1e-6 + (double)(n + 8) * 6e-8 * abs_sum;
            CHECK(fabs(got - want) <= tol, "%s n=%lld got %.9g want %.9g (tol %.3g)", g4j_isa_name(isa), (long long)n, got, want, tol);
            CHECK(fabs(got - scalar) <= tol, "%s n=%lld differs from scalar: %.9g vs %.9g", g4j_isa_name(isa), (long long)n, got, scalar);
            /* matvec over 3 rows of the same data must equal 3 dots */
            if (n > 0) {
                unsigned char *w = malloc((size_t)(3 * n / QK * BLOCK_BYTES));
                for (int r = 0; r < 3; r++) memcpy(w + r * (n / QK * BLOCK_BYTES), x, (size_t)(n / QK * BLOCK_BYTES));
                float out[3];
                CHECK(g4j_matvec(isa, 8, 3, n, w, n / QK * BLOCK_BYTES, y, out) == G4J_OK, "matvec: %s", g4j_last_error());
                for (int r = 0; r < 3; r++) CHECK(out[r] == got, "%s matvec row %d %.9g != dot %.9g", g4j_isa_name(isa), r, out[r], got);
                free(w);
            }
        }
        free(x); free(y);
    }
}

static void test_errors(void) {
    float out, y[64] = {0};
    unsigned char x[68] = {0};
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 8, 33, x, y, &out) == G4J_E_INVALID_ARGUMENT, "n=33 accepted for q8_0");
    CHECK(strstr(g4j_last_error(), "33") != NULL, "message should name the length: %s", g4j_last_error());
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 8, 32, NULL, y, &out) == G4J_E_INVALID_ARGUMENT, "null x accepted");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 4, 32, x, y, &out) == G4J_E_UNSUPPORTED_TYPE, "retired type id 4 accepted");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 12345, 32, x, y, &out) == G4J_E_UNSUPPORTED_TYPE, "type 12345 accepted");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 23, 256, x, y, &out) == G4J_E_UNSUPPORTED_TYPE, "iq4_xs has no kernel yet");
    CHECK(strstr(g4j_last_error(), "iq4_xs") != NULL, "message should name the type: %s", g4j_last_error());
    CHECK(g4j_vec_dot(77, 8, 32, x, y, &out) == G4J_E_UNSUPPORTED_ISA, "isa 77 accepted");
    CHECK(g4j_matvec(G4J_ISA_SCALAR, 8, 2, 32, x, 10, y, &out) == G4J_E_INVALID_ARGUMENT, "short row stride accepted");
    CHECK(g4j_matvec(G4J_ISA_SCALAR, 8, -1, 32, x, 34, y, &out) == G4J_E_INVALID_ARGUMENT, "negative rows accepted");
}

static void test_layouts(void) {
    /* ggml's block sizes (ggml-common.h), as published: id, elements, bytes */
    static const int64_t want[][3] = {
        {0, 1, 4}, {1, 1, 2}, {2, 32, 18}, {3, 32, 20}, {6, 32, 22}, {7, 32, 24}, {8, 32, 34}, {9, 32, 36},
        {10, 256, 84}, {11, 256, 110}, {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {15, 256, 292},
        {20, 32, 18}, {23, 256, 136}, {24, 1, 1}, {25, 1, 2}, {26, 1, 4}, {27, 1, 8}, {28, 1, 8}, {30, 1, 2},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int64_t e = -1, b = -1;
        CHECK(g4j_type_layout((int32_t)want[i][0], &e, &b) == G4J_OK, "layout of %lld", (long long)want[i][0]);
        CHECK(e == want[i][1] && b == want[i][2], "type %lld: %lld/%lld, want %lld/%lld", (long long)want[i][0],
              (long long)e, (long long)b, (long long)want[i][1], (long long)want[i][2]);
    }
    int64_t e, b;
    CHECK(g4j_type_layout(4, &e, &b) == G4J_E_UNSUPPORTED_TYPE, "retired id 4 has a layout");
}

int main(void) {
    printf("libgguf4j %s abi %u, auto variant %s, features 0x%llx\n", g4j_version(), g4j_abi_version(),
           g4j_isa_name(g4j_isa_selected()), (unsigned long long)g4j_cpu_features());
    CHECK(g4j_abi_version() == G4J_ABI_VERSION, "abi version");
    test_layouts();
    test_errors();
    test_q8_0_dot();
    if (failures) { fprintf(stderr, "%d failure(s)\n", failures); return 1; }
    printf("all native kernel tests passed\n");
    return 0;
}
