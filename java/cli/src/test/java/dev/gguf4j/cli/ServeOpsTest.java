package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code gguf4j serve}'s operations: /health before the model is loaded, CORS with --cors ({@code --embeddings}:
 * ServeEmbeddingsTest).
 */
class ServeOpsTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.timeout(java.time.Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthIs503UntilTheModelIsLoadedAndCorsOnlyForTheGivenOrigin() throws Exception {
        Server server = new Server(new Server.Config("127.0.0.1", 0, 1, 4, null, "m", 30, Server.MAX_BODY_BYTES,
                "https://app.example"), new PrintStream(new ByteArrayOutputStream()));
        try {
            String url = server.url();
            HttpResponse<String> h = send(HttpRequest.newBuilder(URI.create(url + "/health")).GET());
            assertEquals(503, h.statusCode());
            assertEquals("https://app.example", h.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            HttpResponse<String> chat = send(HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}")));
            assertEquals(503, chat.statusCode());
            assertTrue(chat.body().contains("still loading"), chat.body());
            // a browser's preflight: 204 with the allowed methods and headers, no API key asked
            HttpResponse<String> pre = send(HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example")
                    .header("Access-Control-Request-Method", "POST"));
            assertEquals(204, pre.statusCode());
            assertEquals("https://app.example", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("Authorization"));
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"));
            HttpResponse<String> m = send(HttpRequest.newBuilder(URI.create(url + "/metrics")).GET());
            assertTrue(m.body().contains("\ngguf4j_model_loaded 0\n"), m.body());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void corsWithoutAnOriginIsAOneLineError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Main.run(new String[] {"serve", "--cors", " "}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8)));
        assertEquals("gguf4j: serve: --cors ' ': give an origin such as https://example.com, or '*'\n",
                err.toString(StandardCharsets.UTF_8));
    }
}
