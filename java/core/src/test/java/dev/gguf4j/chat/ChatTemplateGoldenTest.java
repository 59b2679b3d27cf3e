package dev.gguf4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of transformers' renderings ({@code golden/chat/*.json}, made by transformers 5.18's
 * {@code render_jinja_template}) reproduced byte for byte, or raising the same error. Three small files are copied
 * into the test resources so this runs without ../shared.
 */
class ChatTemplateGoldenTest {
    static final List<String> BUNDLED = List.of("teknium_OpenHermes-2.5-Mistral-7B.json",
            "meta-llama-Llama-3.1-8B-Instruct.json", "llama-cpp-deepseek-r1.json");

    @TestFactory
    Stream<DynamicTest> bundledGoldens() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : BUNDLED) {
            try (InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream(name)) {
                tests.addAll(cases(name, new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> sharedGoldens() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : TestData.goldenFiles("chat", ".json")) { // ../shared's; skipped (and reported) without it
            tests.addAll(cases(f.getFileName().toString(), Files.readString(f)));
        }
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    static List<DynamicTest> cases(String file, String json) {
        Map<String, Object> golden = (Map<String, Object>) ChatJson.parse(json, file);
        ChatTemplate template = ChatTemplate.parse((String) golden.get("template"));
        List<DynamicTest> tests = new ArrayList<>();
        for (Object o : (List<Object>) golden.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            tests.add(DynamicTest.dynamicTest(file + " " + c.get("id"), () -> {
                List<Map<String, Object>> messages = (List<Map<String, Object>>) c.get("messages");
                List<Object> tools = (List<Object>) c.get("tools");
                boolean gen = Boolean.TRUE.equals(c.get("add_generation_prompt"));
                Map<String, Object> kwargs = (Map<String, Object>) c.getOrDefault("kwargs", Map.of());
                String bos = (String) golden.get("bos_token");
                String eos = (String) golden.get("eos_token");
                if (c.containsKey("error")) {
                    ChatTemplateException e = assertThrows(ChatTemplateException.class,
                            () -> template.apply(messages, tools, gen, bos, eos, kwargs));
                    assertEquals(c.get("error"), e.getMessage());
                } else {
                    assertEquals(c.get("expected"), template.apply(messages, tools, gen, bos, eos, kwargs));
                }
            }));
        }
        return tests;
    }
}
