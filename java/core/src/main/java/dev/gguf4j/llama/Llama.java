package dev.gguf4j.llama;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Accelerators;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.backend.DeviceOutOfMemoryException;
import dev.gguf4j.engine.BatchEngine;
import dev.gguf4j.engine.DeviceWeights;
import dev.gguf4j.engine.Embedder;
import dev.gguf4j.engine.Footprint;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.engine.Sequence;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Spliterators;
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
    final LlamaOptions options;
    private final Backend backend;
    private final int contextLength;
    private final String name;
    private final long loadNanos;
    private final OffloadPlan offloadPlan;
    private final DeviceWeights deviceWeights; // null: CPU only
    private final boolean deviceGraphs = dev.gguf4j.Settings.fromSystemProperties().deviceGraphs();
    /** Guards {@link #live}, {@link #released} and each generation's busy / ended state. */
    final Object lock = new Object();
    /** Generations started and not yet ended (their sessions open). */
    final java.util.Set<Generation> live = new java.util.LinkedHashSet<>();
    final java.util.concurrent.atomic.LongAdder generatedTokens = new java.util.concurrent.atomic.LongAdder();
    volatile boolean closed;
    private boolean released; // the weights are freed
    /**
     * The sessions of the last chats that ended, oldest first, kept for the next ones' shared prefixes (guarded by
     * lock): at most {@link #parkedCapacity}.
     */
    final java.util.ArrayDeque<ParkedSession> parked = new java.util.ArrayDeque<>();
    int parkedCapacity = 1; // guarded by lock
    private boolean batchingAsked; // guarded by lock
    /** Non-null once {@link #enableBatching} started it: completions run as its slots. */
    volatile BatchEngine engine;
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
        OffloadPlan.Placement placement = OffloadPlan.place(model, options.gpuLayers(), contextLength,
                options.kvType(), deviceStep(), probe);
        this.offloadPlan = placement.plan();
        if (placement.accelerator() == null) {
            deviceWeights = null;
            repackForCpu();
        } else {
            deviceWeights = offloadPlan.upload(model, placement.accelerator());
        }
    }

    /**
     * With everything on the CPU and {@link LlamaOptions#repack} on: the backend's copies of the weights
     * (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K interleaved by 8 rows; the other types' file bytes; on huge pages,
     * LlamaModel.repack).
     */
    private void repackForCpu() {
        if (options.repack()) {
            model.repack(backend, options.effectiveThreads());
        }
    }

    /** Tokens per device step: the batch size, at most the context. */
    private int deviceStep() {
        return Footprint.deviceStep(options.batchSize(), contextLength);
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
     * Bytes of weights copied at load ({@link LlamaOptions#withRepack}): Q4_0 into the CPU backend's generation
     * layout, the other types' file bytes onto huge pages; 0 when nothing was copied. {@link #repackedExtraBytes}
     * of them are memory held on top of the file's pages.
     */
    public long repackedBytes() {
        return model.repackedBytes();
    }

    /**
     * The part of {@link #repackedBytes()} held on top of the model file's pages (Q4_0's layout, which batches do
     * not read; a tied output); the plain copies replace the mapped pages they were made from.
     */
    public long repackedExtraBytes() {
        return model.repackedExtraBytes();
    }

    /**
     * One line about the copies made at load ({@link #repackedBytes()}), for the command line, or null when none
     * were made.
     */
    public String repackSummary() {
        long all = repackedBytes();
        if (all <= 0) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "weights copied at load for the CPU kernels: %.1f MiB, %.1f MiB"
                + " of it more memory than the mapped file (--no-repack: none, %s)", all / 1048576.0,
                repackedExtraBytes() / 1048576.0, model().repackKeepsBits() ? "same output"
                        : "the k-quants in ggml's arithmetic instead of the copies' own");
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

    void checkOpen() {
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

    /**
     * KV cache cells allocated now, in token positions: the batching engine's slots (each {@link #contextLength()}
     * cells, whether in use or not), plus one context for every generation in progress and every kept chat cache
     * that has a session of its own (no batching, every slot busy, or GPU layers). {@link #kvCacheTokens()} is
     * never more. Read when asked (a metrics scrape).
     */
    public long kvCacheCells() {
        synchronized (lock) {
            BatchEngine e = engine;
            long sessions = 0;
            for (Generation g : live) {
                Sequence s = g.session;
                if (s != null && !g.ended && !(s instanceof BatchEngine.Slot)) {
                    sessions++;
                }
            }
            for (ParkedSession p : parked) {
                if (!(p.session() instanceof BatchEngine.Slot)) {
                    sessions++;
                }
            }
            return ((e != null ? e.slotCount() : 0) + sessions) * (long) contextLength;
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
    Sequence openSequence() {
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
        try (Generation g = new Generation(this, tokenizer.encode(prompt, true, true), params, false)) {
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
        return stream(new Generation(this, tokenizer.encode(prompt, true, true), params, false));
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
        return stream(new Generation(this, tokens, params, true));
    }

    /** A kept session and the tokens its KV cache holds (its positions 0 .. tokens.length - 1). */
    record ParkedSession(Sequence session, int[] tokens) {
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
