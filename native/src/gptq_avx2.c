/* GPTQ's super-block column loop, avx2 build (the source is gptq_impl.h). */
#define GPTQ_FN(name) g4j_gptq_##name##_avx2
#include "gptq_impl.h"
