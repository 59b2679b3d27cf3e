package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Graceful shutdown (what SIGTERM does): new requests are refused, the one in progress finishes whole. */
class ServeShutdownTest {
    @Test
    void stopLetsTheRequestInProgressFinish() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Llama llama = Llama.load(BundledModel.path(), LlamaOptions.DEFAULTS.withThreads(1)
                .withContextLength(256))) {
            Server server = new Server(new Server.Config("127.0.0.1", 0, 1, 4, null, "m", 30, Server.MAX_BODY_BYTES),
                    new PrintStream(log, true, StandardCharsets.UTF_8));
            server.ready(llama, BundledModel.path(), dev.gguf4j.chat.BuiltinTemplates.get("chatml").orElseThrow());
            HttpClient http = HttpClient.newHttpClient();
            String body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":100,\"ignore_eos\":true,\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true}}";
            HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            // the one sequence is held, so the request waits in the queue until the shutdown has begun
            AutoCloseable slot = server.slot();
            CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
            for (int i = 0; i < 200 && server.admitted() < 2; i++) {
                Thread.sleep(20);
            }
            assertEquals(2, server.admitted());
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> server.stop(30));
            Thread.sleep(100);
            HttpResponse<String> late = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, late.statusCode(), "draining: new requests are refused");
            assertTrue(late.body().contains("shutting down"), late.body());
            assertTrue(!stopped.isDone(), "stop waits for the request in progress");
            slot.close();
            HttpResponse<String> r = inFlight.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode());
            assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
            assertTrue(r.body().contains("\"completion_tokens\":100"), "the whole reply was sent: " + r.body());
            stopped.get(30, TimeUnit.SECONDS);
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("POST /v1/completions 200"), log.toString());
        }
    }
}
