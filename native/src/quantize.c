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
    g4j_status ist = g4j_resolve_isa(&isa);
    if (ist != G4J_OK) return ist;
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
    g4j_status ist = g4j_resolve_isa(&isa);
    if (ist != G4J_OK) return ist;
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

/* GPTQ's levels out of ggml's block (what the block search chose) and its codes back into the block: the layouts of
 * g4j_blocks.h (d and dmin are kept as the search wrote them). Mirrors Java's Gptq.levels and BetterSearch.packCodes,
 * which write the same bytes (GptqLoopTest). */
static void gptq_levels(int32_t type, const void *blk, float *d, float *dmin, int32_t *ls, int32_t *lm) {
    switch (type) {
    case G4J_TYPE_Q2_K: {
        const g4j_block_q2_K *y = blk;
        *d = q_half(y->d); *dmin = q_half(y->dmin);
        for (int j = 0; j < 16; j++) { ls[j] = y->scales[j] & 0xF; lm[j] = y->scales[j] >> 4; }
        break;
    }
    case G4J_TYPE_Q3_K: {
        const g4j_block_q3_K *y = blk;
        *d = q_half(y->d); *dmin = 0;
        for (int j = 0; j < 16; j++) ls[j] = q_scale_q3(y->scales, j);
        break;
    }
    case G4J_TYPE_Q4_K: case G4J_TYPE_Q5_K: {
        const g4j_block_q4_K *y4 = blk; /* Q5_K starts with the same d, dmin, scales */
        *d = q_half(y4->d); *dmin = q_half(y4->dmin);
        for (int j = 0; j < 8; j++) { ls[j] = q_scale_k4(y4->scales, j); lm[j] = q_min_k4(y4->scales, j); }
        break;
    }
    default: { /* Q6_K */
        const g4j_block_q6_K *y = blk;
        *d = q_half(y->d); *dmin = 0;
        for (int j = 0; j < 16; j++) ls[j] = y->scales[j];
        break;
    }
    }
}

static void gptq_pack(int32_t type, const int32_t *ls, const int32_t *lm, const int32_t *q, void *blk) {
    uint8_t L[QK_K];
    switch (type) {
    case G4J_TYPE_Q2_K: {
        g4j_block_q2_K *y = blk;
        for (int j = 0; j < 16; j++) y->scales[j] = (uint8_t)(ls[j] | lm[j] << 4);
        for (int i = 0; i < QK_K; i++) L[i] = (uint8_t)q[i];
        q_pack_2bit(L, y->qs);
        break;
    }
    case G4J_TYPE_Q3_K: {
        g4j_block_q3_K *y = blk;
        memset(y->scales, 0, sizeof y->scales);
        for (int j = 0; j < 16; j++) q_put_scale_q3(y->scales, j, ls[j] + 32);
        memset(y->hmask, 0, sizeof y->hmask);
        for (int i = 0; i < QK_K; i++) {
            int l = q[i] + 4;
            if (l > 3) { y->hmask[i % (QK_K / 8)] |= (uint8_t)(1 << (i / (QK_K / 8))); l -= 4; }
            L[i] = (uint8_t)l;
        }
        q_pack_2bit(L, y->qs);
        break;
    }
    case G4J_TYPE_Q4_K: case G4J_TYPE_Q5_K: {
        const int five = type == G4J_TYPE_Q5_K;
        uint8_t *sc = five ? ((g4j_block_q5_K *)blk)->scales : ((g4j_block_q4_K *)blk)->scales;
        uint8_t *qs = five ? ((g4j_block_q5_K *)blk)->qs : ((g4j_block_q4_K *)blk)->qs;
        uint8_t *qh = five ? ((g4j_block_q5_K *)blk)->qh : NULL;
        memset(sc, 0, G4J_K_SCALE_SIZE);
        for (int j = 0; j < 8; j++) q_put_scale_min_k4(sc, j, ls[j], lm[j]);
        if (five) memset(qh, 0, QK_K / 8);
        int m1 = 1, m2 = 2;
        for (int n = 0; n < QK_K; n += 64) {
            for (int l = 0; l < 32; l++) {
                int l1 = q[n + l], l2 = q[n + l + 32];
                if (five) {
                    if (l1 > 15) { l1 -= 16; qh[l] |= (uint8_t)m1; }
                    if (l2 > 15) { l2 -= 16; qh[l] |= (uint8_t)m2; }
                }
                qs[n / 2 + l] = (uint8_t)(l1 | l2 << 4);
            }
            m1 <<= 2;
            m2 <<= 2;
        }
        break;
    }
    default: { /* Q6_K */
        g4j_block_q6_K *y = blk;
        for (int j = 0; j < 16; j++) y->scales[j] = (int8_t)ls[j];
        for (int j = 0; j < QK_K; j += 128) {
            uint8_t *ql = y->ql + j / 2, *qh = y->qh + j / 4;
            for (int l = 0; l < 32; ++l) {
                const int l1 = q[j + l] + 32, l2 = q[j + l + 32] + 32, l3 = q[j + l + 64] + 32, l4 = q[j + l + 96] + 32;
                ql[l] = (uint8_t)((l1 & 0xF) | (l3 & 0xF) << 4);
                ql[l + 32] = (uint8_t)((l2 & 0xF) | (l4 & 0xF) << 4);
                qh[l] = (uint8_t)(l1 >> 4 | (l2 >> 4) << 2 | (l3 >> 4) << 4 | (l4 >> 4) << 6);
            }
        }
        break;
    }
    }
}

g4j_status g4j_gptq_row(int32_t isa, int32_t type, int64_t n, const float *u, float *w, int32_t sub, int32_t code_lo,
                        int32_t code_hi, int32_t level_lo, int32_t level_hi, int32_t min_hi, int32_t resub, void *dst) {
    if (type != G4J_TYPE_Q2_K && type != G4J_TYPE_Q3_K && type != G4J_TYPE_Q4_K && type != G4J_TYPE_Q5_K
        && type != G4J_TYPE_Q6_K)
        return g4j_fail(G4J_E_UNSUPPORTED_TYPE, "g4j_gptq_row: type %d is not Q2_K .. Q6_K", (int)type);
    g4j_status ist = g4j_resolve_isa(&isa);
    if (ist != G4J_OK) return ist;
    if (!dst || !w) return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_gptq_row: a NULL pointer");
    if (n <= 0 || n % QK_K != 0 || n > (1 << 20))
        return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_gptq_row: n %lld (a positive multiple of 256)", (long long)n);
    int32_t ls[16], lm[16] = {0}, q[QK_K];
    float obs[QK_K];
    const size_t bb = (size_t)g4j_quant_row_bytes(type, QK_K);
    for (int64_t col0 = 0; col0 < n; col0 += QK_K) {
        for (int i = 0; i < QK_K; i++) {
            if (u) {
                const float ucc = u[g4j_packed_index(n, col0 + i, col0 + i)];
                obs[i] = 1 / (ucc * ucc);
            } else {
                obs[i] = 1;
            }
        }
        for (int i = 0; i < QK_K; i++)
            if (!isfinite(w[col0 + i]))
                return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_gptq_row: column %lld is not finite",
                                (long long)(col0 + i));
        void *blk = (char *)dst + (col0 / QK_K) * bb;
        /* ggml's block search, weighted by the columns' costs, on the values as compensated so far */
        if (isa >= G4J_ISA_AVX2) g4j_quant_row_avx2(type, w + col0, QK_K, obs, blk);
        else g4j_quant_row_scalar(type, w + col0, QK_K, obs, blk);
        float d, dmin;
        gptq_levels(type, blk, &d, &dmin, ls, lm);
        const g4j_status st = g4j_gptq_block(isa, n, col0, u, w, sub, code_lo, code_hi, level_lo, level_hi, min_hi,
                                             resub, d, min_hi > 0 ? dmin : 0, ls, lm, q);
        if (st != G4J_OK) return st;
        gptq_pack(type, ls, lm, q, blk);
    }
    return G4J_OK;
}
