/*
 * gguf4j_cuda.h - the C ABI of libgguf4j_cuda, gguf4j's GPU library. Same rules as gguf4j.h (whose status
 * codes it uses): g4j_cuda_ prefix, sized types, a status from every fallible call, a thread-local message
 * from g4j_cuda_last_error(), never an abort, an exit or a print.
 *
 * The library links the CUDA runtime statically: at run time it needs only the NVIDIA driver. Without a
 * driver or a GPU, g4j_cuda_device_count() reports zero devices and says why; nothing crashes.
 */
#ifndef GGUF4J_CUDA_H
#define GGUF4J_CUDA_H

#include <stdint.h>

#include "gguf4j.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(G4J_CUDA_BUILDING_LIBRARY) && defined(__GNUC__)
#define G4J_CUDA_API __attribute__((visibility("default")))
#else
#define G4J_CUDA_API
#endif

#define G4J_CUDA_ABI_VERSION 1

typedef struct g4j_cuda_device_info {
    char name[256];
    int64_t total_memory_bytes;
    int64_t free_memory_bytes;
    int32_t compute_major;
    int32_t compute_minor;
    int32_t multiprocessors;
    int32_t reserved;
} g4j_cuda_device_info;

G4J_CUDA_API uint32_t g4j_cuda_abi_version(void);
/* Message of the last failure on this thread, "" if none. */
G4J_CUDA_API const char *g4j_cuda_last_error(void);
/* CUDA runtime version this library was built with (e.g. 13000 for 13.0). */
G4J_CUDA_API int32_t g4j_cuda_runtime_version(void);
/* Driver's CUDA version, 0 when no driver is installed. */
G4J_CUDA_API int32_t g4j_cuda_driver_version(void);
/* Number of usable devices. With no driver or no GPU: *count = 0 and G4J_E_NO_DEVICE, the message says why. */
G4J_CUDA_API g4j_status g4j_cuda_device_count(int32_t *count);
/* Properties and current free memory of a device. */
G4J_CUDA_API g4j_status g4j_cuda_device_info_get(int32_t device, g4j_cuda_device_info *info);

#ifdef __cplusplus
}
#endif

#endif /* GGUF4J_CUDA_H */
