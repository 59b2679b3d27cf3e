package dev.gguf4j.backend;

/**
 * A recorded sequence of device operations ({@link DeviceContext#beginGraph} .. {@link DeviceContext#endGraph}),
 * replayed by {@link DeviceContext#launch}: the per-token step captured once. Buffers are baked in; inputs change
 * through device memory (the position is a device int). Freed by {@link #close()} or with its context.
 */
public interface DeviceGraph extends AutoCloseable {
    @Override
    void close();
}
