package dev.gguf4j.chat;

import dev.gguf4j.Gguf4jException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A function the model may call (an OpenAI {@code tools} entry of type {@code function}): name, description and
 * the JSON Schema of its parameters (a JSON-shaped value, e.g. from {@link ChatJson#parse}).
 */
public record ChatTool(String name, String description, Object parameters) {
    public ChatTool {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new Gguf4jException("tool: the function name is empty");
        }
    }

    /** A tool whose parameters are given as JSON Schema text. */
    public static ChatTool of(String name, String description, String parametersJson) {
        return new ChatTool(name, description, ChatJson.parse(parametersJson, "tool " + name + " parameters"));
    }

    /**
     * The tool as templates see it, in OpenAI's shape and llama.cpp's order:
     * {@code {"type": "function", "function": {"name", "description", "parameters"}}}.
     */
    public Map<String, Object> toTemplateValue() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("name", name);
        if (description != null) {
            f.put("description", description);
        }
        if (parameters != null) {
            f.put("parameters", parameters);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "function");
        m.put("function", f);
        return m;
    }

    /** The tools as templates see them (null for none: templates then see {@code tools=None}). */
    public static List<Map<String, Object>> toTemplateValues(List<ChatTool> tools) {
        return tools == null || tools.isEmpty() ? null : tools.stream().map(ChatTool::toTemplateValue).toList();
    }

    /** Reads an OpenAI {@code tools} array (JSON-shaped); errors name the index. */
    public static List<ChatTool> fromJsonValue(Object o, String source) {
        if (!(o instanceof List<?> l)) {
            throw new Gguf4jException(source + ": expected a JSON array of tools");
        }
        java.util.ArrayList<ChatTool> tools = new java.util.ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            String where = source + ": tools[" + i + "]";
            if (!(l.get(i) instanceof Map<?, ?> m) || !"function".equals(m.get("type"))
                    || !(m.get("function") instanceof Map<?, ?> f)) {
                throw new Gguf4jException(where + ": expected {\"type\": \"function\", \"function\": {...}}");
            }
            if (!(f.get("name") instanceof String name)) {
                throw new Gguf4jException(where + ": the function has no \"name\"");
            }
            Object d = f.get("description");
            tools.add(new ChatTool(name, d == null ? null : Py.str(d), f.get("parameters")));
        }
        return List.copyOf(tools);
    }
}
