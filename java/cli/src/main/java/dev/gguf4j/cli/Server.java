package dev.gguf4j.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gguf4j.Gguf4j;
import dev.gguf4j.Gguf4jException;
import dev.gguf4j.chat.ChatCompletion;
import dev.gguf4j.chat.ChatCompletionChunk;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.chat.ChatTemplate;
import dev.gguf4j.chat.ToolCall;
import dev.gguf4j.cli.ServeRequests.ApiError;
import dev.gguf4j.cli.ServeRequests.Chat;
import dev.gguf4j.cli.ServeRequests.Fields;
import dev.gguf4j.cli.ServeRequests.Text;
import dev.gguf4j.llama.Completion;
import dev.gguf4j.llama.Llama;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * {@code gguf4j serve}'s HTTP server: OpenAI's and Ollama's APIs over one {@link Llama} shared by all requests, on
 * the JDK's {@code com.sun.net.httpserver}. At most {@code parallel} requests generate at once (batched together:
 * {@link Llama#enableBatching}); up to {@code queue} more wait for one to finish; beyond that a 503
 * with {@code Retry-After}. A streamed reply whose client has gone stops at the next token it fails to send.
 */
final class Server {
    /** What {@code gguf4j serve}'s flags set. */
    record Config(String host, int port, int parallel, int queue, String apiKey, String alias, int timeoutSeconds,
            long maxBodyBytes, String corsOrigin) {
        /** Without CORS (no {@code --cors}). */
        Config(String host, int port, int parallel, int queue, String apiKey, String alias, int timeoutSeconds,
                long maxBodyBytes) {
            this(host, port, parallel, queue, apiKey, alias, timeoutSeconds, maxBodyBytes, null);
        }
    }

    /** The routes {@code /metrics} counts by name; any other path is counted as "other". */
    static final java.util.Set<String> ROUTES = java.util.Set.of("/", "/health", "/metrics", "/v1/models",
            "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/api/chat", "/api/generate", "/api/embed",
            "/api/embeddings", "/api/tags", "/api/show", "/api/ps", "/api/version");

    static final long MAX_BODY_BYTES = 16L << 20;
    static final ObjectMapper JSON = new ObjectMapper();

    private final Config config;
    private final PrintStream log;
    private final HttpServer http;
    private final ExecutorService executor;
    private final Semaphore slots;
    private final AtomicInteger admitted = new AtomicInteger(); // generating or waiting for a slot
    private final AtomicInteger inFlight = new AtomicInteger(); // requests being handled
    private volatile boolean draining;
    private final long startedMillis = System.currentTimeMillis();
    /** What {@code GET /metrics} reports; the generation engine may update its gauges. */
    final ServeMetrics metrics = new ServeMetrics();
    private volatile Llama llama;
    private volatile Path modelPath;
    private volatile ChatTemplate template; // null: the model's own
    private volatile boolean embeddings; // --embeddings: the embedding routes are open

    /** Binds and starts serving ({@code /health} answers 503 until {@link #ready}); port 0: a free port. */
    Server(Config config, PrintStream log) throws IOException {
        this.config = config;
        this.log = log;
        this.slots = new Semaphore(config.parallel(), true);
        metrics.parallelSequences.set(config.parallel());
        metrics.activeSequences.track(() -> config.parallel() - slots.availablePermits());
        metrics.queueDepth.track(() -> Math.max(0, admitted.get() - (config.parallel() - slots.availablePermits())));
        // the JDK server's own guard against a client that never finishes sending its request (a hung connection)
        System.setProperty("sun.net.httpserver.maxReqTime", Integer.toString(config.timeoutSeconds()));
        this.http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
        this.executor = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("gguf4j-http-", 0)
                .factory());
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    /** The model is loaded: generation routes open, {@code /health} says 200. */
    void ready(Llama l, Path path, ChatTemplate chatTemplate) {
        this.modelPath = path;
        this.template = chatTemplate;
        metrics.kvCacheCells.track(() -> (double) l.kvCacheCells());
        // from the engine, read at each scrape: generations in progress, KV cache held; generated tokens counted
        // as they are sampled (polled each second for tokens/s)
        metrics.activeSequences.track(l::activeGenerations);
        metrics.kvCacheUsedCells.track(() -> (double) l.kvCacheTokens());
        metrics.trackGenerated(l::generatedTokens);
        metricsTicker = Thread.ofPlatform().daemon().name("gguf4j-metrics").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                metrics.poll();
            }
        });
        metrics.modelLoaded.set(1);
        this.llama = l;
    }

    /** {@code --embeddings}: opens /v1/embeddings, /api/embed and /api/embeddings (call before {@link #ready}). */
    void enableEmbeddings() {
        embeddings = true;
    }

    private volatile Thread metricsTicker;

    /** Requests generating or waiting for a sequence. */
    int admitted() {
        return admitted.get();
    }

    int port() {
        return http.getAddress().getPort();
    }

    String url() {
        String h = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + h + ":" + port();
    }

    /**
     * Stops accepting connections, lets the requests in progress finish for up to {@code graceSeconds}, then
     * stops the rest (closing the Llama, which is the caller's, cancels their generations).
     */
    void stop(int graceSeconds) {
        draining = true;
        long deadline = System.nanoTime() + graceSeconds * 1_000_000_000L;
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        http.stop(0);
        executor.shutdownNow();
        Thread t = metricsTicker;
        if (t != null) {
            t.interrupt();
        }
    }

    private String alias() {
        return config.alias();
    }

    private volatile java.util.Map<Integer, Float> eogBias;

    /** {@code ignore_eos}: a bias of -inf on each end-of-generation token of the vocabulary (as llama-server). */
    private java.util.Map<Integer, Float> eogBias() {
        java.util.Map<Integer, Float> m = eogBias;
        if (m == null) {
            java.util.Map<Integer, Float> b = new java.util.HashMap<>();
            dev.gguf4j.tokenizer.Tokenizer t = llama.tokenizer();
            for (int id = 0; id < t.vocabSize(); id++) {
                if (t.isEog(id)) {
                    b.put(id, Float.NEGATIVE_INFINITY);
                }
            }
            eogBias = m = java.util.Map.copyOf(b);
        }
        return m;
    }

    // ---- routing ----

    private void handle(HttpExchange ex) {
        long t0 = System.nanoTime();
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        String note = "";
        inFlight.incrementAndGet();
        try (ex) {
            try {
                if (config.corsOrigin() != null) {
                    ex.getResponseHeaders().set("Access-Control-Allow-Origin", config.corsOrigin());
                    ex.getResponseHeaders().set("Vary", "Origin");
                    if (method.equals("OPTIONS")) { // a preflight: answered without the API key, as browsers send it
                        ex.getResponseHeaders().set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
                        ex.getResponseHeaders().set("Access-Control-Allow-Headers", "Authorization, Content-Type");
                        ex.getResponseHeaders().set("Access-Control-Max-Age", "600");
                        ex.sendResponseHeaders(204, -1);
                        return;
                    }
                }
                if (draining) {
                    throw new ApiError(503, "server_error", null, "the server is shutting down");
                }
                route(ex, method, path);
            } catch (ApiError e) {
                sendError(ex, path, e);
            } catch (IOException e) {
                note = " (client gone: " + Errors.oneLine(String.valueOf(e.getMessage())) + ")"; // generation stopped
            } catch (RuntimeException | Error e) {
                String trace = Errors.writeTrace(e, new String[] {"serve", method, path});
                log.println("gguf4j: internal error on " + method + " " + path + ": " + e.getClass().getName() + ": "
                        + Errors.oneLine(String.valueOf(e.getMessage())) + "; full trace in " + trace);
                sendError(ex, path, new ApiError(500, "server_error", null, "internal error: "
                        + e.getClass().getSimpleName() + " (the server's log has the details)"));
            }
        } finally {
            log.printf(Locale.ROOT, "gguf4j: %s %s %d %.1f ms%s%n", method, Errors.printable(path),
                    ex.getResponseCode(), (System.nanoTime() - t0) / 1e6, note);
            metrics.requests.inc(endpointLabel(path), ex.getResponseCode() == -1 ? "none"
                    : Integer.toString(ex.getResponseCode()));
            inFlight.decrementAndGet();
        }
    }

    /** The route a path is counted under in /metrics: its canonical name, or "other" (a bounded label set). */
    static String endpointLabel(String path) {
        return switch (path) {
            case "/index.html" -> "/";
            case "/chat/completions", "/completions", "/models" -> "/v1" + path;
            default -> ROUTES.contains(path) ? path : "other";
        };
    }

    private void route(HttpExchange ex, String method, String path) throws IOException {
        if (path.equals("/") || path.equals("/index.html")) { // the chat page: static, holds no data (as llama-server)
            requireMethod(method, "GET");
            sendBytes(ex, 200, chatPage(), "text/html; charset=utf-8");
            return;
        }
        if (path.equals("/health")) {
            requireMethod(method, "GET");
            if (llama == null) {
                sendJson(ex, 503, "{\"status\":\"loading model\"}");
            } else {
                sendJson(ex, 200, "{\"status\":\"ok\"}");
            }
            return;
        }
        authorize(ex);
        Llama l = llama;
        refuseGeneration(path, l);
        switch (path) {
            case "/metrics" -> {
                requireMethod(method, "GET");
                sendBytes(ex, 200, metrics.scrape().getBytes(StandardCharsets.UTF_8),
                        "text/plain; version=0.0.4; charset=utf-8");
            }
            case "/v1/models", "/models" -> {
                requireMethod(method, "GET");
                ObjectNode m = JSON.createObjectNode().put("id", alias()).put("object", "model")
                        .put("created", startedMillis / 1000).put("owned_by", "gguf4j");
                ObjectNode o = JSON.createObjectNode().put("object", "list");
                o.putArray("data").add(m);
                sendJson(ex, 200, o.toString());
            }
            case "/api/version" -> {
                requireMethod(method, "GET");
                sendJson(ex, 200, JSON.createObjectNode().put("version", Gguf4j.version()).toString());
            }
            case "/v1/chat/completions", "/chat/completions" -> {
                requireMethod(method, "POST");
                openAiChat(ex, requireModel(l), model(body(ex), false));
            }
            case "/v1/completions", "/completions" -> {
                requireMethod(method, "POST");
                openAiCompletion(ex, requireModel(l), model(body(ex), false));
            }
            case "/api/chat" -> {
                requireMethod(method, "POST");
                ollamaChat(ex, requireModel(l), ServeRequests.ollamaChat(model(body(ex), true), template,
                        this::eogBias));
            }
            case "/api/generate" -> {
                requireMethod(method, "POST");
                ollamaGenerate(ex, requireModel(l), model(body(ex), true));
            }
            case "/v1/embeddings" -> {
                requireMethod(method, "POST");
                Llama e = embedder(l);
                openAiEmbeddings(ex, e, ServeRequests.openAiEmbeddings(model(body(ex), false), e.config().dim()));
            }
            case "/api/embed", "/api/embeddings" -> {
                requireMethod(method, "POST");
                Llama e = embedder(l);
                ollamaEmbed(ex, e, ServeRequests.ollamaEmbed(model(body(ex), true), e.config().dim(),
                        path.equals("/api/embeddings")), path.equals("/api/embeddings"));
            }
            case "/api/tags", "/api/ps" -> {
                requireMethod(method, "GET");
                ObjectNode m = modelEntry(requireModel(l));
                if (path.equals("/api/ps")) {
                    m.put("size_vram", 0).put("expires_at", "9999-12-31T23:59:59Z");
                }
                ObjectNode o = JSON.createObjectNode();
                o.putArray("models").add(m);
                sendJson(ex, 200, o.toString());
            }
            case "/api/show" -> {
                requireMethod(method, "POST");
                model(body(ex), true);
                sendJson(ex, 200, show(requireModel(l)).toString());
            }
            default -> throw new ApiError(404, "invalid_request_error", null, "no route " + Errors.printable(path)
                    + " (see gguf4j serve --help for the endpoints)");
        }
    }

    private static void requireMethod(String method, String expected) {
        if (!method.equals(expected)) {
            throw new ApiError(405, "invalid_request_error", null, "method " + Errors.printable(method)
                    + " not allowed here (use " + expected + ")");
        }
    }

    /**
     * The body, after checking its {@code model}: absent, the alias or the model file's name (Ollama's routes: also
     * with {@code :latest}); another name is a 404 as OpenAI's and Ollama's APIs answer an unknown model.
     */
    private ObjectNode model(ObjectNode body, boolean ollama) {
        String m = new Fields(body, "").string(ollama && body.has("name") && !body.has("model") ? "name" : "model");
        if (m == null || m.isEmpty()) {
            return body;
        }
        String file = modelPath == null ? null : modelPath.getFileName().toString();
        String bare = ollama && m.endsWith(":latest") ? m.substring(0, m.length() - 7) : m;
        if (bare.equals(alias()) || bare.equals(file)) {
            return body;
        }
        throw new ApiError(404, "invalid_request_error", "model", "model '" + Errors.printable(Errors.oneLine(m))
                + "' not found: this server serves '" + alias() + "'" + (file == null || file.equals(alias()) ? ""
                : " (file " + file + ")"));
    }

    private static volatile byte[] chatPage;

    /** The chat page ({@code chat.html} beside this class), read once. */
    private static byte[] chatPage() throws IOException {
        byte[] b = chatPage;
        if (b == null) {
            try (InputStream in = Server.class.getResourceAsStream("chat.html")) {
                if (in == null) {
                    throw new IllegalStateException("chat.html missing from the jar");
                }
                chatPage = b = in.readAllBytes();
            }
        }
        return b;
    }

    private static Llama requireModel(Llama l) {
        if (l == null) {
            throw new ApiError(503, "server_error", null, "the model is still loading");
        }
        return l;
    }

    /** With an API key: {@code Authorization: Bearer KEY}, compared in constant time. */
    private void authorize(HttpExchange ex) {
        if (config.apiKey() == null) {
            return;
        }
        String h = ex.getRequestHeaders().getFirst("Authorization");
        byte[] given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)
                ? h.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, config.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", null, h == null
                    ? "missing API key: send the header 'Authorization: Bearer KEY'" : "invalid API key");
        }
    }

    /** The request body as a JSON object: 413 over the size cap, 400 when it is not JSON or not an object. */
    private ObjectNode body(HttpExchange ex) throws IOException {
        long max = config.maxBodyBytes();
        String cl = ex.getRequestHeaders().getFirst("Content-Length");
        if (cl != null) {
            try {
                if (Long.parseLong(cl.strip()) > max) {
                    throw tooLarge(max);
                }
            } catch (NumberFormatException e) {
                throw ApiError.invalid(null, "bad Content-Length");
            }
        }
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        }
        if (bytes.length > max) {
            throw tooLarge(max);
        }
        JsonNode n;
        try {
            n = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw ApiError.invalid(null, "the request body is not valid JSON: "
                    + Errors.oneLine(e.getOriginalMessage()));
        }
        if (n == null || !n.isObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object");
        }
        return (ObjectNode) n;
    }

    private static ApiError tooLarge(long max) {
        return new ApiError(413, "invalid_request_error", null, "the request body is larger than " + max + " bytes");
    }

    // ---- generation slots ----

    /** A generation slot (closing frees it); 503 when the queue is full or no slot frees in --timeout seconds. */
    AutoCloseable slot() {
        int n = admitted.incrementAndGet();
        if (n > config.parallel() + config.queue()) {
            admitted.decrementAndGet();
            throw busy("the server is busy: " + config.parallel() + " requests generating and " + config.queue()
                    + " waiting (-np, --queue); retry later");
        }
        boolean got = false;
        try {
            got = slots.tryAcquire(config.timeoutSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!got) {
            admitted.decrementAndGet();
            throw busy("no generation slot came free within " + config.timeoutSeconds() + " s (--timeout); retry"
                    + " later");
        }
        return () -> {
            slots.release();
            admitted.decrementAndGet();
        };
    }

    private static ApiError busy(String message) {
        return new ApiError(503, "server_error", null, message);
    }

    /** A request the library refuses (prompt longer than the context, a template that rejects the messages). */
    private static ApiError refused(String param, Gguf4jException e) {
        if (e instanceof dev.gguf4j.backend.DeviceOutOfMemoryException) {
            return busy("out of device memory: " + Errors.oneLine(e.getMessage()));
        }
        return ApiError.invalid(param, Errors.oneLine(e.getMessage()));
    }

    // ---- OpenAI ----

    private void openAiChat(HttpExchange ex, Llama l, ObjectNode body) throws IOException {
        Chat c = ServeRequests.openAiChat(body, template, this::eogBias);
        try (AutoCloseable s = slot()) {
            if (!c.stream()) {
                List<ChatCompletion.Choice> choices = new java.util.ArrayList<>();
                ChatCompletion r = null;
                int generated = 0;
                for (int i = 0; i < c.n(); i++) { // n choices one after another, choice i with seed + i
                    try {
                        r = l.chat(c.messages(), c.params(i));
                    } catch (Gguf4jException e) {
                        throw refused("messages", e);
                    }
                    ChatCompletion.Choice ch = r.choices().getFirst();
                    choices.add(new ChatCompletion.Choice(i, ch.message(), ch.finishReason(), ch.logprobs()));
                    generated += r.usage().completionTokens();
                }
                Completion.Usage u = new Completion.Usage(r.usage().promptTokens(), generated,
                        r.usage().promptTokens() + generated);
                metrics.tokens(u.promptTokens(), u.completionTokens());
                sendJson(ex, 200, new ChatCompletion(r.id(), r.created(), alias(), choices, u).toJson());
                return;
            }
            OutputStream out = null;
            int prompt = 0;
            int generated = 0;
            ChatCompletionChunk last = null;
            ChatCompletionChunk first = null; // its id and time for every chunk of every choice
            for (int i = 0; i < c.n(); i++) {
                try (Stream<ChatCompletionChunk> chunks = chatStream(l, c, i)) {
                    out = out == null ? startStream(ex, "text/event-stream") : out;
                    Iterator<ChatCompletionChunk> it = chunks.iterator();
                    try {
                        while (it.hasNext()) {
                            ChatCompletionChunk k = it.next();
                            first = first == null ? k : first;
                            List<ChatCompletionChunk.Choice> ch = k.choices();
                            if (i > 0) {
                                int index = i;
                                ch = ch.stream().map(x -> new ChatCompletionChunk.Choice(index, x.delta(),
                                        x.finishReason(), x.logprobs())).toList();
                            }
                            event(out, new ChatCompletionChunk(first.id(), first.created(), alias(), ch, null)
                                    .toJson());
                            if (k.usage() != null) {
                                prompt = k.usage().promptTokens();
                                generated += k.usage().completionTokens();
                                last = k;
                            }
                        }
                    } catch (Gguf4jException e) {
                        event(out, errorJson(new ApiError(500, "server_error", null, Errors.oneLine(e.getMessage()))));
                        break;
                    }
                }
            }
            metrics.tokens(prompt, generated);
            if (last != null && c.includeUsage()) {
                event(out, new ChatCompletionChunk(first.id(), first.created(), alias(), List.of(),
                        new Completion.Usage(prompt, generated, prompt + generated)).toJson());
            }
            event(out, "[DONE]");
        } catch (IOException | ApiError e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Stream<ChatCompletionChunk> chatStream(Llama l, Chat c) {
        return chatStream(l, c, 0);
    }

    private static Stream<ChatCompletionChunk> chatStream(Llama l, Chat c, int choice) {
        try {
            return l.chatStream(c.messages(), c.params(choice));
        } catch (Gguf4jException e) {
            throw refused("messages", e);
        }
    }

    private void openAiCompletion(HttpExchange ex, Llama l, ObjectNode body) throws IOException {
        Text t = ServeRequests.openAiCompletion(body, this::eogBias);
        try (AutoCloseable s = slot()) {
            OutputStream out = null;
            List<Completion.Choice> choices = new java.util.ArrayList<>();
            Completion last = null;
            Completion first = null; // its id and time for every chunk of every choice
            int prompt = 0;
            int generated = 0;
            for (int i = 0; i < t.n(); i++) { // n choices one after another, choice i with seed + i
                try (Stream<Completion> chunks = textStream(l, t, i)) {
                    StringBuilder text = new StringBuilder();
                    List<dev.gguf4j.llama.TokenLogprob> logprobs = t.params().logprobs() < 0 ? null
                            : new java.util.ArrayList<>();
                    int textOffset = 0; // of the next token, in code points of the tokens' texts before it
                    for (Iterator<Completion> it = chunks.iterator(); it.hasNext(); ) {
                        Completion k = it.next();
                        first = first == null ? k : first;
                        text.append(k.text());
                        List<dev.gguf4j.llama.TokenLogprob> lp = k.choices().getFirst().logprobs();
                        if (logprobs != null && lp != null) {
                            logprobs.addAll(lp);
                        }
                        if (k.usage() != null) {
                            prompt = k.usage().promptTokens();
                            generated += k.usage().completionTokens();
                            last = k;
                        }
                        if (t.stream()) {
                            out = out == null ? startStream(ex, "text/event-stream") : out;
                            int index = i;
                            event(out, new Completion(first.id(), k.object(), first.created(), alias(), k.choices()
                                    .stream().map(x -> new Completion.Choice(x.text(), index, x.finishReason(),
                                            x.logprobs())).toList(), null).toJson(textOffset));
                        }
                        if (lp != null) {
                            for (dev.gguf4j.llama.TokenLogprob e : lp) {
                                textOffset += e.token().codePointCount(0, e.token().length());
                            }
                        }
                    }
                    choices.add(new Completion.Choice(text.toString(), i, last.choices().getFirst().finishReason(),
                            logprobs));
                }
            }
            metrics.tokens(prompt, generated);
            Completion.Usage u = new Completion.Usage(prompt, generated, prompt + generated);
            if (!t.stream()) {
                sendJson(ex, 200, new Completion(first.id(), last.object(), first.created(), alias(), choices, u)
                        .toJson());
                return;
            }
            if (t.includeUsage()) {
                event(out, new Completion(first.id(), last.object(), first.created(), alias(), List.of(), u)
                        .toJson());
            }
            event(out, "[DONE]");
        } catch (IOException | ApiError e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Stream<Completion> textStream(Llama l, Text t) {
        return textStream(l, t, 0);
    }

    private static Stream<Completion> textStream(Llama l, Text t, int choice) {
        try {
            return l.stream(t.prompt(), t.params(choice));
        } catch (Gguf4jException e) {
            throw refused("prompt", e);
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    // ---- Ollama ----

    private void ollamaChat(HttpExchange ex, Llama l, Chat c) throws IOException {
        long t0 = System.nanoTime();
        try (AutoCloseable s = slot(); Stream<ChatCompletionChunk> chunks = chatStream(l, c)) {
            OutputStream out = c.stream() ? startStream(ex, "application/x-ndjson") : null;
            StringBuilder content = new StringBuilder();
            ArrayNode calls = JSON.createArrayNode();
            // logprobs asked for: the entries not yet sent (streamed: each line carries its tokens'; else all at the end)
            List<dev.gguf4j.llama.TokenLogprob> pending = c.params().logprobs() < 0 ? null : new ArrayList<>();
            for (Iterator<ChatCompletionChunk> it = chunks.iterator(); it.hasNext(); ) {
                ChatCompletionChunk k = it.next();
                ChatCompletionChunk.Choice ch = k.choices().getFirst();
                String piece = ch.delta().content();
                ArrayNode pieceCalls = JSON.createArrayNode();
                for (ChatCompletionChunk.ToolCallDelta d : ch.delta().toolCalls()) {
                    pieceCalls.add(ollamaToolCall(new ToolCall(d.id(), d.name(), d.arguments())));
                }
                calls.addAll(pieceCalls);
                if (piece != null) {
                    content.append(piece);
                }
                if (pending != null && ch.logprobs() != null) {
                    pending.addAll(ch.logprobs());
                }
                if (ch.finishReason() != null) {
                    ObjectNode last = ollamaHead();
                    ObjectNode msg = last.putObject("message").put("role", "assistant")
                            .put("content", c.stream() ? "" : content.toString());
                    if (!c.stream() && !calls.isEmpty()) {
                        msg.set("tool_calls", calls);
                    }
                    ollamaDone(last, ch.finishReason(), k.usage(), t0);
                    ollamaLogprobs(last, pending);
                    if (k.usage() != null) {
                        metrics.tokens(k.usage().promptTokens(), k.usage().completionTokens());
                    }
                    if (out != null) {
                        line(out, last);
                    } else {
                        sendJson(ex, 200, last.toString());
                    }
                } else if (out != null && ((piece != null && !piece.isEmpty()) || !pieceCalls.isEmpty())) {
                    ObjectNode o = ollamaHead();
                    ObjectNode msg = o.putObject("message").put("role", "assistant")
                            .put("content", piece == null ? "" : piece);
                    if (!pieceCalls.isEmpty()) {
                        msg.set("tool_calls", pieceCalls);
                    }
                    ollamaLogprobs(o, pending);
                    line(out, o.put("done", false));
                }
            }
        } catch (IOException | ApiError e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Ollama's {@code "logprobs": [{token, logprob, bytes, top_logprobs: [...]}, ...]} (api.Logprob since Ollama
     * 0.12.11: the same fields as an OpenAI {@code logprobs.content[]} entry) for the entries in {@code pending},
     * which it empties; nothing when logprobs were not asked for.
     */
    private static void ollamaLogprobs(ObjectNode o, List<dev.gguf4j.llama.TokenLogprob> pending) throws IOException {
        if (pending == null) {
            return;
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < pending.size(); i++) {
            pending.get(i).appendJson(sb.append(i == 0 ? "" : ","));
        }
        o.set("logprobs", JSON.readTree(sb.append(']').toString()));
        pending.clear();
    }

    private void ollamaGenerate(HttpExchange ex, Llama l, ObjectNode body) throws IOException {
        Fields f = new Fields(body, "");
        String prompt = f.string("prompt");
        String system = f.string("system");
        Boolean raw = f.bool("raw");
        Boolean streamFlag = f.bool("stream");
        boolean stream = streamFlag == null || streamFlag;
        ChatParams p = ServeRequests.ollamaParams(f, template, this::eogBias);
        long t0 = System.nanoTime();
        if (prompt == null || prompt.isEmpty()) { // Ollama: an empty prompt only loads the model
            ObjectNode o = ollamaHead().put("response", "").put("done", true).put("done_reason", "load");
            sendJson(ex, 200, stream ? o + "\n" : o.toString(), stream ? "application/x-ndjson" : "application/json");
            return;
        }
        Stream<Piece> pieces;
        try (AutoCloseable s = slot()) {
            if (raw != null && raw) {
                Text t = new Text(prompt, dev.gguf4j.llama.CompletionParams.DEFAULTS.withMaxTokens(
                        p.maxTokens() < 0 ? Integer.MAX_VALUE : p.maxTokens()).withStop(p.stop())
                        .withSampling(ServeRequests.grammar(p.responseFormat()) == null ? p.sampling()
                                : p.sampling().withGrammar(ServeRequests.grammar(p.responseFormat())))
                        .withLogprobs(p.logprobs()), stream, false);
                Stream<Completion> cs = textStream(l, t);
                pieces = cs.map(k -> new Piece(k.text(), k.choices().getFirst().finishReason(), k.usage(),
                        k.choices().getFirst().logprobs()));
            } else {
                List<ChatMessage> m = system == null ? List.of(ChatMessage.user(prompt))
                        : List.of(ChatMessage.system(system), ChatMessage.user(prompt));
                Stream<ChatCompletionChunk> cs = chatStream(l, new Chat(m, p, stream, false));
                pieces = cs.map(k -> {
                    ChatCompletionChunk.Choice ch = k.choices().getFirst();
                    return new Piece(ch.delta().content() == null ? "" : ch.delta().content(), ch.finishReason(),
                            k.usage(), ch.logprobs());
                });
            }
            try (Stream<Piece> ps = pieces) {
                OutputStream out = stream ? startStream(ex, "application/x-ndjson") : null;
                StringBuilder all = new StringBuilder();
                List<dev.gguf4j.llama.TokenLogprob> pending = p.logprobs() < 0 ? null : new ArrayList<>();
                for (Iterator<Piece> it = ps.iterator(); it.hasNext(); ) {
                    Piece k = it.next();
                    all.append(k.text());
                    if (pending != null && k.logprobs() != null) {
                        pending.addAll(k.logprobs());
                    }
                    if (k.finish() != null) {
                        ObjectNode last = ollamaHead().put("response", stream ? k.text() : all.toString());
                        Completion.Usage u = k.usage() == null ? new Completion.Usage(0, 0, 0) : k.usage();
                        ollamaDone(last, k.finish(), u, t0);
                        ollamaLogprobs(last, pending);
                        metrics.tokens(u.promptTokens(), u.completionTokens());
                        if (out != null) {
                            line(out, last);
                        } else {
                            sendJson(ex, 200, last.toString());
                        }
                    } else if (out != null && !k.text().isEmpty()) {
                        ObjectNode o = ollamaHead().put("response", k.text());
                        ollamaLogprobs(o, pending);
                        line(out, o.put("done", false));
                    }
                }
            }
        } catch (IOException | ApiError e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** One piece of an {@code /api/generate} reply: its text, the finish reason (last piece), usage, logprobs. */
    private record Piece(String text, String finish, Completion.Usage usage,
            List<dev.gguf4j.llama.TokenLogprob> logprobs) {
    }

    private ObjectNode ollamaHead() {
        return JSON.createObjectNode().put("model", alias()).put("created_at", Instant.now().toString());
    }

    private static void ollamaDone(ObjectNode o, String finish, Completion.Usage usage, long t0) {
        long total = System.nanoTime() - t0;
        o.put("done", true).put("done_reason", finish.equals(ChatCompletion.LENGTH) ? "length" : "stop")
                .put("total_duration", total).put("load_duration", 0)
                .put("prompt_eval_count", usage == null ? 0 : usage.promptTokens())
                .put("eval_count", usage == null ? 0 : usage.completionTokens());
    }

    private static ObjectNode ollamaToolCall(ToolCall t) {
        ObjectNode fn = JSON.createObjectNode().put("name", t.name());
        try {
            fn.set("arguments", JSON.readTree(t.arguments() == null ? "{}" : t.arguments()));
        } catch (IOException e) {
            fn.put("arguments", t.arguments());
        }
        ObjectNode o = JSON.createObjectNode();
        o.set("function", fn);
        return o;
    }

    private static void line(OutputStream out, ObjectNode o) throws IOException {
        out.write((o.toString() + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private ObjectNode details(Llama l) {
        ObjectNode d = JSON.createObjectNode().put("format", "gguf").put("family", l.config().architecture());
        d.putArray("families").add(l.config().architecture());
        d.put("parameter_size", "").put("quantization_level", "");
        return d;
    }

    private ObjectNode modelEntry(Llama l) {
        long size = 0;
        String modified = Instant.ofEpochMilli(startedMillis).toString();
        try {
            size = Files.size(modelPath);
            modified = Files.getLastModifiedTime(modelPath).toInstant().toString();
        } catch (IOException | RuntimeException e) {
            // a bundled or vanished file: sizes unknown
        }
        ObjectNode m = JSON.createObjectNode().put("name", alias()).put("model", alias()).put("modified_at", modified)
                .put("size", size).put("digest", "");
        m.set("details", details(l));
        return m;
    }

    private ObjectNode show(Llama l) {
        ObjectNode o = JSON.createObjectNode().put("modelfile", "").put("parameters", "");
        ChatTemplate t = l.embeddingOnly() ? null : template != null ? template : l.chatTemplate();
        o.put("template", t == null ? "" : t.builtinName().map(n -> "(built-in " + n + ")").orElse(""));
        o.set("details", details(l));
        ObjectNode info = o.putObject("model_info");
        String arch = l.config().architecture();
        info.put("general.architecture", arch).put(arch + ".context_length", l.contextLength())
                .put(arch + ".embedding_length", l.config().dim()).put(arch + ".block_count", l.config().layers());
        ArrayNode caps = o.putArray("capabilities");
        if (!l.embeddingOnly()) {
            caps.add("completion").add("tools");
        }
        if (embeddings) {
            caps.add("embedding");
        }
        o.put("modified_at", modelEntry(l).get("modified_at").asText());
        return o;
    }

    // ---- embeddings ----

    /**
     * The model for an embedding route: 501 (llama-server's {@code not_supported_error}, its message) without
     * {@code --embeddings}.
     */
    private Llama embedder(Llama l) {
        requireModel(l);
        if (!embeddings) {
            throw new ApiError(501, "not_supported_error", null, "This server does not support embeddings. Start it"
                    + " with `--embeddings`");
        }
        return l;
    }

    /**
     * An encoder (embedding only) serves no text: its chat and completion routes answer 501, as llama-server
     * answers them with {@code --embeddings}.
     */
    private void refuseGeneration(String path, Llama l) {
        if (l == null || !l.embeddingOnly()) {
            return;
        }
        switch (path) {
            case "/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions", "/api/chat",
                    "/api/generate" -> throw new ApiError(501, "not_supported_error", null, "This server does not"
                    + " support completions: " + alias() + " is an embedding-only " + l.config().architecture()
                    + " model; use /v1/embeddings or /api/embed");
            default -> { }
        }
    }

    /**
     * {@code r}'s inputs embedded (the model's pooling, L2-normalised unless {@code normalize} says otherwise) in a
     * generation slot: the same bounded queue as generation (503 when full). An input too long (without
     * truncation) or with no tokens: a 400 naming {@code param} and the input ({@code truncateHint}: how this
     * route asks for truncation, "" where it cannot).
     */
    private dev.gguf4j.llama.Embeddings embed(Llama l, ServeRequests.Embed r, String param, int normalize,
            String truncateHint) {
        dev.gguf4j.llama.EmbeddingParams p = dev.gguf4j.llama.EmbeddingParams.DEFAULTS.withTruncate(r.truncate())
                .withNormalize(normalize);
        dev.gguf4j.llama.Embeddings e;
        try (AutoCloseable s = slot()) {
            e = r.tokens() != null ? l.embedTokens(r.tokens(), p) : l.embed(r.inputs(), p);
        } catch (IllegalArgumentException x) {
            String m = String.valueOf(x.getMessage());
            int hint = m.indexOf(", or ask for truncation"); // the library's hint names its Java API and CLI flag
            throw ApiError.invalid(param, "'" + param + "': " + (hint < 0 ? m : m.substring(0, hint) + truncateHint));
        } catch (ApiError | IllegalStateException x) {
            throw x;
        } catch (Exception x) {
            throw new IllegalStateException(x);
        }
        metrics.tokens(e.promptTokens(), 0);
        metrics.embeddingInputs.add(r.count());
        return e;
    }

    private void openAiEmbeddings(HttpExchange ex, Llama l, ServeRequests.Embed r) throws IOException {
        dev.gguf4j.llama.Embeddings e = embed(l, r, "input", 2, "");
        ObjectNode o = JSON.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        for (dev.gguf4j.llama.Embeddings.Embedding x : e.data()) {
            ObjectNode d = data.addObject().put("object", "embedding").put("index", x.index());
            float[] v = x.vector();
            if (r.base64()) { // little-endian float32, as OpenAI's SDKs decode it
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * Float.BYTES)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                d.put("embedding", java.util.Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode a = d.putArray("embedding");
                for (float f : v) {
                    a.add(f);
                }
            }
        }
        o.put("model", alias());
        o.putObject("usage").put("prompt_tokens", e.promptTokens()).put("total_tokens", e.promptTokens());
        sendJson(ex, 200, o.toString());
    }

    /** Ollama's /api/embed, or ({@code legacy}) /api/embeddings: one vector, not normalised, as Ollama gives it. */
    private void ollamaEmbed(HttpExchange ex, Llama l, ServeRequests.Embed r, boolean legacy) throws IOException {
        long t0 = System.nanoTime();
        dev.gguf4j.llama.Embeddings e = r.inputs().isEmpty() ? null // Ollama: no input only loads the model
                : embed(l, r, legacy ? "prompt" : "input", legacy ? -1 : 2, ", or send 'truncate': true");
        if (legacy) {
            ObjectNode o = JSON.createObjectNode();
            ArrayNode a = o.putArray("embedding");
            if (e != null) {
                for (float f : e.data().getFirst().vector()) {
                    a.add(f);
                }
            }
            sendJson(ex, 200, o.toString());
            return;
        }
        ObjectNode o = JSON.createObjectNode().put("model", alias());
        ArrayNode all = o.putArray("embeddings");
        if (e != null) {
            for (dev.gguf4j.llama.Embeddings.Embedding x : e.data()) {
                ArrayNode a = all.addArray();
                for (float f : x.vector()) {
                    a.add(f);
                }
            }
        }
        o.put("total_duration", System.nanoTime() - t0).put("load_duration", 0)
                .put("prompt_eval_count", e == null ? 0 : e.promptTokens());
        sendJson(ex, 200, o.toString());
    }

    // ---- responses ----

    private static OutputStream startStream(HttpExchange ex, String type) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type + (type.startsWith("text/") ? "; charset=utf-8" : ""));
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        return ex.getResponseBody();
    }

    private static void sendJson(HttpExchange ex, int status, String json) throws IOException {
        sendJson(ex, status, json, "application/json");
    }

    private static void sendJson(HttpExchange ex, int status, String json, String type) throws IOException {
        sendBytes(ex, status, json.getBytes(StandardCharsets.UTF_8), type + "; charset=utf-8");
    }

    private static void sendBytes(HttpExchange ex, int status, byte[] b, String type) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /** OpenAI's error object; Ollama's routes get Ollama's {@code {"error": "..."}}. */
    static String errorJson(ApiError e) {
        ObjectNode o = JSON.createObjectNode();
        o.putObject("error").put("message", e.getMessage()).put("type", e.type).put("param", e.param)
                .putNull("code");
        return o.toString();
    }

    private static void sendError(HttpExchange ex, String path, ApiError e) {
        if (ex.getResponseCode() != -1) {
            return; // the reply had begun: the connection closes
        }
        try {
            if (e.status == 503) {
                ex.getResponseHeaders().set("Retry-After", "1");
            }
            sendJson(ex, e.status, path.startsWith("/api/")
                    ? JSON.createObjectNode().put("error", e.getMessage()).toString() : errorJson(e));
        } catch (IOException io) {
            // the client went away
        }
    }
}
