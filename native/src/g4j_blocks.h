/*
 * g4j_blocks.h - the one C definition of ggml's block layouts (facts from ggml-common.h).
 *
 * One struct per quantized type, with its bits per weight. Sizes are checked at compile time here and, from
 * Java, against Java's own type table through g4j_type_layout() (TypeLayoutTest).
 */
#ifndef G4J_BLOCKS_H
#define G4J_BLOCKS_H

#include <stdint.h>

typedef uint16_t g4j_half; /* IEEE 754 binary16 bits */

#define G4J_QK4_0 32
#define G4J_QK4_1 32
#define G4J_QK5_0 32
#define G4J_QK5_1 32
#define G4J_QK8_0 32
#define G4J_QK8_1 32
#define G4J_QK4_NL 32
#define G4J_QK_MXFP4 32
#define G4J_QK_K 256
#define G4J_K_SCALE_SIZE 12

/* ggml type ids (enum ggml_type); gaps are ids ggml has retired. */
enum g4j_type_id {
    G4J_TYPE_F32 = 0, G4J_TYPE_F16 = 1, G4J_TYPE_Q4_0 = 2, G4J_TYPE_Q4_1 = 3,
    G4J_TYPE_Q5_0 = 6, G4J_TYPE_Q5_1 = 7, G4J_TYPE_Q8_0 = 8, G4J_TYPE_Q8_1 = 9,
    G4J_TYPE_Q2_K = 10, G4J_TYPE_Q3_K = 11, G4J_TYPE_Q4_K = 12, G4J_TYPE_Q5_K = 13, G4J_TYPE_Q6_K = 14,
    G4J_TYPE_Q8_K = 15, G4J_TYPE_IQ2_XXS = 16, G4J_TYPE_IQ2_XS = 17, G4J_TYPE_IQ3_XXS = 18, G4J_TYPE_IQ1_S = 19,
    G4J_TYPE_IQ4_NL = 20, G4J_TYPE_IQ3_S = 21, G4J_TYPE_IQ2_S = 22, G4J_TYPE_IQ4_XS = 23,
    G4J_TYPE_I8 = 24, G4J_TYPE_I16 = 25, G4J_TYPE_I32 = 26, G4J_TYPE_I64 = 27, G4J_TYPE_F64 = 28,
    G4J_TYPE_IQ1_M = 29, G4J_TYPE_BF16 = 30, G4J_TYPE_TQ1_0 = 34, G4J_TYPE_TQ2_0 = 35, G4J_TYPE_MXFP4 = 39,
    G4J_TYPE_ID_LIMIT = 40
};

/* Q4_0: 4.5 bpw = (16 + 32*4) / 32 */
typedef struct { g4j_half d; uint8_t qs[G4J_QK4_0 / 2]; } g4j_block_q4_0;
/* Q4_1: 5 bpw = (2*16 + 32*4) / 32 */
typedef struct { g4j_half d, m; uint8_t qs[G4J_QK4_1 / 2]; } g4j_block_q4_1;
/* Q5_0: 5.5 bpw = (16 + 32 + 32*4) / 32 */
typedef struct { g4j_half d; uint8_t qh[4]; uint8_t qs[G4J_QK5_0 / 2]; } g4j_block_q5_0;
/* Q5_1: 6 bpw = (2*16 + 32 + 32*4) / 32 */
typedef struct { g4j_half d, m; uint8_t qh[4]; uint8_t qs[G4J_QK5_1 / 2]; } g4j_block_q5_1;
/* Q8_0: 8.5 bpw = (16 + 32*8) / 32 */
typedef struct { g4j_half d; int8_t qs[G4J_QK8_0]; } g4j_block_q8_0;
/* Q8_1: 9 bpw = (2*16 + 32*8) / 32; s = d * sum(qs) */
typedef struct { g4j_half d, s; int8_t qs[G4J_QK8_1]; } g4j_block_q8_1;

/* Q2_K: 2.625 bpw; 16 sub-blocks of 16 with 4-bit scale and min each */
typedef struct { uint8_t scales[G4J_QK_K / 16]; uint8_t qs[G4J_QK_K / 4]; g4j_half d, dmin; } g4j_block_q2_K;
/* Q3_K: 3.4375 bpw; 16 sub-blocks of 16 with 6-bit scales */
typedef struct { uint8_t hmask[G4J_QK_K / 8]; uint8_t qs[G4J_QK_K / 4]; uint8_t scales[12]; g4j_half d; } g4j_block_q3_K;
/* Q4_K: 4.5 bpw; 8 sub-blocks of 32 with 6-bit scale and min */
typedef struct { g4j_half d, dmin; uint8_t scales[G4J_K_SCALE_SIZE]; uint8_t qs[G4J_QK_K / 2]; } g4j_block_q4_K;
/* Q5_K: 5.5 bpw */
typedef struct { g4j_half d, dmin; uint8_t scales[G4J_K_SCALE_SIZE]; uint8_t qh[G4J_QK_K / 8]; uint8_t qs[G4J_QK_K / 2]; } g4j_block_q5_K;
/* Q6_K: 6.5625 bpw; 16 sub-blocks of 16 with 8-bit scales */
typedef struct { uint8_t ql[G4J_QK_K / 2]; uint8_t qh[G4J_QK_K / 4]; int8_t scales[G4J_QK_K / 16]; g4j_half d; } g4j_block_q6_K;
/* Q8_K: activations for k-quant dot products; float scale, sums of groups of 16 */
typedef struct { float d; int8_t qs[G4J_QK_K]; int16_t bsums[G4J_QK_K / 16]; } g4j_block_q8_K;

/* IQ types (layouts only; no kernels yet) */
typedef struct { g4j_half d; uint16_t qs[G4J_QK_K / 8]; } g4j_block_iq2_xxs;                         /* 2.0625 bpw */
typedef struct { g4j_half d; uint16_t qs[G4J_QK_K / 8]; uint8_t scales[G4J_QK_K / 32]; } g4j_block_iq2_xs; /* 2.3125 */
typedef struct { g4j_half d; uint8_t qs[G4J_QK_K / 4]; uint8_t qh[G4J_QK_K / 32]; uint8_t scales[G4J_QK_K / 32]; } g4j_block_iq2_s; /* 2.5625 */
typedef struct { g4j_half d; uint8_t qs[3 * G4J_QK_K / 8]; } g4j_block_iq3_xxs;                      /* 3.0625 */
typedef struct { g4j_half d; uint8_t qs[G4J_QK_K / 4]; uint8_t qh[G4J_QK_K / 32]; uint8_t signs[G4J_QK_K / 8]; uint8_t scales[G4J_QK_K / 64]; } g4j_block_iq3_s; /* 3.4375 */
typedef struct { g4j_half d; uint8_t qs[G4J_QK_K / 8]; uint16_t qh[G4J_QK_K / 32]; } g4j_block_iq1_s;   /* 1.5625 */
typedef struct { uint8_t qs[G4J_QK_K / 8]; uint8_t qh[G4J_QK_K / 16]; uint8_t scales[G4J_QK_K / 32]; } g4j_block_iq1_m; /* 1.75 */
typedef struct { g4j_half d; uint8_t qs[G4J_QK4_NL / 2]; } g4j_block_iq4_nl;                         /* 4.5 */
typedef struct { g4j_half d; uint16_t scales_h; uint8_t scales_l[G4J_QK_K / 64]; uint8_t qs[G4J_QK_K / 2]; } g4j_block_iq4_xs; /* 4.25 */
typedef struct { uint8_t qs[(G4J_QK_K - 4 * G4J_QK_K / 64) / 5]; uint8_t qh[G4J_QK_K / 64]; g4j_half d; } g4j_block_tq1_0; /* 1.6875 */
typedef struct { uint8_t qs[G4J_QK_K / 4]; g4j_half d; } g4j_block_tq2_0;                            /* 2.0625 */
typedef struct { uint8_t e; uint8_t qs[G4J_QK_MXFP4 / 2]; } g4j_block_mxfp4;                           /* 4.25 */

#define G4J_CHECK_SIZE(T, bytes) _Static_assert(sizeof(T) == (bytes), #T " has the wrong size")
G4J_CHECK_SIZE(g4j_block_q4_0, 18);
G4J_CHECK_SIZE(g4j_block_q4_1, 20);
G4J_CHECK_SIZE(g4j_block_q5_0, 22);
G4J_CHECK_SIZE(g4j_block_q5_1, 24);
G4J_CHECK_SIZE(g4j_block_q8_0, 34);
G4J_CHECK_SIZE(g4j_block_q8_1, 36);
G4J_CHECK_SIZE(g4j_block_q2_K, 84);
G4J_CHECK_SIZE(g4j_block_q3_K, 110);
G4J_CHECK_SIZE(g4j_block_q4_K, 144);
G4J_CHECK_SIZE(g4j_block_q5_K, 176);
G4J_CHECK_SIZE(g4j_block_q6_K, 210);
G4J_CHECK_SIZE(g4j_block_q8_K, 292);
G4J_CHECK_SIZE(g4j_block_iq4_nl, 18);
G4J_CHECK_SIZE(g4j_block_iq4_xs, 136);

#endif /* G4J_BLOCKS_H */
