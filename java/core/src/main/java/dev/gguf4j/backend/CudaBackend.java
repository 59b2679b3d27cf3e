package dev.gguf4j.backend;

import dev.gguf4j.Settings;
import dev.gguf4j.internal.NativeCuda;
import java.util.List;
import java.util.Optional;

/**
 * The CUDA library (libgguf4j_cuda from the {@code linux-x86_64-cuda} jar), loaded once: available when the
 * library loads and the driver reports at least one device. It is not a {@link Backend} (the CPU path's
 * matmuls): GPU layers run through {@link CudaAccelerator}, and {@code -Dgguf4j.backend=cuda} is refused.
 */
public final class CudaBackend {

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

    /** One line for logs and {@code gguf4j --version}: the runtime, the devices, where it was loaded from. */
    public String description() {
        return "cuda: libgguf4j_cuda (runtime " + lib.runtimeVersion() + "), devices " + lib.devices() + ", from "
                + lib.loaded();
    }
}
