/*
 * g4j_runtime.c - identity, errors, variant selection, type layouts and the argument checks in front of
 * every kernel. Compiled without ISA flags: nothing here may execute a vector instruction.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "g4j_internal.h"

#ifndef G4J_VERSION_STRING
#define G4J_VERSION_STRING "0.0.0-dev"
#endif

static _Thread_local char last_error[512];

g4j_status g4j_fail(g4j_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

uint32_t g4j_abi_version(void) { return G4J_ABI_VERSION; }
const char *g4j_version(void) { return G4J_VERSION_STRING; }
const char *g4j_last_error(void) { return last_error; }

/* ---- features and variant selection (once) ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static uint64_t cpu_features;
static int32_t isa_auto = G4J_ISA_SCALAR;
/* Resolved tables: each variant's own kernels, gaps filled from the variant below it (AVX-512 VNNI from AVX-512,
 * AVX-512 from AVX2, AVX2 from scalar), so a type without a kernel of its own still gets the best one this CPU runs. */
static g4j_kernel_table resolved[G4J_ISA_COUNT];

#define AVX2_NEEDS (G4J_CPU_AVX | G4J_CPU_AVX2 | G4J_CPU_FMA | G4J_CPU_F16C)
#define AVX512_NEEDS (AVX2_NEEDS | G4J_CPU_AVX512F | G4J_CPU_AVX512BW | G4J_CPU_AVX512DQ | G4J_CPU_AVX512VL)
#define AVX512VNNI_NEEDS (AVX512_NEEDS | G4J_CPU_AVX512VNNI)

static int cpu_runs(int32_t isa) {
    switch (isa) {
    case G4J_ISA_SCALAR: return 1;
    case G4J_ISA_AVX2: return (cpu_features & AVX2_NEEDS) == AVX2_NEEDS;
    case G4J_ISA_AVX512: return (cpu_features & AVX512_NEEDS) == AVX512_NEEDS;
    case G4J_ISA_AVX512VNNI: return (cpu_features & AVX512VNNI_NEEDS) == AVX512VNNI_NEEDS;
    default: return 0;
    }
}

static void init(void) {
    cpu_features = g4j_probe_cpu_features();
    /* each variant's own tables, in search order (NULL-terminated) */
    static const g4j_kernel_table *const scalar[] = {&g4j_kernels_scalar, NULL};
    static const g4j_kernel_table *const avx2[] = {&g4j_kernels_avx2_q32, &g4j_kernels_avx2_qk, &g4j_kernels_avx2, NULL};
    static const g4j_kernel_table *const avx512[] = {&g4j_kernels_avx512_q32, &g4j_kernels_avx512_qk, &g4j_kernels_avx512,
                                                     NULL};
    static const g4j_kernel_table *const avx512vnni[] = {&g4j_kernels_avx512vnni_q32, &g4j_kernels_avx512vnni_qk, NULL};
    const g4j_kernel_table *const *own[G4J_ISA_COUNT] = {scalar, avx2, avx512, avx512vnni};
    for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
        for (int t = 0; t < G4J_TYPE_ID_LIMIT; t++) {
            const g4j_kernel_table *from = NULL;
            for (const g4j_kernel_table *const *tab = own[isa]; *tab && !from; tab++)
                if ((*tab)->vec_dot[t]) from = *tab;
            if (from) {
                resolved[isa].vec_dot[t] = from->vec_dot[t];
                resolved[isa].gemm[t] = from->gemm[t];
                resolved[isa].gemm_r8[t] = from->gemm_r8[t];
            } else {
                resolved[isa].vec_dot[t] = isa > 0 ? resolved[isa - 1].vec_dot[t] : NULL;
                resolved[isa].gemm[t] = isa > 0 ? resolved[isa - 1].gemm[t] : NULL;
                resolved[isa].gemm_r8[t] = isa > 0 ? resolved[isa - 1].gemm_r8[t] : NULL;
            }
        }
    }
    isa_auto = cpu_runs(G4J_ISA_AVX512VNNI) ? G4J_ISA_AVX512VNNI
             : cpu_runs(G4J_ISA_AVX512) ? G4J_ISA_AVX512 : cpu_runs(G4J_ISA_AVX2) ? G4J_ISA_AVX2 : G4J_ISA_SCALAR;
}

static void ensure_init(void) { pthread_once(&init_once, init); }

uint64_t g4j_cpu_features(void) { ensure_init(); return cpu_features; }
int32_t g4j_isa_selected(void) { ensure_init(); return isa_auto; }
int32_t g4j_isa_available(int32_t isa) { ensure_init(); return isa >= 0 && isa < G4J_ISA_COUNT && cpu_runs(isa); }

const char *g4j_isa_name(int32_t isa) {
    switch (isa) {
    case G4J_ISA_AUTO: return "auto";
    case G4J_ISA_SCALAR: return "scalar";
    case G4J_ISA_AVX2: return "avx2";
    case G4J_ISA_AVX512: return "avx512";
    case G4J_ISA_AVX512VNNI: return "avx512vnni";
    default: return "unknown";
    }
}

/* ---- type layouts: one row per ggml type, sizes from the structs of g4j_blocks.h ---- */

typedef struct { int32_t id; const char *name; int64_t elems; int64_t bytes; } type_layout;

static const type_layout layouts[] = {
    {G4J_TYPE_F32, "f32", 1, sizeof(float)},
    {G4J_TYPE_F16, "f16", 1, sizeof(g4j_half)},
    {G4J_TYPE_Q4_0, "q4_0", G4J_QK4_0, sizeof(g4j_block_q4_0)},
    {G4J_TYPE_Q4_1, "q4_1", G4J_QK4_1, sizeof(g4j_block_q4_1)},
    {G4J_TYPE_Q5_0, "q5_0", G4J_QK5_0, sizeof(g4j_block_q5_0)},
    {G4J_TYPE_Q5_1, "q5_1", G4J_QK5_1, sizeof(g4j_block_q5_1)},
    {G4J_TYPE_Q8_0, "q8_0", G4J_QK8_0, sizeof(g4j_block_q8_0)},
    {G4J_TYPE_Q8_1, "q8_1", G4J_QK8_1, sizeof(g4j_block_q8_1)},
    {G4J_TYPE_Q2_K, "q2_K", G4J_QK_K, sizeof(g4j_block_q2_K)},
    {G4J_TYPE_Q3_K, "q3_K", G4J_QK_K, sizeof(g4j_block_q3_K)},
    {G4J_TYPE_Q4_K, "q4_K", G4J_QK_K, sizeof(g4j_block_q4_K)},
    {G4J_TYPE_Q5_K, "q5_K", G4J_QK_K, sizeof(g4j_block_q5_K)},
    {G4J_TYPE_Q6_K, "q6_K", G4J_QK_K, sizeof(g4j_block_q6_K)},
    {G4J_TYPE_Q8_K, "q8_K", G4J_QK_K, sizeof(g4j_block_q8_K)},
    {G4J_TYPE_IQ2_XXS, "iq2_xxs", G4J_QK_K, sizeof(g4j_block_iq2_xxs)},
    {G4J_TYPE_IQ2_XS, "iq2_xs", G4J_QK_K, sizeof(g4j_block_iq2_xs)},
    {G4J_TYPE_IQ3_XXS, "iq3_xxs", G4J_QK_K, sizeof(g4j_block_iq3_xxs)},
    {G4J_TYPE_IQ1_S, "iq1_s", G4J_QK_K, sizeof(g4j_block_iq1_s)},
    {G4J_TYPE_IQ4_NL, "iq4_nl", G4J_QK4_NL, sizeof(g4j_block_iq4_nl)},
    {G4J_TYPE_IQ3_S, "iq3_s", G4J_QK_K, sizeof(g4j_block_iq3_s)},
    {G4J_TYPE_IQ2_S, "iq2_s", G4J_QK_K, sizeof(g4j_block_iq2_s)},
    {G4J_TYPE_IQ4_XS, "iq4_xs", G4J_QK_K, sizeof(g4j_block_iq4_xs)},
    {G4J_TYPE_I8, "i8", 1, sizeof(int8_t)},
    {G4J_TYPE_I16, "i16", 1, sizeof(int16_t)},
    {G4J_TYPE_I32, "i32", 1, sizeof(int32_t)},
    {G4J_TYPE_I64, "i64", 1, sizeof(int64_t)},
    {G4J_TYPE_F64, "f64", 1, sizeof(double)},
    {G4J_TYPE_IQ1_M, "iq1_m", G4J_QK_K, sizeof(g4j_block_iq1_m)},
    {G4J_TYPE_BF16, "bf16", 1, sizeof(uint16_t)},
    {G4J_TYPE_TQ1_0, "tq1_0", G4J_QK_K, sizeof(g4j_block_tq1_0)},
    {G4J_TYPE_TQ2_0, "tq2_0", G4J_QK_K, sizeof(g4j_block_tq2_0)},
    {G4J_TYPE_MXFP4, "mxfp4", G4J_QK_MXFP4, sizeof(g4j_block_mxfp4)},
};

static const type_layout *find_layout(int32_t type) {
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].id == type) return &layouts[i];
    return NULL;
}

g4j_status g4j_type_layout(int32_t type, int64_t *block_elems, int64_t *block_bytes) {
    const type_layout *l = find_layout(type);
    if (!l) return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "unknown ggml type id %d", (int)type);
    if (!block_elems || !block_bytes) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_type_layout: null output pointer");
    *block_elems = l->elems;
    *block_bytes = l->bytes;
    return G4J_OK;
}

/* ---- activation types: ggml's type_traits_cpu[type].vec_dot_type (ggml-cpu.c) ---- */

static int32_t vec_dot_type_of(int32_t type) {
    switch (type) {
    case G4J_TYPE_F32: return G4J_TYPE_F32;
    case G4J_TYPE_F16: return G4J_TYPE_F16;
    case G4J_TYPE_BF16: return G4J_TYPE_BF16;
    case G4J_TYPE_Q4_0: case G4J_TYPE_Q5_0: case G4J_TYPE_Q8_0: case G4J_TYPE_IQ4_NL: return G4J_TYPE_Q8_0;
    case G4J_TYPE_Q4_1: case G4J_TYPE_Q5_1: return G4J_TYPE_Q8_1;
    case G4J_TYPE_Q2_K: case G4J_TYPE_Q3_K: case G4J_TYPE_Q4_K: case G4J_TYPE_Q5_K: case G4J_TYPE_Q6_K:
    case G4J_TYPE_IQ4_XS: return G4J_TYPE_Q8_K;
    default: return -1;
    }
}

/* ---- per-thread scratch for converted activations: grown as needed, freed at thread exit ---- */

static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static pthread_key_t scratch_key;
static int scratch_key_ok;
/* The pointer also lives in static TLS, so leak checkers see it reachable while the thread lives. */
static _Thread_local struct { void *data; size_t cap; } scratch;

static void scratch_free(void *p) { free(p); }
static void scratch_init(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0; }

static void *scratch_get(size_t bytes) {
    if (bytes <= scratch.cap) return scratch.data;
    pthread_once(&scratch_once, scratch_init);
    size_t cap = scratch.cap ? scratch.cap : 4096;
    while (cap < bytes) cap = cap > SIZE_MAX / 2 ? bytes : cap * 2;
    void *p = NULL;
    if (posix_memalign(&p, 64, cap) != 0) return NULL;
    if (scratch_key_ok && pthread_setspecific(scratch_key, p) != 0) { free(p); return NULL; }
    free(scratch.data);
    scratch.data = p;
    scratch.cap = cap;
    return p;
}

/* ---- kernels: validate, then dispatch ---- */

typedef struct {
    const type_layout *lay;     /* the weight type */
    const type_layout *act;     /* its vec_dot_type */
    g4j_from_float_fn convert;  /* NULL for F32 activations */
    g4j_vec_dot_fn fn;
    g4j_gemm_fn gemm;           /* NULL: loop over fn */
} plan;

static g4j_status type_plan(int32_t type, int64_t n, plan *p) {
    const type_layout *l = find_layout(type);
    if (!l) return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "unknown ggml type id %d", (int)type);
    const int32_t act = vec_dot_type_of(type);
    if (act < 0 || !g4j_kernels_scalar.vec_dot[type])
        return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "no dot-product kernel for type %s", l->name);
    if (n < 0 || n % l->elems != 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "row length %lld is not a non-negative multiple of %s's block size %lld",
                        (long long)n, l->name, (long long)l->elems);
    p->lay = l;
    p->act = find_layout(act);
    p->convert = act == G4J_TYPE_F32 ? NULL : g4j_from_float(act);
    /* one conversion for every variant (the same bits): the vectorized one where the CPU runs it */
    ensure_init();
    if (cpu_runs(G4J_ISA_AVX2)) {
        if (act == G4J_TYPE_Q8_K) p->convert = g4j_from_float_q8_K_avx2;
        if (act == G4J_TYPE_Q8_0) p->convert = g4j_from_float_q8_0_avx2;
    }
    p->fn = NULL;
    p->gemm = NULL;
    return G4J_OK;
}

g4j_status g4j_resolve_isa(int32_t *isa) {
    ensure_init();
    if (*isa == G4J_ISA_AUTO) *isa = isa_auto;
    if (*isa < 0 || *isa >= G4J_ISA_COUNT)
        return g4j_fail(G4J_E_UNSUPPORTED_ISA, "unknown kernel variant %d", (int)*isa);
    if (!cpu_runs(*isa))
        return g4j_fail(G4J_E_UNSUPPORTED_ISA, "kernel variant %s is not supported by this CPU", g4j_isa_name(*isa));
    return G4J_OK;
}

static g4j_status resolve(int32_t isa, int32_t type, int64_t n, plan *p) {
    g4j_status ist = g4j_resolve_isa(&isa);
    if (ist != G4J_OK) return ist;
    g4j_status st = type_plan(type, n, p);
    if (st != G4J_OK) return st;
    p->fn = resolved[isa].vec_dot[type];
    p->gemm = resolved[isa].gemm[type];
    return G4J_OK;
}

/* Bytes of n activations in the plan's vec_dot_type; -1 if that does not fit a size_t / int64. */
static int64_t act_bytes(const plan *p, int64_t n) {
    const int64_t blocks = n / p->act->elems;
    return blocks > INT64_MAX / p->act->bytes ? -1 : blocks * p->act->bytes;
}

/* The activations as the kernel wants them: y itself (F32), or converted into this thread's scratch. */
static g4j_status convert(const plan *p, int64_t n, const float *y, const void **out) {
    if (!p->convert || n == 0) { *out = y; return G4J_OK; }
    const int64_t bytes = act_bytes(p, n);
    void *buf = bytes < 0 || (uint64_t)bytes > SIZE_MAX ? NULL : scratch_get((size_t)bytes);
    if (!buf)
        return g4j_fail(G4J_E_OUT_OF_MEMORY, "cannot allocate %lld bytes for %lld activations converted to %s",
                        (long long)bytes, (long long)n, p->act->name);
    p->convert(n, y, buf);
    *out = buf;
    return G4J_OK;
}

g4j_status g4j_vec_dot_type(int32_t type, int32_t *vec_dot_type) {
    plan p;
    g4j_status st = type_plan(type, 0, &p);
    if (st != G4J_OK) return st;
    if (!vec_dot_type) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_vec_dot_type: null output pointer");
    *vec_dot_type = p.act->id;
    return G4J_OK;
}

g4j_status g4j_quantize_activations(int32_t type, int64_t n, const float *x, void *out, int64_t out_bytes) {
    plan p;
    g4j_status st = type_plan(type, n, &p);
    if (st != G4J_OK) return st;
    const int64_t need = act_bytes(&p, n);
    if (need < 0 || out_bytes < need)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_quantize_activations: %lld activations as %s need %lld bytes, room for %lld",
                        (long long)n, p.act->name, (long long)need, (long long)out_bytes);
    if (n > 0 && (!x || !out)) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_quantize_activations: null pointer");
    if (n == 0) return G4J_OK;
    if (p.convert) p.convert(n, x, out);
    else memmove(out, x, (size_t)need);
    return G4J_OK;
}

g4j_status g4j_vec_dot(int32_t isa, int32_t type, int64_t n, const void *x, const float *y, float *out) {
    plan p;
    g4j_status st = resolve(isa, type, n, &p);
    if (st != G4J_OK) return st;
    if (!out || (n > 0 && (!x || !y))) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_vec_dot: null pointer");
    const void *act = NULL;
    if ((st = convert(&p, n, y, &act)) != G4J_OK) return st;
    p.fn(n, x, act, out);
    return G4J_OK;
}

/* y[r] = dot(row r, act) for one converted activation vector: the type's tile (several rows per pass) or vec_dot
 * row by row. g4j_matvec's and g4j_matmat_converted's generation path. */
static void matvec_rows(const plan *p, int64_t rows, int64_t cols, const void *w, int64_t row_bytes, const void *act,
                        float *y) {
    if (p->gemm) {
        p->gemm(cols, w, row_bytes, rows, act, 0, 1, y, rows);
        return;
    }
    const char *row = (const char *)w;
    for (int64_t r = 0; r < rows; r++, row += row_bytes) p->fn(cols, row, act, &y[r]);
}

g4j_status g4j_matvec(int32_t isa, int32_t type, int64_t rows, int64_t cols, const void *w, int64_t row_bytes,
                      const float *x, float *y) {
    plan p;
    g4j_status st = resolve(isa, type, cols, &p);
    if (st != G4J_OK) return st;
    if (rows < 0) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matvec: negative row count %lld", (long long)rows);
    const int64_t min_row_bytes = cols / p.lay->elems * p.lay->bytes;
    if (row_bytes < min_row_bytes)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matvec: row stride %lld bytes is less than a row of %lld %s elements (%lld bytes)",
                        (long long)row_bytes, (long long)cols, p.lay->name, (long long)min_row_bytes);
    if (rows > 0 && (!w || !y || (cols > 0 && !x))) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matvec: null pointer");
    if (rows == 0) return G4J_OK;
    const void *act = NULL;
    if ((st = convert(&p, cols, x, &act)) != G4J_OK) return st;
    matvec_rows(&p, rows, cols, w, row_bytes, act, y);
    return G4J_OK;
}

/* Rows of W per tile: a tile stays in cache while every activation vector of the batch passes over it. */
#define G4J_MATMAT_TILE_ROWS 64

/* The tiles of Y = W X over activations already in the vec_dot_type: rows in cache tiles, the whole batch per tile. */
static void matmat_tiles(const plan *p, int64_t rows, int64_t cols, const void *w, int64_t row_bytes, int64_t n_x,
                         const char *acts, int64_t act_stride, float *y, int64_t y_stride) {
    for (int64_t r0 = 0; r0 < rows; r0 += G4J_MATMAT_TILE_ROWS) {
        const int64_t r1 = r0 + G4J_MATMAT_TILE_ROWS < rows ? r0 + G4J_MATMAT_TILE_ROWS : rows;
        if (p->gemm) {
            p->gemm(cols, (const char *)w + r0 * row_bytes, row_bytes, r1 - r0, acts, act_stride, n_x, y + r0, y_stride);
            continue;
        }
        for (int64_t j = 0; j < n_x; j++) {
            const void *a = acts + j * act_stride;
            float *yj = y + j * y_stride;
            const char *row = (const char *)w + r0 * row_bytes;
            for (int64_t r = r0; r < r1; r++, row += row_bytes) p->fn(cols, row, a, &yj[r]);
        }
    }
}

/* The checks g4j_matmat and g4j_matmat_converted share. */
static g4j_status matmat_check(const char *fn, const plan *p, int64_t rows, int64_t cols, int64_t row_bytes,
                               int64_t n_x, int64_t y_stride) {
    if (rows < 0 || n_x < 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "%s: negative row count %lld or batch %lld", fn, (long long)rows,
                        (long long)n_x);
    const int64_t min_row_bytes = cols / p->lay->elems * p->lay->bytes;
    if (row_bytes < min_row_bytes)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "%s: row stride %lld bytes is less than a row of %lld %s elements (%lld bytes)",
                        fn, (long long)row_bytes, (long long)cols, p->lay->name, (long long)min_row_bytes);
    if (y_stride < rows)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "%s: y stride %lld < %lld rows", fn, (long long)y_stride, (long long)rows);
    return G4J_OK;
}

g4j_status g4j_matmat(int32_t isa, int32_t type, int64_t rows, int64_t cols, const void *w, int64_t row_bytes,
                      int64_t n_x, const float *x, int64_t x_stride, float *y, int64_t y_stride) {
    plan p;
    g4j_status st = resolve(isa, type, cols, &p);
    if (st != G4J_OK) return st;
    if ((st = matmat_check("g4j_matmat", &p, rows, cols, row_bytes, n_x, y_stride)) != G4J_OK) return st;
    if (x_stride < cols)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat: x stride %lld < %lld columns", (long long)x_stride,
                        (long long)cols);
    if (rows == 0 || n_x == 0) return G4J_OK;
    if (!w || !y || (cols > 0 && !x)) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat: null pointer");
    /* activations, converted once per vector */
    const char *acts = (const char *)x;
    int64_t act_stride = x_stride * (int64_t)sizeof(float);
    if (p.convert && cols > 0) {
        act_stride = act_bytes(&p, cols);
        const int64_t total = act_stride < 0 || n_x > INT64_MAX / act_stride ? -1 : n_x * act_stride;
        void *buf = total < 0 || (uint64_t)total > SIZE_MAX ? NULL : scratch_get((size_t)total);
        if (!buf)
            return g4j_fail(G4J_E_OUT_OF_MEMORY, "cannot allocate %lld bytes for %lld x %lld activations converted to %s",
                            (long long)total, (long long)n_x, (long long)cols, p.act->name);
        for (int64_t j = 0; j < n_x; j++) p.convert(cols, x + j * x_stride, (char *)buf + j * act_stride);
        acts = (const char *)buf;
    }
    matmat_tiles(&p, rows, cols, w, row_bytes, n_x, acts, act_stride, y, y_stride);
    return G4J_OK;
}

g4j_status g4j_matmat_converted(int32_t isa, int32_t type, int64_t w_row0, int64_t y_row0, int64_t rows,
                                int64_t cols, const void *w, int64_t row_bytes, int64_t n_x, const void *act,
                                int64_t act_stride, float *y, int64_t y_stride) {
    plan p;
    g4j_status st = resolve(isa, type, cols, &p);
    if (st != G4J_OK) return st;
    if (w_row0 < 0 || y_row0 < 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_converted: negative first row %lld (weights) or %lld (output)",
                        (long long)w_row0, (long long)y_row0);
    if (rows > 0 && (y_row0 > INT64_MAX - rows || w_row0 > INT64_MAX / (row_bytes > 0 ? row_bytes : 1)))
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_converted: first rows %lld / %lld overflow", (long long)w_row0,
                        (long long)y_row0);
    if ((st = matmat_check("g4j_matmat_converted", &p, rows, cols, row_bytes, n_x, y_stride)) != G4J_OK) return st;
    if (n_x > 1 && y_stride < y_row0 + rows)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_converted: y stride %lld < output rows %lld + %lld",
                        (long long)y_stride, (long long)y_row0, (long long)rows);
    const int64_t need = act_bytes(&p, cols);
    if (need < 0 || act_stride < need)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_converted: activation stride %lld bytes < %lld columns as %s (%lld bytes)",
                        (long long)act_stride, (long long)cols, p.act->name, (long long)need);
    if (rows == 0 || n_x == 0) return G4J_OK;
    if (!w || !y || (cols > 0 && !act)) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_converted: null pointer");
    w = (const char *)w + w_row0 * row_bytes;
    y += y_row0;
    if (n_x == 1) {
        matvec_rows(&p, rows, cols, w, row_bytes, act, y); /* generation: g4j_matvec's path */
        return G4J_OK;
    }
    matmat_tiles(&p, rows, cols, w, row_bytes, n_x, (const char *)act, act_stride, y, y_stride);
    return G4J_OK;
}

/* ---- Q4_0, Q8_0, Q4_K, Q5_K and Q6_K interleaved by 8 rows (gguf4j.h, "r8") ---- */

#include "r8.h"

int64_t g4j_r8_bytes(int32_t type, int64_t rows, int64_t cols) {
    const int be = g4j_r8_block_elems(type);
    if (be == 0 || rows < 0 || cols < 0 || cols % be != 0) return -1;
    const int64_t groups = rows / 8 + (rows % 8 != 0), nb = cols / be, blk = g4j_r8_block_bytes(type);
    if (nb > 0 && groups > INT64_MAX / blk / nb) return -1;
    return groups * nb * blk;
}

static const char *r8_type_name(int32_t type) {
    const type_layout *l = find_layout(type);
    return l ? l->name : "an unknown type";
}

#define R8_TYPES "q4_0, q8_0, q4_K, q5_K and q6_K have"

g4j_status g4j_repack_r8(int32_t type, int64_t rows, int64_t cols, const void *w, int64_t row_bytes, void *out,
                         int64_t out_bytes) {
    if (g4j_r8_block_elems(type) == 0)
        return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "g4j_repack_r8: %s (type id %d) has no r8 layout (" R8_TYPES ")",
                        r8_type_name(type), (int)type);
    const int be = g4j_r8_block_elems(type);
    const int64_t need = g4j_r8_bytes(type, rows, cols);
    if (need < 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_repack_r8: %lld rows of %lld columns (need rows >= 0 and"
                        " columns a non-negative multiple of %d for %s)", (long long)rows, (long long)cols, be,
                        r8_type_name(type));
    if (out_bytes < need)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_repack_r8: %lld x %lld needs %lld bytes, room for %lld",
                        (long long)rows, (long long)cols, (long long)need, (long long)out_bytes);
    const int64_t nb = cols / be, row_min = nb * g4j_r8_row_block_bytes(type);
    if (row_bytes < row_min)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_repack_r8: row stride %lld bytes is less than a row of %lld"
                        " %s elements (%lld bytes)", (long long)row_bytes, (long long)cols, r8_type_name(type),
                        (long long)row_min);
    if (need == 0) return G4J_OK;
    if (!w || !out) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_repack_r8: null pointer");
    g4j_repack_r8_groups(type, rows, nb, w, row_bytes, 0, rows / 8 + (rows % 8 != 0), out);
    return G4J_OK;
}

g4j_status g4j_matmat_r8(int32_t isa, int32_t type, int64_t total_rows, int64_t cols, const void *packed,
                         int64_t w_row0, int64_t y_row0, int64_t rows, int64_t n_x, const void *act,
                         int64_t act_stride, float *y, int64_t y_stride) {
    g4j_status ist = g4j_resolve_isa(&isa);
    if (ist != G4J_OK) return ist;
    if (g4j_r8_block_elems(type) == 0)
        return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "g4j_matmat_r8: %s (type id %d) has no r8 layout (" R8_TYPES ")",
                        r8_type_name(type), (int)type);
    const int be = g4j_r8_block_elems(type);
    if (g4j_r8_bytes(type, total_rows, cols) < 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_r8: %lld rows of %lld columns (need rows >= 0 and"
                        " columns a non-negative multiple of %d for %s)", (long long)total_rows, (long long)cols, be,
                        r8_type_name(type));
    if (w_row0 < 0 || y_row0 < 0 || rows < 0 || w_row0 > total_rows - rows)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_r8: rows [%lld, %lld + %lld) outside [0, %lld), or"
                        " a negative output row %lld", (long long)w_row0, (long long)w_row0, (long long)rows,
                        (long long)total_rows, (long long)y_row0);
    if (n_x < 0) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_r8: negative batch %lld", (long long)n_x);
    const int64_t nb = cols / be, need = nb * g4j_r8_act_block_bytes(type);
    if (n_x > 1 && act_stride < need)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_r8: activation stride %lld bytes < %lld columns as %s"
                        " (%lld bytes)", (long long)act_stride, (long long)cols, be == 256 ? "q8_K" : "q8_0",
                        (long long)need);
    if (n_x > 1 && (y_row0 > INT64_MAX - rows || y_stride < y_row0 + rows))
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_r8: y stride %lld < output rows %lld + %lld",
                        (long long)y_stride, (long long)y_row0, (long long)rows);
    if (rows == 0 || n_x == 0) return G4J_OK;
    if (!packed || !y || (cols > 0 && !act)) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_matmat_r8: null pointer");
    y += y_row0;
    if (resolved[isa].gemm_r8[type]) {
        resolved[isa].gemm_r8[type](cols, packed, w_row0, rows, act, act_stride, n_x, y, y_stride);
        return G4J_OK;
    }
    /* scalar: each row back in its own layout, then the scalar vec_dot (its float order is not the tiles'), or for
     * the k-quants their r8 arithmetic (r8.h), which every variant computes alike */
    const int64_t row_bytes = nb * g4j_r8_row_block_bytes(type);
    void *row = scratch_get((size_t)(row_bytes > 0 ? row_bytes : 1));
    if (!row)
        return g4j_fail(G4J_E_OUT_OF_MEMORY, "cannot allocate %lld bytes for one row of %lld %s elements",
                        (long long)row_bytes, (long long)cols, r8_type_name(type));
    const g4j_vec_dot_fn dot = resolved[G4J_ISA_SCALAR].vec_dot[type];
    for (int64_t r = 0; r < rows; r++) {
        g4j_r8_row(type, nb, packed, w_row0 + r, row);
        for (int64_t j = 0; j < n_x; j++) {
            const void *aj = (const char *)act + j * act_stride;
            if (be == 256) y[j * y_stride + r] = g4j_r8k_dot(type, nb, row, (const g4j_block_q8_K *)aj);
            else dot(cols, row, aj, &y[j * y_stride + r]);
        }
    }
    return G4J_OK;
}

/* ---- attention ---- */

#include "attention.h"

g4j_status g4j_attention(int32_t isa, int32_t kv_type, int64_t n_q, int64_t pos0, int64_t n_head, int64_t n_head_kv,
                         int64_t head_dim, const float *q, int64_t q_stride, const void *k, const void *v,
                         int64_t kv_stride, float scale, float soft_cap, int64_t window, int64_t h0, int64_t h1,
                         float *out, int64_t out_stride) {
    g4j_status ist = g4j_resolve_isa(&isa);
    if (ist != G4J_OK) return ist;
    if (kv_type != G4J_TYPE_F16 && kv_type != G4J_TYPE_F32)
        return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "g4j_attention: KV cache type %d is neither F16 (%d) nor F32 (%d)",
                        (int)kv_type, G4J_TYPE_F16, G4J_TYPE_F32);
    if (n_q < 0 || pos0 < 0 || head_dim < 1 || n_head_kv < 1 || n_head < n_head_kv || n_head % n_head_kv != 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT,
                        "g4j_attention: n_q %lld, pos0 %lld, head_dim %lld, n_head %lld, n_head_kv %lld (need n_q, pos0 >= 0,"
                        " head_dim >= 1, n_head a multiple of n_head_kv >= 1)",
                        (long long)n_q, (long long)pos0, (long long)head_dim, (long long)n_head, (long long)n_head_kv);
    if (h0 < 0 || h1 < h0 || h1 > n_head)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_attention: head range [%lld, %lld) outside [0, %lld)", (long long)h0,
                        (long long)h1, (long long)n_head);
    if (head_dim > INT64_MAX / n_head || q_stride < n_head * head_dim || out_stride < n_head * head_dim ||
        kv_stride < n_head_kv * head_dim)
        return g4j_fail(G4J_E_INVALID_ARGUMENT,
                        "g4j_attention: strides q %lld, out %lld, kv %lld are less than a token's %lld x %lld / %lld x %lld",
                        (long long)q_stride, (long long)out_stride, (long long)kv_stride, (long long)n_head,
                        (long long)head_dim, (long long)n_head_kv, (long long)head_dim);
    if (!(soft_cap >= 0.0f) || soft_cap == __builtin_inff() || window < 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_attention: soft_cap %g, window %lld (need a finite soft_cap >= 0"
                        " and window >= 0; 0: none)", (double)soft_cap, (long long)window);
    if (n_q == 0 || h0 == h1) return G4J_OK;
    if (!q || !k || !v || !out) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_attention: null pointer");
    if (pos0 > INT64_MAX / 8 - n_q - head_dim)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_attention: position %lld too large", (long long)pos0);
    const int64_t floats = pos0 + n_q + head_dim;
    float *sc = (uint64_t)floats * sizeof(float) > SIZE_MAX ? NULL : scratch_get((size_t)floats * sizeof(float));
    if (!sc)
        return g4j_fail(G4J_E_OUT_OF_MEMORY, "g4j_attention: cannot allocate %lld floats of scores", (long long)floats);
    const g4j_attention_args a = {kv_type == G4J_TYPE_F16, n_q, pos0, n_head, n_head_kv, head_dim, q, q_stride, k, v,
                                  kv_stride, scale, soft_cap, window, h0, h1, out, out_stride};
    if (isa == G4J_ISA_SCALAR) g4j_attention_scalar(&a, sc);
    else g4j_attention_avx2(&a, sc);
    return G4J_OK;
}
