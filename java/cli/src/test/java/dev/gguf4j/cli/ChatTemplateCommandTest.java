package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatJson;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/** {@code gguf4j chat-template} against transformers' renderings (golden/chat) and its bad-input messages. */
class ChatTemplateCommandTest {
    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> bundledGolden() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("teknium_OpenHermes-2.5-Mistral-7B.json")) {
            return cases("teknium_OpenHermes-2.5-Mistral-7B.json", new String(in.readAllBytes(),
                    StandardCharsets.UTF_8)).stream();
        }
    }

    /** The acceptance: every shared chat golden, byte for byte, through the command. */
    @TestFactory
    Stream<DynamicTest> sharedGoldens() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : TestData.goldenFiles("chat", ".json")) { // ../shared's; skipped (and reported) without it
            tests.addAll(cases(f.getFileName().toString(), Files.readString(f)));
        }
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    private List<DynamicTest> cases(String name, String json) {
        Map<String, Object> g = (Map<String, Object>) ChatJson.parse(json, name);
        List<DynamicTest> tests = new ArrayList<>();
        for (Object o : (List<Object>) g.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            tests.add(DynamicTest.dynamicTest(name + " " + c.get("id"), () -> {
                Path dir = Files.createTempDirectory(tmp, "case");
                List<String> args = new ArrayList<>(List.of("chat-template",
                        "--chat-template-file", write(dir, "t.jinja", (String) g.get("template")),
                        "--messages", write(dir, "m.json", dump(c.get("messages"))),
                        "--bos", (String) g.get("bos_token"), "--eos", (String) g.get("eos_token")));
                if (c.get("tools") != null) {
                    args.addAll(List.of("--tools", write(dir, "tools.json", dump(c.get("tools")))));
                }
                if (!Boolean.TRUE.equals(c.get("add_generation_prompt"))) {
                    args.add("--no-generation-prompt");
                }
                ((Map<String, Object>) c.getOrDefault("kwargs", Map.of())).forEach((k, v) -> {
                    args.add("--var");
                    args.add(k + "=" + dump(v));
                });
                MainTest.Result r = MainTest.run(args.toArray(String[]::new));
                if (c.containsKey("error")) {
                    assertEquals(1, r.status());
                    assertEquals("gguf4j: error: " + c.get("error") + System.lineSeparator(), r.err());
                    assertEquals("", r.out());
                } else {
                    assertEquals(0, r.status(), r.err());
                    assertEquals(c.get("expected"), r.out());
                }
            }));
        }
        return tests;
    }

    private static String dump(Object v) {
        // JSON text of a parsed value: Python's json.dumps default, which ChatJson reproduces for tojson
        return dev.gguf4j.chat.ChatTemplate.parse("{{ v | tojson }}").render(Map.of("v", v));
    }

    private static String write(Path dir, String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text).toString();
    }

    private static final String CONVERSATION = """
            [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}]""";

    /** stories260K has no template: llama.cpp falls back to its chatml; BOS/EOS come from the vocabulary. */
    @Test
    void modelWithoutTemplateFallsBackToChatml() throws IOException {
        String m = write(tmp, "m.json", CONVERSATION);
        MainTest.Result r = MainTest.run("chat-template", "-m", BundledModel.path().toString(), "--messages", m);
        assertEquals(0, r.status(), r.err());
        assertEquals("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\n", r.out());
        assertTrue(r.err().contains("has no tokenizer.chat_template; using chatml"), r.err());

        String t = write(tmp, "t.jinja", "{{ bos_token }}|{{ eos_token }}|{{ messages | length }}");
        r = MainTest.run("chat-template", "-m", BundledModel.path().toString(), "--chat-template-file", t,
                "--messages", m, "--no-generation-prompt");
        assertEquals("<s>|</s>|2", r.out()); // stories260K's tokens 1 and 2
    }

    @Test
    void namedChatmlWithoutGenerationPrompt() throws IOException {
        MainTest.Result r = MainTest.run("chat-template", "--chat-template", "chatml", "--messages",
                write(tmp, "m.json", CONVERSATION), "--no-generation-prompt");
        assertEquals(0, r.status(), r.err());
        assertEquals("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n", r.out());
    }

    /** The conversation of llama.cpp's tests/test-chat-template.cpp (c392e50). */
    private static final String LLAMA_CPP_CONVERSATION = """
            [{"role": "system", "content": "You are a helpful assistant"}, {"role": "user", "content": "Hello"},
             {"role": "assistant", "content": "Hi there"}, {"role": "user", "content": "Who are you"},
             {"role": "assistant", "content": "   I am an assistant   "},
             {"role": "user", "content": "Another question"}]""";

    /** Every built-in by name; expectations are tests/test-chat-template.cpp's (llama.cpp c392e50). */
    @Test
    void builtinNamesRenderAsLlamaCpp() throws IOException {
        String m = write(tmp, "ref.json", LLAMA_CPP_CONVERSATION);
        Map<String, String> expected = Map.of(
                "llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant"
                        + "<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                        + "Who are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant"
                        + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                "mistral-v7", "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi "
                        + "there</s>[INST] Who are you[/INST]    I am an assistant   </s>[INST] Another question[/INST]",
                "gemma", "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>"
                        + "model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n"
                        + "<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother "
                        + "question<end_of_turn>\n<start_of_turn>model\n");
        for (var e : expected.entrySet()) {
            MainTest.Result r = MainTest.run("chat-template", "--chat-template", e.getKey(), "--messages", m);
            assertEquals(0, r.status(), r.err());
            assertEquals(e.getValue(), r.out(), e.getKey());
        }
        // llama.cpp's own tests use "mistral" for old pre-v1 templates: its detection reads it as llama2
        MainTest.Result mistral = MainTest.run("chat-template", "--chat-template", "mistral", "--messages", m);
        assertEquals("[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am "
                + "an assistant   </s>[INST] Another question [/INST]", mistral.out());
        assertTrue(mistral.err().contains("not a built-in name; llama.cpp reads it as llama2"), mistral.err());
        // llama.cpp with --jinja takes a template's text in --chat-template too
        MainTest.Result r = MainTest.run("chat-template", "--chat-template",
                "{% for m in messages %}{{ m.role[0] }}{% endfor %}", "--messages", m);
        assertEquals("suauau", r.out());
    }

    private void assertOneLineError(int status, String expected, String... args) {
        MainTest.Result r = MainTest.run(args);
        assertEquals(status, r.status(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertEquals("", r.out());
    }

    @Test
    void badInputIsOneClearLine() throws IOException {
        String t = write(tmp, "t.jinja", "{{ messages[0].content }}");
        assertOneLineError(1, "messages[1]: unknown role 'robot'", "chat-template", "--chat-template-file", t,
                "--messages", write(tmp, "a.json", "[{\"role\": \"user\", \"content\": \"x\"}, "
                        + "{\"role\": \"robot\", \"content\": \"y\"}]"));
        assertOneLineError(1, "messages[0]: the user message has no \"content\"", "chat-template",
                "--chat-template-file", t, "--messages", write(tmp, "b.json", "[{\"role\": \"user\"}]"));
        assertOneLineError(1, "malformed JSON at line 2, column 1", "chat-template", "--chat-template-file", t,
                "--messages", write(tmp, "c.json", "[{\"role\": \"user\", \"content\": \"x\"}\n"));
        assertOneLineError(1, "tools.json: malformed JSON", "chat-template", "--chat-template-file", t,
                "--messages", write(tmp, "d.json", CONVERSATION), "--tools", write(tmp, "tools.json", "[{]"));
        assertOneLineError(1, "--chat-template vicuna-9: unknown template name (built-in: chatglm3, chatglm4, chatml, command-r, "
                + "deepseek, deepseek2, deepseek3, exaone3, falcon3, gemma, gigachat, glmedge, granite, llama2, "
                + "llama2-sys, llama2-sys-bos, llama2-sys-strip, llama3, megrez, minicpm, mistral-v1, mistral-v3, "
                + "mistral-v3-tekken, mistral-v7, monarch, openchat, orion, phi3, phi4, rwkv-world, vicuna, "
                + "vicuna-orca, zephyr)", "chat-template",
                "--chat-template", "vicuna-9", "--messages", write(tmp, "e.json", CONVERSATION));
        assertOneLineError(1, "--messages " + tmp.resolve("nope.json") + ": no such file", "chat-template",
                "--chat-template", "chatml", "--messages", tmp.resolve("nope.json").toString());
        assertOneLineError(2, "give the conversation with --messages", "chat-template", "--chat-template", "chatml");
    }

    @Test
    void templateErrorsExitNonZeroWithTheTemplatesMessage() throws IOException {
        String m = write(tmp, "m.json", CONVERSATION);
        assertOneLineError(1, "gguf4j: error: TemplateError: Conversation roles must alternate", "chat-template",
                "--chat-template-file", write(tmp, "r.jinja",
                        "{{ raise_exception('Conversation roles must alternate') }}"), "--messages", m);
        assertOneLineError(1, "TemplateSyntaxError: Unexpected end of template. Jinja was looking for one of: "
                + "elif, else, endif. (line 2, column 4)", "chat-template", "--chat-template-file",
                write(tmp, "s.jinja", "{% if true %}\nabc"), "--messages", m);
    }
}
