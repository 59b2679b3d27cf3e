package dev.gguf4j.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Free memory as Linux reports it: /proc/meminfo's MemAvailable, and the memory cgroup's limit. */
public final class MemInfo {
    /** A cgroup v1 "limit" this large means no limit (the kernel's page-rounded LONG_MAX). */
    private static final long NO_LIMIT = 1L << 60;

    private MemInfo() {
    }

    /** MemAvailable in bytes, or -1 where unknown (not Linux, no /proc). */
    public static long memAvailable() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    String[] f = line.trim().split("\\s+");
                    return Long.parseLong(f[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc
        }
        return -1;
    }

    /**
     * What this process's memory cgroup still allows: its limit less its usage (cgroup v2 {@code memory.max} and
     * {@code memory.current} under /sys/fs/cgroup, else v1 {@code memory.limit_in_bytes} and
     * {@code memory.usage_in_bytes}), or -1 when there is no limit or no cgroup file to read.
     */
    public static long cgroupAvailable() {
        return cgroupAvailable(Path.of("/sys/fs/cgroup"));
    }

    /** {@link #cgroupAvailable()} under {@code root}. */
    static long cgroupAvailable(Path root) {
        long v2 = available(root.resolve("memory.max"), root.resolve("memory.current"));
        if (v2 != -1) {
            return v2;
        }
        return available(root.resolve("memory/memory.limit_in_bytes"), root.resolve("memory/memory.usage_in_bytes"));
    }

    private static long available(Path limitFile, Path usageFile) {
        try {
            String limit = Files.readString(limitFile).trim();
            if (limit.equals("max")) {
                return -1;
            }
            long max = Long.parseLong(limit);
            if (max >= NO_LIMIT) {
                return -1;
            }
            long used = Files.isReadable(usageFile) ? Long.parseLong(Files.readString(usageFile).trim()) : 0;
            return Math.max(0, max - used);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
