/*
 * test_kernels.c - native unit tests (ctest), independent of the library's own code:
 *  - the activation conversion (g4j_quantize_activations) byte for byte against converters written here from
 *    ggml's definitions (ggml's AVX quantize_row_q8_0/q8_1, quantize_row_q8_K_ref, f16/bf16 nearest-even);
 *  - for every weight type and every variant this CPU runs: random rows of awkward lengths; the scalar
 *    reference against a double-precision oracle (weights and converted activations decoded here), and every
 *    variant against the scalar reference; matvec against vec_dot, bit for bit, on several rows and strides;
 *  - the per-thread scratch from several threads at once; argument checking; type layouts against ggml's
 *    published block sizes.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf4j.h"

/* Under AddressSanitizer, a failing allocation returns NULL (the library must report it, not abort); options in
 * ASAN_OPTIONS still apply on top. Visible, and the test is linked with -rdynamic, so that the runtime finds it. */
const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17; return (uint32_t)(rng_state >> 11); }
static float rndf(void) { return (float)((rnd() & 0xffffff) / 16777216.0 * 2.0 - 1.0); }
static float gauss(void) {
    double u = ((rnd() & 0xffffff) + 1) / 16777217.0, v = (rnd() & 0xffffff) / 16777216.0;
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

enum { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9, Q2_K = 10, Q3_K = 11, Q4_K = 12,
       Q5_K = 13, Q6_K = 14, Q8_K = 15, IQ2_XXS = 16, IQ4_NL = 20, IQ4_XS = 23, BF16 = 30 };

/* ---- binary16 / bfloat16, written independently of the library (double arithmetic) ---- */

static double half_value(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff; double s = (h & 0x8000) ? -1 : 1;
    if (e == 31) return m ? NAN : s * INFINITY;
    return e == 0 ? s * m * ldexp(1, -24) : s * (1024 + m) * ldexp(1, e - 25);
}
/* nearest-even binary16 of a finite float (NaN -> sign | 0x7e00 as ggml) */
static uint16_t half_of(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (isnan(f)) return sign | 0x7e00;
    if (a >= 65520.0) return sign | 0x7c00;
    if (a < ldexp(1, -14)) return sign | (uint16_t)nearbyint(a * ldexp(1, 24)); /* subnormal; 0x400 = min normal */
    int e; frexp(a, &e);                                /* a = m * 2^e, m in [0.5, 1) */
    double q = nearbyint(ldexp(a, 11 - e));             /* 11 significant bits, in [1024, 2048] */
    if (q == 2048) { q = 1024; e++; }
    if (e + 14 >= 31) return sign | 0x7c00;
    return sign | (uint16_t)((e + 14) << 10) | (uint16_t)((int)q - 1024);
}
static double bf16_value(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
static uint16_t bf16_of(float f) {
    if (isnan(f)) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)((u >> 16) | 64); }
    /* nearest-even to 8 significant bits, via double */
    if (f == 0 || isinf(f)) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)(u >> 16); }
    int e; frexp((double)f, &e);
    double q = nearbyint(ldexp((double)f, 8 - e));
    float r = (float)ldexp(q, e - 8);                     /* may overflow to inf: what rounding gives */
    uint32_t u; memcpy(&u, &r, 4);
    if (e - 8 < -133) { /* subnormal bf16: round at the fixed 2^-133 step */
        r = (float)(nearbyint((double)f * ldexp(1, 133)) * ldexp(1, -133));
        memcpy(&u, &r, 4);
    }
    return (uint16_t)(u >> 16);
}
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* ---- layouts (ggml-common.h), as published ---- */

typedef struct { int id; const char *name; int64_t elems, bytes; int act; } tinfo;
static const tinfo TYPES[] = {
    {F32, "f32", 1, 4, F32}, {F16, "f16", 1, 2, F16}, {BF16, "bf16", 1, 2, BF16},
    {Q4_0, "q4_0", 32, 18, Q8_0}, {Q4_1, "q4_1", 32, 20, Q8_1}, {Q5_0, "q5_0", 32, 22, Q8_0},
    {Q5_1, "q5_1", 32, 24, Q8_1}, {Q8_0, "q8_0", 32, 34, Q8_0}, {Q2_K, "q2_K", 256, 84, Q8_K},
    {Q3_K, "q3_K", 256, 110, Q8_K}, {Q4_K, "q4_K", 256, 144, Q8_K}, {Q5_K, "q5_K", 256, 176, Q8_K},
    {Q6_K, "q6_K", 256, 210, Q8_K}, {IQ4_NL, "iq4_nl", 32, 18, Q8_0}, {IQ4_XS, "iq4_xs", 256, 136, Q8_K},
};
#define NTYPES (sizeof TYPES / sizeof TYPES[0])
static int64_t act_block_elems(int act) { return act == Q8_K ? 256 : act == Q8_0 || act == Q8_1 ? 32 : 1; }
static int64_t act_block_bytes(int act) {
    switch (act) { case F32: return 4; case F16: case BF16: return 2; case Q8_0: return 34; case Q8_1: return 36; default: return 292; }
}

/* ---- activation converters, from ggml's definitions ---- */

/* ggml x86 quantize_row_q8_0/q8_1 (AVX): d = amax/127, multiplier 127/amax, nearest-even, saturating packs */
static int32_t cvt32(float v) { /* cvtps_epi32: NaN / out of range -> INT32_MIN */
    return v >= -2147483648.0f && v < 2147483648.0f ? (int32_t)nearbyint(v) : INT32_MIN;
}
static void ref_q8_01(const float *x, int64_t n, uint8_t *out, int with_sum) {
    const int bb = with_sum ? 36 : 34;
    for (int64_t b = 0; b < n / 32; b++) {
        const float *xb = x + 32 * b;
        uint8_t *o = out + b * bb;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.f, id = amax != 0 ? 127.f / amax : 0.0f;
        put16(o, half_of(d));
        uint32_t sum = 0; /* of the int32 values before the saturating packs, wrapping like the vector adds */
        for (int j = 0; j < 32; j++) {
            const float v = xb[j] * id;
            const int32_t q = cvt32(v);
            o[(with_sum ? 4 : 2) + j] = (uint8_t)(int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
            sum += (uint32_t)q;
        }
        if (with_sum) put16(o + 2, half_of(d * (float)(int32_t)sum));
    }
}
/* quantize_row_q8_K_ref */
static void ref_q8_K(const float *x, int64_t n, uint8_t *out) {
    for (int64_t b = 0; b < n / 256; b++) {
        const float *xb = x + 256 * b;
        uint8_t *o = out + b * 292;
        memset(o, 0, 292);
        float max = 0, amax = 0;
        for (int j = 0; j < 256; j++) if (fabsf(xb[j]) > amax) { amax = fabsf(xb[j]); max = xb[j]; }
        if (amax == 0) continue;
        const float iscale = -127.f / max;
        for (int j = 0; j < 256; j++) {
            const float v = iscale * xb[j];
            int q = (int)nearbyintf(v);
            o[4 + j] = (uint8_t)(int8_t)(q > 127 ? 127 : q);
        }
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += (int8_t)o[4 + 16 * g + j];
            int16_t s16 = (int16_t)s;
            memcpy(o + 260 + 2 * g, &s16, 2);
        }
        const float d = 1 / iscale;
        memcpy(o, &d, 4);
    }
}
static void ref_activations(int act, const float *x, int64_t n, uint8_t *out) {
    switch (act) {
    case F32: memcpy(out, x, 4 * (size_t)n); break;
    case F16: for (int64_t i = 0; i < n; i++) put16(out + 2 * i, half_of(x[i])); break;
    case BF16: for (int64_t i = 0; i < n; i++) put16(out + 2 * i, bf16_of(x[i])); break;
    case Q8_0: ref_q8_01(x, n, out, 0); break;
    case Q8_1: ref_q8_01(x, n, out, 1); break;
    default: ref_q8_K(x, n, out); break;
    }
}

/* value of converted activation i; for Q8_1 also the block's s (the kernel uses s for the mins term) */
static double act_value(int act, const uint8_t *a, int64_t i) {
    switch (act) {
    case F32: { float f; memcpy(&f, a + 4 * i, 4); return f; }
    case F16: return half_value(get16(a + 2 * i));
    case BF16: return bf16_value(get16(a + 2 * i));
    case Q8_0: return half_value(get16(a + 34 * (i / 32))) * (int8_t)a[34 * (i / 32) + 2 + i % 32];
    case Q8_1: return half_value(get16(a + 36 * (i / 32))) * (int8_t)a[36 * (i / 32) + 4 + i % 32];
    default: { float d; memcpy(&d, a + 292 * (i / 256), 4); return (double)d * (int8_t)a[292 * (i / 256) + 4 + i % 256]; }
    }
}

/* ---- weights: random valid rows, and their decoding ---- */

static const int8_t IQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* a random finite binary16 with |value| in [2^lo, 2^hi) */
static uint16_t rnd_half(int lo, int hi, int allow_negative) {
    int e = lo + (int)(rnd() % (unsigned)(hi - lo));
    uint16_t h = half_of(ldexpf(1.0f + (rnd() & 0x3ff) / 1024.0f, e));
    return (uint16_t)(h | (allow_negative && (rnd() & 1) ? 0x8000 : 0));
}

/* offsets of the f16 scale fields of each block type (the rest is random bytes) */
static void fill_row(int type, uint8_t *row, int64_t n) {
    const tinfo *t = NULL;
    for (size_t i = 0; i < NTYPES; i++) if (TYPES[i].id == type) t = &TYPES[i];
    if (type == F32) { for (int64_t i = 0; i < n; i++) { float f = gauss(); memcpy(row + 4 * i, &f, 4); } return; }
    if (type == F16) { for (int64_t i = 0; i < n; i++) put16(row + 2 * i, half_of(gauss())); return; }
    if (type == BF16) { for (int64_t i = 0; i < n; i++) put16(row + 2 * i, bf16_of(gauss())); return; }
    const int64_t nb = n / t->elems;
    for (int64_t i = 0; i < nb * t->bytes; i++) row[i] = (uint8_t)rnd();
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *p = row + b * t->bytes;
        switch (type) {
        case Q4_0: case Q5_0: case Q8_0: case IQ4_NL: case IQ4_XS: put16(p, rnd_half(-12, -4, 1)); break;
        case Q4_1: case Q5_1: put16(p, rnd_half(-12, -4, 1)); put16(p + 2, rnd_half(-10, -2, 1)); break;
        case Q4_K: case Q5_K: put16(p, rnd_half(-14, -6, 0)); put16(p + 2, rnd_half(-14, -6, 0)); break;
        case Q2_K: put16(p + 80, rnd_half(-12, -4, 0)); put16(p + 82, rnd_half(-12, -4, 0)); break;
        case Q3_K: put16(p + 108, rnd_half(-12, -4, 1)); break;
        case Q6_K: put16(p + 208, rnd_half(-14, -6, 1)); break;
        }
    }
}

static void k4_scale_min(const uint8_t *q, int j, int *sc, int *m) {
    if (j < 4) { *sc = q[j] & 63; *m = q[j + 4] & 63; }
    else { *sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4); *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
}

/* weight i of a row: value = scale * q (+ min part, returned separately through *min_part for the types whose
 * kernels add it as a separate term; *min_part is 0 otherwise) */
static double weight_value(int type, const uint8_t *row, int64_t i, double *min_part) {
    *min_part = 0;
    switch (type) {
    case F32: { float f; memcpy(&f, row + 4 * i, 4); return f; }
    case F16: return half_value(get16(row + 2 * i));
    case BF16: return bf16_value(get16(row + 2 * i));
    case Q4_0: case IQ4_NL: {
        const uint8_t *p = row + 18 * (i / 32); int j = (int)(i % 32);
        int nib = j < 16 ? p[2 + j] & 15 : p[2 + j - 16] >> 4;
        return half_value(get16(p)) * (type == Q4_0 ? nib - 8 : IQ4NL[nib]);
    }
    case Q4_1: {
        const uint8_t *p = row + 20 * (i / 32); int j = (int)(i % 32);
        int nib = j < 16 ? p[4 + j] & 15 : p[4 + j - 16] >> 4;
        *min_part = half_value(get16(p + 2));
        return half_value(get16(p)) * nib;
    }
    case Q5_0: case Q5_1: {
        const int bb = type == Q5_0 ? 22 : 24, qh_at = type == Q5_0 ? 2 : 4;
        const uint8_t *p = row + bb * (i / 32); int j = (int)(i % 32);
        uint32_t qh; memcpy(&qh, p + qh_at, 4);
        int nib = j < 16 ? p[qh_at + 4 + j] & 15 : p[qh_at + 4 + j - 16] >> 4;
        int q = nib | (int)(((qh >> j) & 1) << 4);
        if (type == Q5_0) return half_value(get16(p)) * (q - 16);
        *min_part = half_value(get16(p + 2));
        return half_value(get16(p)) * q;
    }
    case Q8_0: { const uint8_t *p = row + 34 * (i / 32); return half_value(get16(p)) * (int8_t)p[2 + i % 32]; }
    case Q2_K: {
        const uint8_t *p = row + 84 * (i / 256); int e = (int)(i % 256);
        int q = (p[16 + 32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3, sc = p[e / 16];
        *min_part = -half_value(get16(p + 82)) * (sc >> 4);
        return half_value(get16(p + 80)) * (sc & 15) * q;
    }
    case Q3_K: {
        const uint8_t *p = row + 110 * (i / 256); int e = (int)(i % 256), k = e / 16;
        int q = (p[32 + 32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
        if (!((p[e % 32] >> (e / 32)) & 1)) q -= 4;
        const uint8_t *s = p + 96;
        int lo = k < 8 ? s[k] & 15 : s[k - 8] >> 4, hi = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
        return half_value(get16(p + 108)) * ((lo | (hi << 4)) - 32) * q;
    }
    case Q4_K: case Q5_K: {
        const int bb = type == Q4_K ? 144 : 176, qs_at = type == Q4_K ? 16 : 48;
        const uint8_t *p = row + bb * (i / 256); int e = (int)(i % 256), s = e / 32, sc, m;
        k4_scale_min(p + 4, s, &sc, &m);
        int q = (p[qs_at + 32 * (s / 2) + e % 32] >> (4 * (s % 2))) & 15;
        if (type == Q5_K) q |= ((p[16 + e % 32] >> s) & 1) << 4;
        *min_part = -half_value(get16(p + 2)) * m;
        return half_value(get16(p)) * sc * q;
    }
    case Q6_K: {
        const uint8_t *p = row + 210 * (i / 256); int e = (int)(i % 256), h = e / 128, k = (e / 32) % 4, l = e % 32;
        int lo = (p[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 15, hi = (p[128 + 32 * h + l] >> (2 * k)) & 3;
        return half_value(get16(p + 208)) * (int8_t)p[192 + e / 16] * ((lo | (hi << 4)) - 32);
    }
    case IQ4_XS: {
        const uint8_t *p = row + 136 * (i / 256); int e = (int)(i % 256), s = e / 32, j = e % 32;
        int ls = ((p[4 + s / 2] >> (4 * (s % 2))) & 15) | (((get16(p + 2) >> (2 * s)) & 3) << 4);
        int nib = j < 16 ? p[8 + 16 * s + j] & 15 : p[8 + 16 * s + j - 16] >> 4;
        return half_value(get16(p)) * (ls - 32) * IQ4NL[nib];
    }
    }
    return NAN;
}

/* Double oracle: sum over i of weight_i * activation_i with the converted activations; the mins of Q4_1/Q5_1
 * meet the activations through Q8_1's s (m * s per block), those of the K-quants through d * bsums, as ggml's
 * kernels do. */
static double oracle(int type, int act, const uint8_t *row, const uint8_t *a, int64_t n, double *abs_sum) {
    double s = 0, abs = 0;
    for (int64_t i = 0; i < n; i++) {
        double mp;
        const double w = weight_value(type, row, i, &mp), y = act_value(act, a, i);
        s += w * y; abs += fabs(w * y);
        if (mp != 0 && act != Q8_1) { s += mp * y; abs += fabs(mp * y); }
    }
    if (act == Q8_1)
        for (int64_t b = 0; b < n / 32; b++) {
            double mp;
            weight_value(type, row, 32 * b, &mp);
            const double t = mp * half_value(get16(a + 36 * b + 2));
            s += t; abs += fabs(t);
        }
    *abs_sum = abs;
    return s;
}

/* activations of several kinds: gaussian; mixed magnitudes; zero blocks; values that tie after scaling */
static void fill_x(float *x, int64_t n, int kind) {
    for (int64_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: x[i] = gauss(); break;
        case 1: x[i] = gauss() * ldexpf(1.0f, (int)(rnd() % 24) - 12); break;
        case 2: x[i] = (i / 32) % 3 == 1 ? 0.0f : rndf(); break;
        default: x[i] = (float)((int)(rnd() % 255) - 127) * 0.25f; break;
        }
    }
}

/* ---- tests ---- */

static void test_vec_dot_types(void) {
    for (size_t t = 0; t < NTYPES; t++) {
        int32_t vt = -1;
        CHECK(g4j_vec_dot_type(TYPES[t].id, &vt) == G4J_OK && vt == TYPES[t].act, "%s: vec_dot_type %d, want %d",
              TYPES[t].name, vt, TYPES[t].act);
    }
    int32_t vt;
    CHECK(g4j_vec_dot_type(Q8_K, &vt) == G4J_E_UNSUPPORTED_TYPE, "q8_K is not a weight type");
    CHECK(g4j_vec_dot_type(IQ2_XXS, &vt) == G4J_E_UNSUPPORTED_TYPE, "iq2_xxs has no kernel");
}

static void test_activations(void) {
    static const int64_t lengths[] = {256, 512, 4096};
    for (size_t t = 0; t < NTYPES; t++) {
        const int act = TYPES[t].act;
        for (size_t li = 0; li < 3; li++) {
            const int64_t n = lengths[li], bytes = n / act_block_elems(act) * act_block_bytes(act);
            float *x = malloc(sizeof(float) * (size_t)n);
            uint8_t *got = malloc((size_t)bytes), *want = malloc((size_t)bytes);
            for (int kind = 0; kind < 5; kind++) {
                fill_x(x, n, kind % 4);
                if (kind == 4) {
                    /* exact ties after scaling (blocks with amax 127: multiplier 1), a negative max that comes
                     * first (Q8_K keeps the first of equal magnitudes), a subnormal block of 32, an all-zero
                     * block of 32 and one of 256 */
                    for (int64_t i = 0; i < n; i++) x[i] = (float)((int)(i % 200) - 100) + 0.5f;
                    for (int64_t i = 5; i < n; i += 32) x[i] = 127.0f;
                    for (int64_t i = 3; i < n; i += 256) x[i] = -127.0f;
                    for (int i = 32; i < 64; i++) x[i] = ldexpf((float)(i - 48), -140);
                    for (int i = 256 - 32; i < 256; i++) x[i] = 0.0f;
                    if (n >= 512) for (int i = 256; i < 512; i++) x[i] = 0.0f;
                }
                ref_activations(act, x, n, want);
                memset(got, 0x5a, (size_t)bytes);
                CHECK(g4j_quantize_activations(TYPES[t].id, n, x, got, bytes) == G4J_OK, "quantize: %s", g4j_last_error());
                CHECK(memcmp(got, want, (size_t)bytes) == 0, "%s activations (%d) n=%lld differ from the reference",
                      TYPES[t].name, act, (long long)n);
            }
            free(x); free(got); free(want);
        }
    }
}

static const char *isa_name(int isa) { return g4j_isa_name(isa); }

static void test_dots(void) {
    static const int64_t block_counts[] = {1, 2, 3, 5, 17};
    for (size_t t = 0; t < NTYPES; t++) {
        const tinfo *ty = &TYPES[t];
        double worst_oracle = 0, worst_variant[G4J_ISA_COUNT] = {0};
        for (size_t bi = 0; bi < sizeof block_counts / sizeof block_counts[0]; bi++) {
            /* float types: lengths that leave vector tails */
            const int64_t n = ty->elems == 1 ? block_counts[bi] * 37 : block_counts[bi] * ty->elems;
            const int64_t row_bytes = n / ty->elems * ty->bytes, stride = row_bytes + 8 * (int64_t)(bi % 2);
            const int64_t abytes = n / act_block_elems(ty->act) * act_block_bytes(ty->act);
            const int rows = 3;
            uint8_t *w = calloc((size_t)(rows * stride), 1), *a = malloc((size_t)abytes);
            float *x = malloc(sizeof(float) * (size_t)n);
            for (int kind = 0; kind < 4; kind++) {
                for (int r = 0; r < rows; r++) fill_row(ty->id, w + r * stride, n);
                fill_x(x, n, kind);
                CHECK(g4j_quantize_activations(ty->id, n, x, a, abytes) == G4J_OK, "quantize: %s", g4j_last_error());
                float scalar[3];
                for (int r = 0; r < rows; r++) {
                    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, ty->id, n, w + r * stride, x, &scalar[r]) == G4J_OK, "scalar %s: %s", ty->name, g4j_last_error());
                    double abs_sum;
                    const double want = oracle(ty->id, ty->act, w + r * stride, a, n, &abs_sum);
                    /* float steps after exact integer sums: a few roundings per block, plus the sum over blocks */
                    const double tol = 1e-30 + (double)(n / ty->elems + 8) * 1.2e-7 * abs_sum;
                    const double err = fabs(scalar[r] - want);
                    if (abs_sum > 0 && err / abs_sum > worst_oracle) worst_oracle = err / abs_sum;
                    CHECK(err <= tol, "scalar %s n=%lld kind %d row %d: %.9g, oracle %.9g (tol %.3g)", ty->name,
                          (long long)n, kind, r, scalar[r], want, tol);
                }
                for (int isa = G4J_ISA_SCALAR; isa < G4J_ISA_COUNT; isa++) {
                    if (!g4j_isa_available(isa)) continue;
                    float dots[3], mv[3];
                    for (int r = 0; r < rows; r++) {
                        CHECK(g4j_vec_dot(isa, ty->id, n, w + r * stride, x, &dots[r]) == G4J_OK, "%s dot: %s", isa_name(isa), g4j_last_error());
                        double abs_sum;
                        oracle(ty->id, ty->act, w + r * stride, a, n, &abs_sum);
                        const double err = fabs(dots[r] - scalar[r]);
                        if (abs_sum > 0 && err / abs_sum > worst_variant[isa]) worst_variant[isa] = err / abs_sum;
                        CHECK(err <= 1e-30 + 1e-5 * abs_sum, "%s %s n=%lld kind %d row %d: %.9g, scalar %.9g", isa_name(isa),
                              ty->name, (long long)n, kind, r, dots[r], scalar[r]);
                        /* float rows: one summation order in every variant (kernels_scalar.c, "float rows") */
                        if (ty->id == F32 || ty->id == F16 || ty->id == BF16)
                            CHECK(memcmp(&dots[r], &scalar[r], 4) == 0, "%s %s n=%lld row %d: %.9g is not the scalar %.9g bit for bit",
                                  isa_name(isa), ty->name, (long long)n, r, dots[r], scalar[r]);
                    }
                    CHECK(g4j_matvec(isa, ty->id, rows, n, w, stride, x, mv) == G4J_OK, "%s matvec: %s", isa_name(isa), g4j_last_error());
                    for (int r = 0; r < rows; r++)
                        CHECK(memcmp(&mv[r], &dots[r], 4) == 0, "%s %s matvec row %d %.9g != dot %.9g", isa_name(isa), ty->name,
                              r, mv[r], dots[r]);
                }
            }
            free(w); free(a); free(x);
        }
        printf("%-7s max |scalar - oracle| / sum|w a| %.2g", ty->name, worst_oracle);
        for (int isa = 1; isa < G4J_ISA_COUNT; isa++)
            if (g4j_isa_available(isa)) printf(", |%s - scalar| %.2g", isa_name(isa), worst_variant[isa]);
        printf("\n");
    }
}

/* Zero-length rows give 0; a zero activation vector gives 0 (Q8_K's all-zero blocks included). */
static void test_zeros(void) {
    float x[512] = {0}, out = 1.0f;
    uint8_t w[512 * 4];
    for (size_t t = 0; t < NTYPES; t++) {
        fill_row(TYPES[t].id, w, 512);
        for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
            if (!g4j_isa_available(isa)) continue;
            out = 1.0f;
            CHECK(g4j_vec_dot(isa, TYPES[t].id, 0, w, x, &out) == G4J_OK && out == 0.0f, "%s n=0", TYPES[t].name);
            out = 1.0f;
            CHECK(g4j_vec_dot(isa, TYPES[t].id, 512, w, x, &out) == G4J_OK && out == 0.0f, "%s %s zero x: %g",
                  isa_name(isa), TYPES[t].name, out);
            CHECK(g4j_matvec(isa, TYPES[t].id, 0, 512, NULL, 512 / TYPES[t].elems * TYPES[t].bytes, NULL, NULL) == G4J_OK,
                  "matvec of no rows: %s", g4j_last_error());
        }
    }
}

/* Several threads, each with its own scratch, sizes growing and shrinking: results equal the main thread's. */
typedef struct { const uint8_t *w; const float *x; int64_t rows, cols; const float *want; int ok; } job;
static void *run_job(void *p) {
    job *j = (job *)p;
    float *y = malloc(sizeof(float) * (size_t)j->rows);
    j->ok = 1;
    for (int it = 0; it < 20; it++) {
        const int64_t cols = it % 2 ? j->cols : 256;
        if (g4j_matvec(G4J_ISA_AUTO, Q4_K, j->rows, cols, j->w, j->cols / 256 * 144, j->x, y) != G4J_OK) j->ok = 0;
        if (cols == j->cols && memcmp(y, j->want, sizeof(float) * (size_t)j->rows) != 0) j->ok = 0;
    }
    free(y);
    return NULL;
}
static void test_threads(void) {
    const int64_t rows = 16, cols = 256 * 40;
    uint8_t *w = malloc((size_t)(rows * cols / 256 * 144));
    float *x = malloc(sizeof(float) * (size_t)cols), *want = malloc(sizeof(float) * (size_t)rows);
    for (int64_t r = 0; r < rows; r++) fill_row(Q4_K, w + r * (cols / 256 * 144), cols);
    fill_x(x, cols, 0);
    CHECK(g4j_matvec(G4J_ISA_AUTO, Q4_K, rows, cols, w, cols / 256 * 144, x, want) == G4J_OK, "matvec: %s", g4j_last_error());
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){w, x, rows, cols, want, 0};
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ok, "thread %d got other results", i);
    }
    free(w); free(x); free(want);
}

static void test_errors(void) {
    float out, y[256] = {0};
    unsigned char x[292] = {0};
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, Q8_0, 33, x, y, &out) == G4J_E_INVALID_ARGUMENT, "n=33 accepted for q8_0");
    CHECK(strstr(g4j_last_error(), "33") != NULL, "message should name the length: %s", g4j_last_error());
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, Q4_K, 128, x, y, &out) == G4J_E_INVALID_ARGUMENT, "n=128 accepted for q4_K");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, Q8_0, 32, NULL, y, &out) == G4J_E_INVALID_ARGUMENT, "null x accepted");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, Q8_0, 32, x, NULL, &out) == G4J_E_INVALID_ARGUMENT, "null y accepted");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 4, 32, x, y, &out) == G4J_E_UNSUPPORTED_TYPE, "retired type id 4 accepted");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, 12345, 32, x, y, &out) == G4J_E_UNSUPPORTED_TYPE, "type 12345 accepted");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, IQ2_XXS, 256, x, y, &out) == G4J_E_UNSUPPORTED_TYPE, "iq2_xxs has no kernel");
    CHECK(strstr(g4j_last_error(), "iq2_xxs") != NULL, "message should name the type: %s", g4j_last_error());
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, Q8_K, 256, x, y, &out) == G4J_E_UNSUPPORTED_TYPE, "q8_K is no weight type");
    CHECK(g4j_vec_dot(77, Q8_0, 32, x, y, &out) == G4J_E_UNSUPPORTED_ISA, "isa 77 accepted");
    CHECK(g4j_matvec(G4J_ISA_SCALAR, Q8_0, 2, 32, x, 10, y, &out) == G4J_E_INVALID_ARGUMENT, "short row stride accepted");
    CHECK(g4j_matvec(G4J_ISA_SCALAR, Q8_0, -1, 32, x, 34, y, &out) == G4J_E_INVALID_ARGUMENT, "negative rows accepted");
    CHECK(g4j_quantize_activations(Q4_K, 256, y, x, 291) == G4J_E_INVALID_ARGUMENT, "short activation buffer accepted");
    CHECK(strstr(g4j_last_error(), "292") != NULL, "message should name the size needed: %s", g4j_last_error());
    CHECK(g4j_quantize_activations(Q4_K, 256, y, x, 292) == G4J_OK, "exact activation buffer refused");
    CHECK(g4j_quantize_activations(Q4_0, 33, y, x, 292) == G4J_E_INVALID_ARGUMENT, "n=33 accepted for q4_0");
    CHECK(g4j_quantize_activations(Q4_0, 32, NULL, x, 292) == G4J_E_INVALID_ARGUMENT, "null x accepted");
    CHECK(g4j_quantize_activations(IQ2_XXS, 256, y, x, 292) == G4J_E_UNSUPPORTED_TYPE, "iq2_xxs activations");
    /* 2^52 activations cannot be converted anywhere: a status, before x is read (under AddressSanitizer: see
     * __asan_default_options above) */
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, Q8_0, (int64_t)1 << 52, x, y, &out) == G4J_E_OUT_OF_MEMORY, "huge scratch: %s",
          g4j_last_error());
    CHECK(strstr(g4j_last_error(), "q8_0") != NULL, "message should name the activation type: %s", g4j_last_error());
    CHECK(g4j_matvec(G4J_ISA_SCALAR, Q4_K, 1, (int64_t)1 << 52, x, ((int64_t)1 << 52) / 256 * 144, y, &out) == G4J_E_OUT_OF_MEMORY,
          "huge matvec scratch");
    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, Q8_0, 32, x, y, &out) == G4J_OK, "works again after a failed allocation");
    int32_t vt;
    CHECK(g4j_vec_dot_type(Q4_0, NULL) == G4J_E_INVALID_ARGUMENT, "null vec_dot_type output");
    CHECK(g4j_vec_dot_type(-3, &vt) == G4J_E_UNSUPPORTED_TYPE, "type -3");
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
    for (size_t t = 0; t < NTYPES; t++) {
        CHECK(g4j_type_layout(TYPES[t].id, &e, &b) == G4J_OK && e == TYPES[t].elems && b == TYPES[t].bytes, "%s layout", TYPES[t].name);
        CHECK(g4j_type_layout(TYPES[t].act, &e, &b) == G4J_OK && e == act_block_elems(TYPES[t].act) &&
              b == act_block_bytes(TYPES[t].act), "%s activation layout", TYPES[t].name);
    }
}

/* The test's own f16 conversion against the exact values it should produce (sanity of the oracle itself). */
static void test_half_helpers(void) {
    CHECK(half_of(1.0f) == 0x3c00 && half_of(65504.0f) == 0x7bff && half_of(65520.0f) == 0x7c00, "half_of basics");
    CHECK(half_of(ldexpf(1, -24)) == 0x0001 && half_of(ldexpf(1, -25)) == 0 && half_of(ldexpf(3, -26)) == 0x0001, "half_of subnormals");
    CHECK(half_of(1.0f + ldexpf(1, -11)) == 0x3c00 && half_of(1.0f + ldexpf(3, -11)) == 0x3c02, "half_of ties to even");
    CHECK(half_of(-2.0f) == 0xc000, "half_of sign");
    CHECK(bf16_of(1.0f + ldexpf(1, -8)) == 0x3f80 && bf16_of(1.0f + ldexpf(3, -8)) == 0x3f82, "bf16_of ties to even");
    for (int i = 0; i < 100000; i++) {
        uint16_t h = (uint16_t)(rnd() & 0xffff);
        if ((h & 0x7c00) == 0x7c00) continue;
        CHECK(half_of((float)half_value(h)) == h || (h == 0x8000 && half_of(-0.0f) == 0x8000), "half round trip %04x", h);
    }
}

/* g4j_matmat and g4j_matvec (register-blocked gemm tiles where a variant has them): every element equals
 * g4j_vec_dot of that row and vector, bit for bit, for every type, variant and shape (row counts 1..9, 17, 33, 70;
 * batches 1..9, 16, 33; row lengths of 1, 2, 3, 17 and 33 blocks), with padded strides and shifted row starts; and
 * every variant stays within the vec_dot tolerance of the scalar reference. */
static void test_matmat(void) {
    static const int row_counts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 33, 70};
    static const int batches[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 33};
    enum { NR = sizeof row_counts / sizeof row_counts[0], NB = sizeof batches / sizeof batches[0], MAXR = 70 + 2, MAXC = 33 };
    for (size_t t = 0; t < NTYPES; t++) {
        const tinfo *ty = &TYPES[t];
        const int64_t counts32[] = {1, 2, 3, 17, 33}, counts256[] = {1, 2, 3}, countsf[] = {37, 2 * 37 + 3};
        const int64_t *counts = ty->elems == 1 ? countsf : ty->elems == 32 ? counts32 : counts256;
        const int ncounts = ty->elems == 1 ? 2 : ty->elems == 32 ? 5 : 3;
        int64_t checked = 0;
        for (int ci = 0; ci < ncounts; ci++) {
            const int64_t n = ty->elems == 1 ? counts[ci] : counts[ci] * ty->elems;
            const int64_t row_bytes = n / ty->elems * ty->bytes + 4 * (ci % 2), xs = n + 3;
            uint8_t *w = calloc((size_t)(MAXR * row_bytes), 1);
            float *x = malloc(sizeof(float) * (size_t)(MAXC * xs));
            float *ref = malloc(sizeof(float) * MAXR * MAXC), *sref = malloc(sizeof(float) * MAXR * MAXC);
            float *y = malloc(sizeof(float) * (size_t)(MAXC * (MAXR + 5))), *col = malloc(sizeof(float) * MAXR);
            double *abs_sum = malloc(sizeof(double) * MAXR * MAXC);
            for (int r = 0; r < MAXR; r++) fill_row(ty->id, w + r * row_bytes, n);
            for (int j = 0; j < MAXC; j++) fill_x(x + j * xs, n, j % 4);
            /* the scalar reference and |w a| sums for the tolerance */
            const int64_t abytes = n / act_block_elems(ty->act) * act_block_bytes(ty->act);
            uint8_t *a = malloc((size_t)abytes);
            for (int j = 0; j < MAXC; j++) {
                CHECK(g4j_quantize_activations(ty->id, n, x + j * xs, a, abytes) == G4J_OK, "quantize: %s", g4j_last_error());
                for (int r = 0; r < MAXR; r++) {
                    CHECK(g4j_vec_dot(G4J_ISA_SCALAR, ty->id, n, w + r * row_bytes, x + j * xs, &sref[j * MAXR + r]) == G4J_OK,
                          "scalar dot: %s", g4j_last_error());
                    oracle(ty->id, ty->act, w + r * row_bytes, a, n, &abs_sum[j * MAXR + r]);
                }
            }
            free(a);
            for (int isa = G4J_ISA_SCALAR; isa < G4J_ISA_COUNT; isa++) {
                if (!g4j_isa_available(isa)) continue;
                for (int j = 0; j < MAXC; j++)
                    for (int r = 0; r < MAXR; r++) {
                        CHECK(g4j_vec_dot(isa, ty->id, n, w + r * row_bytes, x + j * xs, &ref[j * MAXR + r]) == G4J_OK, "dot: %s",
                              g4j_last_error());
                        const double err = fabs((double)ref[j * MAXR + r] - sref[j * MAXR + r]);
                        CHECK(err <= 1e-30 + 1e-5 * abs_sum[j * MAXR + r], "%s %s n=%lld row %d x %d: dot %.9g, scalar %.9g",
                              isa_name(isa), ty->name, (long long)n, r, j, ref[j * MAXR + r], sref[j * MAXR + r]);
                    }
                for (int ri = 0; ri < NR; ri++) {
                    const int nr = row_counts[ri], r0 = ri % 3; /* rows r0 .. r0 + nr - 1 */
                    for (int bi = 0; bi < NB; bi++) {
                        const int nc = batches[bi], ys = nr + bi % 3;
                        for (int i = 0; i < nc * ys; i++) y[i] = NAN;
                        CHECK(g4j_matmat(isa, ty->id, nr, n, w + r0 * row_bytes, row_bytes, nc, x, xs, y, ys) == G4J_OK,
                              "matmat %s: %s", ty->name, g4j_last_error());
                        for (int j = 0; j < nc; j++)
                            for (int r = 0; r < nr; r++) {
                                const float want = ref[j * MAXR + r0 + r], got = y[j * ys + r];
                                checked++;
                                CHECK(memcmp(&want, &got, sizeof(float)) == 0, "%s %s n=%lld %dx%d matmat[%d][%d] %.9g != vec_dot %.9g",
                                      isa_name(isa), ty->name, (long long)n, nr, nc, j, r, got, want);
                            }
                        for (int j = 0; j < nc; j++)
                            for (int r = nr; r < ys; r++)
                                CHECK(isnan(y[j * ys + r]), "%s %s matmat wrote past its rows", isa_name(isa), ty->name);
                    }
                    for (int j = 0; j < 3; j++) {
                        CHECK(g4j_matvec(isa, ty->id, nr, n, w + r0 * row_bytes, row_bytes, x + j * xs, col) == G4J_OK, "matvec: %s",
                              g4j_last_error());
                        for (int r = 0; r < nr; r++)
                            CHECK(memcmp(&col[r], &ref[j * MAXR + r0 + r], sizeof(float)) == 0, "%s %s n=%lld matvec %d rows [%d] %.9g != vec_dot %.9g",
                                  isa_name(isa), ty->name, (long long)n, nr, r, col[r], ref[j * MAXR + r0 + r]);
                    }
                }
            }
            free(w); free(x); free(ref); free(sref); free(y); free(col); free(abs_sum);
        }
        printf("%-7s matmat/matvec == vec_dot: %lld elements checked\n", ty->name, (long long)checked);
        const int64_t n = 2 * ty->elems, row_bytes = 2 * ty->bytes;
        uint8_t w[2 * 292];
        float x[2 * 256], y[4];
        CHECK(g4j_matmat(G4J_ISA_SCALAR, ty->id, 1, n, w, row_bytes, 1, x, n - 1, y, 1) == G4J_E_INVALID_ARGUMENT,
              "short x stride accepted for %s", ty->name);
    }
}

/* g4j_attention: every variant against a double-precision oracle computed here from the definition (with the
 * F16 cache: q, cache and probabilities rounded to binary16 as ggml does), GQA head mapping, partial head ranges,
 * strides, and argument errors. */
static void attention_oracle(int f16, int64_t n_q, int64_t pos0, int64_t nh, int64_t nkv, int64_t hd,
                             const float *q, int64_t qs, const void *k, const void *v, int64_t kvs, float scale,
                             float cap, int64_t window, double *out /* [n_q][nh][hd] */) {
    double *s = malloc(sizeof(double) * (size_t)(pos0 + n_q));
    for (int64_t j = 0; j < n_q; j++)
        for (int64_t h = 0; h < nh; h++) {
            const int64_t g = h / (nh / nkv), n = pos0 + j + 1;
            /* a sliding window masks the positions p - t >= window (ggml's -inf): they get probability 0 */
            const int64_t first = window > 0 && n > window ? n - window : 0;
            double max = -INFINITY, sum = 0;
            for (int64_t t = 0; t < n; t++) {
                if (t < first) { s[t] = -INFINITY; continue; }
                double d = 0;
                for (int64_t i = 0; i < hd; i++) {
                    const double qi = f16 ? half_value(half_of(q[j * qs + h * hd + i])) : q[j * qs + h * hd + i];
                    const int64_t at = t * kvs + g * hd + i;
                    d += qi * (f16 ? half_value(((const uint16_t *)k)[at]) : ((const float *)k)[at]);
                }
                if (cap > 0) d = cap * tanh(d / cap);
                s[t] = d * scale;
                if (s[t] > max) max = s[t];
            }
            for (int64_t t = 0; t < n; t++) { s[t] = exp(s[t] - max); sum += s[t]; }
            for (int64_t i = 0; i < hd; i++) {
                double acc = 0;
                for (int64_t t = 0; t < n; t++) {
                    double p = s[t] / sum;
                    if (f16) p = half_value(half_of((float)p));
                    const int64_t at = t * kvs + g * hd + i;
                    acc += p * (f16 ? half_value(((const uint16_t *)v)[at]) : ((const float *)v)[at]);
                }
                out[(j * nh + h) * hd + i] = acc;
            }
        }
    free(s);
}

static void test_attention(void) {
    static const int64_t shapes[][5] = {/* n_q, pos0, n_head, n_head_kv, head_dim */
        {1, 0, 1, 1, 1}, {1, 5, 4, 4, 8}, {3, 0, 4, 2, 16}, {7, 9, 8, 2, 64}, {2, 30, 6, 3, 72}, {5, 3, 4, 1, 13},
        {16, 100, 4, 4, 128}, {1, 40, 2, 1, 256}};
    for (int f16 = 0; f16 <= 1; f16++)
        for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
            const int64_t nq = shapes[c][0], pos0 = shapes[c][1], nh = shapes[c][2], nkv = shapes[c][3], hd = shapes[c][4];
            const int64_t qs = nh * hd + 3, kvs = nkv * hd + 5, n = pos0 + nq, os = nh * hd + 1;
            float *q = malloc(sizeof(float) * (size_t)(nq * qs));
            const size_t esz = f16 ? 2 : 4;
            uint8_t *k = malloc(esz * (size_t)(n * kvs)), *v = malloc(esz * (size_t)(n * kvs));
            for (int64_t i = 0; i < nq * qs; i++) q[i] = 2.0f * gauss();
            for (int64_t i = 0; i < n * kvs; i++) {
                const float a = 2.0f * gauss(), b = gauss();
                if (f16) { put16(k + 2 * i, half_of(a)); put16(v + 2 * i, half_of(b)); }
                else { memcpy(k + 4 * i, &a, 4); memcpy(v + 4 * i, &b, 4); }
            }
            /* plain causal, then gemma2's soft-cap, a sliding window, and both; then scores 40 times as far apart,
             * so that the exponentials reach ggml_expf's far ranges (below 2^-126 and 2^-192) */
            static const struct { float cap; int64_t window; float boost; } modes[] = {
                {0, 0, 1}, {5, 0, 1}, {0, 4, 1}, {5, 4, 1}, {0, 0, 40}};
            for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
                const float cap = modes[m].cap;
                const int64_t window = modes[m].window;
                const float scale = modes[m].boost / sqrtf((float)hd);
                double *want = malloc(sizeof(double) * (size_t)(nq * nh * hd));
                attention_oracle(f16, nq, pos0, nh, nkv, hd, q, qs, k, v, kvs, scale, cap, window, want);
                float *out = malloc(sizeof(float) * (size_t)(nq * os)), *ref = malloc(sizeof(float) * (size_t)(nq * os));
                for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
                    if (!g4j_isa_available(isa)) continue;
                    for (int64_t i = 0; i < nq * os; i++) out[i] = -999.0f;
                    /* two head ranges, as two threads would split them */
                    const int64_t mid = nh / 2;
                    g4j_status st = g4j_attention(isa, f16 ? 1 : 0, nq, pos0, nh, nkv, hd, q, qs, k, v, kvs, scale, cap, window, 0, mid,
                                                   out, os);
                    st |= g4j_attention(isa, f16 ? 1 : 0, nq, pos0, nh, nkv, hd, q, qs, k, v, kvs, scale, cap, window, mid, nh, out,
                                        os);
                    CHECK(st == G4J_OK, "attention %s: %s", g4j_isa_name(isa), g4j_last_error());
                    double worst = 0;
                    for (int64_t j = 0; j < nq; j++)
                        for (int64_t i = 0; i < nh * hd; i++) {
                            const double e = fabs(out[j * os + i] - want[j * nh * hd + i]);
                            if (e > worst) worst = e;
                        }
                    /* values are O(1): float sums of a few hundred terms; with f16, a probability that lands on a rounding
                     * tie in one and not the other moves by half an f16 ulp (2^-12 relative) */
                    /* (a score's rounding error grows with its size: the boosted mode gets as much more room) */
                    CHECK(worst < (f16 ? 2e-3 : 2e-5) * modes[m].boost, "attention %s f16=%d shape %zu mode %zu: max |err| %.3g", g4j_isa_name(isa),
                          f16, c, m, worst);
                    CHECK(out[nh * hd] == -999.0f, "attention wrote past a token's heads");
                    if (isa == G4J_ISA_SCALAR) memcpy(ref, out, sizeof(float) * (size_t)(nq * os));
                    else CHECK(memcmp(ref, out, sizeof(float) * (size_t)(nq * os)) == 0,
                               "attention %s f16=%d shape %zu mode %zu: not the scalar reference bit for bit", g4j_isa_name(isa),
                               f16, c, m);
                }
                free(ref); free(want); free(out);
            }
            free(q); free(k); free(v);
        }
    float q[8] = {0}, o[8];
    uint16_t kv[8] = {0};
    CHECK(g4j_attention(G4J_ISA_SCALAR, 8 /* Q8_0 */, 1, 0, 1, 1, 8, q, 8, kv, kv, 8, 1, 0, 0, 0, 1, o, 8) == G4J_E_UNSUPPORTED_TYPE,
          "attention: a Q8_0 cache must be refused");
    CHECK(g4j_attention(G4J_ISA_SCALAR, 1, 1, 0, 3, 2, 8, q, 24, kv, kv, 16, 1, 0, 0, 0, 1, o, 24) == G4J_E_INVALID_ARGUMENT,
          "attention: 3 heads over 2 KV heads must be refused");
    CHECK(strstr(g4j_last_error(), "n_head_kv") != NULL, "attention error names n_head_kv: %s", g4j_last_error());
    CHECK(g4j_attention(G4J_ISA_SCALAR, 1, 1, 0, 1, 1, 8, q, 8, kv, kv, 8, 1, 0, 0, 0, 2, o, 8) == G4J_E_INVALID_ARGUMENT,
          "attention: a head range past n_head must be refused");
    CHECK(g4j_attention(G4J_ISA_SCALAR, 1, 1, 0, 1, 1, 8, q, 7, kv, kv, 8, 1, 0, 0, 0, 1, o, 8) == G4J_E_INVALID_ARGUMENT,
          "attention: a q stride below a token must be refused");
    CHECK(g4j_attention(G4J_ISA_SCALAR, 1, 1, 0, 1, 1, 8, q, 8, kv, kv, 8, 1, -1, 0, 0, 1, o, 8) == G4J_E_INVALID_ARGUMENT,
          "attention: a negative soft-cap must be refused");
    CHECK(g4j_attention(G4J_ISA_SCALAR, 1, 1, 0, 1, 1, 8, q, 8, kv, kv, 8, 1, 0, -1, 0, 1, o, 8) == G4J_E_INVALID_ARGUMENT,
          "attention: a negative window must be refused");
}

/* k-quant tiles (gemm_qk_*.c): matmat of every shape against vec_dot of each row and column, bit for bit, for
 * rows and batches 1..9 and 33 (edge tiles, row and column blocks), rows of 1, 3 and 10 super-blocks, padded
 * strides. */
static void test_qk_gemm_shapes(void) {
    static const int types[] = {Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS};
    static const int counts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 33};
    static const int64_t lens[] = {256, 768, 2560};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const tinfo *ty = NULL;
        for (size_t i = 0; i < NTYPES; i++) if (TYPES[i].id == types[t]) ty = &TYPES[i];
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            const int64_t n = lens[li], row_bytes = n / 256 * ty->bytes + 16, xs = n + 5, ys = 33 + 3;
            uint8_t *w = calloc((size_t)(33 * row_bytes), 1);
            float *x = malloc(sizeof(float) * (size_t)(33 * xs)), *y = malloc(sizeof(float) * (size_t)(33 * ys));
            float *dots = malloc(sizeof(float) * 33 * 33);
            for (int r = 0; r < 33; r++) fill_row(ty->id, w + r * row_bytes, n);
            for (int j = 0; j < 33; j++) fill_x(x + j * xs, n, j % 4);
            for (int isa = G4J_ISA_SCALAR; isa < G4J_ISA_COUNT; isa++) {
                if (!g4j_isa_available(isa)) continue;
                for (int j = 0; j < 33; j++)
                    for (int r = 0; r < 33; r++)
                        CHECK(g4j_vec_dot(isa, ty->id, n, w + r * row_bytes, x + j * xs, &dots[j * 33 + r]) == G4J_OK,
                              "vec_dot: %s", g4j_last_error());
                for (size_t ri = 0; ri < sizeof counts / sizeof counts[0]; ri++)
                    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
                        const int rows = counts[ri], nx = counts[ci];
                        for (int i = 0; i < 33 * ys; i++) y[i] = -1.0f;
                        CHECK(g4j_matmat(isa, ty->id, rows, n, w, row_bytes, nx, x, xs, y, ys) == G4J_OK, "matmat: %s",
                              g4j_last_error());
                        int bad = 0;
                        for (int j = 0; j < nx; j++)
                            for (int r = 0; r < rows; r++)
                                if (memcmp(&y[j * ys + r], &dots[j * 33 + r], sizeof(float)) != 0 && !bad++)
                                    CHECK(0, "%s %s n=%lld %dx%d: matmat[%d][%d] %.9g != vec_dot %.9g", g4j_isa_name(isa),
                                          ty->name, (long long)n, rows, nx, j, r, y[j * ys + r], dots[j * 33 + r]);
                        for (int j = 0; j < nx; j++)
                            for (int r = rows; r < ys; r++)
                                if (y[j * ys + r] != -1.0f && !bad++) CHECK(0, "%s %s: matmat wrote past its rows", g4j_isa_name(isa), ty->name);
                    }
            }
            free(w); free(x); free(y); free(dots);
        }
    }
}

/* Generation (one column) over long k-quant rows: the AVX-512 VNNI Q4_K matvec keeps the rearranged activations of
 * up to 128 super-blocks on the stack and hands longer rows to the row-by-row dot; either side of that limit, and
 * for every row count up to 7 (its row pairs and the odd last row), g4j_matvec equals vec_dot bit for bit. */
static void test_qk_matvec_long(void) {
    static const int types[] = {Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS};
    static const int64_t lens[] = {127 * 256, 128 * 256, 129 * 256};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const tinfo *ty = NULL;
        for (size_t i = 0; i < NTYPES; i++) if (TYPES[i].id == types[t]) ty = &TYPES[i];
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            const int64_t n = lens[li], row_bytes = n / 256 * ty->bytes + 4 * (int64_t)li;
            uint8_t *w = calloc((size_t)(8 * row_bytes), 1);
            float *x = malloc(sizeof(float) * (size_t)n), dots[8], y[8];
            for (int r = 0; r < 8; r++) fill_row(ty->id, w + r * row_bytes, n);
            fill_x(x, n, (int)li % 4);
            for (int isa = G4J_ISA_AVX2; isa < G4J_ISA_COUNT; isa++) {
                if (!g4j_isa_available(isa)) continue;
                for (int r = 0; r < 8; r++)
                    CHECK(g4j_vec_dot(isa, ty->id, n, w + r * row_bytes, x, &dots[r]) == G4J_OK, "vec_dot: %s", g4j_last_error());
                for (int rows = 1; rows <= 7; rows++) {
                    const int r0 = rows % 2;
                    CHECK(g4j_matvec(isa, ty->id, rows, n, w + r0 * row_bytes, row_bytes, x, y) == G4J_OK, "matvec: %s",
                          g4j_last_error());
                    for (int r = 0; r < rows; r++)
                        CHECK(memcmp(&y[r], &dots[r0 + r], sizeof(float)) == 0, "%s %s n=%lld matvec %d rows [%d] %.9g != vec_dot %.9g",
                              g4j_isa_name(isa), ty->name, (long long)n, rows, r, y[r], dots[r0 + r]);
                }
            }
            free(w); free(x);
        }
    }
}

/* g4j_matmat_converted: the activations converted once with g4j_quantize_activations (here: padded strides), then
 * any row slice; equal to g4j_matmat bit for bit, batches of 1 (the generation path) and 6; stride checked. */
static void test_matmat_converted(void) {
    for (size_t t = 0; t < NTYPES; t++) {
        const tinfo *ty = &TYPES[t];
        const int64_t n = ty->elems == 1 ? 3 * 37 : 3 * ty->elems;
        const int64_t row_bytes = n / ty->elems * ty->bytes;
        const int rows = 41;
        int32_t act_type = -1;
        CHECK(g4j_vec_dot_type(ty->id, &act_type) == G4J_OK, "vec_dot_type %s", ty->name);
        const int64_t ab = n / act_block_elems(act_type) * act_block_bytes(act_type), stride = ab + 40;
        uint8_t *w = calloc((size_t)(rows * row_bytes), 1);
        float *x = malloc(sizeof(float) * (size_t)(6 * n));
        uint8_t *act = calloc((size_t)(6 * stride), 1);
        float *want = malloc(sizeof(float) * (size_t)(6 * rows)), *got = malloc(sizeof(float) * (size_t)(6 * rows));
        for (int r = 0; r < rows; r++) fill_row(ty->id, w + r * row_bytes, n);
        for (int j = 0; j < 6; j++) {
            fill_x(x + j * n, n, j % 4);
            CHECK(g4j_quantize_activations(ty->id, n, x + j * n, act + j * stride, ab) == G4J_OK, "convert %s", ty->name);
        }
        for (int isa = G4J_ISA_SCALAR; isa < G4J_ISA_COUNT; isa++) {
            if (!g4j_isa_available(isa)) continue;
            for (int nx = 1; nx <= 6; nx += 5) {
                CHECK(g4j_matmat(isa, ty->id, rows, n, w, row_bytes, nx, x, n, want, rows) == G4J_OK, "matmat %s", ty->name);
                /* two threads' worth of rows: [0, 16) and [16, rows) */
                CHECK(g4j_matmat_converted(isa, ty->id, 0, 0, 16, n, w, row_bytes, nx, act, stride, got, rows) == G4J_OK &&
                      g4j_matmat_converted(isa, ty->id, 16, 16, rows - 16, n, w, row_bytes, nx, act, stride, got, rows) == G4J_OK,
                      "matmat_converted %s: %s", ty->name, g4j_last_error());
                CHECK(memcmp(want, got, sizeof(float) * (size_t)(nx * rows)) == 0, "%s %s matmat_converted (batch %d) != matmat",
                      g4j_isa_name(isa), ty->name, nx);
            }
        }
        CHECK(g4j_matmat_converted(G4J_ISA_SCALAR, ty->id, 0, 0, rows, n, w, row_bytes, 2, act, ab - 1, got, rows) == G4J_E_INVALID_ARGUMENT,
              "short activation stride accepted for %s", ty->name);
        CHECK(g4j_matmat_converted(G4J_ISA_SCALAR, ty->id, 0, 1, rows, n, w, row_bytes, 2, act, stride, got, rows) == G4J_E_INVALID_ARGUMENT,
              "output rows past the y stride accepted for %s", ty->name);
        CHECK(g4j_matmat_converted(G4J_ISA_SCALAR, ty->id, -1, 0, rows, n, w, row_bytes, 2, act, stride, got, rows) == G4J_E_INVALID_ARGUMENT,
              "negative first row accepted for %s", ty->name);
        free(w); free(x); free(act); free(want); free(got);
    }
}

/* Activation vector aj of n elements for an r8 type's products, kind 0..3 converted from fill_x's kinds, 4 raw
 * bytes (-128 included) with a sane scale: Q8_0 blocks of 34 bytes (binary16 d), or Q8_K blocks of 292 (float d;
 * the bsums in the range a conversion gives, [-2048, 2047]). */
static void r8_activations(int type, int64_t n, int kind, float *x, uint8_t *aj) {
    const int kq = type == Q4_K || type == Q5_K || type == Q6_K;
    const int64_t ab = kq ? 292 : 34, nb = n / (kq ? 256 : 32);
    if (kind < 4) {
        fill_x(x, n, kind);
        CHECK(g4j_quantize_activations(type, n, x, aj, nb * ab) == G4J_OK, "convert");
        return;
    }
    for (int64_t i = 0; i < nb * ab; i++) aj[i] = (uint8_t)rnd();
    for (int64_t b = 0; b < nb; b++) {
        if (!kq) {
            put16(aj + b * 34, rnd_half(-8, -2, 1));
            continue;
        }
        const float d = ldexpf(rndf(), -7);
        memcpy(aj + b * 292, &d, 4);
        for (int i = 0; i < 16; i++) put16(aj + b * 292 + 260 + 2 * i, (uint16_t)(int16_t)((int)(rnd() % 4096) - 2048));
    }
}

/* Random rows of type (row_bytes apart), and their r8 copy, whose size is checked to be groups x blocks x rb;
 * *packed and *pb: the copy and its bytes. */
static uint8_t *r8_rows_and_copy(int type, int64_t rows, int64_t n, int64_t nb, int64_t rb, int64_t row_bytes,
                                 uint8_t **packed, int64_t *pb) {
    const int64_t groups = (rows + 7) / 8;
    *pb = g4j_r8_bytes(type, rows, n);
    CHECK(*pb == groups * nb * rb, "r8 bytes type %d %lld x %lld: %lld", type, (long long)rows, (long long)n, (long long)*pb);
    uint8_t *w = calloc((size_t)(rows * row_bytes), 1);
    *packed = malloc((size_t)*pb);
    for (int64_t r = 0; r < rows; r++) fill_row(type, w + r * row_bytes, n);
    memset(*packed, 0xa5, (size_t)*pb);
    CHECK(g4j_repack_r8(type, rows, n, w, row_bytes, *packed, *pb) == G4J_OK, "repack: %s", g4j_last_error());
    return w;
}

/* Each variant's g4j_matmat_r8 over a copy, on the whole matrix and then in two slices [0, a), [a, rows) as
 * threads take them (a inside a group too), against ref (nx vectors of rows, what it must equal bit for bit);
 * got has ys floats per vector and 17 vectors, with guards around each vector's rows. Returns elements checked. */
static int64_t check_r8_slices(int isa, int type, int64_t rows, int64_t n, const void *packed, int nx, const uint8_t *act,
                               int64_t astride, const float *ref, float *got, int64_t ys, const char *against, int kind) {
    int64_t checked = 0;
    for (int64_t a = 0; a <= rows; a += (rows > 9 ? 5 : 1)) {
        memset(got, 0xff, sizeof(float) * (size_t)(17 * ys));
        CHECK(g4j_matmat_r8(isa, type, rows, n, packed, 0, 1, a, nx, act, astride, got, ys) == G4J_OK &&
              g4j_matmat_r8(isa, type, rows, n, packed, a, 1 + a, rows - a, nx, act, astride, got, ys) == G4J_OK,
              "matmat_r8: %s", g4j_last_error());
        for (int j = 0; j < nx; j++) {
            checked += rows;
            CHECK(memcmp(ref + j * rows, got + j * ys + 1, sizeof(float) * (size_t)rows) == 0,
                  "%s r8 != %s, type %d %lld x %lld, batch %d (vector %d), split at %lld, activations %d",
                  g4j_isa_name(isa), against, type, (long long)rows, (long long)n, nx, j, (long long)a, kind);
            uint32_t guard_lo, guard_hi, guard_hi2;
            memcpy(&guard_lo, got + j * ys, 4);
            memcpy(&guard_hi, got + j * ys + rows + 1, 4);
            memcpy(&guard_hi2, got + j * ys + rows + 2, 4);
            CHECK(guard_lo == 0xffffffffu && guard_hi == 0xffffffffu && guard_hi2 == 0xffffffffu,
                  "r8 wrote outside its rows (type %d, batch %d)", type, nx);
        }
        for (int j = nx; j < 17; j++) {
            uint32_t untouched;
            memcpy(&untouched, got + j * ys + 1, 4);
            CHECK(untouched == 0xffffffffu, "r8 wrote past its batch (type %d, batch %d)", type, nx);
        }
    }
    return checked;
}

/* ---- r8 of the k-quants (gguf4j.h): the layout and the arithmetic as the header states them, written here ---- */

/* the unsigned quant of element e of a super-block (ggml's dequantize_row_q4_K / _q5_K / _q6_K) */
static int k_quant(int type, const uint8_t *x, int e) {
    if (type == Q4_K) return (x[16 + 32 * (e / 64) + e % 32] >> (4 * (e / 32 % 2))) & 0xf;
    if (type == Q5_K) /* qs at 48, qh at 16: bit e / 32 of qh[e % 32] */
        return ((x[48 + 32 * (e / 64) + e % 32] >> (4 * (e / 32 % 2))) & 0xf) | ((x[16 + e % 32] >> (e / 32)) & 1) << 4;
    const int h = e / 128, m = e % 128 / 32, l = e % 32; /* ql at 0, qh at 128 */
    return ((x[64 * h + 32 * (m % 2) + l] >> (4 * (m / 2))) & 0xf) | ((x[128 + 32 * h + l] >> (2 * m)) & 3) << 4;
}
static float f32_at(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }
/* The header's arithmetic for one row against one Q8_K vector; *mag: a bound on the sum of |terms| (tolerances). */
static float r8k_expected(int type, int64_t nb, const uint8_t *row, const uint8_t *act, double *mag) {
    float acc = 0.0f;
    *mag = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *x = row + b * (type == Q4_K ? 144 : type == Q5_K ? 176 : 210), *y = act + b * 292;
        const float dy = f32_at(y);
        const int8_t *q = (const int8_t *)(y + 4);
        int16_t bs[16];
        memcpy(bs, y + 260, 32);
        int64_t s = 0, m = 0, sa = 0, ma = 0;
        const int mins = type != Q6_K;
        for (int j = 0; j < (mins ? 8 : 16); j++) {
            const int len = mins ? 32 : 16;
            int64_t t = 0, ta = 0;
            for (int i = 0; i < len; i++) {
                t += (int64_t)k_quant(type, x, len * j + i) * q[len * j + i];
                ta += llabs((int64_t)(k_quant(type, x, len * j + i) - (type == Q6_K ? 32 : 0)) * q[len * j + i]);
            }
            if (mins) {
                int sc, mn;
                k4_scale_min(x + 4, j, &sc, &mn);
                s += sc * t;
                sa += sc * ta;
                m += (int64_t)mn * (bs[2 * j] + bs[2 * j + 1]);
                ma += llabs((int64_t)mn * (bs[2 * j] + bs[2 * j + 1]));
            } else {
                const int sc = (int8_t)x[192 + j];
                s += sc * (t - 32 * bs[j]);
                sa += llabs((int64_t)sc) * ta;
            }
        }
        CHECK(s == (int32_t)s && m == (int32_t)m, "r8k test data: integer sums out of int32 range");
        const float d = (float)half_value(get16(x + (mins ? 0 : 208)));
        acc = fmaf(d * dy, (float)s, acc);
        *mag += fabs((double)d * dy) * (double)sa;
        if (mins) {
            const float dmin = (float)half_value(get16(x + 2));
            acc = fmaf(-(dmin * dy), (float)m, acc);
            *mag += fabs((double)dmin * dy) * (double)ma;
        }
    }
    return acc;
}

/* Q4_K, Q5_K and Q6_K: the copy byte for byte against the layout the header describes; each variant's products bit for
 * bit against the header's arithmetic (above), for every batch size (the matrix-vector case included), rows not a
 * multiple of 8, slices starting inside a group, converted and raw activations; and that arithmetic within
 * rounding of ggml's (the scalar vec_dot of the file's layout, a different float order). */
static void test_r8k(void) {
    static const int64_t NS[] = {256, 768, 8 * 256, 22 * 256};
    static const int ROWS[] = {1, 7, 8, 9, 23, 40};
    static const int NX[] = {1, 2, 3, 4, 5, 8, 9, 13, 17};
    static const int KT[] = {Q4_K, Q5_K, Q6_K};
    int64_t checked[3] = {0, 0, 0}, against_ggml = 0;
    for (size_t ti = 0; ti < 3; ti++)
    for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
        for (size_t ri = 0; ri < sizeof ROWS / sizeof ROWS[0]; ri++) {
            const int type = KT[ti], bs = type == Q4_K ? 144 : type == Q5_K ? 176 : 210;
            const int rb = type == Q4_K ? 1184 : type == Q5_K ? 1440 : 1680;
            const int64_t n = NS[ni], nb = n / 256, rows = ROWS[ri], row_bytes = nb * bs + (ri % 2 ? 6 : 0);
            if (n > 2048 && rows > 9) continue;
            const int64_t groups = (rows + 7) / 8;
            int64_t pb;
            uint8_t *packed, *w = r8_rows_and_copy(type, rows, n, nb, rb, row_bytes, &packed, &pb), *want = malloc((size_t)pb);
            memset(want, 0, (size_t)pb);
            for (int64_t g = 0; g < groups; g++)
                for (int64_t b = 0; b < nb; b++)
                    for (int r = 0; r < 8 && g * 8 + r < rows; r++) {
                        const uint8_t *x = w + (g * 8 + r) * row_bytes + b * bs;
                        uint8_t *o = want + (g * nb + b) * rb;
                        if (type != Q6_K) { /* Q5_K: Q4_K's part (its qs at 48), then qh interleaved at 1184 */
                            memcpy(o + 2 * r, x, 2);
                            memcpy(o + 16 + 2 * r, x + 2, 2);
                            for (int j = 0; j < 8; j++) {
                                int sc, mn;
                                k4_scale_min(x + 4, j, &sc, &mn);
                                o[32 + 8 * j + r] = (uint8_t)sc;
                                o[96 + 16 * (j / 2) + 2 * r + j % 2] = (uint8_t)mn;
                            }
                            const int qs = type == Q4_K ? 16 : 48;
                            for (int k = 0; k < 32; k++) memcpy(o + 160 + 32 * k + 4 * r, x + qs + 4 * k, 4);
                            if (type == Q5_K)
                                for (int k = 0; k < 8; k++) memcpy(o + 1184 + 32 * k + 4 * r, x + 16 + 4 * k, 4);
                        } else {
                            memcpy(o + 2 * r, x + 208, 2);
                            for (int j = 0; j < 16; j++) o[16 + 8 * j + r] = x[192 + j];
                            for (int k = 0; k < 32; k++) memcpy(o + 144 + 32 * k + 4 * r, x + 4 * k, 4);
                            for (int k = 0; k < 16; k++) memcpy(o + 1168 + 32 * k + 4 * r, x + 128 + 4 * k, 4);
                        }
                    }
            CHECK(memcmp(packed, want, (size_t)pb) == 0, "r8 layout, type %d %lld x %lld", type, (long long)rows, (long long)n);
            const int64_t astride = nb * 292 + 28, ys = rows + 3, maxnx = n > 2048 ? 3 : 17;
            uint8_t *act = malloc((size_t)(17 * astride));
            float *x = malloc(sizeof(float) * (size_t)n), *ref = malloc(sizeof(float) * (size_t)(17 * rows)),
                  *ggml = malloc(sizeof(float) * (size_t)(17 * rows)), *got = malloc(sizeof(float) * (size_t)(17 * ys));
            for (int kind = 0; kind < 5; kind++) {
                for (int j = 0; j < 17; j++) {
                    uint8_t *aj = act + j * astride;
                    r8_activations(type, n, kind < 4 ? (kind + j) % 4 : 4, x, aj);
                    for (int64_t r = 0; r < rows; r++) {
                        double mag;
                        ref[j * rows + r] = r8k_expected(type, nb, w + r * row_bytes, aj, &mag);
                        if (kind < 4 && j == 0) { /* against ggml's order: within rounding */
                            float g;
                            CHECK(g4j_matmat_converted(G4J_ISA_SCALAR, type, r, 0, 1, n, w, row_bytes, 1, aj, astride, &g, 1) == G4J_OK, "ggml");
                            CHECK(fabs((double)g - ref[r]) <= 4e-7 * mag + 1e-30, "r8 %d arithmetic vs ggml's: %g vs %g (mag %g)",
                                  type, (double)ref[r], (double)g, mag);
                            against_ggml++;
                        }
                    }
                }
                for (int isa = G4J_ISA_SCALAR; isa < G4J_ISA_COUNT; isa++) {
                    if (!g4j_isa_available(isa)) continue;
                    for (size_t xi = 0; xi < sizeof NX / sizeof NX[0]; xi++) {
                        const int nx = NX[xi];
                        if (nx > maxnx) continue;
                        checked[ti] += check_r8_slices(isa, type, rows, n, packed, nx, act, astride, ref, got, ys,
                                                       "the header's arithmetic", kind);
                    }
                }
            }
            free(w); free(packed); free(want); free(act); free(x); free(ref); free(ggml); free(got);
        }
    printf("r8 q4_K / q5_K / q6_K == the header's arithmetic: %lld / %lld / %lld elements (every variant); %lld rows"
           " within rounding of ggml's vec_dot\n", (long long)checked[0], (long long)checked[1], (long long)checked[2],
           (long long)against_ggml);
    uint8_t buf[1184 * 2] = {0}, act[292] = {0};
    float y[16];
    CHECK(g4j_r8_bytes(Q4_K, 9, 256) == 2 * 1184 && g4j_r8_bytes(Q6_K, 8, 512) == 2 * 1680 && g4j_r8_bytes(Q4_K, 8, 32) == -1 &&
          g4j_r8_bytes(Q5_K, 8, 256) == 1440 && g4j_r8_bytes(Q3_K, 8, 256) == -1, "r8_bytes k-quant checks");
    CHECK(g4j_repack_r8(Q4_K, 8, 128, buf, 144, buf, 1184) == G4J_E_INVALID_ARGUMENT, "128 columns of q4_K accepted");
    CHECK(strstr(g4j_last_error(), "256") != NULL, "the message names the multiple: %s", g4j_last_error());
    CHECK(g4j_repack_r8(Q6_K, 8, 256, buf, 209, buf, 1680) == G4J_E_INVALID_ARGUMENT, "short q6_K row stride accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q4_K, 8, 256, buf, 0, 0, 2, 2, act, 291, y, 8) == G4J_E_INVALID_ARGUMENT,
          "short q8_K activation stride accepted");
    CHECK(strstr(g4j_last_error(), "q8_K") != NULL, "the message names the activation type: %s", g4j_last_error());
}

/* r8 (gguf4j.h), for Q4_0 and Q8_0: the copy byte for byte against the layout as the header describes it (written
 * here), and its matrix products bit for bit against the same variant's g4j_matmat_converted on the original rows,
 * for row counts that are not multiples of 8, slices starting inside a group (as threads take them), batches of 1
 * (the matrix-vector kernel) to 17 vectors (every column count of the tiles, and a remainder), rows longer than
 * the matrix-vector kernel's chunk of 1024 blocks, and raw random activation bytes (-128 included) as well as
 * converted ones. */
static void test_r8(void) {
    static const int64_t NS[] = {32, 96, 64 * 32, 1030 * 32};
    static const int ROWS[] = {1, 7, 8, 9, 23, 40};
    static const int NX[] = {1, 2, 3, 4, 5, 8, 9, 13, 17};
    static const int R8_TYPES[] = {Q4_0, Q8_0};
    for (size_t ti = 0; ti < 2; ti++)
    for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
        for (size_t ri = 0; ri < sizeof ROWS / sizeof ROWS[0]; ri++) {
            const int type = R8_TYPES[ti], qb = type == Q4_0 ? 16 : 32, bs = 2 + qb, rb = 16 + 8 * qb;
            const int64_t n = NS[ni], nb = n / 32, rows = ROWS[ri], row_bytes = nb * bs + (ri % 2 ? 6 : 0);
            if (n > 2048 && rows > 9) continue; /* the long rows: a few shapes are enough */
            const int64_t groups = (rows + 7) / 8;
            int64_t pb;
            uint8_t *packed, *w = r8_rows_and_copy(type, rows, n, nb, rb, row_bytes, &packed, &pb), *want = malloc((size_t)pb);
            /* the layout: per group and block, 8 scales, then byte 32k + 4r + i = byte 4k + i of row r's quants */
            memset(want, 0, (size_t)pb);
            for (int64_t g = 0; g < groups; g++)
                for (int64_t b = 0; b < nb; b++)
                    for (int r = 0; r < 8 && g * 8 + r < rows; r++) {
                        const uint8_t *blk = w + (g * 8 + r) * row_bytes + b * bs;
                        uint8_t *o = want + (g * nb + b) * rb;
                        o[2 * r] = blk[0];
                        o[2 * r + 1] = blk[1];
                        for (int k = 0; k < qb / 4; k++)
                            for (int i = 0; i < 4; i++) o[16 + 32 * k + 4 * r + i] = blk[2 + 4 * k + i];
                    }
            CHECK(memcmp(packed, want, (size_t)pb) == 0, "r8 layout, type %d %lld x %lld", type, (long long)rows, (long long)n);
            const int64_t astride = nb * 34 + 30, ys = rows + 3, maxnx = n > 2048 ? 3 : 17;
            uint8_t *act = malloc((size_t)(17 * astride));
            float *x = malloc(sizeof(float) * (size_t)n), *ref = malloc(sizeof(float) * (size_t)(17 * rows)),
                  *got = malloc(sizeof(float) * (size_t)(17 * ys));
            for (int kind = 0; kind < 5; kind++) {
                for (int j = 0; j < 17; j++) {
                    r8_activations(type, n, kind < 4 ? (kind + j) % 4 : 4, x, act + j * astride);
                }
                for (int isa = G4J_ISA_SCALAR; isa < G4J_ISA_COUNT; isa++) {
                    if (!g4j_isa_available(isa)) continue;
                    for (size_t xi = 0; xi < sizeof NX / sizeof NX[0]; xi++) {
                        const int nx = NX[xi];
                        if (nx > maxnx) continue;
                        CHECK(g4j_matmat_converted(isa, type, 0, 0, rows, n, w, row_bytes, nx, act, astride, ref, rows) == G4J_OK,
                              "reference: %s", g4j_last_error());
                        check_r8_slices(isa, type, rows, n, packed, nx, act, astride, ref, got, ys, "plain", kind);
                    }
                }
            }
            free(w); free(packed); free(want); free(act); free(x); free(ref); free(got);
        }
    /* argument checks: never a crash, a status and a message */
    uint8_t buf[272 * 2] = {0}, act[34] = {0};
    float y[16];
    CHECK(g4j_r8_bytes(Q4_0, 8, 33) == -1 && g4j_r8_bytes(Q4_0, -1, 32) == -1 && g4j_r8_bytes(Q4_0, 0, 32) == 0 &&
          g4j_r8_bytes(Q4_0, 9, 32) == 288 && g4j_r8_bytes(Q8_0, 9, 32) == 544 && g4j_r8_bytes(Q4_0, INT64_MAX, 1 << 20) == -1 &&
          g4j_r8_bytes(Q4_1, 8, 32) == -1, "r8_bytes checks");
    CHECK(g4j_repack_r8(Q4_0, 9, 32, buf, 18, buf, 287) == G4J_E_INVALID_ARGUMENT, "short output accepted");
    CHECK(g4j_repack_r8(Q8_0, 9, 32, buf, 33, buf, 544) == G4J_E_INVALID_ARGUMENT, "short row stride accepted");
    CHECK(g4j_repack_r8(Q4_0, 9, 32, NULL, 18, buf, 288) == G4J_E_INVALID_ARGUMENT, "null weights accepted");
    CHECK(g4j_repack_r8(Q4_0, 9, 48, buf, 18, buf, 288) == G4J_E_INVALID_ARGUMENT, "48 columns accepted");
    CHECK(g4j_repack_r8(Q5_0, 8, 32, buf, 22, buf, 544) == G4J_E_UNSUPPORTED_TYPE, "q5_0 accepted");
    CHECK(strstr(g4j_last_error(), "q5_0") != NULL, "the message names the type: %s", g4j_last_error());
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q4_0, 9, 32, buf, 5, 0, 5, 1, act, 34, y, 5) == G4J_E_INVALID_ARGUMENT, "rows past the end accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q4_0, 9, 32, buf, -1, 0, 2, 1, act, 34, y, 2) == G4J_E_INVALID_ARGUMENT, "negative row accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q4_0, 9, 32, buf, 0, 0, 2, 1, NULL, 34, y, 2) == G4J_E_INVALID_ARGUMENT, "null activations accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q4_0, 9, 40, buf, 0, 0, 2, 1, act, 34, y, 2) == G4J_E_INVALID_ARGUMENT, "40 columns accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q8_0, 9, 32, buf, 0, 0, 2, 2, act, 33, y, 8) == G4J_E_INVALID_ARGUMENT, "short activation stride accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q8_0, 9, 32, buf, 0, 7, 2, 2, act, 34, y, 8) == G4J_E_INVALID_ARGUMENT, "output past the y stride accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q8_0, 9, 32, buf, 0, 0, 2, -1, act, 34, y, 8) == G4J_E_INVALID_ARGUMENT, "negative batch accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q3_K, 8, 256, buf, 0, 0, 2, 1, act, 34, y, 8) == G4J_E_UNSUPPORTED_TYPE, "q3_K accepted");
    CHECK(g4j_matmat_r8(G4J_ISA_AUTO, Q4_0, 9, 32, buf, 9, 0, 0, 1, act, 34, y, 0) == G4J_OK, "no rows refused");
    CHECK(g4j_matmat_r8(77, Q4_0, 9, 32, buf, 0, 0, 2, 1, act, 34, y, 2) == G4J_E_UNSUPPORTED_ISA, "unknown variant accepted");
}

static void test_read_bandwidth(void) {
    double gbps[2] = {-1, -1};
    const int32_t counts[2] = {1, 2};
    CHECK(g4j_read_bandwidth(8 << 20, 3, 10.0, 2, counts, gbps) == G4J_OK, "read bandwidth");
    CHECK(gbps[0] > 0.1 && gbps[0] < 10000 && gbps[1] > 0.1 && gbps[1] < 10000, "read bandwidth %g %g out of range",
          gbps[0], gbps[1]);
    CHECK(g4j_read_bandwidth(8 << 20, 64, 0.0, 1, counts, gbps) == G4J_OK, "no time: one pass");
    CHECK(g4j_read_bandwidth(1000, 1, 1, 1, counts, gbps) == G4J_E_INVALID_ARGUMENT, "tiny buffer accepted");
    const int32_t zero = 0;
    CHECK(g4j_read_bandwidth(8 << 20, 1, 1, 1, &zero, gbps) == G4J_E_INVALID_ARGUMENT, "0 threads accepted");
    CHECK(g4j_read_bandwidth(8 << 20, 0, 1, 1, counts, gbps) == G4J_E_INVALID_ARGUMENT, "0 reps accepted");
    CHECK(g4j_read_bandwidth(8 << 20, 1, -1, 1, counts, gbps) == G4J_E_INVALID_ARGUMENT, "negative time accepted");
    CHECK(g4j_read_bandwidth(8 << 20, 1, 1, 1, counts, NULL) == G4J_E_INVALID_ARGUMENT, "null result accepted");
}

/* g4j_quantize_rows: every vector variant against the scalar one, byte for byte (the scalar one follows ggml's
 * reference quantizers operation for operation; java/core's GoldenQuantVectorsTest-style NativeQuantizeTest checks
 * it against ggml's bytes), on several input distributions, with and without importance weights; F16/BF16 sources
 * against F32 sources of the same values; non-finite input, unsupported types and bad lengths refused. */
static int64_t qrow_bytes(int32_t type, int64_t n) { /* ggml's block sizes */
    switch (type) {
    case Q4_0: return n / 32 * 18;
    case Q4_1: return n / 32 * 20;
    case Q5_0: return n / 32 * 22;
    case Q5_1: return n / 32 * 24;
    case Q8_0: return n / 32 * 34;
    case IQ4_NL: return n / 32 * 18;
    case Q2_K: return n / 256 * 84;
    case Q3_K: return n / 256 * 110;
    case Q4_K: return n / 256 * 144;
    case Q5_K: return n / 256 * 176;
    default: return n / 256 * 210; /* Q6_K */
    }
}

static void test_quantize_rows(void) {
    const int32_t types[] = {Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K};
    enum { ROWS = 3, NMAX = 4128 };
    float *x = malloc(sizeof(float) * ROWS * NMAX), *qw = malloc(sizeof(float) * NMAX);
    uint16_t *h = malloc(2 * ROWS * NMAX);
    uint8_t *ref = malloc(ROWS * NMAX * 2), *out = malloc(ROWS * NMAX * 2);
    for (int i = 0; i < NMAX; ++i) qw[i] = expf(gauss());
    for (int dist = 0; dist < 8; ++dist) {
        for (int i = 0; i < ROWS * NMAX; ++i) {
            float v = gauss();
            switch (dist) {
            case 1: v = (rnd() % 61 == 0) ? v * 40 : v; break;            /* outliers */
            case 2: v = (i / 256) % 3 == 0 ? 0 : v; break;                /* all-zero super-blocks */
            case 3: v = 0.75f; break;                                     /* constant */
            case 4: v *= 1e-6f; break;                                    /* tiny */
            case 5: v = fabsf(v) * 3e4f / 4; break;                      /* positive, huge */
            case 6: v = 0.25f * (float)((int)(rnd() % 5) - 2); if (v == 0 && rnd() % 2) v = -0.0f; break; /* ties, +-0 */
            case 7: v = (i / 32) % 2 ? fabsf(v) : -fabsf(v); if (i % 7 == 0) v = (rnd() % 2) ? 0.0f : -0.0f; break; /* one-signed blocks with zeros */
            default: break;
            }
            x[i] = v;
        }
        for (size_t t = 0; t < sizeof types / sizeof types[0]; ++t) {
            const int32_t type = types[t];
            const int k = type >= Q2_K;
            const int64_t n = k ? 4096 : NMAX; /* 129 blocks of 32: a tail after the groups of 8 */
            for (int im = 0; im < 2; ++im) {
                const float *w = im ? qw : NULL;
                int64_t bad = 7;
                CHECK(g4j_quantize_rows(G4J_ISA_SCALAR, F32, x, NMAX * 4, type, ref, ROWS, n, w, &bad) == G4J_OK,
                      "quantize_rows scalar type %d: %s", type, g4j_last_error());
                CHECK(bad == -1, "bad %lld after success", (long long)bad);
                for (int isa = 1; isa < G4J_ISA_COUNT; ++isa) {
                    if (!g4j_isa_available(isa)) continue;
                    memset(out, 0xA5, ROWS * NMAX * 2);
                    CHECK(g4j_quantize_rows(isa, F32, x, NMAX * 4, type, out, ROWS, n, w, NULL) == G4J_OK,
                          "quantize_rows %s type %d", g4j_isa_name(isa), type);
                    const int64_t row_bytes = qrow_bytes(type, n);
                    for (int64_t b = 0; b < ROWS * row_bytes; ++b)
                        if (out[b] != ref[b]) {
                            CHECK(0, "quantize_rows %s type %d dist %d imatrix %d: byte %lld (row %lld) differs from"
                                  " scalar", g4j_isa_name(isa), type, dist, im, (long long)b, (long long)(b / row_bytes));
                            break;
                        }
                }
                if (dist == 0) { /* F16 and BF16 sources: the same bytes as F32 sources of their values */
                    for (int src = 0; src < 2; ++src) {
                        float *xv = malloc(sizeof(float) * ROWS * NMAX);
                        for (int i = 0; i < ROWS * NMAX; ++i) {
                            h[i] = src ? bf16_of(x[i]) : half_of(x[i]);
                            xv[i] = (float)(src ? bf16_value(h[i]) : half_value(h[i]));
                        }
                        CHECK(g4j_quantize_rows(G4J_ISA_SCALAR, F32, xv, NMAX * 4, type, ref, ROWS, n, w, NULL) == G4J_OK,
                              "f32");
                        for (int isa = 0; isa < G4J_ISA_COUNT; ++isa) {
                            if (!g4j_isa_available(isa)) continue;
                            CHECK(g4j_quantize_rows(isa, src ? BF16 : F16, h, NMAX * 2, type, out, ROWS, n, w, NULL)
                                  == G4J_OK, "16-bit source");
                            CHECK(memcmp(out, ref, (size_t)(ROWS * qrow_bytes(type, n))) == 0,
                                  "%s source %s type %d imatrix %d differs from F32", src ? "BF16" : "F16",
                                  g4j_isa_name(isa), type, im);
                        }
                        free(xv);
                    }
                }
            }
        }
    }
    /* F32 and BF16 targets: the values, and their nearest-even bfloat16 (written here) */
    for (int isa = 0; isa < G4J_ISA_COUNT; ++isa) {
        if (!g4j_isa_available(isa)) continue;
        CHECK(g4j_quantize_rows(isa, F32, x, NMAX * 4, F32, out, 2, 1000, qw, NULL) == G4J_OK
              && memcmp(out, x, 4000) == 0 && memcmp(out + 4000, x + NMAX, 4000) == 0, "F32 target");
        CHECK(g4j_quantize_rows(isa, F32, x, NMAX * 4, BF16, out, 2, 1000, NULL, NULL) == G4J_OK, "BF16 target");
        for (int r = 0; r < 2; ++r)
            for (int i = 0; i < 1000; ++i) {
                uint16_t got;
                memcpy(&got, out + 2000 * r + 2 * i, 2);
                if (got != bf16_of(x[r * NMAX + i])) {
                    CHECK(0, "BF16 target %s element %d: %04x, want %04x", g4j_isa_name(isa), i, got,
                          bf16_of(x[r * NMAX + i]));
                    break;
                }
            }
    }
    /* refusals */
    int64_t bad = 0;
    x[NMAX + 77] = NAN;
    for (int isa = 0; isa < G4J_ISA_COUNT; ++isa) {
        if (!g4j_isa_available(isa)) continue;
        CHECK(g4j_quantize_rows(isa, F32, x, NMAX * 4, Q4_K, out, ROWS, 4096, NULL, &bad) == G4J_E_INVALID_ARGUMENT
              && bad == 4096 + 77, "NaN: bad %lld", (long long)bad);
        x[NMAX + 77] = INFINITY;
        CHECK(g4j_quantize_rows(isa, F32, x, NMAX * 4, Q8_0, out, ROWS, 4096, NULL, &bad) == G4J_E_INVALID_ARGUMENT
              && bad == 4096 + 77, "inf: bad %lld", (long long)bad);
        x[NMAX + 77] = NAN;
    }
    CHECK(g4j_quantize_rows(G4J_ISA_AUTO, F32, x, NMAX * 4, IQ4_XS, out, 0, 4096, NULL, NULL) == G4J_E_UNSUPPORTED_TYPE,
          "IQ4_XS is not native");
    CHECK(g4j_quantize_rows(G4J_ISA_AUTO, Q8_0, x, NMAX * 4, Q4_K, out, 0, 4096, NULL, NULL) == G4J_E_UNSUPPORTED_TYPE,
          "quantized source");
    CHECK(g4j_quantize_rows(G4J_ISA_AUTO, F32, x, NMAX * 4, Q4_K, out, 1, 4128, NULL, NULL) == G4J_E_INVALID_ARGUMENT,
          "4128 is not a multiple of 256");
    CHECK(g4j_quantize_rows(G4J_ISA_AUTO, F32, x, 100, Q4_0, out, 1, 4128, NULL, NULL) == G4J_E_INVALID_ARGUMENT,
          "rows overlap");
    CHECK(g4j_quantize_rows(G4J_ISA_AUTO, F32, NULL, NMAX * 4, Q4_0, out, 1, 4128, NULL, NULL) == G4J_E_INVALID_ARGUMENT,
          "null source");
    free(x); free(qw); free(h); free(ref); free(out);
}

/* g4j_gptq_block: every variant writes the same bits (codes, levels, the updated row), with a factor and with
 * U = I; with U = I nothing is spread, so the columns after the block are untouched; bad arguments are refused. */
static void test_gptq_block(void) {
    enum { N = 512 };
    static float u[N * (N + 1) / 2], w0[N], w[N];
    for (int64_t i = 0, k = 0; i < N; i++)
        for (int64_t j = i; j < N; j++, k++) u[k] = j == i ? 0.5f + (rnd() % 100) / 50.0f : 0.05f * rndf();
    for (int i = 0; i < N; i++) w0[i] = 0.02f * gauss() + (i % 37 == 0 ? 0.1f : 0);
    /* Q4_K-like (sub 32, codes 0..15, levels 0..63, mins 0..63) and Q6_K-like (sub 16, codes -32..31, no min) */
    const struct { int sub, lo, hi, llo, lhi, mhi; float d, dmin; } F[] = {
        {32, 0, 15, 0, 63, 63, 0.0003f, 0.0004f}, {16, -32, 31, -128, 127, 0, 0.00004f, 0}};
    for (int f = 0; f < 2; f++)
        for (int ident = 0; ident < 2; ident++) {
            int32_t ref_q[256], ref_ls[16], ref_lm[16];
            float ref_w[N];
            for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
                if (!g4j_isa_available(isa)) continue;
                int32_t q[256], ls[16], lm[16];
                for (int j = 0; j < 16; j++) { ls[j] = F[f].llo < 0 ? 20 + j : 30 + j; lm[j] = 10 + j; }
                memcpy(w, w0, sizeof w);
                CHECK(g4j_gptq_block(isa, N, 256, ident ? NULL : u, w, F[f].sub, F[f].lo, F[f].hi, F[f].llo, F[f].lhi,
                                     F[f].mhi, 2, F[f].d, F[f].dmin, ls, lm, q) == G4J_OK, "gptq %s", g4j_last_error());
                if (isa == 0) {
                    memcpy(ref_q, q, sizeof q); memcpy(ref_ls, ls, sizeof ls); memcpy(ref_lm, lm, sizeof lm);
                    memcpy(ref_w, w, sizeof w);
                    CHECK(memcmp(w, w0, 256 * sizeof(float)) == 0, "columns before the block changed");
                    int moved = 0;
                    for (int j = 0; j < 16; j++) moved += ls[j] != (F[f].llo < 0 ? 20 + j : 30 + j);
                    CHECK(moved > 0, "format %d: no sub-block level was re-chosen", f);
                } else {
                    CHECK(memcmp(q, ref_q, sizeof q) == 0 && memcmp(ls, ref_ls, sizeof ls) == 0
                          && memcmp(w, ref_w, sizeof w) == 0 && (F[f].mhi == 0 || memcmp(lm, ref_lm, sizeof lm) == 0),
                          "gptq %s format %d identity %d differs from scalar", g4j_isa_name(isa), f, ident);
                }
            }
            CHECK(ident == 0 || memcmp(ref_w, w0, sizeof w) == 0, "U = I spread something");
        }
    int32_t q[256], ls[16], lm[16] = {0};
    CHECK(g4j_gptq_block(G4J_ISA_AUTO, N, 384, u, w, 32, 0, 15, 0, 63, 63, 2, 1, 1, ls, lm, q) == G4J_E_INVALID_ARGUMENT,
          "col0 not a multiple of 256");
    CHECK(g4j_gptq_block(G4J_ISA_AUTO, N, 512, u, w, 32, 0, 15, 0, 63, 63, 2, 1, 1, ls, lm, q) == G4J_E_INVALID_ARGUMENT,
          "block past the row");
    CHECK(g4j_gptq_block(G4J_ISA_AUTO, N, 0, u, w, 8, 0, 15, 0, 63, 63, 2, 1, 1, ls, lm, q) == G4J_E_INVALID_ARGUMENT,
          "sub-block of 8");
    CHECK(g4j_gptq_block(G4J_ISA_AUTO, N, 0, u, w, 32, 0, 15, 0, 63, 63, 2, 1, 1, ls, NULL, q) == G4J_E_INVALID_ARGUMENT,
          "mins without lm");
    /* g4j_gptq_row: every variant the same bytes (a Q4_K row of 512; Java's GptqLoopTest holds them equal to its
     * own loop for every type); refusals */
    static uint8_t ref_row[2 * 144], row[2 * 144];
    for (int isa = 0; isa < G4J_ISA_COUNT; isa++) {
        if (!g4j_isa_available(isa)) continue;
        memcpy(w, w0, sizeof w);
        CHECK(g4j_gptq_row(isa, Q4_K, N, u, w, 32, 0, 15, 0, 63, 63, 2, isa == 0 ? ref_row : row) == G4J_OK,
              "gptq_row %s", g4j_last_error());
        if (isa > 0) CHECK(memcmp(row, ref_row, sizeof row) == 0, "gptq_row %s differs from scalar", g4j_isa_name(isa));
    }
    memcpy(w, w0, sizeof w);
    w[300] = NAN;
    CHECK(g4j_gptq_row(G4J_ISA_AUTO, Q4_K, N, u, w, 32, 0, 15, 0, 63, 63, 2, row) == G4J_E_INVALID_ARGUMENT, "NaN");
    CHECK(g4j_gptq_row(G4J_ISA_AUTO, Q8_0, N, u, w0, 32, 0, 15, 0, 63, 63, 2, row) == G4J_E_UNSUPPORTED_TYPE, "Q8_0");
    CHECK(g4j_gptq_row(G4J_ISA_AUTO, Q4_K, 300, u, w, 32, 0, 15, 0, 63, 63, 2, row) == G4J_E_INVALID_ARGUMENT, "n 300");
}

int main(void) {
    printf("libgguf4j %s abi %u, auto variant %s, features 0x%llx\n", g4j_version(), g4j_abi_version(),
           g4j_isa_name(g4j_isa_selected()), (unsigned long long)g4j_cpu_features());
    for (int isa = 0; isa < G4J_ISA_COUNT; isa++)
        if (!g4j_isa_available(isa)) printf("skip %s (not supported by this CPU)\n", g4j_isa_name(isa));
    CHECK(g4j_abi_version() == G4J_ABI_VERSION, "abi version");
    test_half_helpers();
    test_layouts();
    test_errors();
    test_vec_dot_types();
    test_activations();
    test_dots();
    test_zeros();
    test_threads();
    test_matmat();
    test_attention();
    test_qk_gemm_shapes();
    test_qk_matvec_long();
    test_matmat_converted();
    test_r8();
    test_r8k();
    test_read_bandwidth();
    test_quantize_rows();
    test_gptq_block();
    if (failures) { fprintf(stderr, "%d failure(s)\n", failures); return 1; }
    printf("all native kernel tests passed\n");
    return 0;
}
