package dev.gguf4j.chat;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.internal.JsonText;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One OpenAI tool call ({@code type: "function"}): the call's id, the function's name and its arguments as JSON text
 * (a string, as OpenAI sends them: {@code "{\"city\":\"Paris\"}"}).
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }

    /** The arguments parsed (a JSON-shaped value); throws a {@link ChatJson.JsonException} if they are not JSON. */
    public Object parsedArguments() {
        return ChatJson.parse(arguments, "tool call " + id + " arguments");
    }

    /** OpenAI's JSON: {@code {"id":..,"type":"function","function":{"name":..,"arguments":".."}}}. */
    public String toJson() {
        return appendJson(new StringBuilder()).toString();
    }

    StringBuilder appendJson(StringBuilder sb) {
        sb.append("{\"id\":");
        JsonText.quote(sb, id).append(",\"type\":\"function\",\"function\":{\"name\":");
        JsonText.quote(sb, name).append(",\"arguments\":");
        return JsonText.quote(sb, arguments).append("}}");
    }

    /**
     * The call as chat templates see it in an assistant message's {@code tool_calls} (llama.cpp's order: type,
     * function {name, arguments}, id). {@code objectArguments}: the arguments parsed into an object, for templates that
     * need one ({@link ChatTemplate#requiresObjectArguments()}); otherwise the JSON string, as OpenAI sends it.
     */
    public Map<String, Object> toTemplateValue(boolean objectArguments) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        Object args = arguments;
        if (objectArguments) {
            try {
                args = parsedArguments();
            } catch (Gguf4jException notJson) {
                args = arguments; // as minja does: a string that does not parse stays a string
            }
        }
        function.put("arguments", args);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "function");
        m.put("function", function);
        if (!id.isEmpty()) {
            m.put("id", id);
        }
        return m;
    }

    /** Reads an OpenAI tool call object; {@code where} names it in error messages. */
    static ToolCall fromJsonValue(Object o, String where) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new Gguf4jException(where + ": expected a tool call object");
        }
        Object type = m.get("type");
        if (type != null && !"function".equals(type)) {
            throw new Gguf4jException(where + ": tool call type '" + type + "' (only \"function\" is supported)");
        }
        if (!(m.get("function") instanceof Map<?, ?> f) || !(f.get("name") instanceof String name)) {
            throw new Gguf4jException(where + ": missing \"function\": {\"name\": ..., \"arguments\": ...}");
        }
        Object args = f.get("arguments");
        String arguments = args == null ? "{}" : args instanceof String s ? s : ChatJson.compact(args);
        Object id = m.get("id");
        return new ToolCall(id == null ? "" : Py.str(id), name, arguments);
    }
}
