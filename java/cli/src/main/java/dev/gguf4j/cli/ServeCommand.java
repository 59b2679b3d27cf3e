package dev.gguf4j.cli;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.chat.ChatTemplate;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.llama.Pooling;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code gguf4j serve}: an OpenAI- and Ollama-compatible HTTP server ({@link Server}) over one model, with
 * llama-server's flag names. Runs until SIGTERM / Ctrl-C, then stops accepting, lets requests in progress finish
 * for a grace period, and exits with status 0.
 */
final class ServeCommand {
    static final String USAGE = """
            usage: gguf4j serve [-m MODEL | -hf USER/REPO[:QUANT] [--offline]]
                                [--host HOST] [--port PORT] [-c CTX] [-np N] [--queue N] [-t THREADS]
                                [-ngl N|auto] [--api-key KEY] [--alias NAME] [--chat-template NAME |
                                --chat-template-file FILE] [--timeout S] [--embeddings] [--cors ORIGIN]
                                [--no-mmap] [--mlock]
              --host HOST               address to listen on (default 127.0.0.1: this machine only)
              --port PORT               TCP port (default 8080; 0: a free one, printed)
              -c CTX                    context of each parallel sequence (default: the model's, capped at 4096;
                                        llama-server splits -c among its -np slots, gguf4j gives each one -c)
              -np N                     requests generating at once (default 1): continuous batching, their next
                                        tokens evaluated together in one forward pass per step (CPU; with GPU
                                        layers each has its own session); the last N chats' caches are kept
              --queue N                 requests that may wait for a free sequence (default 16); more: 503
              --api-key KEY             require 'Authorization: Bearer KEY' on every route but /health and /
                                        (default: the environment's GGUF4J_API_KEY, if set)
              --alias NAME              the model's name in replies and /v1/models (default: the file's name)
              --chat-template NAME, --chat-template-file FILE   as gguf4j chat
              --timeout S               seconds to read a request and to wait for a free sequence (default 600)
              --embeddings              serve /v1/embeddings, /api/embed and /api/embeddings with the model's
                                        pooling, L2-normalised (the only mode of an encoder such as bert or
                                        nomic-bert: its chat and completion routes answer 501)
              --cors ORIGIN             allow browser pages from ORIGIN ('*': any) to call the API (default: no
                                        CORS headers)
              -t, -ngl, --no-mmap, --mlock as gguf4j run
            endpoints: POST /v1/chat/completions, /v1/completions, /v1/embeddings (--embeddings); GET /v1/models;
            Ollama's POST /api/chat, /api/generate, /api/embed and /api/embeddings (--embeddings), /api/show,
            GET /api/tags, /api/ps, /api/version; GET /health, /metrics (Prometheus); GET / (a chat page)
            """;

    /** Seconds SIGTERM lets requests in progress finish. */
    static final int GRACE_SECONDS = 30;

    private ServeCommand() {
    }

    /**
     * Why {@code llama} cannot serve embeddings, or null when it can: a model whose pooling is none gives one
     * vector per token, which OpenAI's and Ollama's embedding replies cannot carry (llama-server refuses such
     * requests with the same words).
     */
    static String cannotEmbed(Llama llama) {
        return llama.defaultPooling() == Pooling.NONE ? "its pooling type is none (one vector per token): pooling"
                + " type 'none' is not OAI compatible" : null;
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean returned = new java.util.concurrent.atomic.AtomicBoolean();
        Thread hook = new Thread(() -> {
            if (returned.get()) {
                return; // the command ended by itself: its exit status stands
            }
            stop.countDown(); // SIGTERM / Ctrl-C while serving: drain, then exit 0 (a requested, clean stop)
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            err.flush();
            out.flush();
            Runtime.getRuntime().halt(0);
        }, "gguf4j-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(argv, out, err, stop, null);
        } finally {
            returned.set(true);
            stopped.countDown();
        }
    }

    /**
     * Serves until {@code stop} counts down; {@code started} (tests) gets the server once the model is loaded.
     */
    static int run(List<String> argv, PrintStream out, PrintStream err, CountDownLatch stop,
            java.util.function.Consumer<Server> started) throws IOException {
        Args a = new Args("serve", argv);
        ModelFlag model = new ModelFlag("serve");
        String host = "127.0.0.1";
        int port = 8080;
        int parallel = 1;
        int queue = 16;
        String apiKey = System.getenv("GGUF4J_API_KEY");
        String alias = null;
        String templateName = null;
        Path templateFile = null;
        int timeout = 600;
        boolean embeddings = false;
        String cors = null;
        GenerationFlags f = new GenerationFlags("serve");
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "--host" -> host = a.value(o);
                case "--port" -> port = a.intValue(o, 0, 65535);
                case "-np", "--parallel" -> parallel = a.intValue(o, 1, 1024);
                case "--queue" -> queue = a.intValue(o, 0, 1 << 20);
                case "--api-key" -> apiKey = a.value(o);
                case "--alias" -> alias = a.value(o);
                case "--chat-template" -> templateName = a.value(o);
                case "--chat-template-file" -> templateFile = Path.of(a.value(o));
                case "--timeout", "-to" -> timeout = a.intValue(o, 1, 1 << 24);
                case "--embeddings", "--embedding" -> embeddings = true;
                case "--cors" -> cors = a.value(o);
                case "-c", "--ctx-size", "-t", "--threads", "-ngl", "--n-gpu-layers", "--gpu-layers", "--no-mmap",
                        "--mlock" -> f.accept(o, a);
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw a.unknown(o);
            }
        }
        if (templateName != null && templateFile != null) {
            throw new Main.UsageException("serve: give --chat-template or --chat-template-file, not both");
        }
        if (cors != null && (cors.isBlank() || cors.chars().anyMatch(ch -> ch < 0x21 || ch > 0x7e))) {
            throw new Main.UsageException("serve: --cors '" + Errors.printable(cors) + "': give an origin such as"
                    + " https://example.com, or '*'");
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new Main.UsageException("serve: --api-key (or GGUF4J_API_KEY) is empty");
        }
        Path path = model.resolve(err);
        if (alias == null) {
            alias = path.getFileName().toString();
        }
        Server server;
        try {
            server = new Server(new Server.Config(host, port, parallel, queue, apiKey, alias, timeout,
                    Server.MAX_BODY_BYTES, cors), err);
        } catch (IOException e) {
            throw new Gguf4jException("serve: cannot listen on " + host + ":" + port + ": " + Errors.describe(e), e);
        }
        try {
            LlamaOptions opts = f.options();
            if (f.ctx > 0) {
                opts = opts.withContextLength(f.ctx);
            }
            try (Llama llama = Llama.load(path, opts)) {
                if (embeddings) {
                    String why = cannotEmbed(llama);
                    if (why != null) {
                        throw new Gguf4jException("serve: --embeddings: " + path.getFileName() + " cannot embed: "
                                + why);
                    }
                    server.enableEmbeddings();
                } else if (llama.embeddingOnly()) {
                    throw new Main.UsageException("serve: " + path.getFileName() + " is an embedding-only "
                            + llama.config().architecture() + " model: add --embeddings to serve /v1/embeddings and"
                            + " /api/embed");
                }
                if (parallel > 1) {
                    llama.enableBatching(parallel);
                }
                ChatTemplate template = ChatTemplateCommand.select(llama.metadata(), path.toString(), templateName,
                        templateFile, err);
                server.ready(llama, path, template);
                err.println("gguf4j: serving " + alias + " (" + llama.config().architecture() + ", context "
                        + llama.contextLength() + ", " + parallel + " parallel, " + (embeddings ? "embeddings "
                        + llama.defaultPooling().id() + " pooling, " : "") + "backend "
                        + llama.backend().description() + ") at " + server.url());
                if (started != null) {
                    started.accept(server);
                }
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                err.println("gguf4j: serve: stopping (requests in progress get " + GRACE_SECONDS + " s)");
                server.stop(GRACE_SECONDS);
            }
        } finally {
            server.stop(0);
        }
        return 0;
    }
}
