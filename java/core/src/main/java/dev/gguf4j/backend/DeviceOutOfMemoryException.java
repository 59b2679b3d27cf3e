package dev.gguf4j.backend;

import dev.gguf4j.Gguf4jException;
import java.util.OptionalInt;

/**
 * Device memory ran out: {@link #what()} did not fit ({@link #requestedBytes()} asked, {@link #freeBytes()}
 * free). When the caller knows a GPU layer count that would fit, {@link #suggestedGpuLayers()} has it and the
 * message says so.
 */
public class DeviceOutOfMemoryException extends Gguf4jException {
    private final String what;
    private final long requestedBytes;
    private final long freeBytes;
    private final OptionalInt suggestedGpuLayers;

    public DeviceOutOfMemoryException(String message, String what, long requestedBytes, long freeBytes,
            OptionalInt suggestedGpuLayers, Throwable cause) {
        super(message, cause);
        this.what = what;
        this.requestedBytes = requestedBytes;
        this.freeBytes = freeBytes;
        this.suggestedGpuLayers = suggestedGpuLayers;
    }

    /** From an allocation that failed: "out of device memory: WHAT needs N MiB, M MiB free". */
    public static DeviceOutOfMemoryException allocation(String device, String what, long requested, long free,
            Throwable cause) {
        return new DeviceOutOfMemoryException("out of " + device + " memory: " + what + " needs " + mib(requested)
                + ", " + mib(free) + " free", what, requested, free, OptionalInt.empty(), cause);
    }

    public String what() {
        return what;
    }

    public long requestedBytes() {
        return requestedBytes;
    }

    public long freeBytes() {
        return freeBytes;
    }

    public OptionalInt suggestedGpuLayers() {
        return suggestedGpuLayers;
    }

    /** Bytes as "12.3 MiB". */
    public static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
