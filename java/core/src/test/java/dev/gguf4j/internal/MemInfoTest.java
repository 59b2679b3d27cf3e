package dev.gguf4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cgroup limits as the kernel's files state them (cgroup v2 and v1 layouts). */
class MemInfoTest {
    @Test
    void cgroupV2(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("memory.max"), "max\n");
        Files.writeString(root.resolve("memory.current"), "1000\n");
        assertEquals(-1, MemInfo.cgroupAvailable(root));
        Files.writeString(root.resolve("memory.max"), "8589934592\n");
        assertEquals(8589934592L - 1000, MemInfo.cgroupAvailable(root));
    }

    @Test
    void cgroupV1(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("memory"));
        Files.writeString(root.resolve("memory/memory.limit_in_bytes"), "9223372036854771712\n");
        Files.writeString(root.resolve("memory/memory.usage_in_bytes"), "7713808384\n");
        assertEquals(-1, MemInfo.cgroupAvailable(root)); // no limit
        Files.writeString(root.resolve("memory/memory.limit_in_bytes"), "8000000000\n");
        assertEquals(8000000000L - 7713808384L, MemInfo.cgroupAvailable(root));
        assertEquals(-1, MemInfo.cgroupAvailable(root.resolve("absent")));
    }

    @Test
    void memAvailableOnLinux() {
        if (Files.isReadable(Path.of("/proc/meminfo"))) {
            org.junit.jupiter.api.Assertions.assertTrue(MemInfo.memAvailable() > 0);
        }
    }
}
