package dev.gguf4j.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatCompletion;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.llama.Completion;
import dev.gguf4j.llama.CompletionParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.sampling.Sampler;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.tokenizer.Tokenizer;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Constrained generation with the bundled stories260K model (a story model that knows nothing of JSON): every
 * output is a sentence of its grammar, checked by independent means (a strict JSON parser and a JSON Schema
 * validator written for the tests, a regular expression), and ends by end-of-generation where the grammar ends.
 */
class ConstrainedGenerationTest {
    static Llama llama;

    @BeforeAll
    static void load() throws Exception {
        llama = Llama.load(TestData.model("stories260K.gguf"), LlamaOptions.DEFAULTS.withThreads(1)
                .withContextLength(512));
    }

    @AfterAll
    static void close() {
        if (llama != null) {
            llama.close();
        }
    }

    static final String SCHEMA = """
            {"type": "object",
             "properties": {
               "name": {"type": "string", "minLength": 1, "maxLength": 12},
               "age": {"type": "integer", "minimum": 0, "maximum": 120},
               "pet": {"enum": ["cat", "dog", null]},
               "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
               "born": {"type": "string", "format": "date"},
               "ok": {"type": "boolean"}
             },
             "required": ["name", "age", "pet"],
             "additionalProperties": false}
            """;

    @Test
    void jsonSchemaOutputValidates() {
        Grammar g = Grammar.fromJsonSchema(SCHEMA);
        MiniSchemaValidator v = new MiniSchemaValidator(SCHEMA);
        for (int seed = 0; seed < 8; seed++) {
            for (float temp : new float[] {0f, 0.8f, 1.5f}) {
                Completion c = llama.complete("Once upon a time", CompletionParams.DEFAULTS.withMaxTokens(400)
                        .withSampling(SamplingParams.DEFAULTS.withSeed(seed).withTemperature(temp).withGrammar(g)));
                String text = c.text();
                assertEquals("stop", c.choices().get(0).finishReason(), text);
                assertNull(v.validate(text), "seed " + seed + " temp " + temp + ": " + text);
            }
        }
    }

    /** Chat's response_format: json_schema (bare, and in OpenAI's wrapper) and json_object constrain the reply. */
    @Test
    void chatResponseFormat() {
        Object schema = dev.gguf4j.chat.ChatJson.parse(SCHEMA, "schema");
        MiniSchemaValidator v = new MiniSchemaValidator(SCHEMA);
        List<ChatParams.ResponseFormat> formats = List.of(ChatParams.ResponseFormat.jsonSchema(schema),
                ChatParams.ResponseFormat.jsonSchema(java.util.Map.of("name", "person", "schema", schema,
                        "strict", true)));
        for (int i = 0; i < formats.size(); i++) {
            ChatCompletion c = llama.chat(List.of(ChatMessage.user("Who is Tom?")), ChatParams.DEFAULTS
                    .withMaxTokens(400).withSampling(SamplingParams.DEFAULTS.withSeed(i))
                    .withResponseFormat(formats.get(i)));
            String text = c.choices().get(0).message().content();
            assertEquals("stop", c.choices().get(0).finishReason(), text);
            assertNull(v.validate(text), text);
        }
        ChatCompletion c = llama.chat(List.of(ChatMessage.user("Hi")), ChatParams.DEFAULTS.withMaxTokens(100)
                .withResponseFormat(ChatParams.ResponseFormat.JSON_OBJECT));
        String text = c.choices().get(0).message().content();
        assertTrue(text.startsWith("{") && MiniSchemaValidator.isJsonPrefix(text), text);
    }

    /** The story model rarely closes its strings: an unfinished output must be the beginning of a JSON object. */
    @Test
    void jsonObjectOutputIsAnObject() {
        MiniSchemaValidator v = new MiniSchemaValidator("{\"type\": \"object\"}");
        for (int seed = 0; seed < 6; seed++) {
            Completion c = llama.complete("{", CompletionParams.DEFAULTS.withMaxTokens(200)
                    .withSampling(SamplingParams.DEFAULTS.withSeed(seed).withGrammar(Grammar.jsonObject())));
            String text = c.text();
            if (c.choices().get(0).finishReason().equals("stop")) {
                assertNull(v.validate(text), text);
            } else {
                assertTrue(text.startsWith("{") && MiniSchemaValidator.isJsonPrefix(text), text);
            }
        }
    }

    @Test
    void listGrammarOutputMatches() throws Exception {
        Grammar g = Grammar.parse(GrammarParserTest.resource("list.gbnf"));
        Pattern list = Pattern.compile("(- [^\\r\\n\\x0b\\x0c\\x85\\u2028\\u2029]+\\n){1,5}");
        for (int seed = 0; seed < 6; seed++) {
            Completion c = llama.complete("Lily had a list:", CompletionParams.DEFAULTS.withMaxTokens(300)
                    .withSampling(SamplingParams.DEFAULTS.withSeed(seed).withGrammar(g)));
            String text = c.text();
            if (c.choices().get(0).finishReason().equals("stop")) {
                assertTrue(list.matcher(text).matches(), text);
            } else {
                assertTrue(list.matcher(text + "\n").matches() || list.matcher(text.substring(0,
                        text.lastIndexOf('\n') + 1)).matches(), "a prefix of a list: " + text);
            }
        }
    }

    /** Step by step over the model's logits: the allowed set is never empty, and greedy takes its best token. */
    @Test
    void neverADeadStateAndGreedyIsTheBestAllowed() {
        Grammar g = Grammar.fromJsonSchema(SCHEMA);
        Tokenizer tok = llama.tokenizer();
        TokenVocabulary vocab = TokenVocabulary.of(tok);
        try (LlamaSession s = llama.newSession()) {
            Sampler sampler = new Sampler(SamplingParams.greedy().withGrammar(g), 512, tok);
            float[] logits = null;
            for (int t : tok.encode("Once upon a time", true, false)) {
                logits = s.forward(t);
            }
            StringBuilder out = new StringBuilder();
            for (int step = 0; step < 300; step++) {
                long[] allowed = sampler.grammar().allowedTokens();
                int best = -1;
                for (int t = 0; t < vocab.size(); t++) {
                    if ((allowed[t >>> 6] & (1L << t)) != 0 && (best < 0 || logits[t] > logits[best])) {
                        best = t;
                    }
                }
                assertTrue(best >= 0, "dead state after " + out);
                int t = sampler.sample(logits);
                assertEquals(best, t);
                sampler.acceptSampled(t);
                if (tok.isEog(t)) {
                    break;
                }
                out.append(new String(tok.tokenBytes(t), java.nio.charset.StandardCharsets.UTF_8));
                logits = s.forward(t);
            }
            assertTrue(sampler.grammar().isEnded(), out.toString());
            assertNull(new MiniSchemaValidator(SCHEMA).validate(out.toString()), out.toString());
        }
    }
}
