/*
 * device.cu - device discovery: how many GPUs the driver offers, and what each one is.
 *
 * The CUDA runtime is linked statically; every runtime call's status is checked and turned into a
 * g4j_status with a message (cuda/src/g4j_cuda_internal.h). With no driver or no GPU the runtime returns
 * cudaErrorInsufficientDriver / cudaErrorNoDevice, which we report as G4J_E_NO_DEVICE.
 */
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "g4j_cuda_internal.h"

extern "C" G4J_CUDA_API uint32_t g4j_cuda_abi_version(void) { return G4J_CUDA_ABI_VERSION; }

extern "C" G4J_CUDA_API int32_t g4j_cuda_runtime_version(void) { return CUDART_VERSION; }

extern "C" G4J_CUDA_API int32_t g4j_cuda_driver_version(void) {
    int v = 0;
    if (cudaDriverGetVersion(&v) != cudaSuccess) return 0;
    return v;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_device_count(int32_t *count) {
    if (!count) return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "g4j_cuda_device_count: null pointer");
    *count = 0;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver || err == cudaErrorNotSupported
        || err == cudaErrorSystemNotReady || err == cudaErrorCompatNotSupportedOnDevice) {
        (void)cudaGetLastError(); /* clear the (non-sticky) error */
        int driver = 0;
        if (cudaDriverGetVersion(&driver) == cudaSuccess && driver == 0)
            return g4j_cuda_fail(G4J_E_NO_DEVICE, "no CUDA device: no NVIDIA driver is installed (%s)", cudaGetErrorName(err));
        return g4j_cuda_fail(G4J_E_NO_DEVICE, "no CUDA device: %s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
    }
    G4J_CUDA_CHECK(err, "cudaGetDeviceCount");
    if (n == 0) return g4j_cuda_fail(G4J_E_NO_DEVICE, "no CUDA device: the driver reports 0 devices");
    *count = n;
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_device_info_get(int32_t device, g4j_cuda_device_info *info) {
    if (!info) return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "g4j_cuda_device_info_get: null pointer");
    int32_t count = 0;
    g4j_status st = g4j_cuda_device_count(&count);
    if (st != G4J_OK) return st;
    if (device < 0 || device >= count)
        return g4j_cuda_fail(G4J_E_INVALID_ARGUMENT, "device %d out of range [0, %d)", (int)device, (int)count);
    cudaDeviceProp prop;
    G4J_CUDA_CHECK(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->total_memory_bytes = (int64_t)prop.totalGlobalMem;
    info->compute_major = prop.major;
    info->compute_minor = prop.minor;
    info->multiprocessors = prop.multiProcessorCount;
    size_t free_b = 0, total_b = 0;
    G4J_CUDA_CHECK(cudaSetDevice(device), "cudaSetDevice");
    G4J_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    info->free_memory_bytes = (int64_t)free_b;
    return G4J_OK;
}
