/*
 * quantize.c - g4j_quantize_rows: the numeric work of llama-quantize for the k-quants (the policy stays in Java),
 * and the scalar variant of the row quantizers (quantize_impl.h; the AVX2 variant is quantize_avx2.c).
 */
#include <stdlib.h>

#include "quantize.h"

#define Q_SUFFIX _scalar

#include "quantize_impl.h"

static void q_q8_0_row(const float *x, int64_t nb, g4j_block_q8_0 *y) { q_q8_0_row_scalar(x, nb, y); }
static void q_ref32_row(int32_t type, const float *x, int64_t nb, void *dst) { q_ref32_row_scalar(type, x, nb, dst); }
static void q_iq4nl8(const float *x, const float *qw, g4j_block_iq4_nl *y) {
    for (int b = 0; b < 8; ++b) q_iq4nl_block_scalar(x + 32 * b, qw ? qw + 32 * b : NULL, y + b);
}

static void q_qx8(int n, int nmax, const float *x, const float *w, int8_t *L, float *scales) {
    for (int j = 0; j < 8; ++j) scales[j] = q_make_qx_quants(n, nmax, x + n * j, L + n * j, w ? w + n * j : NULL);
}

static void q_q38(int n, int nmax, const float *x, int8_t *L, float *scales) {
    for (int j = 0; j < 8; ++j) scales[j] = q_make_q3_quants(n, nmax, x + n * j, L + n * j);
}

static void q_qkx8(int n, int nmax, const float *x, const float *w, uint8_t *L, float *scales, float *mins,
                   float rmin, float rdelta, int nstep, int use_mad) {
    for (int j = 0; j < 8; ++j)
        scales[j] = q_make_qkx_quants(n, nmax, x + n * j, w + n * j, L + n * j, mins + j, rmin, rdelta, nstep, use_mad);
}

int g4j_quant_row_scalar(int32_t type, const float *x, int64_t n, const float *qw, void *dst) {
    return q_row_scalar(type, x, n, qw, dst);
}

int64_t g4j_quant_row_bytes(int32_t type, int64_t n) {
    switch (type) {
    case G4J_TYPE_Q2_K: return n / QK_K * (int64_t)sizeof(g4j_block_q2_K);
    case G4J_TYPE_Q3_K: return n / QK_K * (int64_t)sizeof(g4j_block_q3_K);
    case G4J_TYPE_Q4_K: return n / QK_K * (int64_t)sizeof(g4j_block_q4_K);
    case G4J_TYPE_Q5_K: return n / QK_K * (int64_t)sizeof(g4j_block_q5_K);
    case G4J_TYPE_Q6_K: return n / QK_K * (int64_t)sizeof(g4j_block_q6_K);
    case G4J_TYPE_Q4_0: return n / 32 * (int64_t)sizeof(g4j_block_q4_0);
    case G4J_TYPE_Q4_1: return n / 32 * (int64_t)sizeof(g4j_block_q4_1);
    case G4J_TYPE_Q5_0: return n / 32 * (int64_t)sizeof(g4j_block_q5_0);
    case G4J_TYPE_Q5_1: return n / 32 * (int64_t)sizeof(g4j_block_q5_1);
    case G4J_TYPE_Q8_0: return n / 32 * (int64_t)sizeof(g4j_block_q8_0);
    case G4J_TYPE_IQ4_NL: return n / 32 * (int64_t)sizeof(g4j_block_iq4_nl);
    case G4J_TYPE_F32: return n * 4;
    case G4J_TYPE_BF16: return n * 2;
    default: return -1;
    }
}

int64_t g4j_quant_convert_scalar(int32_t src_type, const void *src, int64_t n, float *out) {
    int64_t bad = -1;
    for (int64_t i = 0; i < n; ++i) {
        const float v = src_type == G4J_TYPE_F16 ? g4j_half_to_float(((const uint16_t *)src)[i])
                        : src_type == G4J_TYPE_BF16 ? g4j_bf16_to_float(((const uint16_t *)src)[i])
                        : ((const float *)src)[i];
        out[i] = v;
        if (bad < 0 && !isfinite(v)) bad = i;
    }
    return bad;
}

g4j_status g4j_quantize_rows(int32_t isa, int32_t src_type, const void *src, int64_t src_row_bytes, int32_t dst_type,
                             void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix, int64_t *bad) {
    if (isa == G4J_ISA_AUTO) isa = g4j_isa_selected();
    if (isa < 0 || isa >= G4J_ISA_COUNT) return g4j_fail(G4J_E_UNSUPPORTED_ISA, "unknown kernel variant %d", (int)isa);
    if (!g4j_isa_available(isa))
        return g4j_fail(G4J_E_UNSUPPORTED_ISA, "kernel variant %s is not supported by this CPU", g4j_isa_name(isa));
    if (bad) *bad = -1;
    if (src_type != G4J_TYPE_F32 && src_type != G4J_TYPE_F16 && src_type != G4J_TYPE_BF16)
        return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "g4j_quantize_rows: source type %d is not F32, F16 or BF16",
                        (int)src_type);
    const int64_t row_bytes = g4j_quant_row_bytes(dst_type, n_per_row);
    if (row_bytes < 0)
        return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "g4j_quantize_rows: no native quantizer for type %d", (int)dst_type);
    const int64_t block = dst_type == G4J_TYPE_F32 || dst_type == G4J_TYPE_BF16 ? 1
                          : dst_type >= G4J_TYPE_Q2_K && dst_type <= G4J_TYPE_Q6_K ? QK_K : 32;
    if (nrows < 0 || n_per_row <= 0 || n_per_row % block != 0)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_quantize_rows: %lld rows of %lld elements (need rows >= 0 and a"
                        " positive multiple of %lld per row)", (long long)nrows, (long long)n_per_row, (long long)block);
    const int64_t src_min = n_per_row * (src_type == G4J_TYPE_F32 ? 4 : 2);
    if (nrows > 0 && src_row_bytes < src_min)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_quantize_rows: source rows %lld bytes apart, less than a row"
                        " (%lld bytes)", (long long)src_row_bytes, (long long)src_min);
    if (nrows == 0) return G4J_OK;
    if (!src || !dst) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_quantize_rows: null pointer");
    float *row = malloc((size_t)n_per_row * sizeof(float));
    if (!row) return g4j_fail(G4J_E_OUT_OF_MEMORY, "g4j_quantize_rows: no memory for a row of %lld floats",
                              (long long)n_per_row);
    const int vec = isa >= G4J_ISA_AVX2;
    for (int64_t r = 0; r < nrows; ++r) {
        const void *s = (const char *)src + r * src_row_bytes;
        const int64_t b = vec ? g4j_quant_convert_avx2(src_type, s, n_per_row, row)
                              : g4j_quant_convert_scalar(src_type, s, n_per_row, row);
        if (b >= 0) {
            free(row);
            if (bad) *bad = r * n_per_row + b;
            return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_quantize_rows: row %lld column %lld is not finite",
                            (long long)r, (long long)b);
        }
        void *d = (char *)dst + r * row_bytes;
        if (vec) g4j_quant_row_avx2(dst_type, row, n_per_row, imatrix, d);
        else g4j_quant_row_scalar(dst_type, row, n_per_row, imatrix, d);
    }
    free(row);
    return G4J_OK;
}

g4j_status g4j_gptq_block(int32_t isa, int64_t n, int64_t col0, const float *u, float *w, int32_t sub, int32_t code_lo,
                          int32_t code_hi, int32_t level_lo, int32_t level_hi, int32_t min_hi, int32_t resub, float d,
                          float dmin, int32_t *ls, int32_t *lm, int32_t *q) {
    if (isa == G4J_ISA_AUTO) isa = g4j_isa_selected();
    if (isa < 0 || isa >= G4J_ISA_COUNT) return g4j_fail(G4J_E_UNSUPPORTED_ISA, "unknown kernel variant %d", (int)isa);
    if (!g4j_isa_available(isa))
        return g4j_fail(G4J_E_UNSUPPORTED_ISA, "kernel variant %s is not supported by this CPU", g4j_isa_name(isa));
    if (!w || !ls || !q || (min_hi > 0 && !lm))
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_gptq_block: a NULL pointer");
    if (n <= 0 || n % 256 != 0 || n > (1 << 20) || col0 < 0 || col0 % 256 != 0 || col0 + 256 > n)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_gptq_block: n %lld, col0 %lld (multiples of 256, col0 < n)",
                        (long long)n, (long long)col0);
    if ((sub != 16 && sub != 32) || code_lo > code_hi || level_lo > level_hi || min_hi < 0 || resub < 0 || resub > 64)
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_gptq_block: sub %d, codes [%d, %d], levels [%d, %d], min %d,"
                        " resub %d", (int)sub, (int)code_lo, (int)code_hi, (int)level_lo, (int)level_hi, (int)min_hi,
                        (int)resub);
    if (isa >= G4J_ISA_AVX512) g4j_gptq_block_avx512(n, col0, u, w, sub, code_lo, code_hi, level_lo, level_hi, min_hi, resub, d, dmin, ls, lm, q);
    else if (isa >= G4J_ISA_AVX2) g4j_gptq_block_avx2(n, col0, u, w, sub, code_lo, code_hi, level_lo, level_hi, min_hi, resub, d, dmin, ls, lm, q);
    else g4j_gptq_block_generic(n, col0, u, w, sub, code_lo, code_hi, level_lo, level_hi, min_hi, resub, d, dmin, ls, lm, q);
    return G4J_OK;
}
