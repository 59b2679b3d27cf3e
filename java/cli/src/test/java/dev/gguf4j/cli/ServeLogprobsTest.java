package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gguf4j.chat.BuiltinTemplates;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.llama.CompletionParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.llama.TokenLogprob;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code logprobs} in {@code gguf4j serve}, batched ({@code -np 2}) and not ({@code -np 1}): chat's
 * {@code choices[].logprobs.content[]} (plain and streamed) equal {@link Llama#chat}'s for the same request (whose
 * values LogprobsTest checks against a plain session's logits), the legacy completions shape agrees with llama.cpp
 * c392e50's llama-server {@code n_probs} (tests/golden/logprobs), the OpenAI Java SDK reads them; and /metrics
 * follows the engine while a request runs.
 */
class ServeLogprobsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static ServeFixture batched;
    static ServeFixture alone;
    static Llama reference;

    @BeforeAll
    static void start() throws Exception {
        batched = new ServeFixture("-c", "256", "-np", "2", "--alias", "kjv");
        alone = new ServeFixture("-c", "256", "-np", "1", "--alias", "kjv");
        reference = Llama.load(batched.model, LlamaOptions.DEFAULTS.withThreads(2).withContextLength(256));
    }

    @AfterAll
    static void stop() throws Exception {
        for (ServeFixture f : new ServeFixture[] {batched, alone}) {
            if (f != null) {
                f.close();
                assertFalse(f.log().contains("internal error"), f.log());
            }
        }
        if (reference != null) {
            reference.close();
        }
    }

    static HttpResponse<String> post(ServeFixture f, String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(f.url + path)).timeout(java.time.Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The data of each server-sent event but [DONE]. */
    static List<JsonNode> events(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            assertTrue(block.startsWith("data: "), block);
            if (!block.equals("data: [DONE]")) {
                out.add(JSON.readTree(block.substring(6)));
            }
        }
        return out;
    }

    static final List<ChatMessage> MESSAGES = List.of(ChatMessage.system("You are brief."),
            ChatMessage.user("And God said"));
    static final String CHAT = "{\"model\":\"kjv\",\"messages\":[{\"role\":\"system\",\"content\":\"You are brief.\"},"
            + "{\"role\":\"user\",\"content\":\"And God said\"}],\"temperature\":0.8,\"seed\":42,\"max_tokens\":16,"
            + "\"logprobs\":true,\"top_logprobs\":3";

    static List<TokenLogprob> expectedChat() {
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(16).withTemplate(BuiltinTemplates.get("chatml").orElseThrow())
                .withSampling(SamplingParams.DEFAULTS.withTemperature(0.8f).withSeed(42)).withLogprobs(3);
        return reference.chat(MESSAGES, p).choices().getFirst().logprobs();
    }

    /** An OpenAI logprobs.content[] entry equals the library's (logprob as printed: the same double). */
    static void assertEntry(TokenLogprob e, JsonNode j, boolean withTop) {
        assertEquals(e.token(), j.get("token").asText());
        assertEquals(e.logprob(), j.get("logprob").asDouble());
        byte[] bytes = new byte[j.get("bytes").size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) j.get("bytes").get(i).asInt();
        }
        assertArrayEquals(e.bytes(), bytes);
        if (withTop) {
            assertEquals(e.topLogprobs().size(), j.get("top_logprobs").size());
            for (int i = 0; i < e.topLogprobs().size(); i++) {
                assertEntry(e.topLogprobs().get(i), j.get("top_logprobs").get(i), false);
            }
        }
    }

    @Test
    void chatLogprobsPlainAndStreamedBatchedOrNot() throws Exception {
        List<TokenLogprob> expected = expectedChat();
        assertFalse(expected.isEmpty());
        for (ServeFixture f : List.of(batched, alone)) {
            HttpResponse<String> r = post(f, "/v1/chat/completions", CHAT + "}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode content = JSON.readTree(r.body()).at("/choices/0/logprobs/content");
            assertEquals(expected.size(), content.size(), r.body());
            for (int i = 0; i < expected.size(); i++) {
                assertEntry(expected.get(i), content.get(i), true);
            }
            // streamed: each chunk carries its tokens' entries; together the same list
            HttpResponse<String> s = post(f, "/v1/chat/completions", CHAT + ",\"stream\":true}");
            List<JsonNode> streamed = new ArrayList<>();
            for (JsonNode c : events(s.body())) {
                JsonNode lp = c.at("/choices/0/logprobs/content");
                lp.forEach(streamed::add);
                if (!c.at("/choices/0/delta/content").asText("").isEmpty()) {
                    assertTrue(lp.size() > 0, "a content chunk carries its token's entry: " + c);
                }
            }
            assertEquals(expected.size(), streamed.size(), s.body());
            for (int i = 0; i < expected.size(); i++) {
                assertEntry(expected.get(i), streamed.get(i), true);
            }
            // not asked: null, as OpenAI has it
            JsonNode plain = JSON.readTree(post(f, "/v1/chat/completions", CHAT.replace("\"logprobs\":true,"
                    + "\"top_logprobs\":3", "\"logprobs\":false") + "}").body());
            assertTrue(plain.at("/choices/0/logprobs").isNull(), plain.toString());
        }
    }

    /**
     * The legacy shape against llama-server c392e50 (greedy, so both generate the same tokens): the same tokens and
     * alternatives, log-probabilities within 1e-4 (a few 1e-6 seen: gguf4j's and ggml's Q4_K dot products round
     * differently, and llama-server computes the softmax in float).
     */
    @Test
    void completionLogprobsAgreeWithLlamaServer() throws Exception {
        Assumptions.assumeTrue(TestData.hasShared(), "needs ../shared's kjv7m-Q4_K_M.gguf (the golden's model)");
        JsonNode golden = JSON.readTree(TestData.root().resolve("tests/golden/logprobs/llama-server-n_probs.json")
                .toFile());
        JsonNode probs = golden.get("completion_probabilities");
        String body = "{\"prompt\":" + JSON.writeValueAsString(golden.get("prompt").asText()) + ",\"max_tokens\":"
                + probs.size() + ",\"temperature\":0,\"logprobs\":5";
        for (ServeFixture f : List.of(batched, alone)) {
            HttpResponse<String> r = post(f, "/v1/completions", body + "}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode c = JSON.readTree(r.body()).at("/choices/0");
            assertEquals(golden.get("content").asText(), c.get("text").asText());
            JsonNode lp = c.get("logprobs");
            assertEquals(probs.size(), lp.get("tokens").size(), r.body());
            int offset = 0;
            for (int i = 0; i < probs.size(); i++) {
                JsonNode g = probs.get(i);
                assertEquals(g.get("token").asText(), lp.get("tokens").get(i).asText());
                assertEquals(g.get("logprob").asDouble(), lp.get("token_logprobs").get(i).asDouble(), 1e-4,
                        "token " + i);
                Map<String, Double> top = new HashMap<>();
                lp.get("top_logprobs").get(i).fields().forEachRemaining(e -> top.put(e.getKey(), e.getValue()
                        .asDouble()));
                assertEquals(5, top.size(), lp.toString());
                for (JsonNode t : g.get("top_logprobs")) {
                    assertTrue(top.containsKey(t.get("token").asText()), t + " in " + top);
                    assertEquals(t.get("logprob").asDouble(), top.get(t.get("token").asText()), 1e-4);
                }
                assertEquals(offset, lp.get("text_offset").get(i).asInt());
                offset += g.get("token").asText().codePointCount(0, g.get("token").asText().length());
            }
            // streamed: the same entries, the offsets running on across chunks
            HttpResponse<String> s = post(f, "/v1/completions", body + ",\"stream\":true}");
            List<Double> values = new ArrayList<>();
            List<Integer> offsets = new ArrayList<>();
            for (JsonNode e : events(s.body())) {
                JsonNode l = e.at("/choices/0/logprobs");
                l.path("token_logprobs").forEach(v -> values.add(v.asDouble()));
                l.path("text_offset").forEach(v -> offsets.add(v.asInt()));
            }
            List<Double> plainValues = new ArrayList<>();
            List<Integer> plainOffsets = new ArrayList<>();
            lp.get("token_logprobs").forEach(v -> plainValues.add(v.asDouble()));
            lp.get("text_offset").forEach(v -> plainOffsets.add(v.asInt()));
            assertEquals(plainValues, values);
            assertEquals(plainOffsets, offsets);
        }
    }

    /** The NDJSON lines of an Ollama stream. */
    static List<JsonNode> lines(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : body.split("\n")) {
            out.add(JSON.readTree(l));
        }
        return out;
    }

    /**
     * Ollama's {@code logprobs} / {@code top_logprobs} (Ollama 0.12.11's api.Logprob: token, logprob, bytes,
     * top_logprobs) on /api/chat and /api/generate, whole and streamed: the entries equal {@link Llama#chat}'s and
     * {@link Llama#complete}'s for the same request; without {@code logprobs} none is sent; {@code top_logprobs}
     * alone, or above 20, is a 400 naming the field.
     */
    @Test
    void ollamaLogprobsOnChatAndGenerate() throws Exception {
        List<TokenLogprob> expectedChat = expectedChat();
        String opts = "\"options\":{\"temperature\":0.8,\"seed\":42,\"num_predict\":16}";
        String chat = "{\"model\":\"kjv\",\"messages\":[{\"role\":\"system\",\"content\":\"You are brief.\"},"
                + "{\"role\":\"user\",\"content\":\"And God said\"}]," + opts;
        CompletionParams cp = CompletionParams.DEFAULTS.withMaxTokens(16).withSampling(SamplingParams.DEFAULTS
                .withTemperature(0.8f).withSeed(42)).withLogprobs(2);
        List<TokenLogprob> expectedRaw = reference.complete("And God said", cp).choices().getFirst().logprobs();
        String raw = "{\"model\":\"kjv\",\"prompt\":\"And God said\",\"raw\":true," + opts;
        for (ServeFixture f : List.of(batched, alone)) {
            for (boolean stream : new boolean[] {false, true}) {
                String tail = ",\"stream\":" + stream + "}";
                List<JsonNode> c = lines(post(f, "/api/chat", chat + ",\"logprobs\":true,\"top_logprobs\":3" + tail)
                        .body());
                assertOllamaEntries(expectedChat, c, 3);
                List<JsonNode> g = lines(post(f, "/api/generate", raw + ",\"logprobs\":true,\"top_logprobs\":2"
                        + tail).body());
                assertOllamaEntries(expectedRaw, g, 2);
                for (JsonNode n : lines(post(f, "/api/chat", chat + tail).body())) {
                    assertFalse(n.has("logprobs"), n.toString());
                }
            }
            HttpResponse<String> bad = post(f, "/api/chat", chat + ",\"top_logprobs\":3,\"stream\":false}");
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains("top_logprobs"), bad.body());
            bad = post(f, "/api/generate", raw + ",\"logprobs\":true,\"top_logprobs\":21,\"stream\":false}");
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains("top_logprobs"), bad.body());
        }
    }

    /** The entries of all lines together equal {@code expected}, each with {@code top} alternatives. */
    static void assertOllamaEntries(List<TokenLogprob> expected, List<JsonNode> lines, int top) {
        assertFalse(expected.isEmpty());
        List<JsonNode> got = new ArrayList<>();
        for (JsonNode n : lines) {
            assertTrue(n.has("logprobs"), "every line carries its tokens' entries: " + n);
            n.get("logprobs").forEach(got::add);
        }
        assertTrue(lines.getLast().get("done").asBoolean(), lines.getLast().toString());
        assertEquals(expected.size(), got.size(), lines.toString());
        for (int i = 0; i < expected.size(); i++) {
            assertEntry(expected.get(i), got.get(i), true);
            assertEquals(top, got.get(i).get("top_logprobs").size());
        }
    }

    @Test
    void openAiSdkReadsLogprobs() {
        List<TokenLogprob> expected = expectedChat();
        for (ServeFixture f : List.of(batched, alone)) {
            com.openai.client.OpenAIClient client = com.openai.client.okhttp.OpenAIOkHttpClient.builder()
                    .baseUrl(f.url + "/v1").apiKey("none").build();
            try {
                var params = com.openai.models.chat.completions.ChatCompletionCreateParams.builder().model("kjv")
                        .addSystemMessage("You are brief.").addUserMessage("And God said").temperature(0.8).seed(42L)
                        .maxCompletionTokens(16L).logprobs(true).topLogprobs(3L).build();
                var content = client.chat().completions().create(params).choices().getFirst().logprobs()
                        .orElseThrow().content().orElseThrow();
                assertEquals(expected.size(), content.size());
                for (int i = 0; i < content.size(); i++) {
                    var e = content.get(i);
                    assertEquals(expected.get(i).token(), e.token());
                    assertEquals(expected.get(i).logprob(), e.logprob());
                    assertEquals(3, e.topLogprobs().size());
                    assertEquals(expected.get(i).topLogprobs().getFirst().logprob(),
                            e.topLogprobs().getFirst().logprob());
                }
                List<Double> streamed = new ArrayList<>();
                try (var s = client.chat().completions().createStreaming(params)) {
                    s.stream().forEach(c -> c.choices().forEach(ch -> ch.logprobs().flatMap(l -> l.content())
                            .ifPresent(l -> l.forEach(e -> streamed.add(e.logprob())))));
                }
                assertEquals(expected.stream().map(TokenLogprob::logprob).toList(), streamed);
            } finally {
                client.close();
            }
        }
    }

    static Map<String, Double> scrape(ServeFixture f) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create(f.url + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> v = new HashMap<>();
        text.lines().filter(l -> !l.startsWith("#")).forEach(l -> v.put(l.substring(0, l.lastIndexOf(' ')),
                Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))));
        return v;
    }

    /**
     * While a stream runs: one active sequence, its KV cache held, generated tokens counted as they come. The
     * request asks for 16 choices of 240 tokens (one after another in its sequence), so that it is still generating
     * when the scrape comes however fast the machine is.
     */
    @Test
    void metricsFollowTheEngineWhileARequestRuns() throws Exception {
        for (ServeFixture f : List.of(batched, alone)) {
            double before = scrape(f).get("gguf4j_generated_tokens_total");
            HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(f.url + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"In the beginning\",\"max_tokens\":240,"
                            + "\"n\":16,\"ignore_eos\":true,\"stream\":true}")).build(), HttpResponse.BodyHandlers.ofLines());
            Map<String, Double> during;
            try (Stream<String> lines = r.body()) {
                Iterator<String> it = lines.iterator();
                int events = 0;
                while (events < 20 && it.hasNext()) {
                    events += it.next().startsWith("data: ") ? 1 : 0;
                }
                during = scrape(f);
            }
            assertEquals(1, during.get("gguf4j_active_sequences"), during.toString());
            double kv = during.get("gguf4j_kv_cache_used_cells");
            assertTrue(kv > 0 && kv <= during.get("gguf4j_kv_cache_cells"), during.toString());
            assertTrue(during.get("gguf4j_generated_tokens_total") >= before + 20, before + " " + during);
            assertTrue(during.get("gguf4j_generated_tokens_per_second") > 0, during.toString());
            // the client left: within a step the generation stops and the gauges fall back
            for (int i = 0; i < 200 && scrape(f).get("gguf4j_active_sequences") > 0; i++) {
                Thread.sleep(20);
            }
            Map<String, Double> after = scrape(f);
            assertEquals(0, after.get("gguf4j_active_sequences"), after.toString());
            assertTrue(after.get("gguf4j_generated_tokens_total") < before + 16 * 240, "stopped: " + after);
        }
    }
}
