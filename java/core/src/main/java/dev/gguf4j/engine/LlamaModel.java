package dev.gguf4j.engine;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.ArchitectureException;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.Gguf4jException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model's weights (the tensors its {@link Architecture}'s table names), memory-mapped and never copied (norm vectors and biases, a few KB, are
 * decoded to float[]), or, with mmap off, read once into off-heap memory the model owns. Immutable and shared:
 * any number of {@link LlamaSession}s, each with its own KV cache, can run on one model at once. Closing it
 * unmaps the file or frees the memory at once.
 */
public final class LlamaModel implements AutoCloseable {
    private final GgufFile file;
    private final LlamaConfig config;
    private final Architecture architecture;
    private final GgufTensor tokenEmbedding;
    private final float[] outputNorm; // null for encoders
    private final java.util.Map<TensorRole, float[]> modelVectors = new java.util.EnumMap<>(TensorRole.class);
    private final GgufTensor positionEmbedding; // bert's position_embd [ctx][dim], or null
    private Weight output; // replaced once by repack, at load
    private final List<TensorRole.Spec> layerTensors; // the architecture's table for this config
    private final Weight[][] matrices;  // [layer][TensorRole ordinal]: the table's matrices (null: absent); repack replaces them once, at load
    private final float[][][] vectors;  // [layer][TensorRole ordinal]: its norm weights and biases (null: absent)
    private final Weight[][][] experts; // [layer][TensorRole ordinal][expert]: views of a stacked matrix's slices
    /** Holds the repacked copies (repack); null when there are none. */
    private java.lang.foreign.Arena repackArena;
    private long repackedBytes;
    private long repackedExtraBytes;
    private long repackNanos;
    private boolean repackKeepsBits = true;
    private final float[] ropeFreqs; // [ropeDim/2] Llama-3 rope scaling factors (rope_freqs.weight), or null
    private final float[] ropeFactorsLong;  // [ropeDim/2] Phi-3.5's LongRoPE divisors, or null
    private final float[] ropeFactorsShort; // [ropeDim/2]
    /** Why mlock was asked for and failed; null when not asked for or when it worked. */
    private volatile String lockFailure;
    private volatile boolean locked;
    /** The mapped files (a split model has several), open to read their current sizes (fstat: the mapped inode, even if renamed over); empty unmapped. */
    private List<FileChannel> mappedFiles = List.of();

    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");

    private LlamaModel(GgufFile file) {
        this.file = file;
        String src = file.source();
        int vocab = file.metadata().getArray(WellKnownKeys.TOKENS).length();
        this.architecture = Architectures.of(src, new WellKnownKeys(file.metadata()).architecture())
                .forFile(src, file.metadata());
        this.config = architecture.config(src, file.metadata(), vocab);
        LlamaConfig c = config;
        this.tokenEmbedding = required(file, TensorRole.TOKEN_EMBD.tensorName(0));
        Weight.of(src, tokenEmbedding, c.dim(), c.vocab()); // shape check
        // encoders (bert) have no output layer: output_norm is not read, and output stays the tied embedding
        this.outputNorm = architecture.encoder() ? null
                : decode(file, required(file, TensorRole.OUTPUT_NORM.tensorName(0)), c.dim());
        for (TensorRole.Spec s : architecture.modelVectors(c)) {
            Optional<GgufTensor> t = file.tensor(s.role().tensorName(0));
            if (t.isEmpty()) {
                if (s.required()) {
                    required(file, s.role().tensorName(0));
                }
                continue;
            }
            modelVectors.put(s.role(), decodePrefix(file, t.get(), s.cols()));
        }
        this.positionEmbedding = file.tensor(TensorRole.POS_EMBD.tensorName(0)).orElse(null);
        if (positionEmbedding != null) {
            Weight.of(src, positionEmbedding, c.dim(), (int) (positionEmbedding.elementCount() / c.dim()));
        }
        // untied models have output.weight; tied ones reuse the token embedding
        if (architecture.outputRequired()) {
            required(file, TensorRole.OUTPUT.tensorName(0));
        }
        this.output = Weight.of(src, file.tensor(TensorRole.OUTPUT.tensorName(0)).orElse(tokenEmbedding), c.dim(),
                c.vocab());
        this.ropeFreqs = file.tensor(TensorRole.ROPE_FREQS.tensorName(0)).map(t -> decode(file, t, c.ropeDim() / 2))
                .orElse(null);
        this.ropeFactorsLong = file.tensor(TensorRole.ROPE_FACTORS_LONG.tensorName(0))
                .map(t -> decode(file, t, c.ropeDim() / 2)).orElse(null);
        this.ropeFactorsShort = file.tensor(TensorRole.ROPE_FACTORS_SHORT.tensorName(0))
                .map(t -> decode(file, t, c.ropeDim() / 2)).orElse(null);
        this.layerTensors = List.copyOf(architecture.layerTensors(c));
        int roles = TensorRole.values().length;
        this.matrices = new Weight[c.layers()][roles];
        this.vectors = new float[c.layers()][roles][];
        this.experts = new Weight[c.layers()][roles][];
        for (int l = 0; l < c.layers(); l++) {
            for (TensorRole.Spec s : layerTensors) {
                String name = s.role().tensorName(l);
                Optional<GgufTensor> t = file.tensor(name);
                if (t.isEmpty()) {
                    if (s.required()) {
                        required(file, name);
                    }
                    continue;
                }
                if (s.experts() > 0) {
                    Weight w = Weight.stacked(src, t.get(), s.cols(), s.rows(), s.experts());
                    matrices[l][s.role().ordinal()] = w;
                    Weight[] slices = new Weight[s.experts()];
                    for (int e = 0; e < slices.length; e++) {
                        slices[e] = w.slice("[expert " + e + "]", e * s.rows(), s.rows());
                    }
                    experts[l][s.role().ordinal()] = slices;
                } else if (s.matrix()) {
                    Weight w = Weight.of(src, t.get(), s.cols(), s.rows());
                    matrices[l][s.role().ordinal()] = w;
                    for (int i = 0, r0 = 0; s.parts() != null && i < s.parts().length; r0 += s.partRows()[i++]) {
                        int rows = s.partRows()[i];
                        matrices[l][s.parts()[i].ordinal()] = new Weight(w.name() + "[rows " + r0 + ".." + (r0 + rows)
                                + ")", w.type(), rows, w.cols(), w.rowBytes(),
                                w.data().asSlice(r0 * w.rowBytes(), rows * w.rowBytes()), null);
                    }
                } else {
                    vectors[l][s.role().ordinal()] = decode(file, t.get(), s.cols());
                }
            }
        }
    }

    /** The tensor called {@code name}; an {@link ArchitectureException} naming the architecture if it is missing. */
    private GgufTensor required(GgufFile f, String name) {
        return f.tensor(name).orElseThrow(() -> new ArchitectureException(f.source(), architecture.name(),
                "tensor '" + name + "'", "is missing, and the " + architecture.name() + " architecture requires it",
                Architectures.names()));
    }

    /** Maps and checks the model at {@code path}. */
    public static LlamaModel load(Path path) throws IOException {
        return load(path, true, false);
    }

    /**
     * Loads and checks the model at {@code path}, as llama.cpp's {@code use_mmap} / {@code use_mlock}.
     *
     * @param mmap  memory-map the file (pages come in on demand and are shared with the page cache); false reads
     *              it whole into off-heap memory owned by the model, freed by {@link #close()} (a
     *              {@link dev.gguf4j.gguf.GgufLoadException} if the memory cannot be had or the read fails)
     * @param mlock lock the weight pages in RAM (mlock(2)) so they are never paged out. As llama.cpp, a failure
     *              (typically RLIMIT_MEMLOCK) is a warning, logged once, and loading goes on unlocked:
     *              {@link #memoryLocked()} and {@link #lockFailure()} tell what happened
     */
    public static LlamaModel load(Path path, boolean mmap, boolean mlock) throws IOException {
        GgufFile f = GgufFile.openModel(path, mmap);
        LlamaModel m = null;
        try {
            m = new LlamaModel(f);
            if (mmap) {
                List<FileChannel> channels = new java.util.ArrayList<>();
                m.mappedFiles = channels;
                for (GgufFile part : f.parts()) {
                    channels.add(FileChannel.open(Path.of(part.source()), StandardOpenOption.READ));
                }
            }
        } catch (RuntimeException | IOException e) {
            f.close();
            closeChannels(m == null ? List.of() : m.mappedFiles);
            throw e;
        }
        if (mlock) {
            m.lock();
        } else if (mmap) {
            m.prefaultExperts();
        }
        return m;
    }

    /**
     * Gives every 2-D weight the backend makes a copy of at load ({@link dev.gguf4j.backend.Backend#repackKind},
     * the one table of which type gets which copy) its copy, on transparent huge pages where the kernel gives them:
     * <ul>
     * <li>INTERLEAVED (the native CPU backend's r8 for Q4_0, Q8_0, Q4_K, Q5_K and Q6_K): a layout with rows
     * interleaved by 8, which every matrix product reads instead of the weights (the k-quants with their own
     * arithmetic: {@link #repackKeepsBits}). Over a file mapping it replaces the file's pages as COPY
     * does; weights read without mmap, or locked, keep their memory and get the copy on top of it.
     * <li>COPY (every other type on the native CPU backend): the file's bytes, which every matrix product then
     * reads. Only over a file mapping: weights read without mmap are on huge pages already, and locked ones
     * (mlock) stay where they were locked.
     * </ul>
     * Over a file mapping the mapping's pages are advised away (MADV_DONTNEED,
     * {@link dev.gguf4j.internal.MemoryLock#release}) so the copy replaces them in the resident set; a tied output
     * matrix is copied, and the embedding table's rows are still gathered from the file.
     * The copy changes where the bytes are, not a result: logits are bit-identical either way. Costs the copies'
     * memory and the time to make them (logged, {@link #repackedBytes()}, {@link #repackedExtraBytes()}). Call
     * once, before any session runs on the model; returns the bytes copied (0 if nothing was).
     */
    public synchronized long repack(dev.gguf4j.backend.Backend backend) {
        return repack(backend, 1);
    }

    /** {@link #repack(dev.gguf4j.backend.Backend)} on {@code threads} threads (a matrix each at a time). */
    public synchronized long repack(dev.gguf4j.backend.Backend backend, int threads) {
        if (repackArena != null) {
            return repackedBytes;
        }
        long t0 = System.nanoTime();
        // every matrix of the architecture's table, then the output (slots: index / roles = layer)
        int roles = TensorRole.values().length;
        Weight[] ws = new Weight[matrices.length * roles + 1];
        for (int l = 0; l < matrices.length; l++) {
            System.arraycopy(matrices[l], 0, ws, l * roles, roles);
            for (TensorRole.Spec spec : layerTensors) {
                if (spec.parts() != null || spec.experts() > 0) {
                    // a fused matrix: the forward pass reads its parts; stacked experts: their slices (not copied)
                    ws[l * roles + spec.role().ordinal()] = null;
                }
            }
        }
        ws[ws.length - 1] = output;
        String embedding = tokenEmbedding.name(); // a tied output's file bytes stay: the embedding rows are read there
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong extra = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
        java.util.Set<String> types = java.util.concurrent.ConcurrentHashMap.newKeySet(); // for the log
        java.util.concurrent.atomic.AtomicBoolean sameBits = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable work = () -> {
            for (int i = next.getAndIncrement(); i < ws.length && failure.get() == null; i = next.getAndIncrement()) {
                Weight w = ws[i];
                if (w == null || w.repacked() != null) {
                    continue;
                }
                dev.gguf4j.backend.Backend.Repack kind = backend.repackKind(w.type());
                boolean copy = kind == dev.gguf4j.backend.Backend.Repack.COPY;
                if (kind == dev.gguf4j.backend.Backend.Repack.NONE || copy && (!w.data().isMapped() || locked)) {
                    continue;
                }
                long n = backend.repackedBytes(w.type(), w.rows(), w.cols());
                if (n <= 0) {
                    continue;
                }
                try {
                    // on huge pages where the kernel gives them, as the weights read without mmap (GgufFile)
                    java.lang.foreign.MemorySegment out = dev.gguf4j.internal.MemoryLock.allocateForStreaming(arena, n,
                            64);
                    if (w.data().isMapped() && !locked) {
                        dev.gguf4j.internal.MemoryLock.populate(w.data()); // one call, not a fault per 4 KiB page
                    }
                    backend.repack(w.type(), w.data(), w.rowBytes(), w.rows(), w.cols(), out);
                    ws[i] = copy ? w.withData(out) : w.withRepacked(out);
                    boolean gathered = w.name().equals(embedding);
                    if (kind.keepsFilePages(gathered) || !w.data().isMapped() || locked) {
                        extra.addAndGet(n);
                    } else {
                        dev.gguf4j.internal.MemoryLock.release(w.data());
                        extra.addAndGet(kind.extraOverMapping(n, w.rows() * w.rowBytes(), gathered));
                    }
                    bytes.addAndGet(n);
                    count.incrementAndGet();
                    types.add(w.type() + (copy ? "" : " interleaved"));
                    if (!backend.repackKeepsBits(w.type())) {
                        sameBits.set(false);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }
        };
        Thread[] helpers = new Thread[Math.max(0, Math.min(threads, ws.length) - 1)];
        for (int t = 0; t < helpers.length; t++) {
            helpers[t] = Thread.ofPlatform().name("gguf4j-repack-" + (t + 1)).start(work);
        }
        work.run();
        for (Thread t : helpers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.compareAndSet(null, e);
                next.set(ws.length);
            }
        }
        Throwable f = failure.get();
        if (f != null) {
            for (Thread t : helpers) {
                t.interrupt();
            }
            for (Thread t : helpers) {
                try {
                    t.join();
                } catch (InterruptedException ignored) {
                    // already failing
                }
            }
            arena.close();
            if (f instanceof OutOfMemoryError) {
                throw new Gguf4jException(file.source() + ": cannot allocate " + bytes.get() + "+ bytes to repack"
                        + " its weights for the " + backend.name() + " backend (" + f.getMessage() + "); load with"
                        + " repacking off (--no-repack, LlamaOptions.withRepack(false))");
            }
            if (f instanceof RuntimeException r) {
                throw r;
            }
            throw new Gguf4jException(file.source() + ": repacking interrupted", f);
        }
        for (int l = 0; l < matrices.length; l++) {
            for (int r = 0; r < roles; r++) {
                if (ws[l * roles + r] != null) {
                    matrices[l][r] = ws[l * roles + r];
                }
            }
        }
        output = ws[ws.length - 1];
        repackArena = arena;
        repackedBytes = bytes.get();
        repackedExtraBytes = extra.get();
        repackNanos = System.nanoTime() - t0;
        repackKeepsBits = sameBits.get();
        if (count.get() > 0) {
            LOG.log(System.Logger.Level.INFO, String.format("gguf4j: copied %.1f MiB of weights (%d matrices, %s)"
                    + " onto huge pages for the %s backend in %d ms on %d thread(s), %.1f MiB of it on top of the"
                    + " file's pages (%s; --no-repack / LlamaOptions.withRepack(false) reads the mapped file instead)",
                    bytes.get() / 1048576.0, count.get(),
                    String.join(", ", new java.util.TreeSet<>(types)), backend.name(), repackNanos / 1_000_000,
                    helpers.length + 1, extra.get() / 1048576.0, repackKeepsBits ? "bit-identical results"
                            : "the k-quants' interleaved copies compute their own arithmetic, within float rounding of"
                            + " the file layout's"));
        }
        return bytes.get();
    }

    /**
     * Whether the copies {@link #repack} made give the file layout's bits (Backend.repackKeepsBits of every type
     * copied); true when none were made.
     */
    public synchronized boolean repackKeepsBits() {
        return repackKeepsBits;
    }

    /** Nanoseconds {@link #repack} took; 0 when it did not run. */
    public synchronized long repackNanos() {
        return repackNanos;
    }

    /** Bytes of the weight copies made at load ({@link #repack}, every kind); 0 when there are none. */
    public synchronized long repackedBytes() {
        return repackedBytes;
    }

    /**
     * The part of {@link #repackedBytes()} held on top of the file's pages: the interleaved copies (batches still
     * read the file) and a tied output's copy (the embedding rows are still read from the file); the plain copies
     * replace the mapped pages they were made from.
     */
    public synchronized long repackedExtraBytes() {
        return repackedExtraBytes;
    }

    /**
     * Maps the pages of the stacked expert tensors into the process at load (MemorySegment.load: madvise
     * WILLNEED, then a read per page), as llama.cpp's MAP_POPULATE does for the whole file. A dense model's
     * first token touches every weight page; a mixture-of-experts model's tokens reach an expert first at an
     * arbitrary later step, which would then take its page faults inside generation. Costs reading the experts
     * once at load (from the page cache when the file is there).
     */
    private void prefaultExperts() {
        for (int l = 0; l < matrices.length; l++) {
            for (TensorRole.Spec s : layerTensors) {
                Weight w = s.experts() > 0 ? matrices[l][s.role().ordinal()] : null;
                if (w != null && w.data().isMapped()) {
                    w.data().load();
                }
            }
        }
    }

    private void lock() {
        Optional<String> failure = Optional.empty();
        for (GgufFile part : file.parts()) {
            failure = failure.or(() -> dev.gguf4j.internal.MemoryLock.lock(weightBytes(part)));
        }
        if (failure.isPresent()) {
            for (GgufFile part : file.parts()) {
                dev.gguf4j.internal.MemoryLock.unlock(weightBytes(part)); // in case part of it was locked
            }
            lockFailure = failure.get();
            LOG.log(System.Logger.Level.WARNING, "gguf4j: " + file.source() + ": could not lock the weights in RAM,"
                    + " going on without: " + lockFailure);
        } else {
            locked = true;
        }
    }

    /** A file's data section: the weights (the header and metadata were parsed already). */
    private static java.lang.foreign.MemorySegment weightBytes(GgufFile part) {
        return part.contents().asSlice(Math.min(part.dataOffset(), part.contents().byteSize()));
    }

    /** Whether the weights are locked in RAM (mlock asked for, and it worked). */
    public boolean memoryLocked() {
        return locked;
    }

    /** Why mlock failed (errno, RLIMIT_MEMLOCK), when it was asked for and failed. */
    public Optional<String> lockFailure() {
        return Optional.ofNullable(lockFailure);
    }

    /** The first {@code n} values of {@code t}, which must hold a whole number of such rows (token_types). */
    private static float[] decodePrefix(GgufFile f, GgufTensor t, int n) {
        if (t.elementCount() < n || t.elementCount() % n != 0) {
            throw new dev.gguf4j.gguf.GgufFormatException(f.source(), "tensor '" + t.name() + "'", "has "
                    + t.elementCount() + " elements, expected a multiple of " + n);
        }
        float[] v = new float[n];
        Codecs.of(t.type()).dequantize(t.data(), 0, v, 0, n);
        return v;
    }

    /** A model-level vector of the architecture's {@link Architecture#modelVectors} table, or null. */
    float[] modelVector(TensorRole role) {
        return role == TensorRole.OUTPUT_NORM ? outputNorm : modelVectors.get(role);
    }

    /** bert's position embeddings [positions][dim], or null. */
    GgufTensor positionEmbedding() {
        return positionEmbedding;
    }

    private static float[] decode(GgufFile f, GgufTensor t, int n) {
        if (t.elementCount() != n) {
            throw new dev.gguf4j.gguf.GgufFormatException(f.source(), "tensor '" + t.name() + "'", "has "
                    + t.elementCount() + " elements, expected " + n);
        }
        float[] v = new float[n];
        Codecs.of(t.type()).dequantize(t.data(), 0, v, 0, n);
        return v;
    }

    public LlamaConfig config() {
        return config;
    }

    public GgufFile file() {
        return file;
    }

    GgufTensor tokenEmbedding() {
        return tokenEmbedding;
    }

    float[] outputNorm() {
        return outputNorm;
    }

    public Weight output() {
        return output;
    }

    /** Per-frequency RoPE divisors (Llama 3.1+'s rope_freqs.weight), or null. */
    public float[] ropeFreqs() {
        return ropeFreqs;
    }

    /**
     * The per-frequency RoPE divisors a session of {@code contextLength} positions uses: rope_freqs if the model
     * has it; else Phi-3.5's long factors when the context, padded to 32 as llama.cpp pads n_ctx, exceeds the
     * original context ({@code rope.scaling.original_context_length}), else its short ones (llama.cpp's
     * build_rope_factors: one choice per context, not per position); null when the model has none.
     */
    float[] ropeFactors(int contextLength) {
        if (ropeFreqs != null) {
            return ropeFreqs;
        }
        long padded = (contextLength + 31L) / 32 * 32;
        return padded > config.ropeOrigContext() ? ropeFactorsLong : ropeFactorsShort;
    }

    /** Every per-frequency RoPE divisor set the model has (rope_freqs, LongRoPE's long and short), for the device. */
    java.util.List<float[]> ropeFactorSets() {
        java.util.List<float[]> sets = new java.util.ArrayList<>(3);
        for (float[] f : new float[][] {ropeFreqs, ropeFactorsLong, ropeFactorsShort}) {
            if (f != null) {
                sets.add(f);
            }
        }
        return sets;
    }

    /** Whether the model has Phi-3.5's long/short RoPE factors (chosen per session by its context length). */
    boolean hasLongRopeFactors() {
        return ropeFactorsLong != null || ropeFactorsShort != null;
    }

    /** The model's architecture. */
    public Architecture architecture() {
        return architecture;
    }

    /** The architecture's per-layer tensor table for this model's shape. */
    List<TensorRole.Spec> layerTensors() {
        return layerTensors;
    }

    /** Layer {@code l}'s matrix of this role, or null when the model has none. */
    Weight weight(int l, TensorRole role) {
        return matrices[l][role.ordinal()];
    }

    /** Expert {@code e}'s slice of layer {@code l}'s stacked matrix of this role (a view), or null if none. */
    Weight expert(int l, TensorRole role, int e) {
        Weight[] slices = experts[l][role.ordinal()];
        return slices == null ? null : slices[e];
    }

    /** Layer {@code l}'s vector (norm weights, bias) of this role, or null when the model has none. */
    public float[] vector(int l, TensorRole role) {
        return vectors[l][role.ordinal()];
    }

    /** Layer {@code l}'s matrices, in table order. */
    public List<Weight> weights(int l) {
        List<Weight> ws = new java.util.ArrayList<>();
        for (TensorRole.Spec s : layerTensors) {
            Weight w = s.matrix() ? matrices[l][s.role().ordinal()] : null;
            if (w != null) {
                ws.add(w);
            }
        }
        return ws;
    }

    /**
     * Fails if the mapped file has shrunk below the mapping since it was loaded: reading the pages past its new end
     * would kill the JVM with SIGBUS inside a kernel (as it kills llama.cpp). {@link LlamaSession} checks this
     * before its first step and then at most every {@link #FILE_CHECK_NANOS}; it narrows the window, it cannot close
     * it (a file cut while a step runs still kills the process): loading with mmap off is the way to be immune.
     * Free with mmap off (the file is not read again).
     */
    void checkMappedFile() {
        List<FileChannel> channels = mappedFiles;
        for (int i = 0; i < channels.size(); i++) {
            checkMappedFile(channels.get(i), file.parts().get(i));
        }
    }

    private static void checkMappedFile(FileChannel ch, GgufFile part) {
        long now;
        try {
            now = ch.size();
        } catch (java.nio.channels.ClosedChannelException e) {
            throw new IllegalStateException("closed");
        } catch (IOException e) {
            return; // cannot tell; the mapping may still be whole
        }
        long mapped = part.contents().byteSize();
        if (now < mapped) {
            throw new Gguf4jException(part.source() + ": the model file shrank from " + mapped + " to " + now
                    + " bytes while it was memory-mapped (truncated or rewritten in place); reading it now would crash"
                    + " the JVM (SIGBUS). Restore the file and load it again, or load with mmap off (--no-mmap,"
                    + " LlamaOptions.withMmap(false)) to read it into memory once");
        }
    }

    /** How often a session re-checks the mapped file's size ({@link #checkMappedFile}): every 100 ms at most. */
    static final long FILE_CHECK_NANOS = 100_000_000L;

    /** Unmaps the file or frees the memory holding the weights (unlocking them first if locked). */
    @Override
    public synchronized void close() {
        if (locked && file.contents().scope().isAlive()) {
            for (GgufFile part : file.parts()) {
                dev.gguf4j.internal.MemoryLock.unlock(weightBytes(part));
            }
            locked = false;
        }
        file.close();
        if (repackArena != null) {
            repackArena.close();
        }
        closeChannels(mappedFiles);
    }

    private static void closeChannels(List<FileChannel> channels) {
        for (FileChannel ch : channels) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // a read-only descriptor: nothing was written
            }
        }
    }
}
