// Cross-check vectors for dev.gguf4j.quant, computed by llama.cpp's libggml-base (c392e50, built without
// -march, i.e. plain IEEE float, no FMA contraction) with its fp16 table initialised by ggml_init().
//
// Build and run (from a llama.cpp build dir):
//   cc -O2 -std=c11 -I ggml/include ggml-crosscheck.c -L build/bin -lggml-base -lm -o ggml-crosscheck
//   LD_LIBRARY_PATH=build/bin ./ggml-crosscheck path/to/quant-vectors-v2.gguf > ggml-crosscheck.txt
//   (the first quant-vectors.gguf has the same inputs. With it and a second argument "zero-table" the program
//    instead zeroes ggml's fp16 table, which reproduces that defective file's bytes, made without ggml_init(),
//    and prints a verdict line per case: the record of its cause, docs/golden-data.md)
//
// Output lines (CRC-32 as java.util.zip.CRC32, of the quantized bytes and of the dequantized floats' raw bits):
//   case <n> <type> <imatrix:none|case|synthetic> <crc quant> <crc dequant>   golden input n quantized to type
//   edge <kind> <type> <imatrix kind> <crc quant> <crc dequant>                generated 512-element row
//   bytes <type> <crc dequant>                                                  dequantized random blocks
#include "ggml.h"
#include "gguf.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>

extern float ggml_table_f32_f16[1 << 16];
// exported by libggml-base but not registered as Q8_K's to_float in this version
void dequantize_row_q8_K(const void * x, float * y, int64_t k);

static uint32_t crc_table[256];
static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}
static uint32_t crc32(const void * data, size_t n) {
    const uint8_t * p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

// splitmix64; mirrored by CrossCheckInputs.java
static uint64_t rng;
static uint64_t next64(void) {
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float unif(void) { // [-1, 1), exact
    return (float)((int32_t)(next64() >> 40) - 8388608) * 0x1p-23f;
}
static float bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static float normalish(void) { float a = unif(), b = unif(), c = unif(), d = unif(); return (((a + b) + c) + d) * 0.05f; }

#define N_KINDS 18
static const char * KIND[N_KINDS] = {"normal", "nan1", "pinf1", "ninf1", "denormal", "zeros", "negzeros", "onedenormal",
    "huge", "nearmax", "allnan", "halfnan", "tiny", "outlier", "payloadnan", "infs", "mixedinf", "halves"};

static void fill(int kind, float * x, int n) {
    rng = 0x5EED0000ull + (uint64_t)kind;
    for (int i = 0; i < n; i++) x[i] = normalish();
    int p1 = (int)(next64() % (uint64_t)n), p2 = (int)(next64() % (uint64_t)n);
    switch (kind) {
        case 0: break;
        case 1: x[p1] = bits(0x7FC00000u); break;
        case 2: x[p1] = INFINITY; break;
        case 3: x[p1] = -INFINITY; break;
        case 4: for (int i = 0; i < n; i++) x[i] = unif() * 0x1p-130f; break;
        case 5: for (int i = 0; i < n; i++) x[i] = 0.0f; break;
        case 6: for (int i = 0; i < n; i++) x[i] = -0.0f; break;
        case 7: for (int i = 0; i < n; i++) x[i] = 0.0f; x[p1] = 0x1p-149f * 3; break;
        case 8: for (int i = 0; i < n; i++) x[i] = unif() * 3.0e38f; break;
        case 9: for (int i = 0; i < n; i++) x[i] = unif() >= 0 ? FLT_MAX : -FLT_MAX; break;
        case 10: for (int i = 0; i < n; i++) x[i] = bits(0x7FC00000u); break;
        case 11: for (int i = 0; i < n; i += 2) x[i] = bits(0x7FC00000u); break;
        case 12: for (int i = 0; i < n; i++) x[i] = unif() * 1e-20f; break;
        case 13: x[p1] = 1e30f; break;
        case 14: x[p1] = bits(0x7F800001u); x[p2] = bits(0xFFC12345u); break;
        case 15: for (int i = 0; i < n; i++) x[i] = i % 2 ? -INFINITY : INFINITY; break;
        case 16: x[p1] = INFINITY; x[p1 ^ 1] = -INFINITY; break;
        case 17: for (int i = 0; i < n; i++) x[i] = (float)((int)(next64() % 33) - 16) * 0.5f; break;
    }
}

#define N_IMAT 4
static const char * IMAT[N_IMAT] = {"none", "positive", "sparse", "zero"};
static void fill_imatrix(int kind, float * w, int n) {
    rng = 0x1A7A0000ull + (uint64_t)kind;
    for (int i = 0; i < n; i++) {
        switch (kind) {
            case 1: w[i] = fabsf(unif()) * 4.0f + 0.001f; break;
            case 2: w[i] = next64() % 4 == 0 ? 0.0f : fabsf(unif()); break;
            default: w[i] = 0.0f; break;
        }
    }
}

static const enum ggml_type QTYPES[] = {GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
    GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
    GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS};
#define N_QTYPES (int)(sizeof(QTYPES) / sizeof(QTYPES[0]))

static const char * tname(enum ggml_type t) {
    switch (t) {
        case GGML_TYPE_F16: return "F16"; case GGML_TYPE_BF16: return "BF16";
        case GGML_TYPE_Q4_0: return "Q4_0"; case GGML_TYPE_Q4_1: return "Q4_1";
        case GGML_TYPE_Q5_0: return "Q5_0"; case GGML_TYPE_Q5_1: return "Q5_1";
        case GGML_TYPE_Q8_0: return "Q8_0"; case GGML_TYPE_Q8_K: return "Q8_K";
        case GGML_TYPE_Q2_K: return "Q2_K"; case GGML_TYPE_Q3_K: return "Q3_K";
        case GGML_TYPE_Q4_K: return "Q4_K"; case GGML_TYPE_Q5_K: return "Q5_K";
        case GGML_TYPE_Q6_K: return "Q6_K"; case GGML_TYPE_IQ4_NL: return "IQ4_NL";
        case GGML_TYPE_IQ4_XS: return "IQ4_XS"; default: return "?";
    }
}
static enum ggml_type type_by_name(const char * s) {
    for (int i = 0; i < N_QTYPES; i++) if (strcmp(tname(QTYPES[i]), s) == 0) return QTYPES[i];
    fprintf(stderr, "unknown type %s\n", s); exit(1);
}

// quantize nrows x n with ggml_quantize_chunk, dequantize with to_float; print the two CRCs
static void run(enum ggml_type t, const float * x, int64_t nrows, int64_t n, const float * imatrix,
        uint32_t * cq, uint32_t * cd, uint8_t ** q_out) {
    size_t rs = ggml_row_size(t, n);
    uint8_t * q = calloc(nrows, rs);
    float * y = malloc(sizeof(float) * nrows * n);
    ggml_quantize_chunk(t, x, q, 0, nrows, n, imatrix);
    for (int64_t r = 0; r < nrows; r++) ggml_get_type_traits(t)->to_float(q + r * rs, y + r * n, n);
    *cq = crc32(q, nrows * rs);
    *cd = crc32(y, sizeof(float) * nrows * n);
    if (q_out) *q_out = q; else free(q);
    free(y);
}

int main(int argc, char ** argv) {
    crc_init();
    struct ggml_init_params ip = {1 << 20, NULL, false};
    struct ggml_context * c0 = ggml_init(ip); // initialises the fp16 table
    struct ggml_context * gctx = NULL;
    struct gguf_init_params gp = {false, &gctx};
    struct gguf_context * g = gguf_init_from_file(argv[1], gp);
    if (!g) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    int zero_table = argc > 2 && strcmp(argv[2], "zero-table") == 0;
    if (zero_table) memset(ggml_table_f32_f16, 0, sizeof(ggml_table_f32_f16));

    int ncase = (int)gguf_get_val_u32(g, gguf_find_key(g, "golden.case_count"));
    char key[128];
    int bad = 0;
    for (int n = 0; n < ncase; n++) {
        snprintf(key, sizeof key, "case.%d.type", n);
        enum ggml_type t = type_by_name(gguf_get_val_str(g, gguf_find_key(g, key)));
        snprintf(key, sizeof key, "case.%d.input", n);
        struct ggml_tensor * in = ggml_get_tensor(gctx, key);
        snprintf(key, sizeof key, "case.%d.imatrix", n);
        struct ggml_tensor * im = ggml_get_tensor(gctx, key);
        int64_t cols = in->ne[0], rows = in->ne[1];
        const float * x = in->data;
        uint32_t cq, cd;
        if (zero_table) { // must reproduce the golden file's own bytes and floats
            uint8_t * q;
            run(t, x, rows, cols, im ? im->data : NULL, &cq, &cd, &q);
            snprintf(key, sizeof key, "case.%d.quant", n);
            struct ggml_tensor * gq = ggml_get_tensor(gctx, key);
            snprintf(key, sizeof key, "case.%d.dequant", n);
            struct ggml_tensor * gd = ggml_get_tensor(gctx, key);
            int ok = memcmp(q, gq->data, ggml_nbytes(gq)) == 0 && cd == crc32(gd->data, ggml_nbytes(gd));
            if (!ok) bad++;
            free(q);
            continue;
        }
        run(t, x, rows, cols, im ? im->data : NULL, &cq, &cd, NULL);
        printf("case %d %s %s %08x %08x\n", n, tname(t), im ? "case" : "none", cq, cd);
        if (t == GGML_TYPE_IQ4_NL) { // the same input as IQ4_XS, with the same weights
            run(GGML_TYPE_IQ4_XS, x, rows, cols, im ? im->data : NULL, &cq, &cd, NULL);
            printf("case %d IQ4_XS %s %08x %08x\n", n, im ? "case" : "none", cq, cd);
        }
        if (!im && t != GGML_TYPE_F16 && t != GGML_TYPE_BF16) { // legacy types: also with synthetic weights
            float * w = malloc(sizeof(float) * cols);
            fill_imatrix(1, w, (int)cols);
            run(t, x, rows, cols, w, &cq, &cd, NULL);
            printf("case %d %s synthetic %08x %08x\n", n, tname(t), cq, cd);
            free(w);
        }
    }
    if (zero_table) {
        printf("zero-table: %d of %d cases differ from quant-vectors.gguf\n", bad, ncase);
        return bad != 0;
    }

    const int N = 512;
    float x[512], w[512];
    for (int kind = 0; kind < N_KINDS; kind++) {
        fill(kind, x, N);
        for (int ti = 0; ti < N_QTYPES; ti++) {
            for (int ik = 0; ik < N_IMAT; ik++) {
                enum ggml_type t = QTYPES[ti];
                if (ik > 0 && (t == GGML_TYPE_F16 || t == GGML_TYPE_BF16 || t == GGML_TYPE_Q8_0)) continue;
                fill_imatrix(ik, w, N);
                uint32_t cq, cd;
                run(t, x, 1, N, ik ? w : NULL, &cq, &cd, NULL);
                printf("edge %s %s %s %08x %08x\n", KIND[kind], tname(t), IMAT[ik], cq, cd);
            }
        }
    }

    const enum ggml_type DTYPES[] = {GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
        GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
        GGML_TYPE_Q6_K, GGML_TYPE_Q8_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS};
    for (size_t ti = 0; ti < sizeof(DTYPES) / sizeof(DTYPES[0]); ti++) {
        enum ggml_type t = DTYPES[ti];
        const int64_t n = 4096;
        size_t nb = ggml_row_size(t, n);
        uint8_t * q = malloc(nb);
        rng = 0xB17E5000ull + (uint64_t)t;
        for (size_t i = 0; i < nb; i++) q[i] = (uint8_t)(next64() >> 56);
        float * y = malloc(sizeof(float) * n);
        if (t == GGML_TYPE_Q8_K) dequantize_row_q8_K(q, y, n); else ggml_get_type_traits(t)->to_float(q, y, n);
        printf("bytes %s %08x\n", tname(t), crc32(y, sizeof(float) * n));
        free(q); free(y);
    }
    gguf_free(g);
    ggml_free(gctx);
    ggml_free(c0);
    return 0;
}
