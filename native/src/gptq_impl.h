/*
 * gptq_impl.h - GPTQ's column loop over one super-block of a row, written once and compiled per variant
 * (gptq.c: portable x86-64; gptq_avx2.c, gptq_avx512.c: the same source with wider vectors).
 *
 * The arithmetic (see dev.gguf4j.quant.Gptq, whose Java loop computes the same floats): for each column `col` of
 * the block, its code is the nearest level of its sub-block's scale S = d * ls[j] and offset M = dmin * lm[j]
 * (ggml's nearest_int, clamped), and the rounding error e = (w[col] - (S q - M)) / U[col][col] is spread onto every
 * later column of the row, w[c] -= e * U[col][c]. When each sub-block after the first begins, its levels are
 * chosen again within `resub` of the block's choice for the values as compensated by then: the pair with the
 * smallest sum over the sub-block of (S q - M - w)^2 / U[c][c]^2 (double), first pair on ties. With u NULL, U is
 * the identity: nothing is spread and every weight is 1 (the block search alone, for a tensor whose output is its
 * rows themselves, such as token_embd).
 *
 * Every operation is an IEEE float (or double) operation in the order written, one rounding each: the build has
 * -ffp-contract=off, and the only vectorised loop (the spread) is element-wise, so every variant, and the Java
 * loop, give the same bits.
 */
#include "g4j_internal.h"
#include <math.h>
#include <string.h>

static inline int GPTQ_FN(nearest)(float fval) {
    /* ggml's nearest_int (ggml-quants.c), |fval| <= 4194303 */
    float val = fval + 12582912.f;
    int i;
    memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

static inline int GPTQ_FN(code)(float w, float s, float m, int lo, int hi) {
    if (s == 0) return 0;
    int q = GPTQ_FN(nearest)((w + m) * (1 / s));
    return q < lo ? lo : q > hi ? hi : q;
}

static void GPTQ_FN(spread)(float *restrict w, const float *restrict u, int64_t from, int64_t to, float e) {
    for (int64_t c = from; c < to; c++) w[c] -= e * u[c];
}

void GPTQ_FN(block)(G4J_GPTQ_BLOCK_ARGS) {
    const int has_min = min_hi > 0;
    float obs[256]; /* 1 / U[c][c]^2, the weight of column c's squared error (u NULL: U = I, weights 1) */
    for (int i = 0; i < 256; i++) {
        if (u) {
            const float ucc = u[g4j_packed_index(n, col0 + i, col0 + i)];
            obs[i] = 1 / (ucc * ucc);
        } else {
            obs[i] = 1;
        }
    }
    for (int i = 0; i < 256; i++) {
        const int64_t col = col0 + i;
        const int j = i / sub;
        if (resub > 0 && i % sub == 0 && i > 0) {
            double best = INFINITY;
            int bs = ls[j], bm = has_min ? lm[j] : 0;
            const int ls0 = bs, lm0 = bm;
            const int l_lo = ls0 - resub > level_lo ? ls0 - resub : level_lo;
            const int l_hi = ls0 + resub < level_hi ? ls0 + resub : level_hi;
            const int m_lo = has_min ? (lm0 - resub > 0 ? lm0 - resub : 0) : 0;
            const int m_hi = has_min ? (lm0 + resub < min_hi ? lm0 + resub : min_hi) : 0;
            for (int l = l_lo; l <= l_hi; l++) {
                for (int m = m_lo; m <= m_hi; m++) {
                    const float s = d * l;
                    const float mm = has_min ? dmin * m : 0;
                    /* the terms in one loop (vector code), their sum in order in another */
                    double t[32];
                    for (int k = 0; k < sub; k++) {
                        const float wv = w[col + k];
                        const int qq = GPTQ_FN(code)(wv, s, mm, code_lo, code_hi);
                        const double dd = s * qq - mm - wv;
                        t[k] = obs[i + k] * dd * dd;
                    }
                    double err = 0;
                    for (int k = 0; k < sub; k++) err += t[k];
                    if (err < best) {
                        best = err;
                        bs = l;
                        bm = m;
                    }
                }
            }
            ls[j] = bs;
            if (has_min) lm[j] = bm;
        }
        const float s = d * ls[j];
        const float m = has_min ? dmin * lm[j] : 0;
        const float wv = w[col];
        const int qq = GPTQ_FN(code)(wv, s, m, code_lo, code_hi);
        q[i] = qq;
        if (u) {
            const float deq = s * qq - m;
            const float *urow = u + g4j_packed_index(n, col, col) - col; /* urow[c] = U[col][c] */
            const float e = (wv - deq) / urow[col];
            GPTQ_FN(spread)(w, urow, col + 1, n, e);
        }
    }
}
