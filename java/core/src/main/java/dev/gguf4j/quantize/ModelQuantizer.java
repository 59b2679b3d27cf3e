package dev.gguf4j.quantize;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.gguf.Hyperparameters;
import dev.gguf4j.gguf.PartialFile;
import dev.gguf4j.internal.NativeCpu;
import dev.gguf4j.quant.BetterSearch;
import dev.gguf4j.quant.Gptq;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.quant.TypeCodec;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * llama-quantize, in Java: plans every tensor's type (llama.cpp's mixture policy), then streams the output —
 * one tensor in memory at a time, rows quantized on {@code threads} threads — into a temporary file in the
 * target directory, renamed to the output only when complete.
 *
 * <p>The output is laid out as llama-quantize lays it out: the input's metadata in order with
 * {@code general.quantization_version} and {@code general.file_type} moved to the end (then overrides and the
 * imatrix keys), split keys removed, tensors in llama.cpp's loader order (non-layer tensors by name, then each
 * layer's by name), each converted with ggml's reference quantizers.
 */
public final class ModelQuantizer {
    /** ggml's GGML_QNT_VERSION. */
    public static final int QUANTIZATION_VERSION = 2;
    /** llama-quantize hands each thread chunks of at least this many elements. */
    static final int MIN_CHUNK_ELEMENTS = 32 * 512;
    /** Set (to {@code better-1}) in files quantized with {@link QuantizeOptions.Search#BETTER}; absent otherwise. */
    public static final String SEARCH_KEY = "gguf4j.quantize.search";
    /** The value of {@link #SEARCH_KEY}: the search's name and version. */
    public static final String SEARCH_VALUE = "better-1";
    /**
     * The value of {@link #SEARCH_KEY} with a calibration: GPTQ (version 2: errors spread in float; token_embd
     * by its block search alone).
     */
    public static final String SEARCH_VALUE_GPTQ = "better-1+gptq-2";

    private ModelQuantizer() {
    }

    /** Each tensor's fate. */
    public record PlannedTensor(GgufTensor source, GgmlType type, boolean convert, String reason, long bytes,
            float[] importance, QuantizeOptions.Search search, float[] gptq) {
        /** Without GPTQ ({@code gptq}: the factor {@link Gptq#factor} of the weight's calibration Gram matrix). */
        public PlannedTensor(GgufTensor source, GgmlType type, boolean convert, String reason, long bytes,
                float[] importance, QuantizeOptions.Search search) {
            this(source, type, convert, reason, bytes, importance, search, null);
        }

        public String name() {
            return source.name();
        }
    }

    /** The whole plan: tensors in output order, output metadata, sizes. */
    public record Plan(List<PlannedTensor> tensors, Map<String, GgufValue> metadata, long bytesBefore, long bytesAfter,
            long parameters) {
        public double bitsPerWeightAfter() {
            return parameters == 0 ? 0 : 8.0 * bytesAfter / parameters;
        }

        public double bitsPerWeightBefore() {
            return parameters == 0 ? 0 : 8.0 * bytesBefore / parameters;
        }

        /**
         * The exact size in bytes of the file {@link ModelQuantizer#quantize} writes for this plan: the header
         * with this metadata and these tensors, and each tensor's data padded to the alignment, laid out by
         * {@link GgufWriter} as the real run lays it out (nothing is quantized or written).
         */
        public long fileSize() {
            GgufWriter w = GgufWriter.sizing();
            declare(w, this);
            return w.fileSize();
        }
    }

    /** The output's metadata and tensor declarations, as {@link #quantize} writes them (and {@link Plan#fileSize}). */
    private static void declare(GgufWriter w, Plan plan) {
        w.putAll(plan.metadata());
        for (PlannedTensor t : plan.tensors()) {
            w.addTensor(t.name(), t.type(), t.source().shape());
        }
    }

    /** Progress callbacks (all optional); called from the quantizing threads for {@link #progress}. */
    public interface Listener {
        default void planned(Plan plan) {
        }

        default void tensorStarted(int index, PlannedTensor t) {
        }

        /** {@code bytes} more source bytes of the current tensor have been processed. */
        default void progress(long bytes) {
        }

        default void tensorDone(int index, PlannedTensor t) {
        }

        /** A line about the run (the calibration pass). */
        default void note(String line) {
        }
    }

    /** Picks the type of each tensor, in output order; {@link QuantPolicy} is llama.cpp's. */
    @FunctionalInterface
    public interface TypeChooser {
        List<Choice> choose(GgufFile input, List<GgufTensor> ordered, QuantizeOptions options, Optional<Imatrix> imatrix);
    }

    /** A tensor's chosen type and why. */
    public record Choice(GgmlType type, String reason) {
    }

    /** llama.cpp's mixture policy ({@link QuantPolicy}) with the options and imatrix of the run. */
    public static final TypeChooser LLAMA_POLICY = (in, ordered, o, imatrix) -> {
        QuantPolicy.Options po = QuantPolicy.Options.DEFAULTS.withPure(o.pure).withLeaveOutputTensor(o.leaveOutputTensor)
                .withAllowRequantize(o.allowRequantize);
        if (o.outputTensorType.isPresent()) {
            po = po.withOutputTensorType(o.outputTensorType.get());
        }
        if (o.tokenEmbeddingType.isPresent()) {
            po = po.withTokenEmbeddingType(o.tokenEmbeddingType.get());
        }
        if (imatrix.isPresent() && !imatrix.get().entries().isEmpty()) {
            // has_imatrix: the tensors whose entry has the size llama-quantize accepts (ne[0] * ne[2])
            java.util.Set<String> usable = new java.util.HashSet<>();
            for (GgufTensor t : ordered) {
                float[] v = imatrix.get().entries().get(t.name());
                if (v != null && v.length == t.rowLength() * t.dim(2)) {
                    usable.add(t.name());
                }
            }
            po = po.withImatrix(usable);
        }
        List<QuantPolicy.Tensor> ts = new ArrayList<>();
        for (GgufTensor t : ordered) {
            ts.add(QuantPolicy.Tensor.of(t));
        }
        Map<String, QuantPolicy.Choice> byName = new java.util.HashMap<>();
        QuantPolicy.Model model = QuantPolicy.Model.of(in.source(), in.metadata());
        for (QuantPolicy.Choice c : QuantPolicy.choose(model, ts, o.fileType, po)) {
            byName.put(c.name(), c);
        }
        List<Choice> out = new ArrayList<>();
        for (GgufTensor t : ordered) {
            QuantPolicy.Choice c = byName.get(t.name());
            out.add(new Choice(c.type(), c.reason()));
        }
        return out;
    };

    /** llama.cpp's loader order (tensors outside layers first, then layer by layer, by name within each). */
    public static final Comparator<GgufTensor> LLAMA_ORDER = Comparator.comparing(GgufTensor::name,
            QuantPolicy.LOADER_ORDER);

    /** Plans without writing (the {@code --dry-run}). */
    public static Plan plan(GgufFile in, QuantizeOptions o, TypeChooser chooser) throws IOException {
        Optional<Imatrix> imatrix = Optional.empty();
        if (o.imatrix.isPresent()) {
            imatrix = Optional.of(Imatrix.read(o.imatrix.get()).filter(o.includeWeights, o.excludeWeights));
        }
        List<GgufTensor> ordered = new ArrayList<>(in.tensors());
        ordered.sort(LLAMA_ORDER);
        List<Choice> choices = chooser.choose(in, ordered, o, imatrix);
        List<PlannedTensor> planned = new ArrayList<>();
        long before = 0;
        long after = 0;
        long params = 0;
        for (int i = 0; i < ordered.size(); i++) {
            GgufTensor t = ordered.get(i);
            Choice c = choices.get(i);
            boolean convert = c.type() != t.type();
            float[] importance = null;
            if (convert) {
                checkConvertible(in, t, c.type(), o);
                importance = importanceFor(imatrix, t);
            }
            long bytes = c.type().bytesFor(t.elementCount());
            planned.add(new PlannedTensor(t, c.type(), convert, c.reason(), bytes, importance, o.search));
            before += t.byteSize();
            after += bytes;
            params += t.elementCount();
        }
        Map<String, GgufValue> md = outputMetadata(in, o, imatrix);
        // never a model run refuses: the shape checks run makes (Hyperparameters), on what will be written
        String source = o.overrides.isEmpty() ? in.source() : in.source() + " with --override-kv";
        Hyperparameters.read(source, new GgufMetadata(source, md));
        return new Plan(List.copyOf(planned), md, before, after, params);
    }

    private static void checkConvertible(GgufFile in, GgufTensor t, GgmlType target, QuantizeOptions o) {
        if (t.type().isQuantized() && !o.allowRequantize) {
            throw new Gguf4jException(in.source() + ": tensor '" + t.name() + "' is already " + t.type()
                    + ": requantizing is disabled (use --allow-requantize, at a cost in quality)");
        }
        if (!Codecs.supports(t.type())) {
            throw new Gguf4jException(in.source() + ": tensor '" + t.name() + "': cannot read type " + t.type() + " yet");
        }
        if (!Codecs.supportsQuantize(target)) {
            throw new Gguf4jException("tensor '" + t.name() + "': quantizing to " + target + " is not supported yet");
        }
    }

    private static float[] importanceFor(Optional<Imatrix> imatrix, GgufTensor t) {
        if (imatrix.isEmpty()) {
            return null;
        }
        float[] v = imatrix.get().forTensor(t.name()).orElse(null);
        if (v == null) {
            return null; // llama-quantize: "did not find weights for ..." and goes on without
        }
        long want = t.rowLength() * t.dim(2);
        if (v.length != want) {
            if (t.name().equals("token_embd.weight")) {
                return null; // llama-quantize ignores a mismatched token_embd entry
            }
            throw new Gguf4jException(imatrix.get().file() + ": entry '" + t.name() + "' has " + v.length
                    + " values, but the tensor needs " + want + " (ne[0] * ne[2])");
        }
        return v;
    }

    private static Map<String, GgufValue> outputMetadata(GgufFile in, QuantizeOptions o, Optional<Imatrix> imatrix) {
        Map<String, GgufValue> md = new LinkedHashMap<>(in.metadata().asMap());
        // gguf_set_val_* removes a key and appends it: these two always end up last, in this order
        setLast(md, "general.quantization_version", GgufValue.ofUInt32(QUANTIZATION_VERSION));
        long ftype = o.fileType.map(FileType::id).orElseGet(() -> in.metadata().findLong("general.file_type").orElse(0L)
                .intValue());
        setLast(md, "general.file_type", GgufValue.ofUInt32(ftype));
        md.remove("split.no");
        md.remove("split.count");
        md.remove("split.tensors.count");
        for (QuantizeOptions.KvOverride kv : o.overrides) {
            setLast(md, kv.key(), kv.value());
        }
        if (o.search == QuantizeOptions.Search.BETTER && o.fileType.isPresent()) {
            setLast(md, SEARCH_KEY, GgufValue.ofString(o.calibration.isPresent() ? SEARCH_VALUE_GPTQ : SEARCH_VALUE));
        }
        if (imatrix.isPresent()) {
            Imatrix im = imatrix.get();
            setLast(md, "quantize.imatrix.file", GgufValue.ofString(truncate(im.file().toString())));
            if (!im.dataset().isEmpty()) {
                setLast(md, "quantize.imatrix.dataset", GgufValue.ofString(truncate(im.dataset())));
            }
            if (!im.entries().isEmpty()) {
                setLast(md, "quantize.imatrix.entries_count", GgufValue.ofInt32(im.entries().size()));
            }
            if (im.chunks() > 0) {
                setLast(md, "quantize.imatrix.chunks_count", GgufValue.ofInt32(im.chunks()));
            }
        }
        return md;
    }

    /** llama-quantize keeps at most 127 characters of these strings. */
    private static String truncate(String s) {
        return s.length() > 127 ? s.substring(0, 127) : s;
    }

    private static void setLast(Map<String, GgufValue> md, String key, GgufValue v) {
        md.remove(key);
        md.put(key, v);
    }

    /**
     * Quantizes {@code input} to {@code output}. Nothing is written to {@code output} unless the whole file was
     * written: the data goes to a temporary file beside it ({@link PartialFile}: {@code .OUT.PID.RANDOM.partial},
     * deleted on failure, on SIGTERM/SIGINT, and by the next run if this process was killed), renamed at the end.
     * The output's mode follows the umask.
     */
    public static Plan quantize(Path input, Path output, QuantizeOptions o, TypeChooser chooser, Listener listener)
            throws IOException {
        Path out = output.toAbsolutePath().normalize();
        if (out.equals(input.toAbsolutePath().normalize())
                || (Files.exists(out) && Files.exists(input) && Files.isSameFile(out, input))) {
            throw new Gguf4jException(output + ": the output must not be the input");
        }
        Path dir = out.getParent();
        if (!Files.isDirectory(dir)) {
            throw new Gguf4jException(output + ": directory " + dir + " does not exist");
        }
        try (GgufFile in = GgufFile.open(input)) {
            Plan plan = plan(in, o, chooser);
            if (o.calibration.isPresent() && o.search == QuantizeOptions.Search.BETTER && o.fileType.isPresent()) {
                plan = Calibration.withGptq(plan, input, o, listener);
            }
            long headerEstimate = in.dataOffset() + 4096;
            long need = plan.bytesAfter() + plan.tensors().size() * in.alignment() + headerEstimate;
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < need) {
                throw new Gguf4jException(output + ": needs about " + need + " bytes, but " + dir + " has " + free
                        + " bytes free");
            }
            listener.planned(plan);
            Path tmp = PartialFile.create(out); // removes partial files of killed runs; mode from the umask
            Thread cleanup = new Thread(() -> {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort on shutdown
                }
            });
            Runtime.getRuntime().addShutdownHook(cleanup);
            ExecutorService pool = Executors.newFixedThreadPool(o.threads, r -> {
                Thread t = new Thread(r, "gguf4j-quantize");
                t.setDaemon(true);
                return t;
            });
            boolean done = false;
            // two output buffers, each as large as the largest converted tensor, reused in turn: the pool converts
            // the next tensor into one while this thread writes the other (a fresh buffer per tensor was zeroed and
            // page-faulted again every time, and writing waited for converting)
            long largest = plan.tensors().stream().filter(PlannedTensor::convert).mapToLong(PlannedTensor::bytes)
                    .max().orElse(0);
            try (Arena buffers = Arena.ofShared()) {
                MemorySegment[] two = {buffers.allocate(Math.max(1, largest), 64),
                        buffers.allocate(Math.max(1, largest), 64)};
                try (GgufWriter w = GgufWriter.create(tmp);
                        FileChannel source = FileChannel.open(input, StandardOpenOption.READ);
                        Pipeline pipe = new Pipeline(plan.tensors(), two, pool, o.threads, listener)) {
                    declare(w, plan);
                    for (int i = 0; i < plan.tensors().size(); i++) {
                        PlannedTensor t = plan.tensors().get(i);
                        listener.tensorStarted(i, t);
                        int index = i;
                        if (t.convert()) {
                            w.writeTensor(t.name(), ch -> writeTensor(t, index, ch, pipe, listener));
                        } else { // copied: file to file in the kernel
                            GgufTensor src = t.source();
                            w.writeTensor(t.name(), source, in.dataOffset() + src.offset(), src.byteSize());
                            listener.progress(src.byteSize());
                        }
                        listener.tensorDone(index, t);
                    }
                    w.finish();
                }
                PartialFile.commit(tmp, out);
                done = true;
            } finally {
                pool.shutdownNow();
                if (!done) {
                    Files.deleteIfExists(tmp);
                }
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException ignored) {
                    // already shutting down
                }
            }
            return plan;
        }
    }

    private static void writeTensor(PlannedTensor t, int index, WritableByteChannel ch, Pipeline pipe,
            Listener listener) throws IOException {
        Pending p = pipe.take(index);
        p.await();
        writeAll(ch, p.out);
    }

    /**
     * The converted tensors' work, one tensor ahead: {@link #take} returns tensor i's conversion (submitted now, or
     * earlier as the one ahead) after submitting the next converted tensor's into the other buffer.
     */
    private static final class Pipeline implements AutoCloseable {
        private final List<PlannedTensor> tensors;
        private final MemorySegment[] buffers;
        private final ExecutorService pool;
        private final int threads;
        private final Listener listener;
        private Pending ahead;
        private int aheadIndex = -1;
        private int nextBuffer;

        Pipeline(List<PlannedTensor> tensors, MemorySegment[] buffers, ExecutorService pool, int threads,
                Listener listener) {
            this.tensors = tensors;
            this.buffers = buffers;
            this.pool = pool;
            this.threads = threads;
            this.listener = listener;
        }

        Pending take(int i) {
            Pending p;
            if (aheadIndex == i) {
                p = ahead;
                ahead = null;
                aheadIndex = -1;
            } else {
                p = submitInto(i);
            }
            for (int k = i + 1; k < tensors.size(); k++) {
                if (tensors.get(k).convert()) {
                    try {
                        ahead = submitInto(k);
                    } catch (RuntimeException e) {
                        p.release();
                        throw e;
                    }
                    aheadIndex = k;
                    break;
                }
            }
            return p;
        }

        private Pending submitInto(int k) {
            PlannedTensor t = tensors.get(k);
            MemorySegment out = buffers[nextBuffer].asSlice(0, t.bytes());
            nextBuffer ^= 1;
            return submit(t, out, pool, threads, listener);
        }

        @Override
        public void close() {
            if (ahead != null) {
                ahead.release();
                ahead = null;
            }
        }
    }

    /** One tensor's conversion jobs on the pool, and the imatrix rows they read. */
    static final class Pending {
        final MemorySegment out;
        private final List<Future<?>> jobs = new ArrayList<>();
        private final Arena arena = Arena.ofShared();
        private boolean released;

        Pending(MemorySegment out) {
            this.out = out;
        }

        /** Waits for every job; rethrows the first failure. Releases the jobs either way. */
        void await() throws IOException {
            try {
                for (Future<?> f : jobs) {
                    try {
                        f.get();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", e);
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof RuntimeException re) {
                            throw re;
                        }
                        throw new IOException(e.getCause());
                    }
                }
            } finally {
                release();
            }
        }

        /** No job may still read the arena when it closes: cancels the queued jobs, waits for the running ones. */
        void release() {
            if (released) {
                return;
            }
            released = true;
            for (Future<?> f : jobs) {
                f.cancel(false);
            }
            for (Future<?> f : jobs) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                    // already reported, or cancelled
                }
            }
            arena.close();
        }
    }

    /** Converts every row of {@code t.source()} to {@code t.type()} into {@code out}, on the pool. */
    static void quantizeInto(PlannedTensor t, MemorySegment out, ExecutorService pool, int threads, Listener listener)
            throws IOException {
        submit(t, out, pool, threads, listener).await();
    }

    /** Submits the conversion of every row of {@code t.source()} to {@code t.type()} into {@code out} to the pool. */
    static Pending submit(PlannedTensor t, MemorySegment out, ExecutorService pool, int threads, Listener listener) {
        GgufTensor src = t.source();
        int n = Math.toIntExact(src.rowLength());
        long rowsPerMatrix = src.dim(1);
        long matrices = src.rows() / Math.max(1, rowsPerMatrix);
        TypeCodec from = Codecs.of(src.type());
        boolean searched = t.search() == QuantizeOptions.Search.BETTER && BetterSearch.covers(t.type());
        TypeCodec to = searched ? (t.gptq() != null ? Gptq.codec(t.type(), t.gptq(), n) : BetterSearch.codec(t.type()))
                : Codecs.of(t.type());
        long srcRowBytes = src.rowBytes();
        long dstRowBytes = t.type().bytesFor(n);
        NativeCpu lib = searched ? null : nativeQuantizer(src, t.type()); // the search is Java's (the reference is C's)
        // The Java quantizers take small chunks (a float buffer per thread); the native one takes threads * 8 chunks
        // per matrix (fewer hand-offs to the pool: with 8-row chunks, a TinyLlama run queued 67,000 jobs)
        long minRows = Math.max(1, (MIN_CHUNK_ELEMENTS + n - 1) / n);
        int rowsPerChunk = (int) Math.min(Math.max(1, rowsPerMatrix), lib == null ? minRows
                : Math.max(minRows, (rowsPerMatrix + 8L * threads - 1) / (8L * threads)));
        ThreadLocal<float[]> buffers = ThreadLocal.withInitial(() -> new float[rowsPerChunk * n]);
        Pending pending = new Pending(out);
        List<Future<?>> jobs = pending.jobs;
        Arena arena = pending.arena; // the imatrix rows the native quantizer reads
        try {
            for (long m = 0; m < matrices; m++) {
                float[] imp = t.importance() == null ? null
                        : java.util.Arrays.copyOfRange(t.importance(), (int) (m * n), (int) ((m + 1) * n));
                MemorySegment impSeg = lib == null || imp == null ? MemorySegment.NULL
                        : arena.allocateFrom(ValueLayout.JAVA_FLOAT, imp);
                for (long r0 = 0; r0 < rowsPerMatrix; r0 += rowsPerChunk) {
                    long row = m * rowsPerMatrix + r0;
                    int rows = (int) Math.min(rowsPerChunk, rowsPerMatrix - r0);
                    jobs.add(pool.submit(() -> {
                        dev.gguf4j.internal.MemoryLock.populate(src.data().asSlice(row * srcRowBytes,
                                rows * srcRowBytes)); // the chunk's pages in one call, not a fault per 64 KiB
                        if (lib != null) {
                            long bad = lib.quantizeRows(lib.isa(), src.type(), src.data().asSlice(row * srcRowBytes,
                                    rows * srcRowBytes), srcRowBytes, t.type(), out.asSlice(row * dstRowBytes,
                                    rows * dstRowBytes), rows, n, impSeg);
                            if (bad >= 0) {
                                long badRow = row + bad / n;
                                float[] buf = new float[n];
                                from.dequantize(src.data(), badRow * srcRowBytes, buf, 0, n);
                                throw nonFinite(src, badRow, n, (int) (bad % n), buf[(int) (bad % n)]);
                            }
                        } else {
                            float[] buf = buffers.get();
                            from.dequantize(src.data(), row * srcRowBytes, buf, 0, rows * n);
                            for (int i = 0; i < rows * n; i++) {
                                if (!Float.isFinite(buf[i])) {
                                    throw nonFinite(src, row, n, i, buf[i]);
                                }
                            }
                            to.quantizeRows(buf, 0, rows, n, imp, out, row * dstRowBytes);
                        }
                        listener.progress(rows * srcRowBytes);
                        return null;
                    }));
                }
            }
            return pending;
        } catch (RuntimeException e) {
            pending.release();
            throw e;
        }
    }

    private static Gguf4jException nonFinite(GgufTensor src, long row, int n, int i, float value) {
        return new Gguf4jException("tensor '" + src.name() + "' row " + (row + i / n) + " column " + (i % n) + " is "
                + value + ": cannot quantize non-finite values");
    }

    /**
     * libgguf4j's quantizer ({@code g4j_quantize_rows}: the same bytes, computed in C with vector code) when it
     * loaded, the backend setting does not ask for plain Java, and it has this source and target type; else null
     * (the Java quantizers, {@link Codecs}, do the work).
     */
    static NativeCpu nativeQuantizer(GgufTensor src, GgmlType target) {
        if (!nativeQuantize || !src.data().isNative() || !CpuBackend.isAvailable()) {
            return null;
        }
        NativeCpu lib = CpuBackend.get().library();
        return lib.canQuantizeRows(src.type(), target) ? lib : null;
    }

    /** False when {@code gguf4j.backend=java}: the quantizer then stays in Java too (tests set it either way). */
    static volatile boolean nativeQuantize = dev.gguf4j.Settings.fromSystemProperties().backend()
            != dev.gguf4j.Settings.BackendChoice.JAVA;

    private static void writeAll(WritableByteChannel ch, MemorySegment seg) throws IOException {
        final long step = 1L << 30;
        for (long off = 0; off < seg.byteSize(); off += step) {
            ByteBuffer b = seg.asSlice(off, Math.min(step, seg.byteSize() - off)).asByteBuffer();
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }
}
