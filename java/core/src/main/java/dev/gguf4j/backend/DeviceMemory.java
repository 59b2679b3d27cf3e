package dev.gguf4j.backend;

/** A device's memory: what is free now and its total, in bytes. */
public record DeviceMemory(long freeBytes, long totalBytes) {
}
