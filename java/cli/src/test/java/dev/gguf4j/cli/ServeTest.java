package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gguf4j.chat.BuiltinTemplates;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.llama.CompletionParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code gguf4j serve} over HTTP, started as the command line starts it (on a free port, with an API key and the
 * chatml template), against the shared kjv7m model (the bundled stories260K without ../shared): every endpoint and
 * each error case with {@code java.net.http}; replies compared with {@link Llama#chat} / {@link Llama#complete} for
 * the same request and seed.
 */
class ServeTest {
    static final String KEY = "sk-test-key";
    static final ObjectMapper JSON = new ObjectMapper();
    static final int CTX = 256;
    static Path model;
    static Server server;
    static String url;
    static Llama reference;
    static final CountDownLatch STOP = new CountDownLatch(1);
    static Thread serving;
    static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        model = TestData.hasShared() ? TestData.model("kjv7m-Q4_K_M.gguf") : BundledModel.path();
        CompletableFuture<Server> started = new CompletableFuture<>();
        PrintStream log = new PrintStream(LOG, true, StandardCharsets.UTF_8);
        serving = new Thread(() -> {
            try {
                ServeCommand.run(List.of("-m", model.toString(), "--port", "0", "-c", "" + CTX, "-t", "2", "-np", "2",
                        "--queue", "1", "--timeout", "20", "--chat-template", "chatml", "--api-key", KEY, "--alias",
                        "testmodel"), log, log, STOP, started::complete);
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        });
        serving.start();
        server = started.get(60, TimeUnit.SECONDS);
        url = server.url();
        reference = Llama.load(model, LlamaOptions.DEFAULTS.withThreads(2).withContextLength(CTX));
    }

    @AfterAll
    static void stop() throws Exception {
        STOP.countDown();
        serving.join(60_000);
        if (reference != null) {
            reference.close();
        }
    }

    record Reply(int status, String body, java.net.http.HttpHeaders headers) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    static Reply post(String path, String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    static Reply get(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + KEY).GET());
    }

    static Reply send(HttpRequest.Builder b) throws Exception {
        HttpResponse<String> r = HTTP.send(b.timeout(java.time.Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r.headers());
    }

    static final String MESSAGES = "[{\"role\":\"system\",\"content\":\"You are brief.\"},"
            + "{\"role\":\"user\",\"content\":\"And God said\"}]";
    static final List<ChatMessage> MESSAGE_LIST = List.of(ChatMessage.system("You are brief."),
            ChatMessage.user("And God said"));

    /** What Llama.chat replies to MESSAGES with temperature 0.8, seed 42, 24 tokens, chatml. */
    static String expectedChat() {
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(24).withTemplate(BuiltinTemplates.get("chatml").orElseThrow())
                .withSampling(SamplingParams.DEFAULTS.withTemperature(0.8f).withSeed(42));
        return reference.chat(MESSAGE_LIST, p).message().content();
    }

    static final String CHAT_BODY = "{\"model\":\"testmodel\",\"messages\":" + MESSAGES
            + ",\"temperature\":0.8,\"seed\":42,\"max_tokens\":24";

    @Test
    void healthNeedsNoKeyAndEverythingElseDoes() throws Exception {
        Reply h = send(HttpRequest.newBuilder(URI.create(url + "/health")).GET());
        assertEquals(200, h.status());
        assertEquals("ok", h.json().get("status").asText());
        Reply none = send(HttpRequest.newBuilder(URI.create(url + "/v1/models")).GET());
        assertEquals(401, none.status());
        assertTrue(none.json().at("/error/message").asText().contains("missing API key"), none.body());
        Reply wrong = send(HttpRequest.newBuilder(URI.create(url + "/v1/models"))
                .header("Authorization", "Bearer sk-test-kez").GET());
        assertEquals(401, wrong.status());
        assertEquals("invalid API key", wrong.json().at("/error/message").asText());
        assertTrue(LOG.toString(StandardCharsets.UTF_8).contains("at http://127.0.0.1:" + server.port()),
                LOG.toString(StandardCharsets.UTF_8));
    }

    @Test
    void modelsAndOllamaInfoRoutes() throws Exception {
        JsonNode m = get("/v1/models").json();
        assertEquals("list", m.get("object").asText());
        assertEquals("testmodel", m.at("/data/0/id").asText());
        assertEquals("testmodel", get("/api/tags").json().at("/models/0/name").asText());
        assertEquals(java.nio.file.Files.size(model), get("/api/tags").json().at("/models/0/size").asLong());
        assertEquals("testmodel", get("/api/ps").json().at("/models/0/name").asText());
        assertEquals(dev.gguf4j.Gguf4j.version(), get("/api/version").json().get("version").asText());
        JsonNode show = post("/api/show", "{\"model\":\"testmodel\"}").json();
        assertEquals(reference.config().architecture(), show.at("/model_info/general.architecture").asText());
        assertEquals(CTX, show.at("/model_info/" + reference.config().architecture() + ".context_length").asInt());
    }

    @Test
    void chatEqualsLlamaChat() throws Exception {
        Reply r = post("/v1/chat/completions", CHAT_BODY + "}");
        assertEquals(200, r.status(), r.body());
        JsonNode j = r.json();
        assertEquals("chat.completion", j.get("object").asText());
        assertEquals("testmodel", j.get("model").asText());
        String expected = expectedChat();
        assertFalse(expected.isEmpty());
        assertEquals(expected, j.at("/choices/0/message/content").asText());
        assertEquals("assistant", j.at("/choices/0/message/role").asText());
        assertTrue(j.at("/usage/completion_tokens").asInt() <= 24, r.body());
    }

    @Test
    void streamedChatConcatenatesToTheSameText() throws Exception {
        Reply r = post("/v1/chat/completions", CHAT_BODY + ",\"stream\":true,\"stream_options\":"
                + "{\"include_usage\":true}}");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<String> events = new ArrayList<>();
        for (String block : r.body().split("\n\n")) {
            assertTrue(block.startsWith("data: "), block);
            events.add(block.substring(6));
        }
        assertEquals("[DONE]", events.getLast());
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode c = JSON.readTree(e);
            assertEquals("chat.completion.chunk", c.get("object").asText());
            if (c.get("choices").isEmpty()) {
                usage = c.get("usage");
                continue;
            }
            assertTrue(c.get("usage") == null || c.get("usage").isNull(), e);
            text.append(c.at("/choices/0/delta/content").asText(""));
            if (!c.at("/choices/0/finish_reason").isNull()) {
                finish = c.at("/choices/0/finish_reason").asText();
            }
        }
        assertEquals(expectedChat(), text.toString());
        assertNotNull(finish);
        assertNotNull(usage, "include_usage: a last chunk with empty choices and the usage");
        assertTrue(usage.get("completion_tokens").asInt() > 0);
        // without include_usage no chunk carries usage
        Reply plain = post("/v1/chat/completions", CHAT_BODY + ",\"stream\":true}");
        assertFalse(plain.body().contains("\"usage\""), plain.body());
    }

    @Test
    void textCompletionsEqualLlamaComplete() throws Exception {
        CompletionParams p = CompletionParams.DEFAULTS.withMaxTokens(12)
                .withSampling(SamplingParams.DEFAULTS.withTemperature(0.8f).withSeed(7));
        String expected = reference.complete("In the beginning", p).text();
        String body = "{\"prompt\":\"In the beginning\",\"max_tokens\":12,\"temperature\":0.8,\"seed\":7";
        Reply r = post("/v1/completions", body + "}");
        assertEquals(200, r.status(), r.body());
        assertEquals("text_completion", r.json().get("object").asText());
        assertEquals(expected, r.json().at("/choices/0/text").asText());
        Reply s = post("/v1/completions", body + ",\"stream\":true}");
        StringBuilder text = new StringBuilder();
        for (String block : s.body().split("\n\n")) {
            String d = block.substring(6);
            if (!d.equals("[DONE]")) {
                text.append(JSON.readTree(d).at("/choices/0/text").asText());
            }
        }
        assertTrue(s.body().endsWith("data: [DONE]\n\n"));
        assertEquals(expected, text.toString());
    }

    @Test
    void ollamaChatStreamsNdjsonByDefault() throws Exception {
        String body = "{\"model\":\"testmodel\",\"messages\":" + MESSAGES
                + ",\"options\":{\"temperature\":0.8,\"seed\":42,\"num_predict\":24}";
        Reply r = post("/api/chat", body + "}");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/x-ndjson"));
        StringBuilder text = new StringBuilder();
        String[] lines = r.body().split("\n");
        for (int i = 0; i < lines.length; i++) {
            JsonNode l = JSON.readTree(lines[i]);
            assertEquals("testmodel", l.get("model").asText());
            assertEquals(i == lines.length - 1, l.get("done").asBoolean(), lines[i]);
            text.append(l.at("/message/content").asText());
        }
        JsonNode last = JSON.readTree(lines[lines.length - 1]);
        assertTrue(last.get("eval_count").asInt() > 0);
        String expected = expectedChat();
        assertEquals(expected, text.toString());
        Reply whole = post("/api/chat", body + ",\"stream\":false}");
        assertEquals(expected, whole.json().at("/message/content").asText());
        assertTrue(whole.json().get("done").asBoolean());
    }

    @Test
    void ollamaGenerateTemplatedAndRaw() throws Exception {
        String opts = ",\"options\":{\"temperature\":0,\"num_predict\":10}";
        Reply r = post("/api/generate", "{\"prompt\":\"And God said\",\"system\":\"You are brief.\",\"stream\":false"
                + opts + "}");
        assertEquals(200, r.status(), r.body());
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(10).withTemplate(BuiltinTemplates.get("chatml").orElseThrow())
                .withSampling(SamplingParams.greedy());
        assertEquals(reference.chat(MESSAGE_LIST, p).message().content(), r.json().get("response").asText());
        Reply raw = post("/api/generate", "{\"prompt\":\"In the beginning\",\"raw\":true" + opts + "}");
        StringBuilder text = new StringBuilder();
        for (String line : raw.body().split("\n")) {
            text.append(JSON.readTree(line).get("response").asText());
        }
        assertEquals(reference.complete("In the beginning", CompletionParams.DEFAULTS.withMaxTokens(10)
                .withSampling(SamplingParams.greedy())).text(), text.toString());
        Reply load = post("/api/generate", "{\"model\":\"testmodel\"}");
        assertEquals("load", JSON.readTree(load.body().strip()).get("done_reason").asText());
    }

    /** A 400 whose OpenAI error object names {@code param} and says {@code text}. */
    static void badRequest(String path, String body, String param, String text) throws Exception {
        Reply r = post(path, body);
        assertEquals(400, r.status(), body + " -> " + r.body());
        JsonNode e = r.json().get("error");
        assertEquals("invalid_request_error", e.get("type").asText(), r.body());
        if (param != null) {
            assertEquals(param, e.get("param").asText(), r.body());
        }
        assertTrue(e.get("message").asText().contains(text), r.body());
        assertFalse(r.body().contains("\tat "), "no stack trace");
    }

    @Test
    void badRequestsAre400sNamingTheField() throws Exception {
        String chat = "/v1/chat/completions";
        String m = "{\"messages\":" + MESSAGES;
        badRequest(chat, "{\"messages\": [", null, "not valid JSON");
        badRequest(chat, "[1,2]", null, "must be a JSON object");
        badRequest(chat, "", null, "must be a JSON object");
        badRequest(chat, "{}", "messages", "'messages' is required");
        badRequest(chat, "{\"messages\":[]}", "messages", "non-empty array");
        badRequest(chat, "{\"messages\":[{\"role\":7}]}", "messages", "messages");
        badRequest(chat, m + ",\"max_tokens\":-1}", "max_tokens", "'max_tokens' must be an integer in [0, ");
        badRequest(chat, m + ",\"max_tokens\":\"ten\"}", "max_tokens", "'max_tokens' must be an integer, got \"ten\"");
        badRequest(chat, m + ",\"max_completion_tokens\":1.5}", "max_completion_tokens", "an integer");
        badRequest(chat, m + ",\"temperature\":-0.5}", "temperature", "'temperature' must be a number in [0, inf]");
        badRequest(chat, m + ",\"temperature\":\"hot\"}", "temperature", "a number");
        badRequest(chat, m + ",\"top_p\":1.5}", "top_p", "in [0, 1]");
        badRequest(chat, m + ",\"top_k\":-3}", "top_k", "top_k");
        badRequest(chat, m + ",\"seed\":\"x\"}", "seed", "an integer");
        badRequest(chat, m + ",\"n\":17}", "n", "'n' must be an integer in [1, 16]");
        badRequest(chat, m + ",\"n\":0}", "n", "in [1, 16]");
        badRequest(chat, m + ",\"stream\":\"yes\"}", "stream", "true or false");
        badRequest(chat, m + ",\"stop\":[1]}", "stop", "a string or an array of strings");
        badRequest(chat, m + ",\"stop\":\"\"}", "stop", "empty string");
        badRequest(chat, m + ",\"logprobs\":1}", "logprobs", "'logprobs' must be true or false");
        badRequest(chat, m + ",\"top_logprobs\":3}", "top_logprobs", "'top_logprobs' needs 'logprobs': true");
        badRequest(chat, m + ",\"logprobs\":true,\"top_logprobs\":21}", "top_logprobs", "in [0, 20]");
        badRequest("/v1/completions", "{\"prompt\":\"x\",\"logprobs\":true}", "logprobs", "an integer");
        badRequest("/v1/completions", "{\"prompt\":\"x\",\"logprobs\":21}", "logprobs", "in [0, 20]");
        badRequest(chat, m + ",\"response_format\":{\"type\":\"xml\"}}", "response_format",
                "must be text, json_object or json_schema, got 'xml'");
        badRequest(chat, m + ",\"response_format\":{\"type\":\"json_schema\"}}", "response_format",
                "'response_format.json_schema.schema' must be a JSON Schema object");
        badRequest(chat, m + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\","
                + "\"schema\":{\"type\":\"object\",\"patternProperties\":{}}}}}", "response_format",
                "'patternProperties' is not supported");
        badRequest(chat, m + ",\"response_format\":\"json\"}", "response_format", "an object");
        badRequest(chat, m + ",\"temperature\":1e999}", "temperature", "in [0, inf]");
        badRequest(chat, m + ",\"seed\":123456789012345678901234567890}", "seed", "an integer in [-1, ");
        badRequest(chat, m + ",\"stream_options\":{\"include_usage\":1}}", "stream_options.include_usage",
                "true or false");
        badRequest(chat, m + ",\"tools\":{}}", "tools", "array");
        badRequest(chat, m + ",\"tool_choice\":\"sometimes\"}", "tool_choice", "sometimes");
        badRequest(chat, "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "And God said ".repeat(200) + "\"}]}",
                "messages", "context holds " + CTX);
        badRequest("/v1/completions", "{\"prompt\":\"" + "And God said ".repeat(200) + "\"}", "prompt",
                "context holds " + CTX);
        badRequest("/v1/completions", "{\"prompt\":5}", "prompt", "'prompt' must be a string");
        badRequest("/v1/completions", "{}", "prompt", "required");
        // deeply nested JSON: Jackson's nesting limit, not a stack overflow
        badRequest(chat, "{\"messages\":" + "[".repeat(5000) + "]".repeat(5000) + "}", null, "not valid JSON");
        // invalid UTF-8
        Reply bad = send(HttpRequest.newBuilder(URI.create(url + chat)).header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':',
                    '1', '}'})));
        assertEquals(400, bad.status(), bad.body());
        assertTrue(bad.body().contains("UTF-8"), bad.body());
        // Ollama's routes: Ollama's error shape
        Reply o = post("/api/chat", "{\"messages\":" + MESSAGES + ",\"options\":{\"temperature\":-1}}");
        assertEquals(400, o.status());
        assertTrue(o.json().get("error").asText().contains("'options.temperature' must be a number in [0, inf]"),
                o.body());
        Reply fmt = post("/api/chat", "{\"messages\":" + MESSAGES + ",\"format\":\"yaml\"}");
        assertEquals(400, fmt.status());
        assertTrue(fmt.json().get("error").asText().contains("'format' must be \"json\" or a JSON Schema object"),
                fmt.body());
    }

    @Test
    void unknownRoutesMethodsAndHugeBodies() throws Exception {
        Reply nf = get("/v1/nothing");
        assertEquals(404, nf.status());
        assertTrue(nf.json().at("/error/message").asText().contains("no route /v1/nothing"), nf.body());
        assertEquals(405, get("/v1/chat/completions").status());
        // Content-Length over 16 MiB: 413 before the body is read
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + (Server.MAX_BODY_BYTES + 1)
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 413", head);
        }
    }

    @Test
    void aFullQueueIs503WithRetryAfter() throws Exception {
        // -np 2 --queue 1: hold both sequences, let one request wait, and the next is refused
        AutoCloseable a = server.slot();
        AutoCloseable b = server.slot();
        CompletableFuture<Reply> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return post("/v1/chat/completions", CHAT_BODY + "}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Reply refused = null;
        for (int i = 0; i < 100; i++) { // until the waiting request has been admitted
            Thread.sleep(50);
            refused = post("/v1/chat/completions", CHAT_BODY + "}");
            if (refused.status() == 503) {
                break;
            }
        }
        assertEquals(503, refused.status(), refused.body());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
        assertTrue(refused.json().at("/error/message").asText().contains("busy"), refused.body());
        a.close();
        b.close();
        assertEquals(200, waiting.get(60, TimeUnit.SECONDS).status());
    }

    @Test
    void aClientThatLeavesStopsItsGeneration() throws Exception {
        // a stream of 200 tokens (ignore_eos) read for its first bytes, then dropped: the server stops at a failed
        // write (its access-log line says so) and frees the sequence
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            String body = "{\"messages\":" + MESSAGES + ",\"max_tokens\":200,\"ignore_eos\":true,\"stream\":true}";
            s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                    + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            s.getInputStream().read(new byte[64]);
        }
        for (int i = 0; i < 200 && !LOG.toString(StandardCharsets.UTF_8).contains("(client gone"); i++) {
            Thread.sleep(50);
        }
        assertTrue(LOG.toString(StandardCharsets.UTF_8).contains("(client gone"), LOG.toString(StandardCharsets.UTF_8));
    }

    @Test
    void ignoreEosGeneratesTheWholeBudget() throws Exception {
        Reply r = post("/v1/chat/completions", "{\"messages\":" + MESSAGES + ",\"max_tokens\":40,\"ignore_eos\":true}");
        assertEquals(200, r.status(), r.body());
        assertEquals(40, r.json().at("/usage/completion_tokens").asInt(), r.body());
        assertEquals("length", r.json().at("/choices/0/finish_reason").asText());
    }

    @Test
    void toolsReachTheTemplateAsLlamaChatTakesThem() throws Exception {
        String params = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}";
        String tools = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather\","
                + "\"parameters\":" + params + "}}]";
        Reply r = post("/v1/chat/completions", CHAT_BODY + ",\"tools\":" + tools + "}");
        assertEquals(200, r.status(), r.body());
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(24).withTemplate(BuiltinTemplates.get("chatml").orElseThrow())
                .withSampling(SamplingParams.DEFAULTS.withTemperature(0.8f).withSeed(42))
                .withTools(List.of(dev.gguf4j.chat.ChatTool.of("get_weather", "Weather", params)));
        assertEquals(reference.chat(MESSAGE_LIST, p).message().content(),
                r.json().at("/choices/0/message/content").asText());
        badRequest("/v1/chat/completions", CHAT_BODY + ",\"tools\":" + tools
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}", "tool_choice",
                "'nope', which is not among the tools");
    }

    @Test
    void badFlagsAreOneLineUsageErrors() {
        for (String[] c : new String[][] {
            {"--port", "70000", "gguf4j: serve: --port 70000: must be in [0, 65535]"},
            {"-np", "0", "gguf4j: serve: -np 0: must be in [1, 1024]"},
            {"--bogus", "", "gguf4j: serve: unknown argument '--bogus'"},
            {"--api-key", " ", "gguf4j: serve: --api-key (or GGUF4J_API_KEY) is empty"}}) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            String[] args = c[1].isEmpty() ? new String[] {"serve", c[0]} : new String[] {"serve", c[0], c[1]};
            int st = Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true,
                    StandardCharsets.UTF_8));
            assertEquals(2, st);
            assertEquals(c[2] + "\n", err.toString(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Main.run(new String[] {"serve", "--chat-template", "chatml", "--chat-template-file", "t"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8)));
        assertEquals("gguf4j: serve: give --chat-template or --chat-template-file, not both\n",
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void unknownModelsAre404s() throws Exception {
        Reply r = post("/v1/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":" + MESSAGES + "}");
        assertEquals(404, r.status(), r.body());
        assertEquals("model", r.json().at("/error/param").asText());
        assertTrue(r.json().at("/error/message").asText().startsWith("model 'gpt-4o' not found: this server serves"
                + " 'testmodel' (file " + model.getFileName() + ")"), r.body());
        assertEquals(404, post("/v1/completions", "{\"model\":\"x\",\"prompt\":\"a\"}").status());
        Reply o = post("/api/chat", "{\"model\":\"llama3\",\"messages\":" + MESSAGES + "}");
        assertEquals(404, o.status());
        assertTrue(o.json().get("error").asText().contains("model 'llama3' not found"), o.body());
        assertEquals(404, post("/api/show", "{\"name\":\"llama3\"}").status());
        // the alias, the file name, and Ollama's ":latest" tag all name the model
        assertEquals(200, post("/v1/completions", "{\"model\":\"" + model.getFileName()
                + "\",\"prompt\":\"a\",\"max_tokens\":1}").status());
        assertEquals(200, post("/api/show", "{\"model\":\"testmodel:latest\"}").status());
        badRequest("/v1/chat/completions", "{\"model\":5,\"messages\":" + MESSAGES + "}", "model", "a string");
    }

    @Test
    void nChoicesSampleWithSeedPlusIndex() throws Exception {
        Reply r = post("/v1/chat/completions", CHAT_BODY + ",\"n\":3}");
        assertEquals(200, r.status(), r.body());
        JsonNode choices = r.json().get("choices");
        assertEquals(3, choices.size());
        int generated = 0;
        for (int i = 0; i < 3; i++) {
            ChatParams p = ChatParams.DEFAULTS.withMaxTokens(24).withTemplate(BuiltinTemplates.get("chatml")
                    .orElseThrow()).withSampling(SamplingParams.DEFAULTS.withTemperature(0.8f).withSeed(42 + i));
            var expected = reference.chat(MESSAGE_LIST, p);
            assertEquals(i, choices.get(i).get("index").asInt());
            assertEquals(expected.message().content(), choices.get(i).at("/message/content").asText());
            generated += expected.usage().completionTokens();
        }
        assertEquals(generated, r.json().at("/usage/completion_tokens").asInt(), r.body());
        // streamed: the choices' chunks carry their index, one id for all
        Reply s = post("/v1/chat/completions", CHAT_BODY + ",\"n\":2,\"stream\":true}");
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (String block : s.body().split("\n\n")) {
            String d = block.substring(6);
            if (!d.equals("[DONE]")) {
                JsonNode c = JSON.readTree(d);
                ids.add(c.get("id").asText());
                text[c.at("/choices/0/index").asInt()].append(c.at("/choices/0/delta/content").asText(""));
            }
        }
        assertEquals(1, ids.size());
        assertEquals(choices.get(0).at("/message/content").asText(), text[0].toString());
        assertEquals(choices.get(1).at("/message/content").asText(), text[1].toString());
        Reply t = post("/v1/completions", "{\"prompt\":\"In the beginning\",\"max_tokens\":6,\"seed\":1,\"n\":2}");
        assertEquals(2, t.json().get("choices").size(), t.body());
        assertEquals(1, t.json().at("/choices/1/index").asInt());
    }

    @Test
    void responseFormatConstrainsTheReplyToJson() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"verse\":{\"type\":\"integer\"}},"
                + "\"required\":[\"verse\"],\"additionalProperties\":false}";
        Reply r = post("/v1/chat/completions", "{\"messages\":" + MESSAGES + ",\"seed\":3,\"max_tokens\":60,"
                + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"v\",\"schema\":"
                + schema + "}}}");
        assertEquals(200, r.status(), r.body());
        String content = r.json().at("/choices/0/message/content").asText();
        // independent of the server: the JSON Schema checked by hand (an object with exactly an integer "verse")
        if (r.json().at("/choices/0/finish_reason").asText().equals("stop")) {
            JsonNode j = JSON.readTree(content);
            assertTrue(j.isObject() && j.size() == 1 && j.get("verse").isIntegralNumber(), content);
        } else {
            assertTrue(content.strip().startsWith("{"), content);
        }
        Reply o = post("/v1/chat/completions", "{\"messages\":" + MESSAGES + ",\"seed\":5,\"max_tokens\":40,"
                + "\"response_format\":{\"type\":\"json_object\"}}");
        assertEquals(200, o.status(), o.body());
        assertTrue(o.json().at("/choices/0/message/content").asText().strip().startsWith("{"), o.body());
        Reply ol = post("/api/chat", "{\"messages\":" + MESSAGES + ",\"stream\":false,\"format\":" + schema
                + ",\"options\":{\"seed\":3,\"num_predict\":60}}");
        assertEquals(200, ol.status(), ol.body());
        assertTrue(ol.json().at("/message/content").asText().strip().startsWith("{"), ol.body());
    }

    @Test
    void metricsCountRequestsAndTokens() throws Exception {
        post("/v1/completions", "{\"prompt\":\"In the beginning\",\"max_tokens\":5,\"ignore_eos\":true}");
        get("/v1/nothing/here");
        Reply m = get("/metrics");
        assertEquals(200, m.status());
        assertTrue(m.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        String text = m.body();
        java.util.Map<String, Double> v = new java.util.HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                assertTrue(line.matches("# (HELP|TYPE) gguf4j_\\w+ .+"), line);
                continue;
            }
            // a sample line: name{labels} value, as Prometheus' text format has it
            assertTrue(line.matches("gguf4j_\\w+(\\{(\\w+=\"[^\"]*\",?)+\\})? -?[0-9.eE+-]+|NaN"), line);
            v.put(line.substring(0, line.lastIndexOf(' ')), Double.parseDouble(line.substring(line
                    .lastIndexOf(' ') + 1)));
        }
        assertTrue(v.get("gguf4j_requests_total{endpoint=\"/v1/completions\",status=\"200\"}") >= 1, text);
        assertTrue(v.get("gguf4j_requests_total{endpoint=\"other\",status=\"404\"}") >= 1, text);
        assertTrue(v.get("gguf4j_generated_tokens_total") >= 5, text);
        assertTrue(v.get("gguf4j_prompt_tokens_total") >= 3, text);
        assertEquals(2, v.get("gguf4j_parallel_sequences"));
        assertEquals(2.0 * CTX, v.get("gguf4j_kv_cache_cells"));
        assertEquals(1, v.get("gguf4j_model_loaded"));
        for (String g : List.of("gguf4j_queue_depth", "gguf4j_active_sequences", "gguf4j_kv_cache_used_cells",
                "gguf4j_generated_tokens_per_second")) {
            assertNotNull(v.get(g), g + " in " + text);
        }
        assertEquals(401, send(HttpRequest.newBuilder(URI.create(url + "/metrics")).GET()).status());
    }

    @Test
    void theChatPageAndNoCorsByDefault() throws Exception {
        Reply page = send(HttpRequest.newBuilder(URI.create(url + "/")).GET()); // static: no key needed
        assertEquals(200, page.status());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("v1/chat/completions"), "the page streams from the chat route");
        Reply r = send(HttpRequest.newBuilder(URI.create(url + "/v1/models")).header("Authorization", "Bearer " + KEY)
                .header("Origin", "https://evil.example").GET());
        assertTrue(r.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "CORS is off without --cors");
    }

    @Test
    void accessLogHasOneLinePerRequest() throws Exception {
        String marker = "/v1/nothing-" + System.nanoTime();
        get(marker);
        for (int i = 0; i < 100 && !LOG.toString(StandardCharsets.UTF_8).contains(marker); i++) {
            Thread.sleep(20); // the line is written once the reply has been sent
        }
        String log = LOG.toString(StandardCharsets.UTF_8);
        assertEquals(1, log.lines().filter(l -> l.contains(marker)).count(), log);
        assertTrue(log.lines().anyMatch(l -> l.matches("gguf4j: GET " + java.util.regex.Pattern.quote(marker)
                + " 404 [0-9.]+ ms")), log);
        assertFalse(log.contains("internal error"), log);
    }

    // ---- the official OpenAI Java SDK as the client ----

    static com.openai.client.OpenAIClient sdk() {
        return com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl(url + "/v1").apiKey(KEY).build();
    }

    static com.openai.models.chat.completions.ChatCompletionCreateParams sdkParams() {
        return com.openai.models.chat.completions.ChatCompletionCreateParams.builder().model("testmodel")
                .addSystemMessage("You are brief.").addUserMessage("And God said").temperature(0.8).seed(42L)
                .maxCompletionTokens(24L).build();
    }

    @Test
    void openAiSdkChat() {
        com.openai.client.OpenAIClient client = sdk();
        try {
            com.openai.models.chat.completions.ChatCompletion c = client.chat().completions().create(sdkParams());
            assertEquals("testmodel", c.model());
            assertEquals(expectedChat(), c.choices().getFirst().message().content().orElse(null));
            assertTrue(c.usage().orElseThrow().completionTokens() > 0);
            var models = client.models().list();
            assertEquals("testmodel", models.data().getFirst().id());
        } finally {
            client.close();
        }
    }

    @Test
    void openAiSdkStreamingChat() {
        com.openai.client.OpenAIClient client = sdk();
        StringBuilder text = new StringBuilder();
        try (com.openai.core.http.StreamResponse<com.openai.models.chat.completions.ChatCompletionChunk> s =
                client.chat().completions().createStreaming(sdkParams())) {
            s.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
        } finally {
            client.close();
        }
        assertEquals(expectedChat(), text.toString());
    }

    @Test
    void openAiSdkSeesErrorsAsExceptions() {
        com.openai.client.OpenAIClient client = sdk();
        try {
            var e = org.junit.jupiter.api.Assertions.assertThrows(com.openai.errors.BadRequestException.class,
                    () -> client.chat().completions().create(sdkParams().toBuilder().n(17L).build()));
            assertTrue(e.getMessage().contains("'n' must be an integer in [1, 16]"), e.getMessage());
            var nf = org.junit.jupiter.api.Assertions.assertThrows(com.openai.errors.NotFoundException.class,
                    () -> client.chat().completions().create(sdkParams().toBuilder().model("gpt-4o").build()));
            assertTrue(nf.getMessage().contains("model 'gpt-4o' not found"), nf.getMessage());
        } finally {
            client.close();
        }
    }

    @Test
    void embeddingRoutesNeedTheEmbeddingsFlag() throws Exception {
        for (String path : new String[] {"/v1/embeddings", "/api/embed", "/api/embeddings"}) {
            Reply r = post(path, "{\"input\":\"hello\",\"prompt\":\"hello\"}");
            assertEquals(501, r.status(), path);
            String message = path.startsWith("/api/") ? r.json().get("error").asText()
                    : r.json().get("error").get("message").asText();
            assertEquals("This server does not support embeddings. Start it with `--embeddings`", message, path);
            if (!path.startsWith("/api/")) {
                assertEquals("not_supported_error", r.json().get("error").get("type").asText());
            }
        }
    }
}
