/*
 * quantize.h - the row quantizers behind g4j_quantize_rows (not ABI).
 */
#ifndef G4J_QUANTIZE_H
#define G4J_QUANTIZE_H

#include <stdint.h>

#include "g4j_internal.h"

/* Quantizes one row of n floats (n a multiple of 256) to type into dst, as ggml_quantize_chunk does (qw: NULL or
 * the row's n importance weights). Returns 0 for a type without a native quantizer (nothing written). */
int g4j_quant_row_scalar(int32_t type, const float *x, int64_t n, const float *qw, void *dst);
int g4j_quant_row_avx2(int32_t type, const float *x, int64_t n, const float *qw, void *dst);

/* Converts a row of n src_type elements (F32, F16 or BF16) to floats; returns the index of the first non-finite
 * element, or -1. */
int64_t g4j_quant_convert_scalar(int32_t src_type, const void *src, int64_t n, float *out);
int64_t g4j_quant_convert_avx2(int32_t src_type, const void *src, int64_t n, float *out);

/* Bytes of one row of n elements of a type g4j_quant_row_* supports, or -1. */
int64_t g4j_quant_row_bytes(int32_t type, int64_t n);

#endif
