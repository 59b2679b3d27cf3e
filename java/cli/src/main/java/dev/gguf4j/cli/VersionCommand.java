package dev.gguf4j.cli;

import dev.gguf4j.Gguf4j;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.backend.CudaBackend;
import java.io.PrintStream;

/** {@code gguf4j --version}: what runs here and why. */
final class VersionCommand {
    private VersionCommand() {
    }

    static int run(PrintStream out) {
        out.println("gguf4j " + Gguf4j.version() + " (Java " + Runtime.version() + ", " + System.getProperty("os.name")
                + " " + System.getProperty("os.arch") + ")");
        if (CpuBackend.isAvailable()) {
            CpuBackend cpu = CpuBackend.get();
            out.println("native CPU library: " + cpu.library().version() + " loaded from " + cpu.library().loaded());
            out.println("CPU features: " + String.join(" ", cpu.cpuFeatures()));
            StringBuilder variants = new StringBuilder();
            for (int isa = 0; isa < cpu.library().isaCount(); isa++) {
                variants.append(cpu.library().isaName(isa)).append(cpu.library().isaAvailable(isa) ? "" : " (unsupported)")
                        .append(isa + 1 < cpu.library().isaCount() ? ", " : "");
            }
            out.println("kernel variants: " + variants + "; selected: " + cpu.kernelVariant());
        } else {
            out.println("native CPU library: unavailable: "
                    + CpuBackend.unavailabilityCause().map(Throwable::getMessage).orElse("?"));
        }
        if (CudaBackend.isAvailable()) {
            out.println("CUDA: " + CudaBackend.get().description());
        } else {
            out.println("CUDA: unavailable: " + CudaBackend.unavailabilityCause().map(Throwable::getMessage).orElse("?"));
        }
        out.println("backend: " + Backends.select().description());
        return 0;
    }
}
