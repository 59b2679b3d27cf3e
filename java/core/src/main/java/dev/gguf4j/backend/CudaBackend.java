package dev.gguf4j.backend;

import dev.gguf4j.Settings;
import dev.gguf4j.internal.NativeCuda;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * The CUDA backend (libgguf4j_cuda from the {@code linux-x86_64-cuda} jar). It is available when the library
 * loads and the driver reports at least one device. As a {@link Backend} (whole matvecs from host memory) it
 * computes nothing: {@link #dot} and {@link #matvec} say so. GPU layers run through {@link CudaAccelerator}.
 */
public final class CudaBackend implements Backend {

    private static final class Holder {
        static final CudaBackend INSTANCE;
        static final Throwable CAUSE;

        static {
            CudaBackend b = null;
            Throwable cause = null;
            try {
                b = new CudaBackend(NativeCuda.load(Settings.fromSystemProperties()));
            } catch (RuntimeException | LinkageError e) {
                cause = e;
            }
            INSTANCE = b;
            CAUSE = cause;
        }
    }

    private final NativeCuda lib;

    private CudaBackend(NativeCuda lib) {
        this.lib = lib;
    }

    public static boolean isAvailable() {
        return Holder.INSTANCE != null;
    }

    public static Optional<Throwable> unavailabilityCause() {
        return Optional.ofNullable(Holder.CAUSE);
    }

    public static CudaBackend get() {
        if (Holder.INSTANCE == null) {
            throw new BackendUnavailableException("CUDA backend unavailable: " + Holder.CAUSE.getMessage(), Holder.CAUSE);
        }
        return Holder.INSTANCE;
    }

    /** The library facade (device contexts: {@link CudaAccelerator}). */
    public NativeCuda library() {
        return lib;
    }

    public List<NativeCuda.Device> devices() {
        return lib.devices();
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return "cuda: libgguf4j_cuda (runtime " + lib.runtimeVersion() + "), devices " + lib.devices() + ", from "
                + lib.loaded();
    }

    @Override
    public boolean supports(GgmlType type) {
        return false;
    }

    @Override
    public float dot(GgmlType type, MemorySegment row, MemorySegment x, int n) {
        throw new UnsupportedOperationException("CUDA kernels are not implemented yet (CUDA backend issue)");
    }

    @Override
    public void matvec(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, MemorySegment x,
            MemorySegment y) {
        throw new UnsupportedOperationException("CUDA kernels are not implemented yet (CUDA backend issue)");
    }
}
