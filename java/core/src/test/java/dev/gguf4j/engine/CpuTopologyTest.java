package dev.gguf4j.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default thread count: physical cores, from sysfs topology. */
class CpuTopologyTest {

    private static void cpu(Path root, int i, String siblings) throws Exception {
        Path t = Files.createDirectories(root.resolve("cpu" + i + "/topology"));
        Files.writeString(t.resolve("thread_siblings_list"), siblings + "\n");
    }

    @Test
    void twoThreadsPerCoreHalveTheCount(@TempDir Path root) throws Exception {
        // 4 cores with 2 hardware threads each: cpu i and i+4 are siblings
        for (int i = 0; i < 8; i++) {
            cpu(root, i, (i % 4) + "," + (i % 4 + 4));
        }
        Files.createDirectories(root.resolve("cpufreq")); // not a cpuN folder
        assertEquals(4, CpuTopology.compute(root, 8));
        assertEquals(2, CpuTopology.compute(root, 4)); // a process limited to 4 logical CPUs
    }

    @Test
    void oneThreadPerCoreKeepsTheCount(@TempDir Path root) throws Exception {
        cpu(root, 0, "0");
        cpu(root, 1, "1");
        assertEquals(2, CpuTopology.compute(root, 2));
    }

    @Test
    void unreadableTopologyFallsBackToAvailableProcessors(@TempDir Path root) {
        assertEquals(3, CpuTopology.compute(root.resolve("missing"), 3));
        assertEquals(5, CpuTopology.compute(root, 5)); // empty folder
    }

    @Test
    void thisMachineHasAtLeastOneCore() {
        int n = CpuTopology.physicalCores();
        assertTrue(n >= 1 && n <= Runtime.getRuntime().availableProcessors(), "physical cores " + n);
    }
}
