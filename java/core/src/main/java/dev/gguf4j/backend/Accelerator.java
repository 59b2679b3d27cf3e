package dev.gguf4j.backend;

import dev.gguf4j.types.GgmlType;

/**
 * A device that layers of the forward pass can be offloaded to: the CUDA GPU ({@link CudaAccelerator}), or the
 * host itself ({@link HostAccelerator}, the same operations on the CPU, for tests and debugging). It hands out
 * {@link DeviceContext}s, which hold device memory and run the operations. Thread-safe; a context is not.
 */
public interface Accelerator {
    /** "cuda" or "host". */
    String name();

    /** One line for logs: which device, its memory. */
    String description();

    /** Free and total device memory now. */
    DeviceMemory memory();

    /** Whether {@link DeviceContext#matmul} takes weights of this type. */
    boolean supports(GgmlType type);

    /** A new context (a CUDA stream and its scratch); close it to free everything allocated through it. */
    DeviceContext open();
}
