package dev.gguf4j.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Physical cores, the default thread count (as llama.cpp's cpu_get_num_math: hyper-threads share a core's vector
 * units, so a second thread per core only adds contention to these memory- and SIMD-bound loops).
 */
public final class CpuTopology {
    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");
    private static volatile int cached;

    private CpuTopology() {
    }

    /** Cores this process can use: available processors divided by hardware threads per core (at least 1). */
    public static int physicalCores() {
        int n = cached;
        if (n == 0) {
            n = compute(Path.of("/sys/devices/system/cpu"), Runtime.getRuntime().availableProcessors());
            cached = n;
        }
        return n;
    }

    /** From a sysfs cpu folder; falls back to {@code available} (logged once) when it cannot be read. */
    static int compute(Path sysCpu, int available) {
        try (Stream<Path> cpus = Files.list(sysCpu)) {
            Set<String> cores = new HashSet<>();
            int logical = 0;
            for (Path cpu : (Iterable<Path>) cpus.filter(p -> p.getFileName().toString().matches("cpu[0-9]+"))::iterator) {
                Path siblings = cpu.resolve("topology/thread_siblings_list");
                if (Files.isReadable(siblings)) {
                    cores.add(Files.readString(siblings).trim());
                    logical++;
                }
            }
            if (logical == 0 || cores.isEmpty()) {
                throw new IOException("no topology/thread_siblings_list under " + sysCpu);
            }
            int perCore = Math.max(1, Math.round((float) logical / cores.size()));
            return Math.max(1, available / perCore);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.INFO, "gguf4j: cannot read the CPU topology (" + e.getMessage()
                    + "); using all " + available + " available processors as threads");
            return Math.max(1, available);
        }
    }
}
