/*
 * errors.cu - the thread-local failure message behind g4j_cuda_last_error().
 */
#include <stdarg.h>
#include <stdio.h>

#include "g4j_cuda_internal.h"

static thread_local char last_error[512];

g4j_status g4j_cuda_fail(g4j_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

extern "C" G4J_CUDA_API const char *g4j_cuda_last_error(void) { return last_error; }
