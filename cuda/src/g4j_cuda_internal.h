/*
 * g4j_cuda_internal.h - error reporting shared by the CUDA library's files. Every CUDA runtime call goes
 * through G4J_CUDA_CHECK, which returns a g4j_status naming the call and the CUDA error.
 */
#ifndef G4J_CUDA_INTERNAL_H
#define G4J_CUDA_INTERNAL_H

#include <cuda_runtime.h>

#include "gguf4j_cuda.h"

g4j_status g4j_cuda_fail(g4j_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define G4J_CUDA_CHECK(call, what) do { \
        cudaError_t g4j_err_ = (call); \
        if (g4j_err_ != cudaSuccess) \
            return g4j_cuda_fail(G4J_E_DEVICE, "%s failed: %s (%s)", what, cudaGetErrorString(g4j_err_), cudaGetErrorName(g4j_err_)); \
    } while (0)

#endif
