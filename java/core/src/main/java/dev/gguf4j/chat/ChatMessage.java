package dev.gguf4j.chat;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.internal.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One message of a conversation, in OpenAI's shape.
 *
 * @param role       system, developer, user, assistant, tool, ipython or function ({@link ChatTemplate#ROLES})
 * @param content    the text; null only for an assistant message that carries tool calls
 * @param name       optional participant or tool name (null for none)
 * @param toolCalls  the tool calls of an assistant message (empty for none)
 * @param toolCallId for a tool message: the id of the call it answers (null for none)
 */
public record ChatMessage(String role, String content, String name, List<ToolCall> toolCalls, String toolCallId) {
    public ChatMessage {
        if (role == null || !ChatTemplate.ROLES.contains(role)) {
            throw new Gguf4jException("chat message: unknown role '" + role + "' (expected one of "
                    + String.join(", ", ChatTemplate.ROLES.stream().sorted().toList()) + ")");
        }
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (!toolCalls.isEmpty() && !role.equals("assistant")) {
            throw new Gguf4jException("chat message: a " + role + " message cannot carry tool calls");
        }
        if (content == null && toolCalls.isEmpty()) {
            throw new Gguf4jException("chat message: the " + role + " message has no content");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content, null, List.of(), null);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content, null, List.of(), null);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content, null, List.of(), null);
    }

    /** An assistant turn that calls tools ({@code content} may be null). */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage("assistant", content, null, toolCalls, null);
    }

    /** A tool's result, answering the call {@code toolCallId}. */
    public static ChatMessage tool(String toolCallId, String content) {
        return new ChatMessage("tool", content, null, List.of(), toolCallId);
    }

    public ChatMessage withName(String n) {
        return new ChatMessage(role, content, n, toolCalls, toolCallId);
    }

    /**
     * The message as chat templates see it (llama.cpp's {@code common_chat_msgs_to_json_oaicompat} order: role,
     * content, name, tool_call_id, tool_calls). {@code objectArguments}: tool-call arguments as parsed objects, for
     * templates that need them ({@link ChatTemplate#requiresObjectArguments()}).
     */
    public Map<String, Object> toTemplateValue(boolean objectArguments) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        if (name != null) {
            m.put("name", name);
        }
        if (toolCallId != null) {
            m.put("tool_call_id", toolCallId);
        }
        if (!toolCalls.isEmpty()) {
            m.put("tool_calls", toolCalls.stream().map(c -> c.toTemplateValue(objectArguments)).toList());
        }
        return m;
    }

    /** The messages as chat templates see them. */
    public static List<Map<String, Object>> toTemplateValues(List<ChatMessage> messages, boolean objectArguments) {
        return messages.stream().map(m -> m.toTemplateValue(objectArguments)).toList();
    }

    /** OpenAI's JSON ({@code {"role":..,"content":..}}, with name, tool_calls and tool_call_id where present). */
    public String toJson() {
        return appendJson(new StringBuilder()).toString();
    }

    StringBuilder appendJson(StringBuilder sb) {
        sb.append("{\"role\":");
        JsonText.quote(sb, role).append(",\"content\":");
        if (content == null) {
            sb.append("null");
        } else {
            JsonText.quote(sb, content);
        }
        if (name != null) {
            JsonText.quote(sb.append(",\"name\":"), name);
        }
        if (!toolCalls.isEmpty()) {
            sb.append(",\"tool_calls\":[");
            for (int i = 0; i < toolCalls.size(); i++) {
                toolCalls.get(i).appendJson(sb.append(i == 0 ? "" : ","));
            }
            sb.append(']');
        }
        if (toolCallId != null) {
            JsonText.quote(sb.append(",\"tool_call_id\":"), toolCallId);
        }
        return sb.append('}');
    }

    /**
     * Reads an OpenAI {@code messages} array (JSON-shaped, e.g. from {@link ChatJson#parse}). A content given as a
     * list of parts keeps its text parts, joined with a newline (as llama.cpp does for templates that take text).
     * Errors name the source and the message index.
     */
    public static List<ChatMessage> fromJsonValue(Object o, String source) {
        if (!(o instanceof List<?> list)) {
            throw new Gguf4jException(source + ": expected a JSON array of messages");
        }
        try {
            ChatTemplate.validateMessages(list);
        } catch (Gguf4jException e) {
            throw new Gguf4jException(source + ": " + e.getMessage());
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Map<?, ?> m = (Map<?, ?>) list.get(i);
            String where = source + ": messages[" + i + "]";
            List<ToolCall> calls = new ArrayList<>();
            if (m.get("tool_calls") instanceof List<?> l) {
                for (int j = 0; j < l.size(); j++) {
                    calls.add(ToolCall.fromJsonValue(l.get(j), where + ".tool_calls[" + j + "]"));
                }
            }
            Object name = m.get("name");
            Object id = m.get("tool_call_id");
            out.add(new ChatMessage((String) m.get("role"), text(m.get("content"), where), name == null ? null
                    : Py.str(name), calls, id == null ? null : Py.str(id)));
        }
        return List.copyOf(out);
    }

    private static String text(Object content, String where) {
        if (content == null || content instanceof String) {
            return (String) content;
        }
        if (content instanceof List<?> parts) {
            StringBuilder sb = new StringBuilder();
            for (Object p : parts) {
                if (p instanceof Map<?, ?> part && "text".equals(part.get("type")) && part.get("text") != null) {
                    sb.append(sb.isEmpty() ? "" : "\n").append(Py.str(part.get("text")));
                }
            }
            return sb.toString();
        }
        throw new Gguf4jException(where + ": \"content\" must be a string or a list of parts");
    }
}
