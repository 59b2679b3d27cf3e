package dev.gguf4j.chat;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads tool calls out of a model's reply, in the formats llama.cpp's {@code common/chat.cpp} (c392e50) reads:
 * Hermes 2/3 Pro and Qwen 2.5 ({@code <tool_call>{"name": .., "arguments": ..}</tool_call>}, one or several),
 * Llama 3.1/3.2/3.3 ({@code {"name": .., "parameters": ..}}, also after {@code <|python_tag|>}, and the built-in
 * tools' {@code <|python_tag|>name.call(arg=...)}) and Mistral Nemo ({@code [TOOL_CALLS][{..}, ..]}). The format
 * is chosen from the template's markers as llama.cpp's {@code common_chat_templates_apply_jinja} chooses it
 * ({@link #detect}).
 *
 * <p>Text that does not parse as the format's tool calls is returned whole as content, never dropped (llama.cpp
 * throws for some of these). Where llama.cpp skips over text between a call's JSON and its closing marker, this
 * parser refuses the calls and returns the text as content instead.
 */
public final class ToolCallParser {
    private ToolCallParser() {
    }

    /** The tool-call syntaxes (llama.cpp's {@code common_chat_format}s that are implemented here). */
    public enum Format {
        /** No tool calls: the reply is content (no tools, {@code tool_choice} none, or a format not read here). */
        CONTENT_ONLY,
        /** Hermes 2/3 Pro, Qwen 2.5: {@code <tool_call>{"name": .., "arguments": ..}</tool_call>}. */
        HERMES_2_PRO,
        /** Llama 3.1/3.2/3.3: {@code {"name": .., "parameters": ..}}. */
        LLAMA_3_X,
        /** Llama 3.1/3.3 with built-in tools: also {@code <|python_tag|>brave_search.call(query="...")}. */
        LLAMA_3_X_WITH_BUILTIN_TOOLS,
        /** Mistral Nemo: {@code [TOOL_CALLS][{"name": .., "arguments": .., "id": ..}]}. */
        MISTRAL_NEMO
    }

    /** The tools Llama 3.1's template knows by name (llama.cpp's {@code handle_builtin_tool}). */
    static final Set<String> LLAMA_3_BUILTIN_TOOLS = Set.of("wolfram_alpha", "web_search", "brave_search", "python",
            "code_interpreter");

    /**
     * The format a reply from this template will use, as llama.cpp picks it: content only without tools or with
     * {@code tool_choice} none; then by the template's text: {@code <tool_call>} is Hermes 2 Pro;
     * {@code <|start_header_id|>ipython<|end_header_id|>} is Llama 3.x (with built-in tools when the template has
     * {@code <|python_tag|>} and a tool is one of wolfram_alpha, web_search, brave_search, python,
     * code_interpreter); {@code [TOOL_CALLS]} is Mistral Nemo. Templates that llama.cpp reads with a format not
     * implemented here (DeepSeek R1, Command R7B, Functionary, FireFunction, the generic JSON fallback) give
     * {@link Format#CONTENT_ONLY}.
     */
    public static Format detect(ChatTemplate template, List<ChatTool> tools, ChatParams.ToolChoice choice) {
        String src = template.source();
        // llama.cpp routes these templates to their own formats even without tools
        if (src.contains("<｜tool▁calls▁begin｜>") || src.contains("<|END_THINKING|><|START_ACTION|>")
                || src.contains(">>>all") || src.contains(" functools[")) {
            return Format.CONTENT_ONLY;
        }
        if (tools == null || tools.isEmpty() || ChatParams.ToolChoice.NONE.mode().equals(choice.mode())) {
            return Format.CONTENT_ONLY;
        }
        if (src.contains("<tool_call>")) {
            return Format.HERMES_2_PRO;
        }
        if (src.contains("<|start_header_id|>") && src.contains("<function=")) {
            return Format.CONTENT_ONLY; // Functionary v3.1
        }
        if (src.contains("<|start_header_id|>ipython<|end_header_id|>")) {
            boolean builtin = src.contains("<|python_tag|>")
                    && tools.stream().anyMatch(t -> LLAMA_3_BUILTIN_TOOLS.contains(t.name()));
            return builtin ? Format.LLAMA_3_X_WITH_BUILTIN_TOOLS : Format.LLAMA_3_X;
        }
        if (src.contains("[TOOL_CALLS]")) {
            return Format.MISTRAL_NEMO;
        }
        return Format.CONTENT_ONLY; // llama.cpp's generic JSON format needs grammar-constrained output
    }

    /**
     * A parsed reply: its content (null when it is only tool calls) and its tool calls (empty for none).
     */
    public record Result(String content, List<ToolCall> toolCalls) {
        public Result {
            toolCalls = List.copyOf(toolCalls);
        }

        /** {@code tool_calls} when there are tool calls, else {@code otherwise} ("stop" or "length"). */
        public String finishReason(String otherwise) {
            return toolCalls.isEmpty() ? otherwise : ChatCompletion.TOOL_CALLS;
        }

        /** The assistant message of this reply. */
        public ChatMessage toMessage() {
            return ChatMessage.assistant(content, toolCalls);
        }
    }

    /** Random ids: {@code call_} and 24 letters or digits; for Mistral Nemo 9 (its template checks the length). */
    public static Supplier<String> randomIds(Format format) {
        SecureRandom r = new SecureRandom();
        String alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        boolean mistral = format == Format.MISTRAL_NEMO;
        return () -> {
            StringBuilder sb = new StringBuilder(mistral ? "" : "call_");
            for (int i = 0; i < (mistral ? 9 : 24); i++) {
                sb.append(alnum.charAt(r.nextInt(alnum.length())));
            }
            return sb.toString();
        };
    }

    /** Parses with random ids for calls the model gave none ({@link #randomIds}). */
    public static Result parse(String text, Format format) {
        return parse(text, format, randomIds(format));
    }

    /**
     * Parses a reply. Calls without an id of their own (all but Mistral Nemo's) get {@code ids.get()}. Text that
     * does not parse as tool calls of {@code format} is returned whole as content.
     */
    public static Result parse(String text, Format format, Supplier<String> ids) {
        try {
            Result r = switch (format) {
                case CONTENT_ONLY -> null;
                case HERMES_2_PRO -> hermes(text, ids);
                case LLAMA_3_X -> llama3(text, ids, false);
                case LLAMA_3_X_WITH_BUILTIN_TOOLS -> llama3(text, ids, true);
                case MISTRAL_NEMO -> mistralNemo(text, ids);
            };
            return r != null ? r : new Result(text, List.of());
        } catch (Malformed | ChatJson.JsonException e) {
            return new Result(text, List.of());
        }
    }

    private static final class Malformed extends RuntimeException {
        Malformed() {
            super(null, null, false, false);
        }
    }

    // \s in llama.cpp's std::regex (ECMAScript) includes \n, \r, \t, \v, \f and space
    private static final Pattern HERMES_START = Pattern.compile("\\s*<tool_call>");
    private static final Pattern HERMES_MIDDLE = Pattern.compile("\\s*</tool_call>\\s*<tool_call>");
    private static final Pattern HERMES_END = Pattern.compile("\\s*</tool_call>\\s*$");

    /** common_chat_parse_hermes_2_pro. */
    private static Result hermes(String input, Supplier<String> ids) {
        Matcher m = HERMES_START.matcher(input);
        if (!m.find()) {
            return null;
        }
        String content = input.substring(0, m.start());
        int it = m.end();
        List<ToolCall> calls = new ArrayList<>();
        while (true) {
            ChatJson.Prefix call = ChatJson.parsePrefix(input, it);
            Map<?, ?> obj = asMap(call.value());
            calls.add(new ToolCall(ids.get(), name(obj.get("name")), arguments(obj, "arguments")));
            it = call.end();
            Matcher mid = HERMES_MIDDLE.matcher(input).region(it, input.length());
            if (mid.lookingAt()) {
                it = mid.end();
                continue;
            }
            if (!HERMES_END.matcher(input).region(it, input.length()).lookingAt()) {
                throw new Malformed(); // no </tool_call>, or text after it
            }
            break;
        }
        return new Result(content.isEmpty() ? null : content, calls);
    }

    private static final Pattern LLAMA3_FUNCTION = Pattern.compile("\\{\\s*(?:\"type\"\\s*:\\s*\"function\"\\s*,\\s*"
            + "|\\s*)\"name\"\\s*:\\s*\"([^\"]+)\"\\s*,\\s*\"parameters\": ");
    private static final Pattern LLAMA3_CLOSE = Pattern.compile("\\s*\\}");
    private static final Pattern LLAMA3_BUILTIN = Pattern.compile("<\\|python_tag\\|>([^.(]+)\\.call\\((.*)\\)");
    private static final String PYTHON_TAG = "<|python_tag|>";

    /**
     * common_chat_parse_llama_3_1: calls anywhere in the text; the text around them is the content (llama.cpp
     * drops it, logging a warning; here it is kept, less any {@code <|python_tag|>}, unless it is blank).
     */
    private static Result llama3(String input, Supplier<String> ids, boolean builtinTools) {
        if (builtinTools) {
            Matcher b = LLAMA3_BUILTIN.matcher(input);
            if (b.matches()) {
                String raw = b.group(2);
                int eq = raw.indexOf('=');
                if (eq < 0) {
                    throw new Malformed();
                }
                Object value = ChatJson.parse(raw.substring(eq + 1), "model output");
                Map<String, Object> args = new java.util.LinkedHashMap<>();
                args.put(raw.substring(0, eq), value);
                return new Result(null, List.of(new ToolCall(ids.get(), b.group(1), ChatJson.compact(args))));
            }
        }
        StringBuilder content = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        int it = 0;
        Matcher f = LLAMA3_FUNCTION.matcher(input);
        while (it < input.length()) {
            if (!f.find(it)) {
                content.append(input, it, input.length());
                break;
            }
            content.append(input, it, f.start());
            String name = f.group(1);
            ChatJson.Prefix args = ChatJson.parsePrefix(input, f.end());
            Matcher close = LLAMA3_CLOSE.matcher(input).region(args.end(), input.length());
            if (!close.lookingAt()) {
                throw new Malformed();
            }
            it = close.end();
            Object a = args.value();
            calls.add(new ToolCall(ids.get(), name, a instanceof String s ? s : ChatJson.compact(a)));
        }
        if (calls.isEmpty()) {
            return null;
        }
        String rest = content.toString().replace(PYTHON_TAG, "");
        return new Result(rest.isBlank() ? null : rest, calls);
    }

    private static final String TOOL_CALLS = "[TOOL_CALLS]";

    /** common_chat_parse_mistral_nemo: content, then {@code [TOOL_CALLS]} and a JSON array of calls to the end. */
    private static Result mistralNemo(String input, Supplier<String> ids) {
        int at = input.indexOf(TOOL_CALLS);
        if (at < 0) {
            return null;
        }
        if (!(ChatJson.parse(input.substring(at + TOOL_CALLS.length()), "model output") instanceof List<?> array)) {
            throw new Malformed();
        }
        List<ToolCall> calls = new ArrayList<>();
        for (Object o : array) {
            Map<?, ?> call = asMap(o);
            Object id = call.get("id");
            calls.add(new ToolCall(id instanceof String s ? s : ids.get(), name(call.get("name")),
                    arguments(call, "arguments")));
        }
        String content = input.substring(0, at);
        return new Result(content.isEmpty() ? null : content, calls);
    }

    private static Map<?, ?> asMap(Object o) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new Malformed();
        }
        return m;
    }

    private static String name(Object o) {
        if (!(o instanceof String s)) {
            throw new Malformed();
        }
        return s;
    }

    /** The arguments as JSON text: a string as it is (already JSON text), anything else written compactly. */
    private static String arguments(Map<?, ?> call, String key) {
        if (!call.containsKey(key)) {
            throw new Malformed();
        }
        Object a = call.get(key);
        return a instanceof String s ? s : ChatJson.compact(a);
    }
}
