package dev.gguf4j.llama;

import static dev.gguf4j.backend.DeviceOutOfMemoryException.mib;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Accelerator;
import dev.gguf4j.backend.Accelerators;
import dev.gguf4j.backend.BackendUnavailableException;
import dev.gguf4j.backend.DeviceMemory;
import dev.gguf4j.backend.DeviceOutOfMemoryException;
import dev.gguf4j.engine.DeviceWeights;
import dev.gguf4j.engine.Footprint;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.engine.Weight;
import java.util.Arrays;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Which part of the model runs on the GPU, with llama.cpp's {@code n_gpu_layers} semantics: the last
 * {@link #deviceLayers()} repeating layers, plus the output layer (final norm and output projection) when the
 * count exceeds the number of layers; the token embedding always stays on the CPU. {@link #plan} resolves a
 * requested count (or {@link LlamaOptions#GPU_LAYERS_AUTO}) against the device's free memory.
 *
 * @param requested      what was asked: N, -1 (everything) or {@link LlamaOptions#GPU_LAYERS_AUTO}
 * @param gpuLayers      the count in effect, 0 .. layers + 1 (layers + 1 = everything, output included)
 * @param deviceLayers   repeating layers on the device: min(gpuLayers, layers)
 * @param outputOnDevice whether the output layer is on the device (gpuLayers &gt; layers)
 * @param sizes          the memory each part needs
 * @param memory         the device's memory when planned (null when no device was used)
 * @param marginBytes    the memory {@code auto} leaves free
 * @param reason         why this count: "requested", "auto: ...", or why there is no GPU
 */
public record OffloadPlan(int requested, int gpuLayers, int deviceLayers, boolean outputOnDevice, Sizes sizes,
        DeviceMemory memory, long marginBytes, String reason) {

    /** What {@code auto} leaves free on the device for the CUDA runtime, fragmentation and other users. */
    public static final long DEFAULT_MARGIN = 512L << 20;

    /**
     * Device memory per part of the model: each repeating layer's weights (index = layer), the output layer's
     * weights, one layer's KV cache (one session), a session's activation scratch, and the extra scratch (logits)
     * when the output layer is on the device.
     */
    public record Sizes(long[] layerBytes, long outputBytes, long kvBytesPerLayer, long scratchBytes,
            long outputScratchBytes) {
        public int layers() {
            return layerBytes.length;
        }

        /** Bytes the device needs for {@code gpuLayers} (0 .. layers + 1). */
        public long need(int gpuLayers) {
            if (gpuLayers <= 0) {
                return 0;
            }
            int n = layers();
            int k = Math.min(gpuLayers, n);
            long total = scratchBytes + (long) k * kvBytesPerLayer;
            for (int l = n - k; l < n; l++) {
                total += layerBytes[l];
            }
            if (gpuLayers > n) {
                total += outputBytes + outputScratchBytes;
            }
            return total;
        }

        /** The largest count (0 .. min(limit, layers + 1)) whose {@link #need} is at most {@code budget}. */
        public int largestFitting(long budget, int limit) {
            for (int g = Math.min(limit, layers() + 1); g > 0; g--) {
                if (need(g) <= budget) {
                    return g;
                }
            }
            return 0;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Sizes s && Arrays.equals(layerBytes, s.layerBytes) && outputBytes == s.outputBytes
                    && kvBytesPerLayer == s.kvBytesPerLayer && scratchBytes == s.scratchBytes
                    && outputScratchBytes == s.outputScratchBytes;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(layerBytes) ^ Long.hashCode(outputBytes + kvBytesPerLayer + scratchBytes);
        }

        @Override
        public String toString() {
            long max = Arrays.stream(layerBytes).max().orElse(0);
            long avg = layerBytes.length == 0 ? 0 : Arrays.stream(layerBytes).sum() / layerBytes.length;
            return "per layer " + mib(avg) + (max != avg ? " (max " + mib(max) + ")" : "") + " + KV " + mib(kvBytesPerLayer)
                    + ", output layer " + mib(outputBytes + outputScratchBytes) + ", scratch " + mib(scratchBytes);
        }
    }

    /** The count in effect for an explicit request: -1 or anything above the layers means everything. */
    static int effective(int requested, int layers) {
        return requested == -1 ? layers + 1 : Math.min(requested, layers + 1);
    }

    /** Everything on the CPU. */
    static OffloadPlan cpu(int requested, Sizes sizes, String reason) {
        return new OffloadPlan(requested, 0, 0, false, sizes, null, 0, reason);
    }

    /**
     * Resolves {@code requested} on a device with {@code memory}. {@code auto}: the largest count whose weights,
     * KV cache and scratch fit the free memory less {@code margin} (and at most {@code typeLimit}, the most layers
     * whose weight types the device takes). An explicit count must fit the free memory (no margin), else a
     * {@link DeviceOutOfMemoryException} naming what did not fit and the count that would.
     */
    static OffloadPlan plan(int requested, Sizes sizes, DeviceMemory memory, long margin, int typeLimit,
            String device) {
        int n = sizes.layers();
        if (requested == LlamaOptions.GPU_LAYERS_AUTO) {
            long budget = memory.freeBytes() - margin;
            int fit = sizes.largestFitting(budget, n + 1);
            int g = Math.min(fit, typeLimit);
            String why = "auto: " + (g == n + 1 ? "everything fits"
                    : g < fit ? "limited to " + g + " by weight types the device lacks kernels for"
                    : g == 0 ? "not even one layer fits" : g + " of " + (n + 1) + " fit")
                    + " in " + mib(memory.freeBytes()) + " free less a margin of " + mib(margin);
            return new OffloadPlan(requested, g, Math.min(g, n), g > n, sizes, memory, margin, why);
        }
        int g = effective(requested, n);
        long need = sizes.need(g);
        if (need > memory.freeBytes()) {
            int fit = Math.min(sizes.largestFitting(memory.freeBytes() - margin, n + 1), typeLimit);
            throw outOfMemory(requested, g, sizes, null, need, memory.freeBytes(), fit, device, null);
        }
        return new OffloadPlan(requested, g, Math.min(g, n), g > n, sizes, memory, margin, "requested");
    }

    /**
     * The typed error for a count that does not fit: what did not fit ({@code what} of {@code whatBytes}; null
     * when the plan as a whole was refused), the plan's needs part by part, and the count that would fit.
     */
    static DeviceOutOfMemoryException outOfMemory(int requested, int g, Sizes sizes, String what, long whatBytes,
            long free, int fit, String device, Throwable cause) {
        int n = sizes.layers();
        int k = Math.min(g, n);
        long kv = (long) k * sizes.kvBytesPerLayer();
        long scratch = sizes.scratchBytes() + (g > n ? sizes.outputScratchBytes() : 0);
        long need = sizes.need(g);
        String msg = String.format(Locale.ROOT, "gpuLayers=%s does not fit the %s: %sit needs %s (weights of %d layer%s%s"
                + " %s, KV cache %s, scratch %s) and %s is free; gpuLayers=%d would fit (or use auto)",
                requested == -1 ? "-1 (all)" : String.valueOf(requested), device,
                what == null ? "" : what + " (" + mib(whatBytes) + ") did not fit; ", mib(need), k, k == 1 ? "" : "s",
                g > n ? " + the output layer" : "", mib(need - kv - scratch), mib(kv), mib(scratch), mib(free), fit);
        return new DeviceOutOfMemoryException(msg, what == null ? "gpuLayers=" + requested : what,
                what == null ? need : whatBytes, free, OptionalInt.of(fit), cause);
    }

    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");
    private static final AtomicBoolean NO_GPU_LOGGED = new AtomicBoolean();

    /** A plan and the accelerator it runs on (null when everything runs on the CPU). */
    record Placement(OffloadPlan plan, Accelerator accelerator) {
    }

    /**
     * Where a model's layers run for one session of {@code contextLength} tokens: on the CPU for
     * {@code gpuLayers} 0 or an encoder, or when {@code probe} finds no usable GPU and {@code gpuLayers} is
     * {@link LlamaOptions#GPU_LAYERS_AUTO}; else {@link #plan} on the probed device, within the layers whose weight
     * types all have device kernels.
     *
     * @throws BackendUnavailableException a GPU count asked for without a usable GPU
     * @throws DeviceOutOfMemoryException  the count asked for does not fit
     * @throws Gguf4jException             the count asked for reaches a layer with a weight type the device lacks
     */
    static Placement place(LlamaModel model, int requested, int contextLength, LlamaSession.KvType kv, int step,
            Supplier<Accelerators.Probe> probe) {
        Sizes sizes = sizes(model, contextLength, kv, step);
        if (requested == 0 || model.architecture().encoder()) {
            return new Placement(cpu(requested, sizes, requested == 0 ? "gpuLayers 0"
                    : model.config().architecture() + " is an encoder: embeddings run on the CPU"), null);
        }
        Accelerators.Probe p = probe.get();
        if (p.accelerator().isEmpty()) {
            if (requested != LlamaOptions.GPU_LAYERS_AUTO) {
                throw new BackendUnavailableException("gpuLayers=" + requested + " asks for GPU offload, but there is"
                        + " no usable GPU: " + p.reason() + " (use gpuLayers 0, or auto, which runs on the CPU when"
                        + " there is no GPU)", null);
            }
            if (NO_GPU_LOGGED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.INFO, "gguf4j: gpuLayers auto: no usable GPU, running on the CPU: "
                        + p.reason());
            }
            return new Placement(cpu(requested, sizes, "no usable GPU: " + p.reason()), null);
        }
        Accelerator acc = p.accelerator().get();
        int typeLimit = typeLimit(model, acc);
        OffloadPlan plan = plan(requested, sizes, acc.memory(), DEFAULT_MARGIN, typeLimit, acc.name() + " device");
        if (plan.gpuLayers() > typeLimit) {
            throw new Gguf4jException("gpuLayers=" + requested + ": " + typeProblem(model, acc) + "; gpuLayers="
                    + typeLimit + " would run (the layers above it)");
        }
        LOG.log(System.Logger.Level.INFO, "gguf4j: " + plan.summary() + " [" + acc.description() + "]");
        return new Placement(plan, plan.offloads() ? acc : null);
    }

    /**
     * Uploads the weights this plan puts on {@code acc}; a device that runs out of memory meanwhile is reported
     * with the count that would fit the memory it had.
     */
    DeviceWeights upload(LlamaModel model, Accelerator acc) {
        try {
            return DeviceWeights.upload(model, acc, this);
        } catch (DeviceOutOfMemoryException e) {
            long free = Math.min(memory.freeBytes(), e.freeBytes()); // the device may have claimed more than it had
            int fit = Math.min(sizes.largestFitting(free - DEFAULT_MARGIN, sizes.layers() + 1), typeLimit(model, acc));
            throw outOfMemory(requested, gpuLayers, sizes, e.what(), e.requestedBytes(), free, fit,
                    acc.name() + " device", e);
        }
    }

    /** What each part of the model needs in device memory, for one session of {@code contextLength}. */
    static Sizes sizes(LlamaModel model, int contextLength, LlamaSession.KvType kv, int maxTokens) {
        LlamaConfig c = model.config();
        long[] layers = new long[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = DeviceWeights.layerBytes(model, l);
        }
        return Footprint.offloadSizes(c, layers, DeviceWeights.bytes(model.output()), contextLength, kv, maxTokens);
    }

    /** The most GPU layers (0 .. layers + 1) whose weight types all have device kernels, counted from the top. */
    private static int typeLimit(LlamaModel model, Accelerator acc) {
        int n = model.config().layers();
        int ok = 0;
        for (int l = n - 1; l >= 0 && layerSupported(model, l, acc); l--) {
            ok++;
        }
        return ok == n && acc.supports(model.output().type()) ? n + 1 : ok;
    }

    private static boolean layerSupported(LlamaModel model, int l, Accelerator acc) {
        for (Weight x : model.weights(l)) {
            if (!acc.supports(x.type())) {
                return false;
            }
        }
        return true;
    }

    private static String typeProblem(LlamaModel model, Accelerator acc) {
        for (int l = model.config().layers() - 1; l >= 0; l--) {
            for (Weight x : model.weights(l)) {
                if (!acc.supports(x.type())) {
                    return x.name() + " is " + x.type() + ", which the " + acc.name() + " device has no matmul for";
                }
            }
        }
        return model.output().name() + " is " + model.output().type() + ", which the " + acc.name()
                + " device has no matmul for";
    }

    /** Bytes of device memory this plan needs. */
    public long needBytes() {
        return sizes == null ? 0 : sizes.need(gpuLayers);
    }

    /** Whether anything runs on the device. */
    public boolean offloads() {
        return gpuLayers > 0;
    }

    /** One line for logs and the CLI. */
    public String summary() {
        String req = requested == LlamaOptions.GPU_LAYERS_AUTO ? "auto" : String.valueOf(requested);
        if (!offloads()) {
            return "gpu layers " + req + " -> 0 (CPU only: " + reason + ")";
        }
        int n = sizes.layers();
        return String.format(Locale.ROOT, "gpu layers %s -> %d: layers %d..%d%s on the device, %s of %s free (%s;"
                + " margin %s); %s", req, gpuLayers, n - deviceLayers, n - 1, outputOnDevice ? " and the output layer"
                : "", mib(needBytes()), mib(memory.freeBytes()), sizes, mib(marginBytes), reason);
    }
}
