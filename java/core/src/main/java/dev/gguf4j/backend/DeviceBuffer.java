package dev.gguf4j.backend;

/**
 * An opaque handle to device memory allocated through a {@link DeviceContext} (or a slice of such an
 * allocation). It is only meaningful to the accelerator that made it; only whole allocations can be freed.
 */
public interface DeviceBuffer {
    /** Size in bytes. */
    long byteSize();

    /** The {@code bytes} bytes at {@code offset}: a view, freed with its allocation. */
    DeviceBuffer slice(long offset, long bytes);

    /** From {@code offset} to the end. */
    default DeviceBuffer slice(long offset) {
        return slice(offset, byteSize() - offset);
    }
}
