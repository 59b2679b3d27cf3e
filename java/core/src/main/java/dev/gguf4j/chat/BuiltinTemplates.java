package dev.gguf4j.chat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The 33 named chat formats llama.cpp offers besides Jinja ({@code --chat-template NAME}, and its fallback
 * {@code chatml} for files without a template), as one table of formats read by one renderer.
 *
 * <p>These formats see only each message's role and content text: a null or missing content is the empty string, a
 * content given as a list of parts is its {@code text} parts joined with a newline, and tools, tool calls and other
 * message fields are ignored. Each {@link Format} row gives, per role, a pattern for that message's text (with the
 * placeholders of {@link Slot}; a role without a pattern falls to the {@code "*"} pattern, and a message matched by
 * neither is dropped), the text that starts the prompt, the generation prompt (appended when
 * {@code add_generation_prompt} is true; empty for the formats that have none), and the few format-wide rules:
 * <ul>
 * <li>how a system message is handled ({@link SystemMode}: a turn of its own, held and merged into the next user
 * turn, or taken only as the first message);</li>
 * <li>instruction grouping ({@link Grouping}, the Llama 2 / Mistral {@code [INST]} formats): an opening string is
 * written before a message whenever no instruction is open, and a reply (any role but system and user) closes it;</li>
 * <li>a separator written between messages (monarch).</li>
 * </ul>
 * Trimming ({@code {trimmed}}) is C's {@code isspace} trim in the "C" locale (ASCII space, tab, LF, VT, FF, CR), not
 * Python's Unicode-aware {@code strip}; this, the null-as-empty content and the ASCII upper-casing of {@code {Role}}
 * are where a Jinja rendering of the same formats would differ, which is why they are not written as Jinja.
 *
 * <p>Evidence: {@code BuiltinTemplatesTest} compares every format with llama.cpp c392e50's own output
 * ({@code llama_chat_apply_template}) on 9 conversations (system, no system, whitespace and non-ASCII content, a tool
 * message, two system messages, assistant first, empty) with and without the generation prompt, 594 outputs; with the
 * 30 expectations of its {@code tests/test-chat-template.cpp}; and {@link #detect} with its detection of those
 * templates and of 22 further template strings (17 of them Jinja files of its {@code models/templates}).
 */
public final class BuiltinTemplates {
    private BuiltinTemplates() {
    }

    /** The format used when a file has no {@code tokenizer.chat_template} (llama.cpp's choice). */
    public static final String FALLBACK = "chatml";

    /** How a format treats a {@code system} message. */
    private enum SystemMode {
        /** A message like any other, rendered with its role's pattern. */
        TURN,
        /**
         * Its rendered pattern is held (a later system message replaces it) and written, followed by a blank line,
         * where the next pattern with {@code {system}} is rendered; never written if no such message follows.
         */
        MERGE,
        /** Rendered only as the very first message; a system message anywhere else is dropped. */
        FIRST_ONLY
    }

    /**
     * Instruction grouping: {@code open} is written before a message when no instruction is open; a reply (a role
     * other than system and user) closes it. {@code openAtStart}: the prompt's start text already opened one.
     */
    private record Grouping(String open, boolean openAtStart) {
    }

    /** A pattern placeholder. */
    private enum Slot {
        ROLE("{role}"), ROLE_CAPITALIZED("{Role}"), CONTENT("{content}"), TRIMMED("{trimmed}"), SYSTEM("{system}");

        final String text;

        Slot(String text) {
            this.text = text;
        }
    }

    /** A message pattern split into literal text (String) and placeholders ({@link Slot}). */
    private record Pattern(List<Object> parts) {
        static Pattern of(String source) {
            List<Object> parts = new ArrayList<>();
            int at = 0;
            while (at < source.length()) {
                int brace = source.indexOf('{', at);
                if (brace < 0) {
                    parts.add(source.substring(at));
                    break;
                }
                if (brace > at) {
                    parts.add(source.substring(at, brace));
                }
                Slot slot = null;
                for (Slot s : Slot.values()) {
                    if (source.startsWith(s.text, brace)) {
                        slot = s;
                    }
                }
                if (slot == null) {
                    throw new AssertionError("unknown placeholder in pattern " + source);
                }
                parts.add(slot);
                at = brace + slot.text.length();
            }
            return new Pattern(List.copyOf(parts));
        }

        boolean uses(Slot slot) {
            return parts.contains(slot);
        }

        void render(StringBuilder out, Msg m, String held) {
            for (Object p : parts) {
                if (p instanceof String literal) {
                    out.append(literal);
                } else {
                    out.append(switch ((Slot) p) {
                        case ROLE -> m.role;
                        case ROLE_CAPITALIZED -> m.role.isEmpty() ? ""
                                : asciiUpper(m.role.charAt(0)) + m.role.substring(1);
                        case CONTENT -> m.content;
                        case TRIMMED -> trim(m.content);
                        case SYSTEM -> held.isEmpty() ? "" : held + "\n\n";
                    });
                }
            }
        }
    }

    /** One format: a row of the table below. */
    private record Format(String name, String start, Map<String, Pattern> roles, String generation, SystemMode system,
            Grouping grouping, String between) {
        Format(String name) {
            this(name, "", Map.of(), "", SystemMode.TURN, null, "");
        }

        /** Adds the pattern for {@code role} ({@code "*"}: every role without a pattern of its own). */
        Format role(String role, String pattern) {
            Map<String, Pattern> m = new LinkedHashMap<>(roles);
            m.put(role, Pattern.of(pattern));
            return new Format(name, start, Collections.unmodifiableMap(m), generation, system, grouping, between);
        }

        Format system(String pattern) {
            return role("system", pattern);
        }

        Format user(String pattern) {
            return role("user", pattern);
        }

        Format assistant(String pattern) {
            return role("assistant", pattern);
        }

        Format any(String pattern) {
            return role("*", pattern);
        }

        Format start(String text) {
            return new Format(name, text, roles, generation, system, grouping, between);
        }

        Format generation(String text) {
            return new Format(name, start, roles, text, system, grouping, between);
        }

        Format system(SystemMode mode, String pattern) {
            return new Format(name, start, roles, generation, mode, grouping, between).system(pattern);
        }

        Format grouped(String open, boolean openAtStart) {
            return new Format(name, start, roles, generation, system, new Grouping(open, openAtStart), between);
        }

        Format between(String text) {
            return new Format(name, start, roles, generation, system, grouping, text);
        }

        Pattern pattern(String role) {
            Pattern p = roles.get(role);
            return p != null ? p : roles.get("*");
        }
    }

    private static final String EOS_DEEPSEEK = "<｜end▁of▁sentence｜>";
    private static final String GEMMA_TURN = "<start_of_turn>";
    private static final String COHERE_TURN = "<|START_OF_TURN_TOKEN|>";
    private static final String COHERE_END = "<|END_OF_TURN_TOKEN|>";

    /** The formats. */
    private static final List<Format> FORMATS = List.of(
            new Format("chatml").any("<|im_start|>{role}\n{content}<|im_end|>\n")
                    .generation("<|im_start|>assistant\n"),
            new Format("llama2").start("[INST] ").grouped("[INST] ", true)
                    .system("{content}\n").user("{content} [/INST]").any("{content}</s>"),
            new Format("llama2-sys").start("[INST] ").grouped("[INST] ", true)
                    .system("<<SYS>>\n{content}\n<</SYS>>\n\n").user("{content} [/INST]").any("{content}</s>"),
            new Format("llama2-sys-bos").start("[INST] ").grouped("<s>[INST] ", true)
                    .system("<<SYS>>\n{content}\n<</SYS>>\n\n").user("{content} [/INST]").any("{content}</s>"),
            new Format("llama2-sys-strip").start("[INST] ").grouped("[INST] ", true)
                    .system("<<SYS>>\n{trimmed}\n<</SYS>>\n\n").user("{trimmed} [/INST]").any("{trimmed}</s>"),
            new Format("mistral-v1").grouped(" [INST] ", false)
                    .system("{content}\n\n").user("{content} [/INST]").any(" {content}</s>"),
            new Format("mistral-v3").grouped("[INST] ", false)
                    .system("{content}\n\n").user("{content}[/INST]").any(" {trimmed}</s>"),
            new Format("mistral-v3-tekken").grouped("[INST]", false)
                    .system("{content}\n\n").user("{content}[/INST]").any("{content}</s>"),
            new Format("mistral-v7").system("[SYSTEM_PROMPT] {content}[/SYSTEM_PROMPT]")
                    .user("[INST] {content}[/INST]").any(" {content}</s>"),
            new Format("phi3").any("<|{role}|>\n{content}<|end|>\n").generation("<|assistant|>\n"),
            new Format("phi4").any("<|im_start|>{role}<|im_sep|>{content}<|im_end|>")
                    .generation("<|im_start|>assistant<|im_sep|>"),
            new Format("falcon3").any("<|{role}|>\n{content}\n").generation("<|assistant|>\n"),
            new Format("zephyr").any("<|{role}|>\n{content}<|endoftext|>\n").generation("<|assistant|>\n"),
            new Format("monarch").between("<s>").any("{role}\n{content}</s>\n").generation("<s>assistant\n"),
            new Format("gemma").system(SystemMode.MERGE, "{trimmed}")
                    .assistant(GEMMA_TURN + "model\n{trimmed}<end_of_turn>\n") // model turns do not take the system
                    .role("model", GEMMA_TURN + "model\n{trimmed}<end_of_turn>\n")
                    .any(GEMMA_TURN + "{role}\n{system}{trimmed}<end_of_turn>\n").generation(GEMMA_TURN + "model\n"),
            new Format("orion").system(SystemMode.MERGE, "{content}")
                    .user("Human: {system}{content}\n\nAssistant: </s>").any("{content}</s>"),
            new Format("openchat").system("{content}<|end_of_turn|>")
                    .any("GPT4 Correct {Role}: {content}<|end_of_turn|>")
                    .generation("GPT4 Correct Assistant:"),
            new Format("vicuna").system("{content}\n\n").user("USER: {content}\n")
                    .assistant("ASSISTANT: {content}</s>\n").generation("ASSISTANT:"),
            new Format("vicuna-orca").system("SYSTEM: {content}\n").user("USER: {content}\n")
                    .assistant("ASSISTANT: {content}</s>\n").generation("ASSISTANT:"),
            new Format("deepseek").system("{content}").user("### Instruction:\n{content}\n")
                    .assistant("### Response:\n{content}\n<|EOT|>\n").generation("### Response:\n"),
            new Format("deepseek2").system("{content}\n\n").user("User: {content}\n\n")
                    .assistant("Assistant: {content}" + EOS_DEEPSEEK).generation("Assistant:"),
            new Format("deepseek3").system("{content}\n\n").user("<｜User｜>{content}")
                    .assistant("<｜Assistant｜>{content}" + EOS_DEEPSEEK).generation("<｜Assistant｜>"),
            new Format("command-r").system(COHERE_TURN + "<|SYSTEM_TOKEN|>{trimmed}" + COHERE_END)
                    .user(COHERE_TURN + "<|USER_TOKEN|>{trimmed}" + COHERE_END)
                    .assistant(COHERE_TURN + "<|CHATBOT_TOKEN|>{trimmed}" + COHERE_END)
                    .generation(COHERE_TURN + "<|CHATBOT_TOKEN|>"),
            new Format("llama3").any("<|start_header_id|>{role}<|end_header_id|>\n\n{trimmed}<|eot_id|>")
                    .generation("<|start_header_id|>assistant<|end_header_id|>\n\n"),
            new Format("chatglm3").start("[gMASK]sop").any("<|{role}|>\n {content}").generation("<|assistant|>"),
            new Format("chatglm4").start("[gMASK]<sop>").any("<|{role}|>\n{content}").generation("<|assistant|>"),
            new Format("glmedge").any("<|{role}|>\n{content}").generation("<|assistant|>"),
            new Format("minicpm").user("<用户>{trimmed}<AI>").any("{trimmed}"),
            new Format("exaone3").system("[|system|]{trimmed}[|endofturn|]\n").user("[|user|]{trimmed}\n")
                    .assistant("[|assistant|]{trimmed}[|endofturn|]\n").generation("[|assistant|]"),
            new Format("rwkv-world").user("User: {content}\n\nAssistant:").any("{content}\n\n"),
            new Format("granite").role("assistant_tool_call", "<|start_of_role|>{role}<|end_of_role|><|tool_call|>"
                            + "{content}<|end_of_text|>\n")
                    .any("<|start_of_role|>{role}<|end_of_role|>{content}<|end_of_text|>\n")
                    .generation("<|start_of_role|>assistant<|end_of_role|>\n"),
            new Format("gigachat").start("<s>").system(SystemMode.FIRST_ONLY, "{content}<|message_sep|>")
                    .user("user<|role_sep|>{content}<|message_sep|>available functions<|role_sep|>[]<|message_sep|>")
                    .assistant("assistant<|role_sep|>{content}<|message_sep|>").generation("assistant<|role_sep|>"),
            new Format("megrez").any("<|role_start|>{role}<|role_end|>{content}<|turn_end|>")
                    .generation("<|role_start|>assistant<|role_end|>"));

    private static final Map<String, Format> BY_NAME;

    static {
        Map<String, Format> m = new TreeMap<>(); // sorted, the order llama.cpp lists its names in
        for (Format f : FORMATS) {
            if (m.put(f.name, f) != null) {
                throw new AssertionError("duplicate format " + f.name);
            }
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    /** The built-in names, sorted (the order of llama.cpp's {@code llama_chat_builtin_templates}). */
    public static Set<String> names() {
        return BY_NAME.keySet();
    }

    /** True if {@code name} is a built-in name. */
    public static boolean isName(String name) {
        return BY_NAME.containsKey(name);
    }

    /** The built-in template {@code name}, if it is one. */
    public static Optional<ChatTemplate> get(String name) {
        return isName(name) ? Optional.of(ChatTemplate.builtin(name)) : Optional.empty();
    }

    /**
     * A detection rule: the template is {@code format} if {@code family} accepts it and it contains every marker.
     * Rules are tried in order and the first that matches wins, so a more specific rule precedes the general one.
     */
    private record Rule(String format, Predicate<String> family, List<String> markers) {
        boolean matches(String tmpl) {
            if (!family.test(tmpl)) {
                return false;
            }
            for (String marker : markers) {
                if (!tmpl.contains(marker)) {
                    return false;
                }
            }
            return true;
        }
    }

    private static Rule rule(String format, String... markers) {
        return new Rule(format, t -> true, List.of(markers));
    }

    private static Rule rule(String format, Predicate<String> family, String... markers) {
        return new Rule(format, family, List.of(markers));
    }

    /** The [INST] family (Llama 2 and Mistral), and within it the Mistral v1/v3 templates (system or tool markers). */
    private static final Predicate<String> INST = t -> t.startsWith("mistral") || t.contains("[INST]");
    private static final Predicate<String> INST_MISTRAL = INST.and(
            t -> t.contains("' [INST] ' + system_message") || t.contains("[AVAILABLE_TOOLS]"));

    /** The detection table, in priority order (llama.cpp's {@code llm_chat_detect_template} outcome for each case). */
    private static final List<Rule> DETECT = List.of(
            rule("phi4", "<|im_start|>", "<|im_sep|>"),
            rule("chatml", "<|im_start|>"),
            rule("mistral-v7", INST, "[SYSTEM_PROMPT]"),
            rule("mistral-v1", INST_MISTRAL, " [INST]"),
            rule("mistral-v3-tekken", INST_MISTRAL, "\"[INST]\""),
            rule("mistral-v3", INST_MISTRAL),
            rule("llama2-sys-strip", INST, "content.strip()"),
            rule("llama2-sys-bos", INST, "bos_token + '[INST]"),
            rule("llama2-sys", INST, "<<SYS>>"),
            rule("llama2", INST),
            rule("phi3", "<|assistant|>", "<|end|>"),
            rule("falcon3", "<|assistant|>", "<|user|>", "</s>"),
            rule("glmedge", "<|assistant|>", "<|user|>"),
            rule("zephyr", "<|user|>", "<|endoftext|>"),
            rule("monarch", "bos_token + message['role']"),
            rule("gemma", "<start_of_turn>"),
            rule("orion", "'\\n\\nAssistant: ' + eos_token"),
            rule("openchat", "GPT4 Correct "),
            rule("vicuna-orca", "USER: ", "ASSISTANT: ", "SYSTEM: "),
            rule("vicuna", "USER: ", "ASSISTANT: "),
            rule("deepseek", "### Instruction:", "<|EOT|>"),
            rule("command-r", "<|START_OF_TURN_TOKEN|>", "<|USER_TOKEN|>"),
            rule("llama3", "<|start_header_id|>", "<|end_header_id|>"),
            rule("chatglm3", "[gMASK]sop"),
            rule("chatglm4", "[gMASK]<sop>"),
            rule("minicpm", "<用户>"),
            rule("deepseek2", "'Assistant: ' + message['content'] + eos_token"),
            rule("deepseek3", "<｜Assistant｜>", "<｜User｜>", EOS_DEEPSEEK),
            rule("exaone3", "[|system|]", "[|assistant|]", "[|endofturn|]"),
            rule("rwkv-world", "rwkv-world"),
            rule("granite", "<|start_of_role|>"),
            rule("gigachat", "message['role'] + additional_special_tokens[0] + message['content'] + "
                    + "additional_special_tokens[1]"),
            rule("megrez", "<|role_start|>"));

    static {
        for (Rule r : DETECT) {
            if (!BY_NAME.containsKey(r.format)) {
                throw new AssertionError("detection names unknown format " + r.format);
            }
        }
    }

    /**
     * The built-in a template string stands for, as llama.cpp decides it ({@code llm_chat_detect_template}): a
     * built-in name is itself, and a Jinja source is recognised by marker substrings (e.g. {@code <|im_start|>} is
     * chatml, or phi4 with {@code <|im_sep|>}). llama.cpp uses this only without {@code --jinja}; gguf4j always
     * renders a file's Jinja template itself and offers this for callers who want llama.cpp's non-Jinja behaviour.
     */
    public static Optional<String> detect(String tmpl) {
        if (isName(tmpl)) {
            return Optional.of(tmpl);
        }
        for (Rule r : DETECT) {
            if (r.matches(tmpl)) {
                return Optional.of(r.format);
            }
        }
        return Optional.empty();
    }

    /** A message as these formats see it: role and content text. */
    private record Msg(String role, String content) {
    }

    /**
     * Renders {@code messages} (JSON-shaped, as {@link ChatTemplate#apply} takes them) with the built-in {@code name};
     * {@code addAss} appends the format's generation prompt.
     */
    static String apply(String name, List<?> messages, boolean addAss) {
        Format format = BY_NAME.get(name);
        if (format == null) {
            throw new IllegalArgumentException("not a built-in chat template: " + name);
        }
        List<Msg> chat = new ArrayList<>();
        for (int i = 0; messages != null && i < messages.size(); i++) {
            chat.add(message(i, messages.get(i)));
        }
        return render(format, chat, addAss);
    }

    /** The renderer: one pass over the messages, reading the format's row. */
    private static String render(Format f, List<Msg> chat, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder(f.start);
        boolean open = f.grouping != null && f.grouping.openAtStart;
        String held = "";
        for (int i = 0; i < chat.size(); i++) {
            Msg m = chat.get(i);
            boolean system = m.role.equals("system");
            if (system && f.system == SystemMode.MERGE) {
                StringBuilder h = new StringBuilder();
                f.pattern("system").render(h, m, "");
                held = h.toString();
                continue;
            }
            Pattern p = system && f.system == SystemMode.FIRST_ONLY && i > 0 ? null : f.pattern(m.role);
            if (p == null) {
                continue;
            }
            if (f.grouping != null && !open) {
                out.append(f.grouping.open);
                open = true;
            }
            if (i > 0) {
                out.append(f.between);
            }
            p.render(out, m, held);
            if (p.uses(Slot.SYSTEM)) {
                held = "";
            }
            if (!system && !m.role.equals("user")) {
                open = false;
            }
        }
        if (addGenerationPrompt) {
            out.append(f.generation);
        }
        return out.toString();
    }

    private static Msg message(int i, Object o) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new ChatTemplateException("TypeError", "messages[" + i + "] is not an object");
        }
        Object role = m.get("role");
        Object content = m.get("content");
        String text;
        if (content == null) {
            text = "";
        } else if (content instanceof String s) {
            text = s;
        } else if (content instanceof List<?> parts) {
            StringBuilder sb = new StringBuilder(); // the text parts, a newline between them; other parts are skipped
            for (Object p : parts) {
                if (p instanceof Map<?, ?> part && "text".equals(part.get("type")) && part.get("text") != null) {
                    if (!sb.isEmpty()) {
                        sb.append('\n');
                    }
                    sb.append(Py.str(part.get("text")));
                }
            }
            text = sb.toString();
        } else {
            text = Py.str(content);
        }
        return new Msg(role == null ? "" : Py.str(role), text);
    }

    /** C's {@code isspace} in the "C" locale: space, and tab through carriage return. */
    private static boolean isspace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    private static String trim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isspace(s.charAt(start))) {
            start++;
        }
        while (end > start && isspace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static char asciiUpper(char c) {
        return c >= 'a' && c <= 'z' ? (char) (c - 'a' + 'A') : c;
    }
}
