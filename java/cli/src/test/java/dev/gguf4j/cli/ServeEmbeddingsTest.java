package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.gguf4j.llama.EmbeddingParams;
import dev.gguf4j.llama.Embeddings;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.testing.EmbeddingVectors;
import dev.gguf4j.testing.RandomEncoders;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gguf4j serve --embeddings} with real clients: the OpenAI Java SDK (float and base64), LangChain4j's
 * OpenAiEmbeddingModel and OllamaEmbeddingModel, and raw {@code java.net.http} for every error case. Two servers:
 * the {@link RandomEncoders} bert encoder (CLS pooling) and a decoder (the shared kjv7m F32, mean pooling; the
 * bundled stories260K without ../shared). The inputs are {@code tests/golden/embeddings/prompts.txt}; each served
 * vector must equal {@link Llama#embed} called here, and be within cosine 0.9999 of llama.cpp c392e50's
 * llama-embedding golden for the same model file (its SHA-256 checked against {@code models.sha256}).
 */
class ServeEmbeddingsTest {
    static final Path GOLDEN = TestData.root().resolve("tests/golden/embeddings");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String KEY = "sk-embed";

    @TempDir
    static Path work;

    /** A served model, its golden and a direct Llama over the same file for the reference vectors. */
    record Served(String name, String golden, ServeFixture serve, Llama direct) {
    }

    static Served encoder;
    static Served decoder;
    static List<String> prompts;

    @BeforeAll
    static void start() throws Exception {
        prompts = Files.readAllLines(GOLDEN.resolve("prompts.txt"));
        Path bert = work.resolve("bert-F32.gguf");
        RandomEncoders.write(RandomEncoders.Preset.byId("bert"), GgmlType.F32, bert);
        encoder = served("bert-F32", "bert-F32-cls.json", bert, 512, "-np", "1", "--queue", "0");
        if (TestData.hasShared()) {
            decoder = served("kjv7m-F32", "kjv7m-F32-mean.json", TestData.model("kjv7m-F32.gguf"), 256);
        } else {
            decoder = served("stories260K-F32", "stories260K-F32-mean.json", BundledModel.path(), 512);
        }
    }

    static Served served(String name, String golden, Path model, int ctx, String... extra) throws Exception {
        String want = Files.readAllLines(GOLDEN.resolve("models.sha256")).stream()
                .filter(l -> l.endsWith("  " + name + ".gguf")).map(l -> l.substring(0, 64)).findFirst()
                .orElseThrow();
        assertEquals(want, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(model))), name + ": the file llama-embedding ran");
        List<String> args = new ArrayList<>(List.of("-c", "" + ctx, "--embeddings", "--api-key", KEY, "--alias",
                name));
        args.addAll(List.of(extra));
        ServeFixture serve = new ServeFixture(model, args.toArray(String[]::new));
        return new Served(name, golden, serve, Llama.load(model, LlamaOptions.DEFAULTS.withThreads(2)
                .withContextLength(ctx)));
    }

    @AfterAll
    static void stop() throws Exception {
        for (Served s : new Served[] {encoder, decoder}) {
            if (s != null) {
                s.serve().close();
                assertFalse(s.serve().log().contains("internal error"), s.serve().log());
                s.direct().close();
            }
        }
    }

    static List<float[]> golden(Served s) throws Exception {
        return EmbeddingVectors.parse(Files.readString(GOLDEN.resolve(s.golden())));
    }

    /** Served vectors: the direct Llama.embed's exactly, and llama-embedding's within cosine 0.9999. */
    static void check(Served s, List<float[]> got, String what) throws Exception {
        Embeddings direct = s.direct().embed(prompts, EmbeddingParams.DEFAULTS);
        List<float[]> want = golden(s);
        assertEquals(prompts.size(), got.size(), what);
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(direct.data().get(i).vector(), got.get(i), what + " input " + i + " vs Llama.embed");
            double cos = EmbeddingVectors.cosine(want.get(i), got.get(i));
            assertTrue(cos >= 0.9999, what + " input " + i + ": cosine " + cos + " to llama-embedding's");
        }
    }

    static float[] floats(List<? extends Number> l) {
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = l.get(i).floatValue();
        }
        return f;
    }

    static OpenAIClient openAi(Served s) {
        return OpenAIOkHttpClient.builder().baseUrl(s.serve().url + "/v1").apiKey(KEY).build();
    }

    @Test
    void openAiSdkFloatAndBase64() throws Exception {
        for (Served s : new Served[] {encoder, decoder}) {
            for (EmbeddingCreateParams.EncodingFormat format : new EmbeddingCreateParams.EncodingFormat[] {
                    EmbeddingCreateParams.EncodingFormat.FLOAT, EmbeddingCreateParams.EncodingFormat.BASE64}) {
                CreateEmbeddingResponse r = openAi(s).embeddings().create(EmbeddingCreateParams.builder()
                        .model(s.name()).input(EmbeddingCreateParams.Input.ofArrayOfStrings(prompts))
                        .encodingFormat(format).build());
                List<float[]> got = new ArrayList<>();
                for (int i = 0; i < r.data().size(); i++) {
                    assertEquals(i, r.data().get(i).index());
                    got.add(floats(r.data().get(i).embedding()));
                }
                check(s, got, s.name() + " OpenAI SDK " + format);
                assertEquals(s.name(), r.model());
                int tokens = s.direct().embed(prompts, EmbeddingParams.DEFAULTS).promptTokens();
                assertEquals(tokens, r.usage().promptTokens());
                assertEquals(tokens, r.usage().totalTokens());
            }
            // one string
            CreateEmbeddingResponse one = openAi(s).embeddings().create(EmbeddingCreateParams.builder()
                    .model(s.name()).input(prompts.get(1)).build());
            assertArrayEquals(s.direct().embed(prompts.get(1)).data().getFirst().vector(),
                    floats(one.data().getFirst().embedding()));
        }
    }

    /**
     * Token-id inputs (OpenAI's array of token arrays through its SDK, and one flat array): used as given, as
     * llama-server takes them, so the ids of each prompt with its special tokens give the text's vectors
     * (llama-embedding's within cosine 0.9999, Llama.embed's exactly).
     */
    @Test
    void tokenIdInputs() throws Exception {
        for (Served s : new Served[] {encoder, decoder}) {
            List<List<Long>> ids = new ArrayList<>();
            for (String p : prompts) {
                List<Long> t = new ArrayList<>();
                for (int id : s.direct().tokenize(p, true)) {
                    t.add((long) id);
                }
                ids.add(t);
            }
            CreateEmbeddingResponse r = openAi(s).embeddings().create(EmbeddingCreateParams.builder()
                    .model(s.name()).input(EmbeddingCreateParams.Input.ofArrayOfTokenArrays(ids)).build());
            List<float[]> got = new ArrayList<>();
            r.data().forEach(d -> got.add(floats(d.embedding())));
            check(s, got, s.name() + " token ids");
            assertEquals(s.direct().embed(prompts, EmbeddingParams.DEFAULTS).promptTokens(), r.usage().promptTokens());
            Reply one = post(s, "/v1/embeddings", "{\"input\":" + JSON.writeValueAsString(ids.get(2)) + "}");
            assertEquals(200, one.status(), one.json().toString());
            assertEquals(1, one.json().get("data").size());
            assertArrayEquals(s.direct().embed(prompts.get(2)).data().getFirst().vector(), floats(JSON.convertValue(
                    one.json().get("data").get(0).get("embedding"),
                    new com.fasterxml.jackson.core.type.TypeReference<List<Float>>() { })));
        }
    }

    @Test
    void langChain4jOpenAiAndOllama() throws Exception {
        List<TextSegment> segments = prompts.stream().map(TextSegment::from).toList();
        for (Served s : new Served[] {encoder, decoder}) {
            OpenAiEmbeddingModel openAi = OpenAiEmbeddingModel.builder().baseUrl(s.serve().url + "/v1").apiKey(KEY)
                    .modelName(s.name()).timeout(Duration.ofSeconds(60)).build();
            check(s, openAi.embedAll(segments).content().stream().map(Embedding::vector).toList(),
                    s.name() + " LangChain4j OpenAI");
            OllamaEmbeddingModel ollama = OllamaEmbeddingModel.builder().baseUrl(s.serve().url).modelName(s.name())
                    .customHeaders(java.util.Map.of("Authorization", "Bearer " + KEY))
                    .timeout(Duration.ofSeconds(60)).build();
            check(s, ollama.embedAll(segments).content().stream().map(Embedding::vector).toList(),
                    s.name() + " LangChain4j Ollama");
        }
    }

    record Reply(int status, JsonNode json, java.net.http.HttpHeaders headers) {
        String message() {
            return json.has("error") && json.get("error").isObject() ? json.get("error").get("message").asText()
                    : json.path("error").asText();
        }
    }

    static Reply post(Served s, String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(s.serve().url + path))
                .header("Authorization", "Bearer " + KEY).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), JSON.readTree(r.body()), r.headers());
    }

    static String longText(int words) {
        return "word ".repeat(words).strip();
    }

    /** Tokens of {@code text} as an embedding input (special tokens included), over the limit of 512. */
    static int tokens(Served s, String text) {
        int n = s.direct().tokenizer().encode(text, true, true).length;
        assertTrue(n > 512, "" + n);
        return n;
    }

    @Test
    void ollamaRoutes() throws Exception {
        Served s = encoder;
        Reply r = post(s, "/api/embed", "{\"model\":\"" + s.name() + "\",\"input\":" + JSON.writeValueAsString(
                prompts) + "}");
        assertEquals(200, r.status());
        List<float[]> got = new ArrayList<>();
        for (JsonNode v : r.json().get("embeddings")) {
            float[] f = new float[v.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = v.get(i).floatValue();
            }
            got.add(f);
        }
        check(s, got, "/api/embed");
        assertEquals(s.name(), r.json().get("model").asText());
        assertEquals(s.direct().embed(prompts, EmbeddingParams.DEFAULTS).promptTokens(),
                r.json().get("prompt_eval_count").asInt());
        assertTrue(r.json().get("total_duration").asLong() > 0);
        // a string input; an over-long input is truncated by default (Ollama's truncate: true)
        r = post(s, "/api/embed", "{\"input\":\"" + longText(600) + "\"}");
        assertEquals(200, r.status(), r.json().toString());
        assertEquals(512, r.json().get("prompt_eval_count").asInt());
        assertArrayEquals(s.direct().embed(List.of(longText(600)), EmbeddingParams.DEFAULTS.withTruncate(true))
                .data().getFirst().vector(), floats(JSON.convertValue(r.json().get("embeddings").get(0),
                        new com.fasterxml.jackson.core.type.TypeReference<List<Float>>() { })));
        r = post(s, "/api/embed", "{\"input\":[\"a\",\"" + longText(600) + "\"],\"truncate\":false}");
        assertEquals(400, r.status());
        assertTrue(r.message().contains("input 1 has " + tokens(s, longText(600)) + " tokens, more than the limit"
                + " of 512"), r.message());
        assertTrue(r.message().contains("'truncate': true"), r.message());
        // no input: Ollama's load request
        r = post(s, "/api/embed", "{\"model\":\"" + s.name() + "\"}");
        assertEquals(200, r.status());
        assertEquals(0, r.json().get("embeddings").size());
        // the legacy route: one vector, not normalised, as Ollama gives it
        r = post(s, "/api/embeddings", "{\"model\":\"" + s.name() + "\",\"prompt\":\"" + prompts.get(2) + "\"}");
        assertEquals(200, r.status());
        assertArrayEquals(s.direct().embed(List.of(prompts.get(2)), EmbeddingParams.DEFAULTS.withNormalize(-1))
                .data().getFirst().vector(), floats(JSON.convertValue(r.json().get("embedding"),
                        new com.fasterxml.jackson.core.type.TypeReference<List<Float>>() { })));
    }

    @Test
    void badRequestsName400TheField() throws Exception {
        Served s = encoder;
        String[][] cases = {
                {"{}", "input", "'input' is required"},
                {"{\"input\":42}", "input", "'input' must be a string or an array of strings"},
                {"{\"input\":[]}", "input", "'input' is an empty array"},
                {"{\"input\":[[1,\"a\"]]}", "input", "'input[0][1]' must be a token id"},
                {"{\"input\":[1,-2]}", "input", "'input[1]' must be a token id (an integer from 0), got -2"},
                {"{\"input\":[[1],\"a\"]}", "input", "'input[1]' must be a non-empty array of token ids"},
                {"{\"input\":[[1],[]]}", "input", "'input[1]' must be a non-empty array of token ids"},
                {"{\"input\":[[5,999999]]}", "input", "input 0 token 1: id 999999 is outside the vocabulary"},
                {"{\"input\":[\"a\",{}]}", "input", "'input[1]' must be a string like the first element"},
                {"{\"input\":[\"a\",[1]]}", "input", "'input[1]' must be a string like the first element"},
                {"{\"input\":\"a\",\"encoding_format\":\"int8\"}", "encoding_format", "must be float or base64"},
                {"{\"input\":\"a\",\"dimensions\":64}", "dimensions", "have 256 dimensions"},
                {"{\"input\":\"a\",\"dimensions\":-1}", "dimensions", "'dimensions' must be an integer"},
                {"{\"input\":[\"a\",\"" + longText(600) + "\"]}", "input",
                        "input 1 has " + tokens(s, longText(600)) + " tokens, more than the limit of 512 (the"
                        + " context length); shorten it"},
                {"{\"input\":" + JSON.writeValueAsString(java.util.Collections.nCopies(2049, "a")) + "}", "input",
                        "2049 inputs, more than the limit of 2048"},
        };
        for (String[] c : cases) {
            Reply r = post(s, "/v1/embeddings", c[0]);
            assertEquals(400, r.status(), c[0]);
            assertEquals("invalid_request_error", r.json().get("error").get("type").asText());
            assertEquals(c[1], r.json().get("error").get("param").asText(), c[0]);
            assertTrue(r.message().contains(c[2]), c[0] + ": " + r.message());
            assertFalse(r.message().contains("EmbeddingParams") || r.message().contains("truncat"), r.message());
        }
        assertEquals(200, post(s, "/v1/embeddings", "{\"input\":\"a\",\"dimensions\":256}").status());
        Reply r = post(s, "/v1/embeddings", "{\"model\":\"gpt-4\",\"input\":\"a\"}");
        assertEquals(404, r.status());
        r = post(s, "/api/embed", "{\"input\":7}");
        assertEquals(400, r.status());
        assertTrue(r.message().contains("'input' must be a string or an array of strings"), r.message());
    }

    @Test
    void anEncoderRefusesGeneration() throws Exception {
        Served s = encoder;
        for (String path : new String[] {"/v1/chat/completions", "/v1/completions"}) {
            Reply r = post(s, path, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"prompt\":\"hi\"}");
            assertEquals(501, r.status(), path);
            assertEquals("not_supported_error", r.json().get("error").get("type").asText());
            assertTrue(r.message().contains("bert-F32 is an embedding-only bert model; use /v1/embeddings"),
                    r.message());
        }
        for (String path : new String[] {"/api/chat", "/api/generate"}) {
            Reply r = post(s, path, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"prompt\":\"hi\"}");
            assertEquals(501, r.status(), path);
            assertTrue(r.message().contains("embedding-only"), r.message());
        }
        HttpResponse<String> show = HTTP.send(HttpRequest.newBuilder(URI.create(s.serve().url + "/api/show"))
                .header("Authorization", "Bearer " + KEY).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("[\"embedding\"]", JSON.readTree(show.body()).get("capabilities").toString());
    }

    static String[] runServe(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true,
                StandardCharsets.UTF_8));
        return new String[] {"" + status, err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void startingErrorsAreOneLine() throws Exception {
        Path bert = encoder.serve().model;
        String[] r = runServe("serve", "-m", bert.toString(), "--port", "0", "-t", "1");
        assertEquals("2", r[0], r[1]);
        assertEquals("gguf4j: serve: bert-F32.gguf is an embedding-only bert model: add --embeddings to serve"
                + " /v1/embeddings and /api/embed", r[1].lines().findFirst().orElse(""));
        // a model whose pooling is none (one vector per token) cannot answer in OpenAI's or Ollama's shape
        Path none = work.resolve("bert-none.gguf");
        ModelQuantizer.quantize(bert, none, QuantizeOptions.to(FileType.ALL_F32).threads(1).override(
                QuantizeOptions.KvOverride.parse("bert.pooling_type=int:0")), ModelQuantizer.LLAMA_POLICY,
                new ModelQuantizer.Listener() { });
        r = runServe("serve", "-m", none.toString(), "--port", "0", "-t", "1", "--embeddings");
        assertEquals("1", r[0], r[1]);
        assertEquals(1, r[1].lines().count(), r[1]);
        assertEquals("gguf4j: error: serve: --embeddings: bert-none.gguf cannot embed: its pooling type is none (one"
                + " vector per token): pooling type 'none' is not OAI compatible\n", r[1]);
    }

    @Test
    void embeddingsShareTheQueueAndTheMetrics() throws Exception {
        Served s = encoder; // -np 1 --queue 0
        try (AutoCloseable slot = s.serve().server.slot()) {
            Reply r = post(s, "/v1/embeddings", "{\"input\":\"a\"}");
            assertEquals(503, r.status());
            assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
            assertEquals(503, post(s, "/api/embed", "{\"input\":\"a\"}").status());
        }
        Reply ok = post(s, "/v1/embeddings", "{\"input\":[\"a\",\"b\"]}");
        assertEquals(200, ok.status());
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(s.serve().url + "/metrics"))
                .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("gguf4j_requests_total{endpoint=\"/v1/embeddings\",status=\"200\"}"), metrics);
        assertTrue(metrics.contains("gguf4j_requests_total{endpoint=\"/v1/embeddings\",status=\"503\"}"), metrics);
        Matcher inputs = Pattern.compile("(?m)^gguf4j_embedding_inputs_total (\\S+)$").matcher(metrics);
        assertTrue(inputs.find(), metrics);
        assertTrue(Double.parseDouble(inputs.group(1)) >= 2, metrics);
        Matcher prompt = Pattern.compile("(?m)^gguf4j_prompt_tokens_total (\\S+)$").matcher(metrics);
        assertTrue(prompt.find(), metrics);
        assertTrue(Double.parseDouble(prompt.group(1)) >= ok.json().get("usage").get("prompt_tokens").asInt());
    }
}
