package dev.gguf4j.llama;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Accelerator;
import dev.gguf4j.backend.Accelerators;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.BackendUnavailableException;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.backend.DeviceMemory;
import dev.gguf4j.backend.DeviceOutOfMemoryException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.sampling.Sampler;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.tokenizer.Decoder;
import dev.gguf4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterators;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A loaded model, ready to complete text: the Java counterpart of llama-cpp-python's {@code Llama}.
 *
 * <pre>{@code
 * try (Llama llama = Llama.load(Path.of("model.gguf"), LlamaOptions.DEFAULTS)) {
 *     Completion c = llama.complete("Once upon a time", CompletionParams.DEFAULTS.withMaxTokens(64));
 *     System.out.println(c.text());
 * }
 * }</pre>
 *
 * <p>Chat: {@link #chat} and {@link #chatStream} render a conversation with the model's chat template and reply
 * in OpenAI's shapes; the KV cache of the last chat that ended is kept and reused for the prefix the next shares.
 *
 * <p>Thread safety: a {@code Llama} may be shared by any number of threads; each {@link #complete} (and each
 * {@link #newSession()}) has its own KV cache and workers, while the weights are mapped once and shared.
 *
 * <p>Closing: {@link #close()} may be called at any time, from any thread. It cancels the completions still in
 * progress ({@link #complete} calls running in other threads, {@link #stream}s not yet exhausted or closed), waits
 * until none of them is computing (each checks between tokens, and between prompt batches, so the wait is at most
 * one forward step), closes their sessions, and only then frees the weights: no kernel ever reads freed memory. A
 * cancelled completion ends with a {@link GenerationCancelledException} (its {@code partial()} holds the text so
 * far, finish reason {@code "cancelled"}): {@code complete} throws it, and a stream throws it from its next step
 * (the chunks it already gave stay valid). {@code close()} is idempotent (a second call returns once the first has
 * freed everything); after it, {@link #complete}, {@link #stream}, {@link #newSession}, {@link #tokenize} and
 * {@link #detokenize} throw {@code IllegalStateException("closed")}. Sessions from {@link #newSession()} are the
 * caller's: close them before closing the {@code Llama} (a session used after it reads freed memory).
 */
public final class Llama implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final LlamaOptions options;
    private final Backend backend;
    private final int contextLength;
    private final String name;
    private final long loadNanos;
    private final OffloadPlan offloadPlan;
    private final DeviceWeights deviceWeights; // null: CPU only
    private final boolean deviceGraphs = dev.gguf4j.Settings.fromSystemProperties().deviceGraphs();
    private static final AtomicBoolean NO_GPU_LOGGED = new AtomicBoolean();
    /** Guards {@link #live}, {@link #released} and each generation's busy / ended state. */
    private final Object lock = new Object();
    /** Generations started and not yet ended (their sessions open). */
    private final java.util.Set<Generation> live = new java.util.LinkedHashSet<>();
    private final java.util.concurrent.atomic.LongAdder generatedTokens = new java.util.concurrent.atomic.LongAdder();
    private volatile boolean closed;
    private boolean released; // the weights are freed
    /**
     * The sessions of the last chats that ended, oldest first, kept for the next ones' shared prefixes (guarded by
     * lock): at most {@link #parkedCapacity}.
     */
    private final java.util.ArrayDeque<ParkedSession> parked = new java.util.ArrayDeque<>();
    private int parkedCapacity = 1; // guarded by lock
    private boolean batchingAsked; // guarded by lock
    /** Non-null once {@link #enableBatching} started it: completions run as its slots. */
    private volatile BatchEngine engine;
    /** The chat template, the file's own or the fallback, parsed on first use. */
    private volatile dev.gguf4j.chat.ChatTemplate chatTemplate;
    private final Object embedLock = new Object();
    private Embedder embedder; // created on the first embed call, guarded by embedLock

    private Llama(LlamaModel model, Tokenizer tokenizer, LlamaOptions options, long loadNanos,
            Supplier<Accelerators.Probe> probe) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options;
        this.backend = Backends.select();
        this.loadNanos = loadNanos;
        int trained = model.config().contextLength();
        if (options.contextPrompt() != null) {
            long n = (long) tokenizer.encode(options.contextPrompt(), true, true).length + options.contextExtra();
            if (n > Integer.MAX_VALUE) {
                throw new Gguf4jException("the prompt and " + options.contextExtra() + " more tokens need a"
                        + " context of " + n + " tokens, more than " + Integer.MAX_VALUE);
            }
            contextLength = (int) n;
        } else if (options.contextLength() > 0) {
            contextLength = options.contextLength();
        } else if (trained > LlamaOptions.DEFAULT_CONTEXT_CAP) {
            contextLength = LlamaOptions.DEFAULT_CONTEXT_CAP;
            LOG.log(System.Logger.Level.INFO, "gguf4j: context length capped at " + contextLength + " tokens (the model"
                    + " was trained with " + trained + "; set LlamaOptions.contextLength to use more)");
        } else {
            contextLength = trained;
        }
        this.name = model.file().metadata().findString("general.name").orElse(model.file().source());
        OffloadPlan.Sizes sizes = offloadSizes(model.config(), model, contextLength, options.kvType(), deviceStep());
        int req = options.gpuLayers();
        if (req == 0 || model.architecture().encoder()) {
            offloadPlan = OffloadPlan.cpu(req, sizes, req == 0 ? "gpuLayers 0"
                    : model.config().architecture() + " is an encoder: embeddings run on the CPU");
            deviceWeights = null;
            repackForCpu();
            return;
        }
        Accelerators.Probe p = probe.get();
        if (p.accelerator().isEmpty()) {
            if (req != LlamaOptions.GPU_LAYERS_AUTO) {
                throw new BackendUnavailableException("gpuLayers=" + req + " asks for GPU offload, but there is no"
                        + " usable GPU: " + p.reason() + " (use gpuLayers 0, or auto, which runs on the CPU when there"
                        + " is no GPU)", null);
            }
            if (NO_GPU_LOGGED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.INFO, "gguf4j: gpuLayers auto: no usable GPU, running on the CPU: " + p.reason());
            }
            offloadPlan = OffloadPlan.cpu(req, sizes, "no usable GPU: " + p.reason());
            deviceWeights = null;
            repackForCpu();
            return;
        }
        Accelerator acc = p.accelerator().get();
        String device = acc.name() + " device";
        DeviceMemory memory = acc.memory();
        int typeLimit = typeLimit(model, acc);
        OffloadPlan plan = OffloadPlan.plan(req, sizes, memory, OffloadPlan.DEFAULT_MARGIN, typeLimit, device);
        if (plan.gpuLayers() > typeLimit) {
            throw new Gguf4jException("gpuLayers=" + req + ": " + typeProblem(model, acc) + "; gpuLayers=" + typeLimit
                    + " would run (the layers above it)");
        }
        LOG.log(System.Logger.Level.INFO, "gguf4j: " + plan.summary() + " [" + acc.description() + "]");
        offloadPlan = plan;
        if (!plan.offloads()) {
            deviceWeights = null;
            repackForCpu();
            return;
        }
        try {
            deviceWeights = DeviceWeights.upload(model, acc, plan);
        } catch (DeviceOutOfMemoryException e) {
            long free = Math.min(memory.freeBytes(), e.freeBytes()); // the device may have claimed more than it had
            int fit = Math.min(sizes.largestFitting(free - OffloadPlan.DEFAULT_MARGIN, sizes.layers() + 1), typeLimit);
            throw OffloadPlan.outOfMemory(req, plan.gpuLayers(), sizes, e.what(), e.requestedBytes(), free, fit, device,
                    e);
        }
    }

    /** With everything on the CPU and {@link LlamaOptions#repack} on: the backend's generation layout (Q4_0). */
    private void repackForCpu() {
        if (options.repack()) {
            model.repack(backend, options.effectiveThreads());
        }
    }

    /** Tokens per device step: the batch size, at most the context. */
    private int deviceStep() {
        return Footprint.deviceStep(options.batchSize(), contextLength);
    }

    /** What each part of the model needs in device memory, for one session of {@code contextLength}. */
    static OffloadPlan.Sizes offloadSizes(LlamaConfig c, LlamaModel model, int contextLength, LlamaSession.KvType kv,
            int maxTokens) {
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

    /**
     * Memory-maps (or, mmap off, reads) and checks the model and its tokenizer, locks it with mlock on, and uploads
     * the GPU layers ({@link LlamaOptions#gpuLayers}).
     */
    public static Llama load(Path path, LlamaOptions options) throws IOException {
        return load(path, options, Accelerators::probe);
    }

    /** {@link #load} with the accelerator from {@code probe} (tests: the host accelerator). */
    static Llama load(Path path, LlamaOptions options, Supplier<Accelerators.Probe> probe) throws IOException {
        long t0 = System.nanoTime();
        Backends.selectInBackground(); // overlaps the metadata and tokenizer below (cold start)
        LlamaModel m = LlamaModel.load(path, options.useMmap(), options.useMlock());
        try {
            Tokenizer t = Tokenizer.fromMetadata(m.file().metadata());
            return new Llama(m, t, options, System.nanoTime() - t0, probe);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    public LlamaConfig config() {
        return model.config();
    }

    /** Whether the weights are locked in RAM ({@link LlamaOptions#useMlock()} asked for it and mlock worked). */
    public boolean memoryLocked() {
        return model.memoryLocked();
    }

    LlamaModel model() {
        return model;
    }

    /** Completions started and not yet ended (tests). */
    int liveGenerations() {
        synchronized (lock) {
            return live.size();
        }
    }

    int threads() {
        return options.effectiveThreads();
    }

    public GgufMetadata metadata() {
        return model.file().metadata();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Where the layers run: the GPU layer count in effect and why, the memory plan. */
    public OffloadPlan offloadPlan() {
        return offloadPlan;
    }

    /** The device GPU layers run on (its description), if any. */
    public java.util.Optional<String> device() {
        return deviceWeights == null ? java.util.Optional.empty()
                : java.util.Optional.of(deviceWeights.accelerator().description());
    }

    /** The backend the matrix products run on. */
    public Backend backend() {
        return backend;
    }

    public int contextLength() {
        return contextLength;
    }

    /** Seconds {@link #load} took (repacking included). */
    public double loadSeconds() {
        return (loadNanos + model.repackNanos()) / 1e9;
    }

    /**
     * Bytes of weights copied at load into the CPU backend's generation layout ({@link LlamaOptions#withRepack}:
     * Q4_0), memory held on top of the model file; 0 when nothing was repacked.
     */
    public long repackedBytes() {
        return model.repackedBytes();
    }

    /** Tokens of {@code text}, with BOS when the model adds it and {@code addBos}; special tokens parsed. */
    public int[] tokenize(String text, boolean addBos) {
        checkOpen();
        return tokenizer.encode(text, addBos, true);
    }

    public String detokenize(int[] tokens) {
        checkOpen();
        return tokenizer.decode(tokens);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
    }

    /**
     * Continuous batching: from now on up to {@code sequences} completions and chats at a time run as sequences of
     * one engine, whose steps evaluate their next tokens together in one batched forward pass over one set of
     * worker threads (a long prompt in chunks of at most 128 tokens per step, between the others' tokens), each
     * sequence with its own KV cache of the full {@link #contextLength()}; further ones run alone on their own
     * session, as before. A completion's output is bit-identical to the same completion run alone (docs/
     * determinism.md). The KV caches of the last {@code sequences} chats that ended are kept, and a chat continues
     * the one whose tokens share the longest prefix with its prompt. Memory: {@code sequences} KV caches, allocated
     * here. CPU only: with GPU layers nothing changes but the number of kept caches (logged), and this returns
     * false; an embedding-only model (an encoder) has nothing to batch and returns false too. Call it once, before
     * the first completion.
     *
     * @return whether batching is on
     * @throws IllegalStateException if called twice, after a completion started, or after {@link #close()}
     */
    public boolean enableBatching(int sequences) {
        return enableBatching(sequences, BatchEngine.DEFAULT_STEP_TOKENS);
    }

    /** {@link #enableBatching(int)} with at most {@code stepTokens} prompt tokens per step (tests). */
    boolean enableBatching(int sequences, int stepTokens) {
        if (sequences < 1) {
            throw new IllegalArgumentException("sequences must be >= 1, got " + sequences);
        }
        synchronized (lock) {
            checkOpen();
            if (batchingAsked) {
                throw new IllegalStateException("batching is already enabled");
            }
            if (!live.isEmpty() || !parked.isEmpty()) {
                throw new IllegalStateException("enableBatching must come before the first completion");
            }
            batchingAsked = true;
            parkedCapacity = sequences;
            if (embeddingOnly()) { // an encoder generates nothing: no KV cache slots to keep
                return false;
            }
            if (deviceWeights != null) {
                LOG.log(System.Logger.Level.INFO, "gguf4j: batching across sequences runs on the CPU only: with GPU"
                        + " layers each sequence keeps its own session");
                return false;
            }
            engine = new BatchEngine(model, backend, options.effectiveThreads(), contextLength, options.kvType(),
                    sequences, stepTokens);
            return true;
        }
    }

    /** Completions and chats in progress (evaluating their prompt or generating), batched or not. */
    public int activeGenerations() {
        synchronized (lock) {
            return live.size();
        }
    }

    /**
     * Token positions held in KV caches now: the generations' in progress and the kept chat caches' (whose prefix a
     * later chat may continue). Read when asked (a metrics scrape), not tracked.
     */
    public long kvCacheTokens() {
        synchronized (lock) {
            long n = 0;
            for (Generation g : live) {
                Sequence s = g.session;
                if (s != null && !g.ended) {
                    n += s.position();
                }
            }
            for (ParkedSession p : parked) {
                n += p.tokens().length;
            }
            return n;
        }
    }

    /** Tokens generated by this Llama's completions and chats so far, counted as each is sampled. */
    public long generatedTokens() {
        return generatedTokens.sum();
    }

    /** Sequences of the batching engine in use (generating or keeping a chat's cache); 0 without batching. */
    public int batchedSequencesInUse() {
        BatchEngine e = engine;
        return e == null ? 0 : e.slotsInUse();
    }

    /**
     * The sequence a generation runs on: a free slot of the engine (the oldest kept chat's, if need be), else its
     * own session.
     */
    private Sequence openSequence() {
        BatchEngine e = engine;
        if (e != null) {
            synchronized (lock) {
                BatchEngine.Slot s = e.acquire();
                while (s == null && !parked.isEmpty()) {
                    parked.removeFirst().session().close();
                    s = e.acquire();
                }
                if (s != null) {
                    return s;
                }
            }
        }
        return openSession(); // every slot generating: this one runs on its own, not batched
    }

    /** A fresh session (own KV cache) to evaluate tokens and read logits. Close it before closing this Llama. */
    public LlamaSession newSession() {
        checkOpen();
        return openSession();
    }

    private LlamaSession openSession() {
        if (deviceWeights == null) {
            return new LlamaSession(model, backend, contextLength, options.effectiveThreads(), options.kvType());
        }
        try {
            return new LlamaSession(model, backend, contextLength, options.effectiveThreads(), options.kvType(),
                    deviceWeights, deviceStep(), deviceGraphs);
        } catch (DeviceOutOfMemoryException e) {
            throw new DeviceOutOfMemoryException("a new session's KV cache and activations do not fit the "
                    + deviceWeights.accelerator().name() + " device: " + e.getMessage() + "; each session needs "
                    + DeviceOutOfMemoryException.mib(offloadPlan.needBytes() - weightsBytes()) + " there with gpuLayers="
                    + offloadPlan.gpuLayers() + ": close other sessions, or load with fewer gpuLayers or a shorter"
                    + " context", e.what(), e.requestedBytes(), e.freeBytes(), java.util.OptionalInt.empty(), e);
        }
    }

    private long weightsBytes() {
        OffloadPlan.Sizes s = offloadPlan.sizes();
        int n = s.layers();
        int g = offloadPlan.gpuLayers();
        return s.need(g) - s.scratchBytes() - (long) Math.min(g, n) * s.kvBytesPerLayer()
                - (g > n ? s.outputScratchBytes() : 0);
    }

    /** The embedding of one input, with {@link EmbeddingParams#DEFAULTS} (the model's pooling, L2-normalised). */
    public Embeddings embed(String input) {
        return embed(List.of(input), EmbeddingParams.DEFAULTS);
    }

    /** The embeddings of several inputs, run together (each its own sequence), with {@link EmbeddingParams#DEFAULTS}. */
    public Embeddings embed(List<String> inputs) {
        return embed(inputs, EmbeddingParams.DEFAULTS);
    }

    /**
     * The embeddings of {@code inputs}, as llama-embedding computes them (c392e50): each input tokenized with its
     * special tokens ([CLS] ... [SEP] for BERT-family encoders, BOS for decoders; special tokens in the text
     * parsed), inputs run together up to {@link EmbeddingParams#batchTokens} tokens per forward pass, each its own
     * sequence (attention never crosses inputs), then pooled and normalised per input. Runs on the CPU; calls are
     * serialised.
     *
     * @throws IllegalArgumentException an input longer than {@link #embeddingLimit()} tokens (naming its index, its
     *     length and the limit) unless {@link EmbeddingParams#truncate}; an input with no tokens at all
     */
    public Embeddings embed(List<String> inputs, EmbeddingParams params) {
        checkOpen();
        List<int[]> toks = new java.util.ArrayList<>(inputs.size());
        for (String input : inputs) {
            toks.add(tokenizer.encode(input, true, true));
        }
        return embedTokenized(toks, params);
    }

    /**
     * The embeddings of inputs given as token ids, used as they are (no special token added: give [CLS] ... [SEP]
     * or BOS yourself if the model needs them), as llama-server c392e50 takes token-id prompts; otherwise as
     * {@link #embed(List, EmbeddingParams)}.
     *
     * @throws IllegalArgumentException an id outside the vocabulary (naming the input, the position and the id), an
     *     empty input, or one longer than {@link #embeddingLimit()} without {@link EmbeddingParams#truncate}
     */
    public Embeddings embedTokens(List<int[]> inputs, EmbeddingParams params) {
        checkOpen();
        int vocab = tokenizer.vocabSize();
        List<int[]> toks = new java.util.ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            int[] t = inputs.get(i).clone();
            for (int j = 0; j < t.length; j++) {
                if (t[j] < 0 || t[j] >= vocab) {
                    throw new IllegalArgumentException("input " + i + " token " + j + ": id " + t[j] + " is outside"
                            + " the vocabulary (0 to " + (vocab - 1) + ")");
                }
            }
            toks.add(t);
        }
        return embedTokenized(toks, params);
    }

    private Embeddings embedTokenized(List<int[]> toks, EmbeddingParams params) {
        int limit = embeddingLimit();
        boolean[] cut = new boolean[toks.size()];
        int total = 0;
        for (int i = 0; i < toks.size(); i++) {
            int[] t = toks.get(i);
            if (t.length == 0) {
                throw new IllegalArgumentException("input " + i + " is empty: it has no tokens (and the tokenizer"
                        + " adds none)");
            }
            if (t.length > limit) {
                if (!params.truncate()) {
                    throw new IllegalArgumentException("input " + i + " has " + t.length + " tokens, more than the"
                            + " limit of " + limit + " (the context length); shorten it, or ask for truncation"
                            + " (EmbeddingParams.withTruncate(true), --truncate)");
                }
                t = java.util.Arrays.copyOf(t, limit);
                toks.set(i, t);
                cut[i] = true;
            }
            total += t.length;
        }
        Pooling pooling = params.pooling() != null ? params.pooling() : defaultPooling();
        float[][][] vectors = new float[toks.size()][][];
        synchronized (embedLock) {
            checkOpen();
            if (embedder == null) {
                embedder = new Embedder(model, backend, options.effectiveThreads(), contextLength,
                        model.architecture().encoder() ? LlamaSession.KvType.F32 : options.kvType());
            }
            for (List<Integer> batch : Embedder.batches(toks, params.batchTokens())) {
                float[][][] r = embedder.run(batch.stream().map(toks::get).toList(), pooling, params.normalize());
                for (int j = 0; j < batch.size(); j++) {
                    vectors[batch.get(j)] = r[j];
                }
            }
        }
        List<Embeddings.Embedding> data = new java.util.ArrayList<>(toks.size());
        for (int i = 0; i < toks.size(); i++) {
            data.add(new Embeddings.Embedding(i, vectors[i], toks.get(i).length, cut[i]));
        }
        return new Embeddings(List.copyOf(data), pooling, params.normalize(), total);
    }

    /**
     * The pooling {@link #embed} uses by default: the GGUF's {@code <arch>.pooling_type}, else {@link Pooling#MEAN}
     * (decoder models, whose files do not say).
     */
    public Pooling defaultPooling() {
        Pooling p = Embedder.modelPooling(model);
        return p != null ? p : Pooling.MEAN;
    }

    /** The most tokens one input may have for {@link #embed}: the context length. */
    public int embeddingLimit() {
        return contextLength;
    }

    /** Whether the model is an embedding-only encoder (bert, nomic-bert): {@link #embed} works, generation does not. */
    public boolean embeddingOnly() {
        return model.architecture().encoder();
    }

    /**
     * Generates a completion of {@code prompt}.
     *
     * @throws GenerationCancelledException if this Llama is closed (by another thread) before it ends
     * @throws IllegalStateException        ("closed") if this Llama was closed before the call
     */
    public Completion complete(String prompt, CompletionParams params) {
        return complete(prompt, params, c -> { });
    }

    /**
     * Generates a completion, handing each chunk of new text to {@code onChunk} as it is produced; cancelled by
     * {@link #close()} as {@link #complete(String, CompletionParams)} is.
     */
    public Completion complete(String prompt, CompletionParams params, Consumer<Completion> onChunk) {
        try (Generation g = new Generation(tokenizer.encode(prompt, true, true), params, false)) {
            while (g.hasNext()) {
                onChunk.accept(g.next());
            }
            return g.result();
        }
    }

    /**
     * The completion as a stream of chunks; close the stream (or exhaust it) to free the session. The prompt is
     * evaluated before this returns (a {@link GenerationCancelledException} if this Llama is closed meanwhile).
     * If this Llama is closed before the stream is exhausted or closed, its next step throws a
     * {@link GenerationCancelledException}.
     */
    public Stream<Completion> stream(String prompt, CompletionParams params) {
        return stream(new Generation(tokenizer.encode(prompt, true, true), params, false));
    }

    private static Stream<Completion> stream(Generation g) {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(g, 0), false).onClose(g::close);
    }

    /**
     * A completion of prompt tokens that starts from the KV cache the last such completion left (its session is
     * kept when it ends): only the tokens after the prefix both share are evaluated ({@link Timings#reusedTokens}).
     * For {@link LlamaChat}: the cache holds one conversation, the one that ended last.
     */
    Stream<Completion> streamReusing(int[] tokens, CompletionParams params) {
        return stream(new Generation(tokens, params, true));
    }

    /** A kept session and the tokens its KV cache holds (its positions 0 .. tokens.length - 1). */
    private record ParkedSession(Sequence session, int[] tokens) {
        /** Tokens of {@code prompt} this cache holds: the shared prefix, short of the prompt's last token. */
        int shared(int[] prompt) {
            int n = 0;
            int max = Math.min(tokens.length, prompt.length - 1);
            while (n < max && tokens[n] == prompt[n]) {
                n++;
            }
            return n;
        }
    }

    // ---- chat (the logic is in LlamaChat) ----

    /**
     * Replies to a conversation, as OpenAI's {@code chat.completions} does: the messages rendered with the chat
     * template ({@link dev.gguf4j.chat.ChatParams#template()}, else the file's {@code tokenizer.chat_template}, else
     * llama.cpp's fallback chatml), generation until an end-of-generation token of the vocabulary, a stop string or
     * the token limit, and, with tools, the reply's tool calls parsed ({@link dev.gguf4j.chat.ToolCallParser}). The
     * KV cache of the prefix this conversation shares with the last chat that ended is reused: a follow-up turn
     * evaluates only its new tokens.
     */
    public dev.gguf4j.chat.ChatCompletion chat(List<dev.gguf4j.chat.ChatMessage> messages,
            dev.gguf4j.chat.ChatParams params) {
        return LlamaChat.chat(this, messages, params, c -> { });
    }

    /** {@link #chat(List, dev.gguf4j.chat.ChatParams)}, handing each chunk to {@code onChunk} as it is generated. */
    public dev.gguf4j.chat.ChatCompletion chat(List<dev.gguf4j.chat.ChatMessage> messages,
            dev.gguf4j.chat.ChatParams params, Consumer<dev.gguf4j.chat.ChatCompletionChunk> onChunk) {
        return LlamaChat.chat(this, messages, params, onChunk);
    }

    /**
     * The reply as a stream of OpenAI {@code chat.completion.chunk}s: the role, pieces of content as they are
     * generated, then the finish reason and usage; with tools, the content and tool calls come whole in the last
     * chunks (the text must be complete to tell a call from content). Close the stream (or exhaust it).
     */
    public Stream<dev.gguf4j.chat.ChatCompletionChunk> chatStream(List<dev.gguf4j.chat.ChatMessage> messages,
            dev.gguf4j.chat.ChatParams params) {
        return LlamaChat.stream(this, messages, params);
    }

    /** The file's chat template ({@code tokenizer.chat_template}), else llama.cpp's fallback (chatml). */
    public dev.gguf4j.chat.ChatTemplate chatTemplate() {
        dev.gguf4j.chat.ChatTemplate t = chatTemplate;
        if (t == null) {
            chatTemplate = t = LlamaChat.defaultTemplate(metadata());
        }
        return t;
    }

    String name() {
        return name;
    }

    /** Timings of the last completion on this thread: prompt and generation tokens and seconds. */
    /**
     * Timings of a completion or chat: {@code promptTokens} evaluated in {@code promptSeconds} (for a chat, the
     * prompt tokens after the {@code reusedTokens} whose KV cache the previous chat left), generated tokens.
     */
    public record Timings(int promptTokens, double promptSeconds, int generatedTokens, double generationSeconds,
            int reusedTokens) {
        public double promptTokensPerSecond() {
            return promptTokens / Math.max(1e-9, promptSeconds);
        }

        public double generationTokensPerSecond() {
            return generatedTokens / Math.max(1e-9, generationSeconds);
        }
    }

    private static final ThreadLocal<Timings> LAST = new ThreadLocal<>();

    public static Timings lastTimings() {
        return LAST.get();
    }

    /** One completion in progress: yields chunks of new text. */
    private final class Generation implements Iterator<Completion>, AutoCloseable {
        private final String id = "cmpl-" + UUID.randomUUID();
        private final long created = Instant.now().getEpochSecond();
        private final CompletionParams params;
        private volatile Sequence session; // volatile: read by kvCacheTokens (metrics)
        private Sampler sampler;
        private final Decoder decoder = tokenizer.newDecoder();
        private final StringBuilder text = new StringBuilder();
        private final StringBuilder held = new StringBuilder();
        private int promptTokens;
        private int reused; // prompt tokens whose KV cache came from the parked session
        private final boolean reuse; // take the parked session, and park this one at the end
        private boolean failed;
        private int[] history = new int[0]; // the tokens the session's KV cache holds (reuse only)
        private int historyLength;
        private long promptNanos;
        private float[] logits;
        private boolean greedyArgmax; // the next token comes from LlamaSession.forwardArgmax
        private int nextToken = -1;
        private int unevaluated = -1; // sampled, its text given out, not yet run through the model
        private int generated;
        private final List<TokenLogprob> logprobs; // every generated token's (null: not asked)
        private int logprobsSent; // of them, those given out in a chunk
        private String finish;
        private boolean stopMatched;
        private long genStart;
        // guarded by Llama.lock: a thread is in the constructor or next(); the session is closed; close() was asked
        private boolean busy;
        private volatile boolean ended;
        private boolean closeAsked;
        /** Set (under Llama.lock) by Llama.close(); checked between tokens. */
        private volatile boolean cancelled;
        private boolean cancelReported;

        Generation(int[] tokens, CompletionParams params, boolean reuse) {
            this.params = params;
            this.reuse = reuse;
            this.logprobs = params.logprobs() < 0 ? null : new ArrayList<>();
            synchronized (lock) {
                checkOpen();
                live.add(this);
                busy = true;
            }
            boolean ok = false;
            try {
                start(tokens);
                ok = true;
            } finally {
                failed = !ok;
                release(!ok);
            }
        }

        /** Evaluates the prompt (the constructor's work, while registered as busy). */
        private void start(int[] tokens) {
            if (tokens.length >= contextLength) {
                if (!params.truncatePrompt()) {
                    throw new Gguf4jException("the prompt is " + tokens.length + " tokens, but the context holds "
                            + contextLength + " (it must leave room for at least one generated token): shorten it,"
                            + " raise the context length, or ask for truncation (CompletionParams.withTruncatePrompt)");
                }
                int keep = Math.max(1, contextLength - Math.max(1, Math.min(params.maxTokens(), contextLength / 2)));
                int[] t = new int[keep];
                boolean bos = tokens.length > 0 && tokens[0] == tokenizer.bos() && tokenizer.addBos();
                int from = tokens.length - keep + (bos ? 1 : 0);
                if (bos) {
                    t[0] = tokens[0];
                }
                System.arraycopy(tokens, from, t, bos ? 1 : 0, keep - (bos ? 1 : 0));
                LOG.log(System.Logger.Level.WARNING, "gguf4j: prompt truncated from " + tokens.length + " to " + keep
                        + " tokens to fit the context of " + contextLength);
                tokens = t;
            }
            this.promptTokens = tokens.length;
            SamplingParams sp = params.sampling();
            this.sampler = new Sampler(sp.seed() == 0xFFFFFFFFL ? sp.withSeed(options.seed()) : sp, contextLength,
                    tokenizer);
            int from0 = 0;
            if (reuse) {
                synchronized (lock) {
                    from0 = continueKept(tokens);
                }
                history = tokens.clone();
                historyLength = tokens.length;
            }
            this.reused = from0;
            if (session == null) {
                this.session = openSequence();
            }
            long t0 = System.nanoTime();
            // the prompt in batches (matrix-matrix products), the last batch's last logits kept
            for (int from = from0; from < tokens.length; from += options.batchSize()) {
                if (cancelled) {
                    throw cancellation();
                }
                int[] batch = java.util.Arrays.copyOfRange(tokens, from, Math.min(tokens.length,
                        from + options.batchSize()));
                logits = session.forwardLast(batch);
            }
            for (int t : tokens) {
                sampler.accept(t);
            }
            this.greedyArgmax = sampler.isPlainArgmax() && logprobs == null; // log-probabilities need the logits
            this.promptNanos = System.nanoTime() - t0;
            this.genStart = System.nanoTime();
            if (params.maxTokens() == 0) {
                finish = "length";
            }
        }

        /**
         * Under lock: starts from the kept cache that shares the longest prefix with {@code tokens} (the oldest
         * among equals), the prefix kept and at least the last prompt token evaluated again, for its logits; returns
         * the prompt tokens reused. Without batching the one kept session is continued whatever it shares. With
         * batching, a kept cache is continued when the prompt extends most of it (the same conversation); else the
         * shared prefix (a system prompt) is copied into a free slot (the oldest other kept cache given up if need
         * be), and the kept cache stays for its own conversation.
         */
        private int continueKept(int[] tokens) {
            ParkedSession best = null;
            int n = 0;
            for (ParkedSession p : parked) {
                int k = p.shared(tokens);
                if (best == null || k > n) {
                    best = p;
                    n = k;
                }
            }
            if (best == null) {
                return 0;
            }
            BatchEngine e = engine;
            BatchEngine.Slot slot = null;
            if (e != null && 2 * n < best.tokens().length) {
                slot = e.acquire();
                for (var it = parked.iterator(); slot == null && it.hasNext(); ) {
                    ParkedSession p = it.next();
                    if (p != best) {
                        it.remove();
                        p.session().close();
                        slot = e.acquire();
                    }
                }
            }
            if (slot == null) {
                parked.remove(best);
                best.session().rewind(n);
                session = best.session();
                return n;
            }
            session = slot;
            if (n > 0 && best.session() instanceof BatchEngine.Slot from) {
                e.copyPrefix(from, slot, n);
                return n;
            }
            return 0;
        }

        /**
         * Ends this generation: closes its session (or, reusing, parks it for the next chat when it ended cleanly)
         * and unregisters it. Under Llama.lock, not while busy.
         */
        private void endLocked() {
            if (!ended) {
                ended = true;
                if (session != null) {
                    if (reuse && !failed && !cancelled && !closed && session.position() == historyLength) {
                        session.idle();
                        parked.addLast(new ParkedSession(session, java.util.Arrays.copyOf(history, historyLength)));
                        while (parked.size() > parkedCapacity) {
                            parked.removeFirst().session().close();
                        }
                    } else {
                        session.close();
                    }
                }
                live.remove(this);
                lock.notifyAll();
            }
        }

        /** Leaves the busy state; ends the generation if it is over, failed, cancelled or closed meanwhile. */
        private void release(boolean end) {
            synchronized (lock) {
                busy = false;
                if (end || cancelled || closeAsked) {
                    endLocked();
                }
            }
        }

        private GenerationCancelledException cancellation() {
            cancelReported = true;
            Completion partial = new Completion(id, "text_completion", created, name,
                    List.of(new Completion.Choice(text.toString(), 0, GenerationCancelledException.FINISH_REASON)),
                    new Completion.Usage(promptTokens, generated, promptTokens + generated));
            return new GenerationCancelledException("the completion was cancelled: its Llama (" + name
                    + ") was closed after " + generated + " generated tokens", partial);
        }

        @Override
        public boolean hasNext() {
            return cancelled ? !cancelReported : !ended;
        }

        @Override
        public Completion next() {
            synchronized (lock) {
                if (cancelled) {
                    throw cancelReported ? new NoSuchElementException() : cancellation();
                }
                if (ended) {
                    throw new NoSuchElementException();
                }
                busy = true;
            }
            boolean end = true;
            boolean ok = false;
            try {
                String out = "";
                while (finish == null && out.isEmpty()) {
                    if (cancelled) {
                        throw cancellation();
                    }
                    out = step();
                }
                if (finish != null) {
                    out = out + flushHeld();
                    LAST.set(new Timings(promptTokens - reused, promptNanos / 1e9, generated,
                            (System.nanoTime() - genStart) / 1e9, reused));
                } else {
                    end = false;
                }
                ok = true;
                return chunk(out, finish);
            } finally {
                failed |= !ok;
                release(end);
            }
        }

        /**
         * Generates one token; returns the text that is now safe to emit. The token is evaluated (its logits, for the
         * next one) at the start of the next call, so that its text goes out first: with batching, a step later.
         */
        private String step() {
            if (unevaluated >= 0) {
                int t = unevaluated;
                unevaluated = -1;
                if (greedyArgmax) {
                    nextToken = session.forwardArgmax(t); // on the GPU when the output layer is there
                } else {
                    logits = session.forward(t);
                }
                if (reuse) {
                    if (historyLength == history.length) {
                        history = java.util.Arrays.copyOf(history, Math.max(16, 2 * historyLength));
                    }
                    history[historyLength++] = t;
                }
            }
            if (generated >= params.maxTokens() || session.position() >= contextLength) {
                finish = "length";
                return "";
            }
            int token = nextToken >= 0 ? nextToken : sampler.sample(logits);
            sampler.acceptSampled(token);
            generated++;
            generatedTokens.increment();
            if (tokenizer.isEog(token)) {
                finish = "stop";
                return "";
            }
            if (logprobs != null) {
                logprobs.add(TokenLogprob.of(logits, token, params.logprobs(), tokenizer));
            }
            held.append(decoder.next(token));
            // a stop string ends the completion; text that may begin one is held back
            int cut = -1;
            for (String s : params.stop()) {
                int i = held.indexOf(s);
                if (i >= 0 && (cut < 0 || i < cut)) {
                    cut = i;
                }
            }
            String emit;
            if (cut >= 0) {
                emit = held.substring(0, cut);
                held.setLength(0);
                finish = "stop";
                stopMatched = true;
                if (logprobs != null) { // the token that completed the stop string: its text is not output
                    logprobs.removeLast();
                }
            } else {
                int keep = 0;
                for (String s : params.stop()) {
                    for (int k = Math.min(s.length() - 1, held.length()); k > keep; k--) {
                        if (held.substring(held.length() - k).equals(s.substring(0, k))) {
                            keep = k;
                            break;
                        }
                    }
                }
                emit = held.substring(0, held.length() - keep);
                held.delete(0, held.length() - keep);
            }
            text.append(emit);
            if (finish == null && session.position() < contextLength) {
                unevaluated = token;
            }
            return emit;
        }

        private String flushHeld() {
            String rest = stopMatched ? "" : held.toString() + decoder.finish();
            held.setLength(0);
            text.append(rest);
            return rest;
        }

        private Completion chunk(String s, String reason) {
            List<TokenLogprob> lp = null;
            if (logprobs != null) {
                lp = List.copyOf(logprobs.subList(logprobsSent, logprobs.size()));
                logprobsSent = logprobs.size();
            }
            return new Completion(id, "text_completion", created, name,
                    List.of(new Completion.Choice(s, 0, reason, lp)),
                    reason == null ? null : new Completion.Usage(promptTokens, generated, promptTokens + generated));
        }

        Completion result() {
            return new Completion(id, "text_completion", created, name,
                    List.of(new Completion.Choice(text.toString(), 0, finish, logprobs)),
                    new Completion.Usage(promptTokens, generated, promptTokens + generated));
        }

        @Override
        public void close() {
            synchronized (lock) {
                closeAsked = true;
                if (!busy) {
                    endLocked();
                }
            }
        }
    }

    /**
     * Cancels the completions in progress, waits until none is computing, closes their sessions, then frees the
     * weights (see the class comment). Idempotent; a call while another is under way waits for it to finish.
     */
    @Override
    public void close() {
        boolean interrupted = false;
        synchronized (lock) {
            if (closed) {
                while (!released) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            closed = true;
            while (!parked.isEmpty()) {
                parked.removeFirst().session().close();
            }
            for (Generation g : List.copyOf(live)) {
                g.cancelled = true;
                if (!g.busy) {
                    g.endLocked();
                }
            }
            // a busy generation sees the flag before its next token (or prompt batch) and ends itself
            while (!live.isEmpty()) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    interrupted = true; // freeing the weights under a running kernel is not an option
                }
            }
        }
        try {
            synchronized (embedLock) { // waits for an embed call in progress
                if (embedder != null) {
                    embedder.close();
                    embedder = null;
                }
            }
            if (engine != null) {
                engine.close();
            }
            if (deviceWeights != null) {
                deviceWeights.close();
            }
            model.close();
        } finally {
            synchronized (lock) {
                released = true;
                lock.notifyAll();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

}
