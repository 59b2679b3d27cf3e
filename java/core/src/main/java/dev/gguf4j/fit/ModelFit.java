package dev.gguf4j.fit;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Accelerator;
import dev.gguf4j.backend.Accelerators;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.internal.MemInfo;
import dev.gguf4j.engine.Footprint;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.llama.OffloadPlan;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.quantize.QuantPolicy;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What fits on this machine: LM Studio's "full GPU offload possible" answer. For a model and a context length,
 * each candidate file (the model itself and, for an unquantized model, every type of {@code gguf4j quantize}'s
 * list) with its exact file size (the quantizer's own plan: {@link ModelQuantizer.Plan#fileSize()}, nothing
 * quantized), the KV cache and compute buffers a session allocates ({@link Footprint}), whether that fits in free
 * RAM, how many layers fit in the GPU's free memory ({@link OffloadPlan}'s arithmetic), and the generation speed
 * to expect from the memory read bandwidth: a token reads every matrix weight once and the KV cache (at a full
 * context), so tokens/s is at most bandwidth / those bytes.
 *
 * <pre>{@code
 * ModelFit.Report r = ModelFit.plan(Path.of("model-f16.gguf"), 4096);
 * r.rows().forEach(row -> System.out.println(row.type() + " " + row.totalBytes() + " " + row.fitsRam()));
 * System.out.println(r.verdict());
 * }</pre>
 *
 * The compute buffers and the runtime's overhead are estimates ({@link Footprint#RUNTIME_OVERHEAD_BYTES}); the
 * speed is an upper bound that the engine reaches only in part (docs/benchmarks.md, "fit").
 */
public final class ModelFit {
    /** The KV cache type the engine uses by default. */
    static final LlamaSession.KvType KV = LlamaOptions.DEFAULTS.kvType();
    /** Prompt tokens per step by default. */
    static final int BATCH = LlamaOptions.DEFAULTS.batchSize();
    /**
     * Bandwidth measurement: a buffer 4 times the last-level cache (sysfs; 32 MiB assumed where unknown), 128 MiB
     * to 1 GiB; up to 5 passes after a warm-up with 1 thread and with all, no new pass after 0.5 s.
     */
    static final int BANDWIDTH_REPS = 5;
    static final double BANDWIDTH_SECONDS = 0.5;

    private ModelFit() {
    }

    /** A GPU and its memory when probed. */
    public record Gpu(String name, long freeBytes, long totalBytes, Predicate<GgmlType> supports) {
    }

    /**
     * The machine: free RAM (and where the number comes from), the GPU if there is one (else why not), the memory
     * read bandwidth in GB/s with one thread and with {@code threads} threads (NaN when unknown) and its source.
     */
    public record Machine(long ramAvailableBytes, String ramSource, Optional<Gpu> gpu, String gpuReason,
            double bandwidthOneThread, double bandwidthAllThreads, int threads, String bandwidthSource) {
    }

    /**
     * One candidate file.
     *
     * @param type          the file type ("Q4_K_M"), or the model's own for the file itself
     * @param thisFile      whether this is the model file itself (else a file {@code quantize} would write)
     * @param fileBytes     its exact size
     * @param repackBytes   the part of the weight copies the CPU backend makes at load ({@code --no-repack}: none)
     *                      held on top of the file: a tied output's copy; the others replace the file's pages
     *                      (LlamaModel.repack) and are not counted
     * @param kvBytes       the KV cache of one session of the context
     * @param computeBytes  activation buffers and the runtime's overhead (an estimate)
     * @param totalBytes    RAM a CPU-only run needs: file + repack + KV + compute
     * @param gpuLayers     the {@code -ngl} that fits the GPU's free memory (layers + 1 = everything), -1 without a GPU
     * @param bytesPerToken bytes a generated token reads: the matrix weights and the KV cache at a full context
     * @param tgOneThread   estimated tokens/s at one thread's bandwidth (NaN when the bandwidth is unknown)
     * @param tgAllThreads  estimated tokens/s at all threads' bandwidth
     */
    public record Row(String type, boolean thisFile, long fileBytes, long repackBytes, long kvBytes, long computeBytes,
            long totalBytes, boolean fitsRam, int gpuLayers, int layers, long bytesPerToken, double tgOneThread,
            double tgAllThreads) {
        /** Whether the whole model (every layer and the output layer) fits the GPU. */
        public boolean fullGpuOffload() {
            return gpuLayers == layers + 1;
        }
    }

    /** A type of the list that cannot be planned for this model, and why. */
    public record Skipped(String type, String reason) {
    }

    /** The answer: the rows (the file first, then the others by size, largest first) and a one-line verdict. */
    public record Report(Path model, int contextLength, int trainedContext, int layers, Machine machine,
            List<Row> rows, List<Skipped> skipped, String verdict) {
    }

    /** {@link #plan(Path, int, Machine)} with the engine's default context and this machine. */
    public static Report plan(Path model) throws IOException {
        return plan(model, 0, probe(OptionalDouble.empty()));
    }

    /** {@link #plan(Path, int, Machine)} on this machine ({@link #probe}). */
    public static Report plan(Path model, int contextLength) throws IOException {
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length " + contextLength + " must be at least 1");
        }
        return plan(model, contextLength, probe(OptionalDouble.empty()));
    }

    /**
     * Plans {@code model} for a context of {@code contextLength} tokens (0: the engine's default, the training
     * context capped at 4096) on {@code machine}. A context above the model's training context is refused
     * ({@link IllegalArgumentException} naming both).
     */
    public static Report plan(Path model, int contextLength, Machine machine) throws IOException {
        try (GgufFile file = GgufFile.open(model)) {
            LlamaConfig c = Footprint.config(file);
            int trained = c.contextLength();
            if (contextLength < 0 || contextLength > trained) {
                throw new IllegalArgumentException("context length " + contextLength + " is outside [1, " + trained
                        + "]: " + model + " was trained with a context of " + trained + " tokens");
            }
            int ctx = contextLength == 0 ? Footprint.defaultContext(c) : contextLength;
            Backend backend = Backends.select();
            List<Row> rows = new ArrayList<>();
            List<Skipped> skipped = new ArrayList<>();
            List<T> own = new ArrayList<>();
            boolean quantized = false;
            for (GgufTensor t : file.tensors()) {
                own.add(new T(t.name(), t.type(), t.shape(), t.byteSize()));
                quantized |= t.type().isQuantized();
            }
            String ownType = file.metadata().findLong("general.file_type").flatMap(FileType::byId)
                    .map(FileType::quantizeName).orElse("?");
            java.util.function.IntFunction<Optional<String>> refusal = g -> Footprint.offloadRefusal(file, g, "the GPU");
            rows.add(row(ownType, true, Files.size(model), own, c, ctx, machine, backend, refusal));
            if (!quantized) {
                List<Row> others = new ArrayList<>();
                for (FileType ft : FileType.values()) {
                    if (!QuantPolicy.SUPPORTED.contains(ft)) {
                        continue;
                    }
                    try {
                        ModelQuantizer.Plan p = ModelQuantizer.plan(file, QuantizeOptions.to(ft),
                                ModelQuantizer.LLAMA_POLICY);
                        List<T> ts = new ArrayList<>();
                        for (ModelQuantizer.PlannedTensor t : p.tensors()) {
                            ts.add(new T(t.name(), t.type(), t.source().shape(), t.bytes()));
                        }
                        others.add(row(ft.quantizeName(), false, p.fileSize(), ts, c, ctx, machine, backend, refusal));
                    } catch (Gguf4jException e) {
                        skipped.add(new Skipped(ft.quantizeName(), e.getMessage()));
                    }
                }
                others.sort(Comparator.comparingLong(Row::fileBytes).reversed());
                rows.addAll(others);
            }
            return new Report(model, ctx, trained, c.layers(), machine, List.copyOf(rows), List.copyOf(skipped),
                    verdict(rows, quantized, ctx, machine, machine.gpu().isPresent() ? refusal.apply(1)
                            : Optional.empty()));
        }
    }

    /** A tensor of a candidate file: its type in that file and its bytes there. */
    private record T(String name, GgmlType type, long[] shape, long bytes) {
        boolean matrix() {
            int n = shape.length;
            while (n > 1 && shape[n - 1] == 1) {
                n--;
            }
            return n >= 2;
        }
    }

    private static final Pattern LAYER = Pattern.compile("blk\\.(\\d+)\\..*");

    private static Row row(String type, boolean thisFile, long fileBytes, List<T> tensors, LlamaConfig c, int ctx,
            Machine m, Backend backend, java.util.function.IntFunction<Optional<String>> refusal) {
        boolean tied = tensors.stream().noneMatch(t -> t.name().equals("output.weight"));
        long matrices = 0;
        long repack = 0;
        long[] layerBytes = new long[c.layers()];
        long outputBytes = 0;
        for (T t : tensors) {
            boolean embedding = t.name().equals("token_embd.weight");
            // a token reads every matrix but the embedding table (one row of it), which a tied model's output reads
            boolean read = t.matrix() && (!embedding || tied);
            if (read) {
                matrices += t.bytes();
                long rows = t.bytes() / Math.max(1, t.type().bytesFor(t.shape()[0]));
                long r = backend.repackedBytes(t.type(), (int) Math.min(Integer.MAX_VALUE, rows),
                        (int) Math.min(Integer.MAX_VALUE, t.shape()[0]));
                // what the copies add over the file's pages they replace (a tied output's rows are the embeddings)
                repack += r > 0 ? backend.repackKind(t.type()).extraOverMapping(r, t.bytes(), embedding) : 0;
            }
            if (t.name().equals(tied ? "token_embd.weight" : "output.weight")) {
                outputBytes = t.bytes();
            }
            Matcher lm = LAYER.matcher(t.name());
            if (lm.matches()) {
                int l = Integer.parseInt(lm.group(1));
                if (l < layerBytes.length) {
                    // as DeviceWeights uploads them: matrices as stored, vectors as F32
                    long elements = 1;
                    for (long d : t.shape()) {
                        elements *= d;
                    }
                    layerBytes[l] += t.matrix() ? t.bytes() : 4 * elements;
                }
            }
        }
        long kv = Footprint.kvCacheBytes(c, ctx, KV);
        long compute = Footprint.activationBytes(c, Math.min(BATCH, ctx)) + Footprint.RUNTIME_OVERHEAD_BYTES;
        long total = fileBytes + repack + kv + compute;
        int gpuLayers = -1;
        if (m.gpu().isPresent()) {
            Gpu g = m.gpu().get();
            OffloadPlan.Sizes sizes = Footprint.offloadSizes(c, layerBytes, outputBytes, ctx, KV,
                    Footprint.deviceStep(BATCH, ctx));
            gpuLayers = Math.min(sizes.largestFitting(g.freeBytes() - OffloadPlan.DEFAULT_MARGIN, c.layers() + 1),
                    typeLimit(tensors, c.layers(), tied, g));
            while (gpuLayers > 0 && refusal.apply(gpuLayers).isPresent()) {
                gpuLayers--; // layers or ops the device has no kernels for yet: -ngl would refuse them
            }
        }
        long perToken = matrices + kv;
        return new Row(type, thisFile, fileBytes, repack, kv, compute, total, total <= m.ramAvailableBytes(), gpuLayers,
                c.layers(), perToken, m.bandwidthOneThread() * 1e9 / perToken,
                m.bandwidthAllThreads() * 1e9 / perToken);
    }

    /** The most GPU layers (from the top; layers + 1 with the output) whose weight types the GPU has kernels for. */
    private static int typeLimit(List<T> tensors, int layers, boolean tied, Gpu g) {
        boolean[] ok = new boolean[layers];
        java.util.Arrays.fill(ok, true);
        boolean output = true;
        for (T t : tensors) {
            if (!t.matrix() || g.supports().test(t.type())) {
                continue;
            }
            Matcher lm = LAYER.matcher(t.name());
            if (lm.matches() && Integer.parseInt(lm.group(1)) < layers) {
                ok[Integer.parseInt(lm.group(1))] = false;
            } else if (t.name().equals(tied ? "token_embd.weight" : "output.weight")) {
                output = false;
            }
        }
        int n = 0;
        for (int l = layers - 1; l >= 0 && ok[l]; l--) {
            n++;
        }
        return n == layers && output ? layers + 1 : n;
    }

    /** {@code refusal}: why not even the top layer can run on the GPU (the architecture's ops), if so. */
    private static String verdict(List<Row> rows, boolean quantized, int ctx, Machine m, Optional<String> refusal) {
        Row file = rows.get(0);
        StringBuilder sb = new StringBuilder();
        if (quantized) {
            sb.append(file.fitsRam()
                    ? String.format(Locale.ROOT, "fits in RAM with -c %d (%s of %s available)", ctx,
                            gb(file.totalBytes()), gb(m.ramAvailableBytes()))
                    : String.format(Locale.ROOT, "does not fit in RAM with -c %d: needs %s, %s available (try a"
                            + " smaller quantization or a shorter -c)", ctx, gb(file.totalBytes()),
                            gb(m.ramAvailableBytes())));
            if (!Double.isNaN(file.tgAllThreads())) {
                sb.append(String.format(Locale.ROOT, "; about %s tokens/s at most with %d thread%s",
                        tps(file.tgAllThreads()), m.threads(), m.threads() == 1 ? "" : "s"));
            }
            sb.append("; ").append(gpuVerdict(file, m, refusal));
            return sb.toString();
        }
        Optional<Row> best = rows.stream().skip(1).filter(Row::fitsRam).findFirst();
        boolean all = rows.stream().allMatch(Row::fitsRam);
        if (all && rows.size() > 1) {
            Row b = rows.get(1);
            sb.append(String.format(Locale.ROOT, "every type fits in RAM with -c %d (the largest, %s, needs %s of %s"
                    + " available)", ctx, b.type(), gb(b.totalBytes()), gb(m.ramAvailableBytes())));
        } else if (best.isEmpty()) {
            sb.append("no quantization fits in RAM with -c ").append(ctx).append(" (")
                    .append(gb(m.ramAvailableBytes())).append(" available)");
        } else {
            Row b = best.get();
            sb.append(String.format(Locale.ROOT, "largest that fits in RAM with -c %d: %s (%s in all of %s available",
                    ctx, b.type(), gb(b.totalBytes()), gb(m.ramAvailableBytes())));
            if (!Double.isNaN(b.tgAllThreads())) {
                sb.append(String.format(Locale.ROOT, ", about %s tokens/s at most", tps(b.tgAllThreads())));
            }
            sb.append(')');
        }
        if (m.gpu().isEmpty() || refusal.isPresent()) {
            sb.append("; ").append(gpuVerdict(file, m, refusal));
        } else {
            Optional<Row> gpuBest = rows.stream().skip(1).filter(Row::fullGpuOffload).findFirst();
            sb.append(gpuBest.map(r -> "; full GPU offload possible for " + r.type() + " (-ngl " + r.gpuLayers() + ")")
                    .orElse("; no quantization fits the GPU entirely (" + gb(m.gpu().get().freeBytes()) + " free)"));
        }
        return sb.toString();
    }

    private static String gpuVerdict(Row r, Machine m, Optional<String> refusal) {
        if (m.gpu().isEmpty()) {
            return "no GPU found";
        }
        if (refusal.isPresent()) {
            return "no GPU offload: " + refusal.get();
        }
        return r.fullGpuOffload() ? "full GPU offload possible (-ngl " + r.gpuLayers() + ")"
                : r.gpuLayers() == 0 ? "not one layer fits the GPU's " + gb(m.gpu().get().freeBytes()) + " free"
                : "partial GPU offload: -ngl " + r.gpuLayers() + " of " + (r.layers() + 1) + " fit the GPU's "
                        + gb(m.gpu().get().freeBytes()) + " free";
    }

    /** Sizes as the table prints them: GB (1e9 bytes) below 1 TB... with MB for small ones. */
    public static String gb(long bytes) {
        if (bytes < 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    /** Tokens/s as the table prints them. */
    public static String tps(double v) {
        return Double.isNaN(v) ? "?" : v >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : String.format(Locale.ROOT, "%.1f", v);
    }

    /** The largest CPU cache of cpu0 in bytes (sysfs), 32 MiB where unknown. */
    static long lastLevelCache() {
        long best = -1;
        for (int i = 0; i < 8; i++) {
            try {
                String v = Files.readString(Path.of("/sys/devices/system/cpu/cpu0/cache/index" + i + "/size")).trim();
                long mult = v.endsWith("K") ? 1L << 10 : v.endsWith("M") ? 1L << 20 : 1;
                best = Math.max(best, Long.parseLong(v.replaceAll("[KM]$", "")) * mult);
            } catch (IOException | RuntimeException e) {
                // no such cache level
            }
        }
        return best > 0 ? best : 32L << 20;
    }

    /**
     * This machine: free RAM ({@code MemAvailable} of /proc/meminfo, or the cgroup's memory limit less its usage
     * when that is lower), the GPU through the same probe {@code -ngl} uses, and the memory read bandwidth
     * measured with the native library (under a second), unless {@code bandwidthGbps} gives it.
     */
    public static Machine probe(OptionalDouble bandwidthGbps) {
        long ram = -1;
        String ramSource = "unknown";
        long avail = MemInfo.memAvailable();
        if (avail >= 0) {
            ram = avail;
            ramSource = "MemAvailable";
        }
        long cg = MemInfo.cgroupAvailable();
        if (cg >= 0 && (ram < 0 || cg < ram)) {
            ram = cg;
            ramSource = "cgroup memory limit less usage";
        }
        if (ram < 0) {
            ram = Runtime.getRuntime().maxMemory();
            ramSource = "unknown (not Linux): the JVM's maximum heap";
        }
        Optional<Gpu> gpu = Optional.empty();
        String gpuReason;
        Accelerators.Probe p = Accelerators.probe();
        if (p.accelerator().isPresent()) {
            Accelerator a = p.accelerator().get();
            var mem = a.memory();
            gpu = Optional.of(new Gpu(a.description(), mem.freeBytes(), mem.totalBytes(), a::supports));
            gpuReason = a.description();
        } else {
            gpuReason = p.reason();
        }
        int threads = Footprint.defaultThreads();
        double one;
        double all;
        String source;
        if (bandwidthGbps.isPresent()) {
            one = bandwidthGbps.getAsDouble();
            all = one;
            source = "given";
        } else {
            Backend b = Backends.select();
            long buffer = Math.clamp(4 * lastLevelCache(), 128L << 20, 1L << 30);
            double[] gbps = threads == 1 ? b.readBandwidth(buffer, BANDWIDTH_REPS, BANDWIDTH_SECONDS, 1)
                    : b.readBandwidth(buffer, BANDWIDTH_REPS, BANDWIDTH_SECONDS, 1, threads);
            one = gbps[0];
            all = gbps[gbps.length - 1];
            source = Double.isNaN(one) ? "unknown (the " + b.name() + " backend cannot measure it; give it with"
                    + " --bandwidth)" : "measured";
        }
        return new Machine(ram, ramSource, gpu, gpuReason, one, all, threads, source);
    }
}
