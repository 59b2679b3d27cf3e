package dev.gguf4j.cli;

import dev.gguf4j.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@code gguf4j serve} started as the command line starts it, on a free port with the chatml template, over the
 * shared kjv7m model (the bundled stories260K without ../shared); closing it stops the server as SIGTERM does.
 */
final class ServeFixture implements AutoCloseable {
    final Path model;
    final Server server;
    final String url;
    final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread serving;

    static Path model() {
        try {
            return TestData.hasShared() ? TestData.model("kjv7m-Q4_K_M.gguf") : BundledModel.path();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    ServeFixture(String... extra) throws Exception {
        this(model(), extra);
    }

    /** Over {@code model} (e.g. an encoder for the embedding routes). */
    ServeFixture(Path model, String... extra) throws Exception {
        this.model = model;
        List<String> args = new ArrayList<>(List.of("-m", model.toString(), "--port", "0", "-t", "2",
                "--chat-template", "chatml"));
        args.addAll(List.of(extra));
        CompletableFuture<Server> started = new CompletableFuture<>();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        serving = new Thread(() -> {
            try {
                ServeCommand.run(args, out, out, stop, started::complete);
                started.completeExceptionally(new IllegalStateException("serve ended: " + log));
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        });
        serving.start();
        server = started.get(60, TimeUnit.SECONDS);
        url = server.url();
    }

    String log() {
        return log.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        stop.countDown();
        serving.join(60_000);
    }
}
