/*
 * r8.c - the r8 copy of Q4_0 and Q8_0 weights (gguf4j.h): making it, and reading one row back. Compiled without
 * ISA flags.
 */
#include "r8.h"

void g4j_repack_r8_groups(int32_t type, int64_t rows, int64_t nb, const void *w, int64_t row_bytes, int64_t g0,
                          int64_t g1, void *out) {
    const int qb = g4j_r8_quant_bytes(type);
    const int64_t blk = g4j_r8_block_bytes(type), src_blk = g4j_r8_row_block_bytes(type);
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
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *dst = (uint8_t *)out + b * dst_blk;
        const uint8_t *src = grp + b * blk;
        memcpy(dst, src + 2 * i, 2);
        for (int k = 0; k < qb / 4; k++) memcpy(dst + 2 + 4 * k, src + G4J_R8_SCALES + 32 * k + 4 * i, 4);
    }
}
