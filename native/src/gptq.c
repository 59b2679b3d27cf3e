/* GPTQ's super-block column loop, generic build (the source is gptq_impl.h). */
#define GPTQ_FN(name) g4j_gptq_##name##_generic
#include "gptq_impl.h"
