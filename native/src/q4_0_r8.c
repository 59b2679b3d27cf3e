/*
 * q4_0_r8.c - the q4_0_r8 copy of Q4_0 weights (gguf4j.h) and its scalar kernel. Compiled without ISA flags.
 */
#include "q4_0_r8.h"

#include "g4j_internal.h"

void g4j_repack_q4_0_r8_groups(int64_t rows, int64_t nb, const void *w, int64_t row_bytes, int64_t g0, int64_t g1,
                               void *out) {
    for (int64_t g = g0; g < g1; g++) {
        uint8_t *dst = (uint8_t *)out + g * nb * G4J_Q4_0_R8_BLOCK;
        for (int64_t b = 0; b < nb; b++, dst += G4J_Q4_0_R8_BLOCK) {
            for (int r = 0; r < 8; r++) {
                const int64_t row = g * 8 + r;
                if (row >= rows) {
                    memset(dst + 2 * r, 0, 2);
                    for (int k = 0; k < 4; k++) memset(dst + 16 + 32 * k + 4 * r, 0, 4);
                    continue;
                }
                const uint8_t *src = (const uint8_t *)w + row * row_bytes + b * (int64_t)sizeof(g4j_block_q4_0);
                memcpy(dst + 2 * r, src, 2);
                for (int k = 0; k < 4; k++) memcpy(dst + 16 + 32 * k + 4 * r, src + 2 + 4 * k, 4);
            }
        }
    }
}

/* kernels_scalar.c's vec_dot_q4_0, row by row, reading the interleaved bytes */
void g4j_matvec_q4_0_r8_scalar(int64_t nb, const void *packed, int64_t r0, int64_t nr, const void *act, float *y) {
    const g4j_block_q8_0 *a = (const g4j_block_q8_0 *)act;
    for (int64_t i = 0; i < nr; i++) {
        const int64_t row = r0 + i, r = row % 8;
        const uint8_t *grp = (const uint8_t *)packed + row / 8 * nb * G4J_Q4_0_R8_BLOCK;
        float sumf = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = grp + b * G4J_Q4_0_R8_BLOCK;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                const uint8_t q = blk[16 + 32 * (j / 4) + 4 * r + j % 4];
                sumi += ((q & 0xf) - 8) * a[b].qs[j];
                sumi += ((q >> 4) - 8) * a[b].qs[j + 16];
            }
            g4j_half d;
            memcpy(&d, blk + 2 * r, 2);
            sumf += (float)sumi * g4j_half_to_float(d) * g4j_half_to_float(a[b].d);
        }
        y[i] = sumf;
    }
}
