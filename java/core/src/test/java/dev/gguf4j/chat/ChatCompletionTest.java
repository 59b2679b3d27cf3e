package dev.gguf4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.chat.ChatCompletionChunk.Delta;
import dev.gguf4j.chat.ChatCompletionChunk.ToolCallDelta;
import dev.gguf4j.llama.Completion.Usage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OpenAI shapes: JSON as OpenAI's API reference shows chat.completion and chat.completion.chunk objects. */
class ChatCompletionTest {
    @Test
    void completionWithContent() {
        ChatCompletion c = new ChatCompletion("chatcmpl-123", 1677652288L, "gpt-4o-mini", List.of(
                new ChatCompletion.Choice(0, ChatMessage.assistant("\n\nHello there, how may I assist you today?"),
                        "stop")), new Usage(9, 12, 21));
        assertEquals("{\"id\":\"chatcmpl-123\",\"object\":\"chat.completion\",\"created\":1677652288,"
                + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"\\n\\nHello there, how may I assist you today?\"},\"logprobs\":null,"
                + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,"
                + "\"total_tokens\":21}}", c.toJson());
    }

    @Test
    void completionWithToolCalls() {
        ToolCall call = new ToolCall("call_abc123", "get_current_weather", "{\n\"location\": \"Boston, MA\"\n}");
        ChatCompletion c = new ChatCompletion("chatcmpl-abc123", 1699896916L, "m", List.of(new ChatCompletion.Choice(
                0, ChatMessage.assistant(null, List.of(call)), ChatCompletion.TOOL_CALLS)), null);
        String json = c.toJson();
        assertEquals("{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion\",\"created\":1699896916,"
                + "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"call_abc123\",\"type\":\"function\",\"function\":{\"name\":"
                + "\"get_current_weather\",\"arguments\":\"{\\n\\\"location\\\": \\\"Boston, MA\\\"\\n}\"}}]},"
                + "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]}", json);
        // and back: the message JSON reads as the same message
        Map<?, ?> parsed = (Map<?, ?>) ChatJson.parse(json, "json");
        Map<?, ?> message = (Map<?, ?>) ((Map<?, ?>) ((List<?>) parsed.get("choices")).get(0)).get("message");
        assertEquals(List.of(c.message()), ChatMessage.fromJsonValue(List.of(message), "m"));
    }

    @Test
    void chunks() {
        ChatCompletionChunk first = new ChatCompletionChunk("chatcmpl-123", 1694268190L, "m",
                List.of(new ChatCompletionChunk.Choice(0, Delta.role("assistant"), null)), null);
        assertEquals("{\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
                + "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"logprobs\":null,"
                + "\"finish_reason\":null}]}", first.toJson());
        ChatCompletionChunk text = new ChatCompletionChunk("c", 1, "m",
                List.of(new ChatCompletionChunk.Choice(0, Delta.content("Hel\"lo"), null)), null);
        assertTrue(text.toJson().contains("\"delta\":{\"content\":\"Hel\\\"lo\"}"), text.toJson());
        ChatCompletionChunk call = new ChatCompletionChunk("c", 1, "m", List.of(new ChatCompletionChunk.Choice(0,
                new Delta(null, null, List.of(ToolCallDelta.of(0, new ToolCall("call_1", "f", "{\"a\":1}")),
                        new ToolCallDelta(0, null, null, "more"))), null)), null);
        assertTrue(call.toJson().contains("\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":"
                + "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}},{\"index\":0,"
                + "\"function\":{\"arguments\":\"more\"}}]}"), call.toJson());
        ChatCompletionChunk last = new ChatCompletionChunk("c", 1, "m",
                List.of(new ChatCompletionChunk.Choice(0, Delta.EMPTY, "stop")), new Usage(1, 2, 3));
        assertTrue(last.toJson().endsWith("\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}"), last.toJson());
        for (ChatCompletionChunk ch : List.of(first, text, call, last)) {
            ChatJson.parse(ch.toJson(), "chunk"); // valid JSON
        }
    }

    @Test
    void messagesFromOpenAiJson() {
        List<ChatMessage> m = ChatMessage.fromJsonValue(ChatJson.parse("""
                [{"role": "system", "content": "s"},
                 {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                 {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                   "function": {"name": "f", "arguments": "{\\"x\\": 1}"}}]},
                 {"role": "tool", "tool_call_id": "call_1", "name": "f", "content": "42"}]""", "m.json"), "m.json");
        assertEquals(List.of(ChatMessage.system("s"), ChatMessage.user("a\nb"),
                ChatMessage.assistant(null, List.of(new ToolCall("call_1", "f", "{\"x\": 1}"))),
                ChatMessage.tool("call_1", "42").withName("f")), m);
        assertEquals(Map.of("role", "tool", "content", "42", "name", "f", "tool_call_id", "call_1"),
                m.get(3).toTemplateValue(false));
        Map<String, Object> call = m.get(2).toTemplateValue(true);
        assertEquals(List.of(Map.of("type", "function", "id", "call_1", "function",
                Map.of("name", "f", "arguments", Map.of("x", 1L)))), call.get("tool_calls"));
    }

    @Test
    void badInputIsOneClearMessage() {
        assertEquals("m.json: messages[1]: unknown role 'robot' (expected one of assistant, developer, function, "
                + "ipython, system, tool, user)", assertThrows(Gguf4jException.class,
                        () -> ChatMessage.fromJsonValue(ChatJson.parse("[{\"role\": \"user\", \"content\": \"x\"},"
                                + "{\"role\": \"robot\", \"content\": \"y\"}]", "m"), "m.json")).getMessage());
        assertEquals("tools.json: tools[0]: the function has no \"name\"", assertThrows(Gguf4jException.class,
                () -> ChatTool.fromJsonValue(ChatJson.parse("[{\"type\": \"function\", \"function\": {}}]", "t"),
                        "tools.json")).getMessage());
        assertEquals("chat: tool_choice names function 'g', which is not among the tools (f)", assertThrows(
                Gguf4jException.class, () -> ChatParams.DEFAULTS.withTools(List.of(new ChatTool("f", null, null)))
                        .withToolChoice(ChatParams.ToolChoice.function("g"))).getMessage());
        assertThrows(Gguf4jException.class, () -> new ChatParams.ResponseFormat("xml", null));
        assertThrows(Gguf4jException.class, () -> ChatMessage.tool("id", null));
    }
}
