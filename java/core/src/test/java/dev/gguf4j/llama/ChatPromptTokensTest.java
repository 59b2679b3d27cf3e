package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end against llama.cpp: a GGUF written with an embedded chat template (kjv7m-F16 plus chat control tokens,
 * {@link ChatTestModels}) gives exactly the prompt tokens llama.cpp c392e50 evaluates for the same messages with
 * its Jinja path ({@code common_chat_templates_apply}, use_jinja, then {@code common_tokenize} with add_special and
 * parse_special), from tests/golden/chat-prompt-tokens.json (docs/oracles/chat-prompt-tokens.cpp; recipe in
 * docs/golden-data.md). Also the text llama.cpp rendered, and its end-of-generation set for the chat tokens.
 */
class ChatPromptTokensTest {
    @TempDir
    static Path dir;

    @Test
    void promptTokensEqualLlamaCpp() throws Exception {
        Path goldenFile = TestData.root().resolve("tests/golden/chat-prompt-tokens.json");
        Map<?, ?> golden = (Map<?, ?>) ChatJson.parse(Files.readString(goldenFile), goldenFile.toString());
        List<?> cases = (List<?>) golden.get("cases");
        assertEquals(5, cases.size());
        Map<String, Path> models = new HashMap<>();
        for (int i = 0; i < cases.size(); i++) {
            Map<?, ?> c = (Map<?, ?>) cases.get(i);
            String name = (String) c.get("template");
            Path model = models.get(name);
            if (model == null) {
                model = ChatTestModels.write(dir, name);
                models.put(name, model);
            }
            List<ChatMessage> messages = ChatMessage.fromJsonValue(c.get("messages"), "case " + i);
            int[] want = ((List<?>) c.get("tokens")).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
            try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS)) {
                String text = LlamaChat.promptText(llama, LlamaChat.template(llama, ChatParams.DEFAULTS), messages,
                        ChatParams.DEFAULTS);
                assertEquals(c.get("prompt"), text, "case " + i + " (" + name + "): the rendered prompt");
                assertArrayEquals(want, LlamaChat.promptTokens(llama, messages, ChatParams.DEFAULTS),
                        "case " + i + " (" + name + ")");
            }
        }
    }

    @Test
    void chatTokensEndGeneration() throws Exception {
        // llama.cpp's EOG set takes <|im_end|> and <|eot_id|> by their text (src/llama-vocab.cpp), not <|im_start|>
        try (Llama llama = Llama.load(ChatTestModels.write(dir, "chatml"), LlamaOptions.DEFAULTS)) {
            var t = llama.tokenizer();
            assertTrue(t.isEog(t.tokenId("<|im_end|>")));
            assertTrue(t.isEog(t.tokenId("<|eot_id|>")));
            assertTrue(t.isEog(t.eos()));
            assertTrue(!t.isEog(t.tokenId("<|im_start|>")) && !t.isEog(t.tokenId("<|end_header_id|>")));
        }
    }

    /** Writes the oracle's input models: -Dgguf4j.chat.writeModels=DIR (docs/golden-data.md). */
    @Test
    @EnabledIfSystemProperty(named = "gguf4j.chat.writeModels", matches = ".+")
    void writeOracleModels() throws Exception {
        Path out = Path.of(System.getProperty("gguf4j.chat.writeModels"));
        Files.createDirectories(out);
        for (String name : List.of("chatml", "llama3", "none")) {
            ChatTestModels.write(out, name);
        }
    }
}
