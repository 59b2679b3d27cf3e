/*
 * r8.c - the r8 copy of Q4_0, Q8_0, Q4_K, Q5_K and Q6_K weights (gguf4j.h): making it, reading one row back, and the
 * k-quants' arithmetic over it (g4j_r8k_dot, r8.h). Compiled without ISA flags.
 */
#include <math.h>
#include <stddef.h>

#include "r8.h"

/* 4-byte interleave of one row's field into its group block: byte 32k + 4r + i = src[4k + i], k < n / 4. */
static void r8_interleave(uint8_t *dst, const uint8_t *src, int n, int r) {
    for (int k = 0; k < n / 4; k++) {
        if (src) memcpy(dst + 32 * k + 4 * r, src + 4 * k, 4);
        else memset(dst + 32 * k + 4 * r, 0, 4);
    }
}
static void r8_deinterleave(uint8_t *dst, const uint8_t *src, int n, int r) {
    for (int k = 0; k < n / 4; k++) memcpy(dst + 4 * k, src + 32 * k + 4 * r, 4);
}

/* Row r's super-block x (NULL: a padding row) into its place in a k-quant group block. */
static void r8k_put(int32_t type, uint8_t *dst, const uint8_t *x, int r) {
    if (type == G4J_TYPE_Q4_K || type == G4J_TYPE_Q5_K) {
        /* Q5_K is Q4_K's fields with qh before qs */
        const g4j_block_q4_K *b = (const g4j_block_q4_K *)x;
        g4j_block_q4_K t;
        if (b && type == G4J_TYPE_Q5_K) {
            const g4j_block_q5_K *b5 = (const g4j_block_q5_K *)x;
            memcpy(&t, b5, offsetof(g4j_block_q4_K, qs));
            memcpy(t.qs, b5->qs, sizeof t.qs);
            b = &t;
            r8_interleave(dst + G4J_R8K_Q5K_QH, b5->qh, sizeof b5->qh, r);
        } else if (type == G4J_TYPE_Q5_K) {
            r8_interleave(dst + G4J_R8K_Q5K_QH, NULL, sizeof((g4j_block_q5_K *)0)->qh, r);
        }
        uint8_t sc[8] = {0}, mn[8] = {0};
        if (b) g4j_unpack_k4_scales(b->scales, sc, mn);
        const g4j_half d = b ? b->d : 0, dmin = b ? b->dmin : 0;
        memcpy(dst + 2 * r, &d, 2);
        memcpy(dst + G4J_R8K_Q4K_DMIN + 2 * r, &dmin, 2);
        for (int j = 0; j < 8; j++) {
            dst[G4J_R8K_Q4K_SC + 8 * j + r] = sc[j];
            dst[G4J_R8K_Q4K_MN + 16 * (j / 2) + 2 * r + j % 2] = mn[j];
        }
        r8_interleave(dst + G4J_R8K_Q4K_QS, b ? b->qs : NULL, sizeof b->qs, r);
    } else {
        const g4j_block_q6_K *b = (const g4j_block_q6_K *)x;
        const g4j_half d = b ? b->d : 0;
        memcpy(dst + 2 * r, &d, 2);
        for (int j = 0; j < 16; j++) dst[G4J_R8K_Q6K_SC + 8 * j + r] = b ? (uint8_t)b->scales[j] : 0;
        r8_interleave(dst + G4J_R8K_Q6K_QL, b ? b->ql : NULL, sizeof b->ql, r);
        r8_interleave(dst + G4J_R8K_Q6K_QH, b ? b->qh : NULL, sizeof b->qh, r);
    }
}

/* Row r of a k-quant group block back in the type's own layout (the 6-bit scales of Q4_K packed as ggml packs
 * them: 16 values of 6 bits fill the 12 bytes, so this is the inverse of g4j_unpack_k4_scales). */
static void r8k_get(int32_t type, const uint8_t *src, int r, uint8_t *x) {
    if (type == G4J_TYPE_Q4_K || type == G4J_TYPE_Q5_K) {
        g4j_block_q4_K t, *b = type == G4J_TYPE_Q4_K ? (g4j_block_q4_K *)x : &t;
        memcpy(&b->d, src + 2 * r, 2);
        memcpy(&b->dmin, src + G4J_R8K_Q4K_DMIN + 2 * r, 2);
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = src[G4J_R8K_Q4K_SC + 8 * j + r];
            mn[j] = src[G4J_R8K_Q4K_MN + 16 * (j / 2) + 2 * r + j % 2];
        }
        for (int j = 0; j < 4; j++) {
            b->scales[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
            b->scales[j + 4] = (uint8_t)(mn[j] | (mn[j + 4] >> 4) << 6);
            b->scales[j + 8] = (uint8_t)((sc[j + 4] & 0xf) | (mn[j + 4] & 0xf) << 4);
        }
        r8_deinterleave(b->qs, src + G4J_R8K_Q4K_QS, sizeof b->qs, r);
        if (type == G4J_TYPE_Q5_K) {
            g4j_block_q5_K *b5 = (g4j_block_q5_K *)x;
            memcpy(b5, &t, offsetof(g4j_block_q4_K, qs));
            memcpy(b5->qs, t.qs, sizeof b5->qs);
            r8_deinterleave(b5->qh, src + G4J_R8K_Q5K_QH, sizeof b5->qh, r);
        }
    } else {
        g4j_block_q6_K *b = (g4j_block_q6_K *)x;
        memcpy(&b->d, src + 2 * r, 2);
        for (int j = 0; j < 16; j++) b->scales[j] = (int8_t)src[G4J_R8K_Q6K_SC + 8 * j + r];
        r8_deinterleave(b->ql, src + G4J_R8K_Q6K_QL, sizeof b->ql, r);
        r8_deinterleave(b->qh, src + G4J_R8K_Q6K_QH, sizeof b->qh, r);
    }
}

void g4j_repack_r8_groups(int32_t type, int64_t rows, int64_t nb, const void *w, int64_t row_bytes, int64_t g0,
                          int64_t g1, void *out) {
    const int qb = g4j_r8_quant_bytes(type);
    const int64_t blk = g4j_r8_block_bytes(type), src_blk = g4j_r8_row_block_bytes(type);
    if (g4j_r8_block_elems(type) == 256) {
        for (int64_t g = g0; g < g1; g++)
            for (int64_t b = 0; b < nb; b++)
                for (int r = 0; r < 8; r++) {
                    const int64_t row = g * 8 + r;
                    r8k_put(type, (uint8_t *)out + (g * nb + b) * blk,
                            row < rows ? (const uint8_t *)w + row * row_bytes + b * src_blk : NULL, r);
                }
        return;
    }
    for (int64_t g = g0; g < g1; g++) {
        uint8_t *dst = (uint8_t *)out + g * nb * blk;
        for (int64_t b = 0; b < nb; b++, dst += blk) {
            for (int r = 0; r < 8; r++) {
                const int64_t row = g * 8 + r;
                if (row >= rows) {
                    memset(dst + 2 * r, 0, 2);
                    for (int k = 0; k < qb / 4; k++) memset(dst + G4J_R8_SCALES + 32 * k + 4 * r, 0, 4);
                    continue;
                }
                const uint8_t *src = (const uint8_t *)w + row * row_bytes + b * src_blk;
                memcpy(dst + 2 * r, src, 2);
                for (int k = 0; k < qb / 4; k++) memcpy(dst + G4J_R8_SCALES + 32 * k + 4 * r, src + 2 + 4 * k, 4);
            }
        }
    }
}

void g4j_r8_row(int32_t type, int64_t nb, const void *packed, int64_t r, void *out) {
    const int qb = g4j_r8_quant_bytes(type);
    const int64_t blk = g4j_r8_block_bytes(type), dst_blk = g4j_r8_row_block_bytes(type);
    const uint8_t *grp = (const uint8_t *)packed + r / 8 * nb * blk;
    const int i = (int)(r % 8);
    if (g4j_r8_block_elems(type) == 256) {
        for (int64_t b = 0; b < nb; b++) r8k_get(type, grp + b * blk, i, (uint8_t *)out + b * dst_blk);
        return;
    }
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *dst = (uint8_t *)out + b * dst_blk;
        const uint8_t *src = grp + b * blk;
        memcpy(dst, src + 2 * i, 2);
        for (int k = 0; k < qb / 4; k++) memcpy(dst + 2 + 4 * k, src + G4J_R8_SCALES + 32 * k + 4 * i, 4);
    }
}

float g4j_r8k_dot(int32_t type, int64_t nb, const void *row, const g4j_block_q8_K *y) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const int8_t *q = y[b].qs;
        const float dy = y[b].d;
        if (type == G4J_TYPE_Q4_K || type == G4J_TYPE_Q5_K) {
            const g4j_block_q4_K *x4 = (const g4j_block_q4_K *)row + b;
            const g4j_block_q5_K *x5 = (const g4j_block_q5_K *)row + b;
            const uint8_t *scales = type == G4J_TYPE_Q4_K ? x4->scales : x5->scales;
            const uint8_t *qs = type == G4J_TYPE_Q4_K ? x4->qs : x5->qs;
            const g4j_half xd = type == G4J_TYPE_Q4_K ? x4->d : x5->d, xdmin = type == G4J_TYPE_Q4_K ? x4->dmin : x5->dmin;
            uint8_t sc[8], mn[8];
            g4j_unpack_k4_scales(scales, sc, mn);
            int32_t s = 0, m = 0;
            for (int j = 0; j < 8; j++) {
                int32_t t = 0;
                for (int i = 0; i < 32; i++) {
                    /* qs byte 32 (e / 64) + e % 32, low nibble for even j; Q5_K: bit j of qh[i] is bit 4 */
                    const int e = 32 * j + i;
                    int u = (qs[32 * (e / 64) + e % 32] >> (4 * (j % 2))) & 0xf;
                    if (type == G4J_TYPE_Q5_K) u |= ((x5->qh[i] >> j) & 1) << 4;
                    t += u * q[e];
                }
                s += sc[j] * t;
                m += mn[j] * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
            }
            acc = fmaf(g4j_half_to_float(xd) * dy, (float)s, acc);
            acc = fmaf(-(g4j_half_to_float(xdmin) * dy), (float)m, acc);
        } else {
            const g4j_block_q6_K *x = (const g4j_block_q6_K *)row + b;
            int32_t s = 0;
            for (int j = 0; j < 16; j++) {
                int32_t t = 0;
                for (int i = 0; i < 16; i++) {
                    /* element e = 128h + 32m + l: low 4 bits from ql[64h + 32 (m % 2) + l] (high nibble for m >= 2),
                     * high 2 from bits 2m, 2m + 1 of qh[32h + l] */
                    const int e = 16 * j + i, h = e / 128, m = e % 128 / 32, l = e % 32;
                    const int lo = (x->ql[64 * h + 32 * (m % 2) + l] >> (4 * (m / 2))) & 0xf;
                    const int hi = (x->qh[32 * h + l] >> (2 * m)) & 3;
                    t += (lo | hi << 4) * q[e];
                }
                s += x->scales[j] * (t - 32 * y[b].bsums[j]);
            }
            acc = fmaf(g4j_half_to_float(x->d) * dy, (float)s, acc);
        }
    }
    return acc;
}
