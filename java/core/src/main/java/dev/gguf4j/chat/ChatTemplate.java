package dev.gguf4j.chat;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.WellKnownKeys;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A model's chat template, rendered exactly as Hugging Face transformers' {@code apply_chat_template} renders it:
 * Jinja2 with trim_blocks, lstrip_blocks and loop controls, {@code raise_exception}, {@code strftime_now}, and
 * {@code tojson} as transformers defines it ({@code json.dumps} with {@code ensure_ascii=False}). The engine is a
 * compact interpreter of the Jinja subset chat templates use (see the README's design decisions); it has no
 * dependencies.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.fromMetadata(gguf.metadata()).orElseThrow();
 * String prompt = t.apply(messages, null, true, "<s>", "</s>", Map.of());
 * }</pre>
 *
 * A built-in ({@link BuiltinTemplates}, llama.cpp's named templates) renders as llama.cpp renders it and uses
 * only the messages' roles and contents and {@code add_generation_prompt}.
 *
 * Messages and tools are plain JSON-shaped values: {@link Map}s with String keys, {@link List}s, Strings,
 * {@link Long}/{@link Double} numbers, Booleans and null ({@link ChatJson#parse} produces them from JSON text).
 * Instances are immutable and thread-safe.
 */
public final class ChatTemplate {
    /** The GGUF key of the default template; named variants are {@code tokenizer.chat_template.<name>}. */
    public static final String METADATA_KEY = "tokenizer.chat_template";

    /** The roles {@link #validateMessages} accepts. */
    public static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "ipython",
            "function");

    private final String source;
    private final List<Node> body; // null for a built-in
    private final String builtin;

    private ChatTemplate(String source, List<Node> body, String builtin) {
        this.source = source;
        this.body = body;
        this.builtin = builtin;
    }

    /** Parses a template; a template that does not parse throws {@link ChatTemplateException.Syntax} (line, column). */
    public static ChatTemplate parse(String source) {
        return new ChatTemplate(source, Parser.parse(source), null);
    }

    /** One of llama.cpp's named built-ins (see {@link BuiltinTemplates}); {@code name} must be one. */
    static ChatTemplate builtin(String name) {
        return new ChatTemplate(name, null, name);
    }

    /** The file's default template ({@code tokenizer.chat_template}), if it has one. */
    public static Optional<ChatTemplate> fromMetadata(GgufMetadata md) {
        return md.findString(METADATA_KEY).map(ChatTemplate::parse);
    }

    /** A named variant ({@code tokenizer.chat_template.<name>}, e.g. {@code tool_use}), if the file has it. */
    public static Optional<ChatTemplate> fromMetadata(GgufMetadata md, String name) {
        return md.findString(METADATA_KEY + "." + name).map(ChatTemplate::parse);
    }

    /**
     * The text of the vocabulary's BOS and EOS tokens ({@code tokenizer.ggml.tokens} at
     * {@code tokenizer.ggml.bos_token_id} / {@code eos_token_id}), "" where the file names none: what llama.cpp passes
     * to templates as {@code bos_token} and {@code eos_token}.
     */
    public static String[] specialTokens(GgufMetadata md) {
        String[] r = {"", ""};
        if (!md.contains(WellKnownKeys.TOKENS)) {
            return r;
        }
        String[] tokens = md.getStringArray(WellKnownKeys.TOKENS);
        String[] keys = {WellKnownKeys.BOS_ID, WellKnownKeys.EOS_ID};
        for (int i = 0; i < 2; i++) {
            Optional<Long> id = md.findLong(keys[i]);
            if (id.isPresent() && id.get() >= 0 && id.get() < tokens.length) {
                r[i] = tokens[(int) (long) id.get()];
            }
        }
        return r;
    }

    /** The Jinja source; for a built-in, its name (as llama.cpp passes a built-in's name where a template goes). */
    public String source() {
        return source;
    }

    /** The llama.cpp built-in name if this is one of {@link BuiltinTemplates}, else empty (a Jinja template). */
    public Optional<String> builtinName() {
        return Optional.ofNullable(builtin);
    }

    /**
     * Renders with exactly these variables (what transformers passes to Jinja's {@code render}). Throws
     * {@link ChatTemplateException} when the template raises or fails.
     */
    public String render(Map<String, ?> variables) {
        if (builtin != null) { // llama.cpp's C++ formatting: only messages and add_generation_prompt matter
            Object messages = variables.get("messages");
            if (messages != null && !(messages instanceof List<?>)) {
                throw new ChatTemplateException("TypeError", "messages is not a list");
            }
            return BuiltinTemplates.apply(builtin, (List<?>) messages, Py.truthy(variables.get("add_generation_prompt")));
        }
        try {
            return Interpreter.render(body, variables);
        } catch (PyError e) {
            throw new ChatTemplateException(e.type, e.getMessage());
        } catch (StackOverflowError e) {
            throw new ChatTemplateException("RecursionError", "maximum recursion depth exceeded");
        } catch (ClassCastException | IndexOutOfBoundsException | NullPointerException | ArithmeticException e) {
            // a filter, method or global called with arguments of the wrong kind or number (Python: TypeError)
            throw new ChatTemplateException("TypeError", "bad argument in a call (" + e.getClass().getSimpleName()
                    + (e.getMessage() != null ? ": " + e.getMessage() : "") + ")");
        }
    }

    /**
     * Renders a conversation as {@code apply_chat_template(messages, tools=tools,
     * add_generation_prompt=addGenerationPrompt, **extra)} does, with the tokenizer's {@code bos_token} and
     * {@code eos_token}. {@code tools} may be null (the template then sees {@code tools=None}, as in transformers);
     * {@code extra} holds further template variables (e.g. {@code date_string}) and wins over the others, as keyword
     * arguments do in transformers.
     */
    public String apply(List<? extends Map<String, ?>> messages, List<?> tools, boolean addGenerationPrompt,
            String bosToken, String eosToken, Map<String, ?> extra) {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("messages", messages);
        vars.put("tools", tools);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        if (extra != null) {
            vars.putAll(extra);
        }
        return render(vars);
    }

    /**
     * Renders typed messages and tools: {@link #apply} on their template values ({@link ChatMessage#toTemplateValue},
     * {@link ChatTool#toTemplateValue}), with tool-call arguments as objects where the template needs them
     * ({@link #requiresObjectArguments()}).
     */
    public String applyMessages(List<ChatMessage> messages, List<ChatTool> tools, boolean addGenerationPrompt,
            String bosToken, String eosToken, Map<String, ?> extra) {
        boolean objectArguments = messages.stream().anyMatch(m -> !m.toolCalls().isEmpty())
                && requiresObjectArguments();
        return apply(ChatMessage.toTemplateValues(messages, objectArguments), ChatTool.toTemplateValues(tools),
                addGenerationPrompt, bosToken, eosToken, extra);
    }

    private volatile Boolean objectArguments;

    /**
     * Whether the template renders tool-call arguments only when they are an object, not OpenAI's JSON string
     * (e.g. Llama 3.1's, which writes {@code arguments | tojson}). Found as llama.cpp's minja finds it: by rendering
     * a probe call both ways and looking for its argument's key in the output.
     */
    public boolean requiresObjectArguments() {
        Boolean r = objectArguments;
        if (r == null) {
            objectArguments = r = !rendersArgument(ChatJson.compact(PROBE_ARGS)) && rendersArgument(PROBE_ARGS);
        }
        return r;
    }

    private static final Map<String, Object> PROBE_ARGS = Map.of("argument_needle", "print('Hello, World!')");

    private boolean rendersArgument(Object arguments) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("arguments", arguments);
        function.put("name", "ipython");
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", "call_1___");
        call.put("type", "function");
        call.put("function", function);
        Map<String, Object> assistant = new LinkedHashMap<>();
        assistant.put("role", "assistant");
        assistant.put("content", null);
        assistant.put("tool_calls", List.of(call));
        List<Map<String, Object>> messages = List.of(Map.of("role", "user", "content", "<User Needle>"), assistant);
        try {
            String out = apply(messages, null, false, "", "", Map.of());
            return out.contains("\"argument_needle\":") || out.contains("'argument_needle':");
        } catch (RuntimeException e) {
            return false; // as minja's try_raw_render: a template that raises renders nothing
        }
    }

    /**
     * Checks a conversation before rendering: each message is an object with a known {@link #ROLES role} and a
     * {@code content} (which an assistant message with {@code tool_calls} may leave out or set to null). Throws a
     * {@link Gguf4jException} naming the message index and the problem.
     */
    public static void validateMessages(List<?> messages) {
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof Map<?, ?> m)) {
                throw new Gguf4jException("messages[" + i + "]: expected an object with \"role\" and \"content\"");
            }
            Object role = m.get("role");
            if (!(role instanceof String r)) {
                throw new Gguf4jException("messages[" + i + "]: missing \"role\" (one of " + roleList() + ")");
            }
            if (!ROLES.contains(r)) {
                throw new Gguf4jException("messages[" + i + "]: unknown role '" + r + "' (expected one of "
                        + roleList() + ")");
            }
            boolean toolCalls = m.get("tool_calls") instanceof List<?> l && !l.isEmpty();
            if (m.get("content") == null && !toolCalls) {
                throw new Gguf4jException("messages[" + i + "]: the " + r + " message has no \"content\"");
            }
        }
    }

    private static String roleList() {
        return String.join(", ", ROLES.stream().sorted().toList());
    }
}
