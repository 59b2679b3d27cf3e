package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gguf4j.llama.CompletionParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code gguf4j serve -np 4}: four streaming requests at once are batched together, and each reply is the text the
 * same request gives alone ({@link Llama#complete} on a Llama without batching, same seed).
 */
class ServeBatchingTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void concurrentStreamsEqualEachRequestAlone() throws Exception {
        Path model = TestData.hasShared() ? TestData.model("kjv7m-Q4_K_M.gguf") : BundledModel.path();
        String[] prompts = {"In the beginning", "And the LORD spake unto Moses, saying", "Blessed is the man",
            "Now the serpent was more subtil than any beast of the field which the LORD God had made"};
        List<String> alone = new ArrayList<>();
        try (Llama l = Llama.load(model, LlamaOptions.DEFAULTS.withThreads(2).withContextLength(128))) {
            for (int i = 0; i < prompts.length; i++) {
                alone.add(l.complete(prompts[i], CompletionParams.DEFAULTS.withMaxTokens(24 + 4 * i)
                        .withSampling(SamplingParams.DEFAULTS.withTemperature(0.9f).withSeed(100 + i))).text());
            }
        }
        CountDownLatch stop = new CountDownLatch(1);
        CompletableFuture<Server> started = new CompletableFuture<>();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8);
        Thread serving = new Thread(() -> {
            try {
                ServeCommand.run(List.of("-m", model.toString(), "--port", "0", "-c", "128", "-t", "2", "-np", "4"),
                        ps, ps, stop, started::complete);
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        });
        serving.start();
        try {
            String url = started.get(60, TimeUnit.SECONDS).url();
            HttpClient http = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                String body = JSON.createObjectNode().put("prompt", prompts[i]).put("max_tokens", 24 + 4 * i)
                        .put("temperature", 0.9).put("seed", 100 + i).put("stream", true).toString();
                replies.add(http.sendAsync(HttpRequest.newBuilder(URI.create(url + "/v1/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < prompts.length; i++) {
                HttpResponse<String> r = replies.get(i).get(120, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                StringBuilder text = new StringBuilder();
                for (String block : r.body().split("\n\n")) {
                    String d = block.substring("data: ".length());
                    if (!d.equals("[DONE]")) {
                        JsonNode c = JSON.readTree(d);
                        text.append(c.at("/choices/0/text").asText(""));
                    }
                }
                assertEquals(alone.get(i), text.toString(), "request " + i);
            }
            String out = log.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("4 parallel"), out);
        } finally {
            stop.countDown();
            serving.join(60_000);
        }
    }
}
