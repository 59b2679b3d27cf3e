package dev.gguf4j.internal;

import static dev.gguf4j.internal.bindings.GgufCudaNative.*;

import dev.gguf4j.Gguf4j;
import dev.gguf4j.Settings;
import dev.gguf4j.internal.bindings.g4j_cuda_device_info;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** Facade over libgguf4j_cuda's generated bindings: loading, ABI check and device discovery. */
public final class NativeCuda {
    /** One GPU as the driver reports it. */
    public record Device(int index, String name, long totalMemory, long freeMemory, int computeMajor, int computeMinor,
            int multiprocessors) {
        @Override
        public String toString() {
            return String.format("#%d %s (sm_%d%d, %d SMs, %d MiB, %d MiB free)", index, name, computeMajor,
                    computeMinor, multiprocessors, totalMemory >> 20, freeMemory >> 20);
        }
    }

    private final NativeLoader.Loaded loaded;
    private final List<Device> devices;

    private NativeCuda(NativeLoader.Loaded loaded, List<Device> devices) {
        this.loaded = loaded;
        this.devices = devices;
    }

    /** Loads libgguf4j_cuda and lists the devices; throws if the library or a usable device is missing. */
    public static NativeCuda load(Settings settings) {
        NativeLoader.Loaded loaded = NativeLoader.load("gguf4j_cuda", settings.cudaLibrary(), Settings.CUDA_PATH,
                settings.cacheDir(), Gguf4j.version());
        int abi = g4j_cuda_abi_version();
        if (abi != G4J_CUDA_ABI_VERSION()) {
            throw new NativeLibraryException(loaded.path() + " has CUDA ABI version " + abi + ", these bindings expect "
                    + G4J_CUDA_ABI_VERSION());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            int st = g4j_cuda_device_count(count);
            if (st != 0) {
                int driver = g4j_cuda_driver_version();
                throw new NativeLibraryException(g4j_cuda_last_error().getString(0) + " (driver CUDA version: "
                        + (driver == 0 ? "no driver" : driver / 1000 + "." + driver % 1000 / 10) + "; " + loaded + ")");
            }
            List<Device> devices = new ArrayList<>();
            MemorySegment info = g4j_cuda_device_info.allocate(arena);
            for (int d = 0; d < count.get(ValueLayout.JAVA_INT, 0); d++) {
                if (g4j_cuda_device_info_get(d, info) != 0) {
                    throw new NativeLibraryException("CUDA device " + d + ": " + g4j_cuda_last_error().getString(0));
                }
                devices.add(new Device(d, g4j_cuda_device_info.name(info).getString(0),
                        g4j_cuda_device_info.total_memory_bytes(info), g4j_cuda_device_info.free_memory_bytes(info),
                        g4j_cuda_device_info.compute_major(info), g4j_cuda_device_info.compute_minor(info),
                        g4j_cuda_device_info.multiprocessors(info)));
            }
            return new NativeCuda(loaded, List.copyOf(devices));
        }
    }

    public NativeLoader.Loaded loaded() {
        return loaded;
    }

    public List<Device> devices() {
        return devices;
    }

    public int runtimeVersion() {
        return g4j_cuda_runtime_version();
    }
}
