package dev.gguf4j.backend;

import dev.gguf4j.Settings;
import java.util.Optional;

/** Finds the accelerator GPU layers run on ({@code -Dgguf4j.device=cuda|host}), or says why there is none. */
public final class Accelerators {
    /** "Device memory" of the host accelerator chosen by {@code -Dgguf4j.device=host}. */
    public static final long HOST_DEVICE_CAPACITY = 64L << 30;

    private Accelerators() {
    }

    /** The probe's answer: an accelerator, or the reason there is none. */
    public record Probe(Optional<Accelerator> accelerator, String reason) {
        public static Probe of(Accelerator a) {
            return new Probe(Optional.of(a), a.description());
        }

        public static Probe none(String reason) {
            return new Probe(Optional.empty(), reason);
        }
    }

    /** The accelerator the system properties ask for: CUDA device 0 (default) or the host implementation. */
    public static Probe probe() {
        Settings s = Settings.fromSystemProperties();
        if (s.device() == Settings.DeviceChoice.HOST) {
            return Probe.of(new HostAccelerator(Backends.select(), HOST_DEVICE_CAPACITY));
        }
        if (!CudaBackend.isAvailable()) {
            return Probe.none(CudaBackend.unavailabilityCause().map(Throwable::getMessage).orElse("unknown"));
        }
        try {
            return Probe.of(CudaAccelerator.open(0));
        } catch (RuntimeException e) {
            return Probe.none(e.getMessage());
        }
    }
}
