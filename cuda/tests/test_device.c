/*
 * test_device.c - runs anywhere: with a GPU it checks the device's properties; without one (this project's
 * CI) it checks that probing reports "no device" cleanly instead of crashing.
 */
#include <stdio.h>
#include <string.h>

#include "gguf4j_cuda.h"

int main(void) {
    int failures = 0;
    if (g4j_cuda_abi_version() != G4J_CUDA_ABI_VERSION) { fprintf(stderr, "FAIL abi version\n"); failures++; }
    int32_t n = -1;
    g4j_status st = g4j_cuda_device_count(&n);
    printf("runtime %d, driver %d, device_count status %d, count %d, message '%s'\n", g4j_cuda_runtime_version(),
           g4j_cuda_driver_version(), st, n, g4j_cuda_last_error());
    if (st == G4J_OK) {
        for (int32_t d = 0; d < n; d++) {
            g4j_cuda_device_info info;
            st = g4j_cuda_device_info_get(d, &info);
            if (st != G4J_OK) { fprintf(stderr, "FAIL device %d info: %s\n", d, g4j_cuda_last_error()); failures++; continue; }
            printf("device %d: %s, sm_%d%d, %d SMs, %lld MiB (%lld free)\n", d, info.name, info.compute_major,
                   info.compute_minor, info.multiprocessors, (long long)(info.total_memory_bytes >> 20),
                   (long long)(info.free_memory_bytes >> 20));
            if (info.total_memory_bytes <= 0 || info.compute_major < 5) { fprintf(stderr, "FAIL implausible device\n"); failures++; }
        }
    } else if (st == G4J_E_NO_DEVICE) {
        if (n != 0 || strstr(g4j_cuda_last_error(), "no CUDA device") == NULL) { fprintf(stderr, "FAIL no-device report\n"); failures++; }
        g4j_cuda_device_info info;
        if (g4j_cuda_device_info_get(0, &info) != G4J_E_NO_DEVICE) { fprintf(stderr, "FAIL info without device\n"); failures++; }
    } else {
        fprintf(stderr, "FAIL unexpected status %d: %s\n", st, g4j_cuda_last_error());
        failures++;
    }
    if (g4j_cuda_device_count(NULL) != G4J_E_INVALID_ARGUMENT) { fprintf(stderr, "FAIL null accepted\n"); failures++; }
    if (failures) return 1;
    printf("cuda probe tests passed\n");
    return 0;
}
