package dev.gguf4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatParams.ToolChoice;
import dev.gguf4j.chat.ToolCallParser.Format;
import dev.gguf4j.chat.ToolCallParser.Result;
import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Tool-call parsing against llama.cpp c392e50's tests/test-chat.cpp: its model-style outputs ("deltas") and the
 * messages it parses them into, and the same round trip it runs: a call rendered by the real template (the shared
 * goldens' templates), cut out of the prompt, parsed back.
 */
class ToolCallParserTest {
    // tests/test-chat.cpp's tools
    static final ChatTool SPECIAL_FUNCTION = ChatTool.of("special_function", "I'm special", """
            {"type": "object", "properties": {"arg1": {"type": "integer", "description": "The arg."}},
             "required": ["arg1"]}""");
    static final ChatTool PYTHON = ChatTool.of("python", "an ipython interpreter", """
            {"type": "object", "properties": {"code": {"type": "string", "description": "Python code to execute."}},
             "required": ["code"]}""");
    static final ChatTool CODE_INTERPRETER = ChatTool.of("code_interpreter", "an ipython interpreter", """
            {"type": "object", "properties": {"code": {"type": "string", "description": "Python code to execute."}},
             "required": ["code"]}""");
    static final List<ChatTool> TOOLS = List.of(SPECIAL_FUNCTION, PYTHON);
    static final List<ChatTool> LLAMA_3_1_TOOLS = List.of(SPECIAL_FUNCTION, CODE_INTERPRETER);

    static Supplier<String> ids() {
        int[] n = {0};
        return () -> "call_" + (++n[0]);
    }

    static void assertCalls(Result r, String content, String... nameArgs) {
        assertEquals(content, r.content());
        assertEquals(nameArgs.length / 2, r.toolCalls().size(), r.toString());
        for (int i = 0; i < r.toolCalls().size(); i++) {
            ToolCall c = r.toolCalls().get(i);
            assertEquals(nameArgs[2 * i], c.name());
            // as test-chat.cpp compares: the arguments as parsed JSON
            assertEquals(ChatJson.parse(nameArgs[2 * i + 1], "expected"), c.parsedArguments());
        }
        assertEquals(r.toolCalls().isEmpty() ? "stop" : "tool_calls", r.finishReason("stop"));
    }

    @Test
    void hermes2ProDeltasOfTestChat() {
        assertCalls(ToolCallParser.parse("<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n"
                + "</tool_call>", Format.HERMES_2_PRO, ids()), null, "special_function", "{\"arg1\": 1}");
        assertCalls(ToolCallParser.parse("<tool_call>\n{\"name\": \"python\", \"arguments\": {\"code\": \"print('hey')\"}}"
                + "\n</tool_call>", Format.HERMES_2_PRO, ids()), null, "python", "{\"code\": \"print('hey')\"}");
        assertCalls(ToolCallParser.parse("Hello, world!\nWhat's up?", Format.HERMES_2_PRO, ids()),
                "Hello, world!\nWhat's up?");
    }

    @Test
    void hermesSeveralCallsAndContentBefore() {
        Result r = ToolCallParser.parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Tokyo\"}}\n</tool_call>", Format.HERMES_2_PRO, ids());
        assertCalls(r, "Let me check.", "get_weather", "{\"city\":\"Paris\"}", "get_weather", "{\"city\":\"Tokyo\"}");
        assertEquals(List.of("call_1", "call_2"), r.toolCalls().stream().map(ToolCall::id).toList());
        assertEquals("{\"city\":\"Paris\"}", r.toolCalls().get(0).arguments()); // compact, as llama.cpp's dump()
    }

    @Test
    void llama3DeltasOfTestChat() {
        assertCalls(ToolCallParser.parse("<|python_tag|>code_interpreter.call(code=\"print('hey')\")",
                Format.LLAMA_3_X_WITH_BUILTIN_TOOLS, ids()), null, "code_interpreter", "{\"code\": \"print('hey')\"}");
        assertCalls(ToolCallParser.parse("<|python_tag|>python.call(code=\"print('hey')\")",
                Format.LLAMA_3_X_WITH_BUILTIN_TOOLS, ids()), null, "python", "{\"code\": \"print('hey')\"}");
        for (Format f : List.of(Format.LLAMA_3_X, Format.LLAMA_3_X_WITH_BUILTIN_TOOLS)) {
            assertCalls(ToolCallParser.parse("{\"name\": \"special_function\", \"parameters\": {\"arg1\": 1}}", f,
                    ids()), null, "special_function", "{\"arg1\": 1}");
            assertCalls(ToolCallParser.parse("<|python_tag|>{\"name\": \"special_function\", \"parameters\": "
                    + "{\"arg1\": 1}}", f, ids()), null, "special_function", "{\"arg1\": 1}");
            assertCalls(ToolCallParser.parse("{\"type\": \"function\", \"name\": \"special_function\", "
                    + "\"parameters\": {\"arg1\": 1}}", f, ids()), null, "special_function", "{\"arg1\": 1}");
            assertCalls(ToolCallParser.parse("Hello, world!\nWhat's up?", f, ids()), "Hello, world!\nWhat's up?");
        }
    }

    @Test
    void mistralNemoDeltaOfTestChatKeepsTheModelsId() {
        Result r = ToolCallParser.parse("[TOOL_CALLS][{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}, "
                + "\"id\": \"123456789\"}]", Format.MISTRAL_NEMO, ids());
        assertCalls(r, null, "special_function", "{\"arg1\": 1}");
        assertEquals("123456789", r.toolCalls().getFirst().id());
        assertEquals(9, ToolCallParser.randomIds(Format.MISTRAL_NEMO).get().length()); // its template checks this
        assertTrue(ToolCallParser.randomIds(Format.HERMES_2_PRO).get().matches("call_[A-Za-z0-9]{24}"));
    }

    @Test
    void unparseableToolCallTextIsContentNeverDropped() {
        for (var c : List.of(
                Map.entry(Format.HERMES_2_PRO, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}\n</tool_call>"),
                Map.entry(Format.HERMES_2_PRO, "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n"), // unclosed
                Map.entry(Format.HERMES_2_PRO, "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call> and more"),
                Map.entry(Format.HERMES_2_PRO, "<tool_call>{\"arguments\": {}}</tool_call>"), // no name
                Map.entry(Format.HERMES_2_PRO, "<tool_call>[1, 2]</tool_call>"),
                Map.entry(Format.LLAMA_3_X, "{\"name\": \"f\", \"parameters\": {\"a\": 1"),
                Map.entry(Format.LLAMA_3_X, "{\"name\": \"f\", \"parameters\": {\"a\": 1} trailing}"),
                Map.entry(Format.LLAMA_3_X_WITH_BUILTIN_TOOLS, "<|python_tag|>python.call(code=print(1))"),
                Map.entry(Format.MISTRAL_NEMO, "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}"),
                Map.entry(Format.MISTRAL_NEMO, "[TOOL_CALLS]{\"name\": \"f\", \"arguments\": {}}"),
                Map.entry(Format.MISTRAL_NEMO, "[TOOL_CALLS][{\"name\": \"f\"}]"))) {
            Result r = ToolCallParser.parse(c.getValue(), c.getKey(), ids());
            assertEquals(c.getValue(), r.content(), c.getKey().toString());
            assertTrue(r.toolCalls().isEmpty());
            assertEquals("stop", r.finishReason("stop"));
        }
        assertEquals("[TOOL_CALLS]x", ToolCallParser.parse("[TOOL_CALLS]x", Format.CONTENT_ONLY, ids()).content());
    }

    @TestFactory
    Stream<DynamicTest> formatDetectionAsLlamaCpp() {
        // test-chat.cpp: which format each template gets with tools; without tools all are content only
        Map<String, Format> expected = new LinkedHashMap<>();
        expected.put("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", Format.HERMES_2_PRO);
        expected.put("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.json", Format.HERMES_2_PRO);
        expected.put("Qwen-Qwen2.5-7B-Instruct.jinja", Format.HERMES_2_PRO);
        expected.put("meta-llama-Llama-3.1-8B-Instruct.json", Format.LLAMA_3_X);
        expected.put("meta-llama-Llama-3.2-3B-Instruct.json", Format.LLAMA_3_X);
        expected.put("meta-llama-Llama-3.3-70B-Instruct.json", Format.LLAMA_3_X);
        expected.put("mistralai-Mistral-Nemo-Instruct-2407.json", Format.MISTRAL_NEMO);
        expected.put("teknium_OpenHermes-2.5-Mistral-7B.json", Format.CONTENT_ONLY); // generic in llama.cpp
        expected.put("microsoft-Phi-3.5-mini-instruct.json", Format.CONTENT_ONLY); // generic in llama.cpp
        return expected.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            ChatTemplate t = template(e.getKey());
            // test-chat.cpp's inputs_tools: special_function; inputs_tools_builtin: python
            assertEquals(e.getValue(), ToolCallParser.detect(t, List.of(SPECIAL_FUNCTION), ToolChoice.AUTO));
            assertEquals(Format.CONTENT_ONLY, ToolCallParser.detect(t, List.of(), ToolChoice.AUTO));
            assertEquals(Format.CONTENT_ONLY, ToolCallParser.detect(t, TOOLS, ToolChoice.NONE));
            if (e.getValue() == Format.LLAMA_3_X) {
                assertEquals(e.getKey().contains("3.2") ? Format.LLAMA_3_X : Format.LLAMA_3_X_WITH_BUILTIN_TOOLS,
                        ToolCallParser.detect(t, List.of(PYTHON), ToolChoice.AUTO));
            }
        }));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> golden(String file) throws IOException {
        String json = ChatTemplateGoldenTest.BUNDLED.contains(file)
                ? new String(ToolCallParserTest.class.getResourceAsStream(file).readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8)
                : Files.readString(TestData.golden("chat/" + file)); // ../shared's; skipped without it
        return (Map<String, Object>) ChatJson.parse(json, file);
    }

    /** A shared golden's template, or one of llama.cpp's models/templates/*.jinja copied into the test resources. */
    static ChatTemplate template(String file) throws IOException {
        if (file.endsWith(".jinja")) {
            return ChatTemplate.parse(new String(ToolCallParserTest.class.getResourceAsStream(file).readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8));
        }
        return ChatTemplate.parse((String) golden(file).get("template"));
    }

    /**
     * test-chat.cpp's init_delta: the prompt for [user] with the generation prompt, then for [user, the call]
     * without; the difference, up to the end token, is what the model says when it makes that call.
     */
    static String delta(String file, List<ChatTool> tools, ChatMessage call, Map<String, Object> extra,
            List<String> endTokens) throws IOException {
        ChatTemplate t = template(file);
        Map<String, Object> g = file.endsWith(".jinja") ? Map.of("bos_token", "", "eos_token", "") : golden(file);
        String bos = (String) g.get("bos_token");
        String eos = (String) g.get("eos_token");
        ChatMessage user = ChatMessage.user("Hello, world!");
        String prefix = t.applyMessages(List.of(user), tools, true, bos, eos, extra);
        String full = t.applyMessages(List.of(user, call), tools, false, bos, eos, extra);
        int common = 0;
        for (int i = 0; i < prefix.length() && i < full.length(); i++) {
            if (prefix.charAt(i) != full.charAt(i)) {
                break;
            }
            if (prefix.charAt(i) == '<') {
                continue;
            }
            common = i + 1;
        }
        String delta = full.substring(common);
        for (String end : endTokens) {
            int pos = delta.lastIndexOf(end);
            if (pos >= 0) {
                delta = delta.substring(0, pos);
                break;
            }
        }
        return delta;
    }

    record RoundTrip(String file, List<ChatTool> tools, ToolCall call, String expectedDelta, List<String> endTokens) {
    }

    @TestFactory
    Stream<DynamicTest> roundTripThroughTheRealTemplates() {
        ToolCall special = new ToolCall("", "special_function", "{\"arg1\": 1}");
        ToolCall python = new ToolCall("", "python", "{\"code\": \"print('hey')\"}");
        ToolCall codeInterpreter = new ToolCall("", "code_interpreter", "{\"code\": \"print('hey')\"}");
        List<String> llamaEnd = List.of("<|eom_id|>", "<|eot_id|>");
        List<RoundTrip> cases = new ArrayList<>(List.of(
                // expected deltas: test-chat.cpp's (it states them for Hermes 2 Pro; Hermes 3 and Qwen 2.5 render
                // the same)
                new RoundTrip("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", TOOLS, special,
                        "<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n</tool_call>",
                        List.of("<|im_end|>")),
                new RoundTrip("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", TOOLS, python,
                        "<tool_call>\n{\"name\": \"python\", \"arguments\": {\"code\": \"print('hey')\"}}\n"
                                + "</tool_call>", List.of("<|im_end|>")),
                new RoundTrip("Qwen-Qwen2.5-7B-Instruct.jinja", TOOLS, special,
                        "<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n</tool_call>",
                        List.of("<|im_end|>")),
                new RoundTrip("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.json", TOOLS, special,
                        "<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n</tool_call>",
                        List.of("<|im_end|>")),
                new RoundTrip("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.json", TOOLS, python,
                        "<tool_call>\n{\"name\": \"python\", \"arguments\": {\"code\": \"print('hey')\"}}\n"
                                + "</tool_call>", List.of("<|im_end|>")),
                new RoundTrip("meta-llama-Llama-3.1-8B-Instruct.json", LLAMA_3_1_TOOLS, codeInterpreter,
                        "<|python_tag|>code_interpreter.call(code=\"print('hey')\")", llamaEnd),
                new RoundTrip("meta-llama-Llama-3.1-8B-Instruct.json", TOOLS, python,
                        "<|python_tag|>python.call(code=\"print('hey')\")", llamaEnd),
                new RoundTrip("meta-llama-Llama-3.1-8B-Instruct.json", TOOLS, special,
                        "{\"name\": \"special_function\", \"parameters\": {\"arg1\": 1}}", llamaEnd),
                new RoundTrip("meta-llama-Llama-3.2-3B-Instruct.json", TOOLS, special,
                        "{\"name\": \"special_function\", \"parameters\": {\"arg1\": 1}}", llamaEnd),
                new RoundTrip("mistralai-Mistral-Nemo-Instruct-2407.json", TOOLS,
                        new ToolCall("123456789", "special_function", "{\"arg1\": 1}"),
                        "[TOOL_CALLS][{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}, \"id\": "
                                + "\"123456789\"}]", List.of("</s>"))));
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.file() + " " + c.call().name(), () -> {
            ChatTemplate t = template(c.file());
            Format f = ToolCallParser.detect(t, c.tools(), ToolChoice.AUTO);
            Map<String, Object> extra = new LinkedHashMap<>();
            if (f == Format.LLAMA_3_X || f == Format.LLAMA_3_X_WITH_BUILTIN_TOOLS) {
                // what llama.cpp passes to Llama 3.x templates
                extra.put("tools_in_user_message", false);
                List<String> builtin = c.tools().stream().map(ChatTool::name)
                        .filter(ToolCallParser.LLAMA_3_BUILTIN_TOOLS::contains).toList();
                extra.put("builtin_tools", f == Format.LLAMA_3_X_WITH_BUILTIN_TOOLS ? builtin : null);
            }
            String delta = delta(c.file(), c.tools(), ChatMessage.assistant(null, List.of(c.call())), extra,
                    c.endTokens());
            assertEquals(c.expectedDelta(), delta);
            Result r = ToolCallParser.parse(delta, f, ids());
            assertCalls(r, null, c.call().name(), c.call().arguments());
            if (!c.call().id().isEmpty()) {
                assertEquals(c.call().id(), r.toolCalls().getFirst().id());
            }
        }));
    }

    @Test
    void llama31NeedsObjectArgumentsHermesDoesNot() throws IOException {
        // as minja's capability probe finds (its comment: "meta-llama/Llama-3.1-8B-Instruct expects arguments to be
        // an object"); Mistral Nemo's writes tool_call.function|tojson, so a string would come out quoted
        assertTrue(template("meta-llama-Llama-3.1-8B-Instruct.json").requiresObjectArguments());
        assertTrue(!template("teknium_OpenHermes-2.5-Mistral-7B.json").requiresObjectArguments());
    }

    /** The tools of every shared golden's tools cases, as typed ChatTools, render byte for byte as transformers did. */
    @TestFactory
    @SuppressWarnings("unchecked")
    Stream<DynamicTest> typedToolsRenderAsTheGoldens() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (var file : TestData.goldenFiles("chat", ".json")) {
            Map<String, Object> g = (Map<String, Object>) ChatJson.parse(Files.readString(file), file.toString());
            ChatTemplate t = ChatTemplate.parse((String) g.get("template"));
            for (Object o : (List<Object>) g.get("cases")) {
                Map<String, Object> c = (Map<String, Object>) o;
                if (c.get("tools") == null) {
                    continue;
                }
                tests.add(DynamicTest.dynamicTest(file.getFileName() + " " + c.get("id"), () -> {
                    List<ChatMessage> messages = ChatMessage.fromJsonValue(c.get("messages"), "messages");
                    List<ChatTool> tools = ChatTool.fromJsonValue(c.get("tools"), "tools");
                    boolean gen = Boolean.TRUE.equals(c.get("add_generation_prompt"));
                    Map<String, Object> kwargs = (Map<String, Object>) c.getOrDefault("kwargs", Map.of());
                    if (c.containsKey("error")) {
                        ChatTemplateException e = org.junit.jupiter.api.Assertions.assertThrows(
                                ChatTemplateException.class, () -> t.applyMessages(messages, tools, gen,
                                        (String) g.get("bos_token"), (String) g.get("eos_token"), kwargs));
                        assertEquals(c.get("error"), e.getMessage());
                    } else {
                        assertEquals(c.get("expected"), t.applyMessages(messages, tools, gen,
                                (String) g.get("bos_token"), (String) g.get("eos_token"), kwargs));
                    }
                }));
            }
        }
        return tests.stream();
    }

    @Test
    void nullContentOnlyWithToolCalls() {
        assertNull(ChatMessage.assistant(null, List.of(new ToolCall("a", "f", "{}"))).content());
        org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                () -> ChatMessage.user(null));
    }
}
