package dev.gguf4j.backend;

import dev.gguf4j.Settings;

/**
 * Chooses the backend of the CPU path: {@code -Dgguf4j.backend=cpu|java} forces one (an error if it cannot run;
 * {@code cuda} is always an error: the GPU runs offloaded layers through an {@link Accelerator});
 * {@code auto} (the default) takes the native CPU library, or, if it does not load, the plain-Java backend,
 * logging that fallback and its cause once.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.gguf4j.backend");
    private static volatile Backend chosen;

    private Backends() {
    }

    /** The backend the system properties ask for, chosen once per JVM and logged once. */
    public static Backend select() {
        Backend b = chosen;
        if (b == null) {
            synchronized (Backends.class) {
                b = chosen;
                if (b == null) {
                    b = select(Settings.fromSystemProperties().backend());
                    chosen = b;
                }
            }
        }
        return b;
    }

    /**
     * Starts {@link #select()} on a daemon thread if no backend is chosen yet, so that loading the native library
     * (reading it from the jar, dlopen, binding its functions: a few hundred ms of cold JVM) overlaps the caller's
     * own start-up work (Llama.load reads the model's metadata and builds its tokenizer meanwhile). The caller's
     * later {@link #select()} waits for it and returns the same backend; a failure here is left for that call
     * to report (it runs the selection again and throws the same error).
     */
    public static void selectInBackground() {
        if (chosen != null) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                select();
            } catch (RuntimeException | Error e) {
                // reported by the caller's own select()
            }
        }, "gguf4j-backend-load");
        t.setDaemon(true);
        t.start();
    }

    /** The backend for {@code choice}; throws {@link BackendUnavailableException} for a forced one that cannot run. */
    public static Backend select(Settings.BackendChoice choice) {
        return switch (choice) {
            case CPU -> logChoice(CpuBackend.get(), "forced by " + Settings.BACKEND + "=cpu");
            case CUDA -> throw new BackendUnavailableException(Settings.BACKEND + "=cuda: there is no CUDA backend for"
                    + " the CPU path's matmuls; the GPU runs offloaded layers: use --gpu-layers N (LlamaOptions"
                    + ".withGpuLayers) with " + Settings.BACKEND + "=auto, cpu or java", null);
            case JAVA -> logChoice(JavaBackend.INSTANCE, "forced by " + Settings.BACKEND + "=java");
            case AUTO -> {
                if (CpuBackend.isAvailable()) {
                    yield logChoice(CpuBackend.get(), "native library loaded");
                }
                if (CpuBackend.unavailabilityCause().orElse(null)
                        instanceof dev.gguf4j.internal.NativeLibraryUnusableException e) {
                    // found but not usable as asked (another version's library, a forced ISA this CPU lacks): an
                    // error, not a 20x slower run on the plain-Java backend
                    throw new BackendUnavailableException(e.getMessage() + " (or run with -D" + Settings.BACKEND
                            + "=java to use the plain-Java backend)", e);
                }
                LOG.log(System.Logger.Level.WARNING, "gguf4j: native CPU library unavailable, falling back to the "
                        + "plain-Java backend (slow). Cause: " + CpuBackend.unavailabilityCause().map(Throwable::getMessage)
                        .orElse("unknown"));
                yield logChoice(JavaBackend.INSTANCE, "fallback");
            }
        };
    }

    private static Backend logChoice(Backend b, String why) {
        LOG.log(System.Logger.Level.INFO, "gguf4j backend: " + b.description() + " (" + why + ")");
        return b;
    }
}
