package dev.gguf4j.chat;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Named templates for files that carry none, with llama.cpp's names. Each is a Jinja source that renders exactly what
 * llama.cpp's built-in of that name produces ({@code chatml} is llama.cpp's own {@code CHATML_TEMPLATE_SRC}, also its
 * fallback when a file has no template).
 */
public final class BuiltinTemplates {
    private BuiltinTemplates() {
    }

    /** llama.cpp's fallback when a file has no {@code tokenizer.chat_template}. */
    public static final String FALLBACK = "chatml";

    private static final Map<String, String> SOURCES = new TreeMap<>(Map.of(
            "chatml", """
                    {%- for message in messages -%}
                      {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' -}}
                    {%- endfor -%}
                    {%- if add_generation_prompt -%}
                      {{- '<|im_start|>assistant\\n' -}}
                    {%- endif -%}"""));

    /** The built-in names, sorted. */
    public static java.util.Set<String> names() {
        return SOURCES.keySet();
    }

    /** The Jinja source of a built-in template, if {@code name} is one. */
    public static Optional<String> source(String name) {
        return Optional.ofNullable(SOURCES.get(name));
    }

    /** The parsed built-in template, if {@code name} is one. */
    public static Optional<ChatTemplate> get(String name) {
        return source(name).map(ChatTemplate::parse);
    }
}
