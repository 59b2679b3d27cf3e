package dev.gguf4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * llama.cpp's named templates against llama.cpp's own output ({@code llama-chat-builtins.json}, written by
 * {@code llama-chat-builtins.cpp} from llama.cpp c392e50's {@code llama_chat_apply_template} and
 * {@code llm_chat_detect_template}, and the cases of its {@code tests/test-chat-template.cpp}).
 */
class BuiltinTemplatesTest {
    static Map<String, Object> data;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws IOException {
        try (InputStream in = BuiltinTemplatesTest.class.getResourceAsStream("llama-chat-builtins.json")) {
            data = (Map<String, Object>) ChatJson.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    "llama-chat-builtins.json");
        }
    }

    @Test
    void namesAreLlamaCppsInItsOrder() {
        assertEquals(data.get("names"), List.copyOf(BuiltinTemplates.names()));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(String key) {
        return (List<Map<String, Object>>) data.get(key);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> conversation(String name) {
        return (List<Map<String, Object>>) ((Map<String, Object>) data.get("conversations")).get(name);
    }

    @TestFactory
    Stream<DynamicTest> everyNameEveryConversation() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> c : list("cases")) {
            String name = (String) c.get("name");
            boolean gen = (Boolean) c.get("add_generation_prompt");
            tests.add(DynamicTest.dynamicTest(name + " " + c.get("conversation") + (gen ? " +gen" : ""), () -> {
                ChatTemplate t = BuiltinTemplates.get(name).orElseThrow();
                assertEquals(c.get("expected"),
                        t.apply(conversation((String) c.get("conversation")), null, gen, "<s>", "</s>", Map.of()));
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> testChatTemplateCases() {
        // tests/test-chat-template.cpp: each real template is detected as a built-in, whose output is the expectation
        return list("test_chat_template_cases").stream().map(c -> DynamicTest.dynamicTest((String) c.get("name"), () -> {
            String detected = BuiltinTemplates.detect((String) c.get("template")).orElseThrow();
            assertEquals(c.get("detected"), detected);
            assertEquals(c.get("expected"), BuiltinTemplates.get(detected).orElseThrow()
                    .apply(conversation("reference"), null, true, "", "", Map.of()));
        }));
    }

    @TestFactory
    Stream<DynamicTest> detection() {
        return list("detection").stream().map(c -> DynamicTest.dynamicTest(
                String.valueOf(c.getOrDefault("file", c.get("template"))), () -> {
                    String want = (String) c.get("detected");
                    assertEquals(want.isEmpty() ? Optional.empty() : Optional.of(want),
                            BuiltinTemplates.detect((String) c.get("template")));
                }));
    }

    @Test
    void contentPartsAndNullContentAsLlamaCppsLegacyPath() {
        ChatTemplate t = BuiltinTemplates.get("chatml").orElseThrow();
        List<Map<String, Object>> msgs = List.of(
                Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "a"),
                        Map.of("type", "image_url", "image_url", Map.of()), Map.of("type", "text", "text", "b"))),
                new java.util.HashMap<>(Map.of("role", "assistant")));
        assertEquals("<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n",
                t.apply(msgs, null, false, "", "", Map.of()));
        assertEquals(Optional.of("chatml"), t.builtinName());
    }
}
