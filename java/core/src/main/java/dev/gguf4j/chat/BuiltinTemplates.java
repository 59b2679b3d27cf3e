package dev.gguf4j.chat;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * llama.cpp's named chat templates (its {@code LLM_CHAT_TEMPLATES} list of c392e50, {@code src/llama-chat.cpp}), for
 * files that carry no template or when one is picked by name ({@code --chat-template NAME}). llama.cpp implements these
 * in C++ ({@code llm_chat_apply_template}), not in Jinja, over each message's role and content text only; this is a
 * line-for-line port of that code, so the output is llama.cpp's byte for byte: {@code trim} is C's {@code isspace} trim
 * (ASCII space, tab, LF, VT, FF, CR; not Python's Unicode-aware {@code strip}), a null or missing content is the empty
 * string, and a content given as a list of parts is its text parts joined with a newline (as llama.cpp's legacy path
 * does). Tools, tool calls and other message fields are ignored, as in llama.cpp. A Jinja port would need Python's
 * {@code strip} and {@code +} on None, which differ from the C++ on those points.
 */
public final class BuiltinTemplates {
    private BuiltinTemplates() {
    }

    /** llama.cpp's fallback when a file has no {@code tokenizer.chat_template}. */
    public static final String FALLBACK = "chatml";

    /** The formats of llama.cpp's {@code llm_chat_template} enum that have a name. */
    private enum Format {
        CHATML("chatml"), LLAMA_2("llama2"), LLAMA_2_SYS("llama2-sys"), LLAMA_2_SYS_BOS("llama2-sys-bos"),
        LLAMA_2_SYS_STRIP("llama2-sys-strip"), MISTRAL_V1("mistral-v1"), MISTRAL_V3("mistral-v3"),
        MISTRAL_V3_TEKKEN("mistral-v3-tekken"), MISTRAL_V7("mistral-v7"), PHI_3("phi3"), PHI_4("phi4"),
        FALCON_3("falcon3"), ZEPHYR("zephyr"), MONARCH("monarch"), GEMMA("gemma"), ORION("orion"),
        OPENCHAT("openchat"), VICUNA("vicuna"), VICUNA_ORCA("vicuna-orca"), DEEPSEEK("deepseek"),
        DEEPSEEK_2("deepseek2"), DEEPSEEK_3("deepseek3"), COMMAND_R("command-r"), LLAMA_3("llama3"),
        CHATGLM_3("chatglm3"), CHATGLM_4("chatglm4"), GLMEDGE("glmedge"), MINICPM("minicpm"), EXAONE_3("exaone3"),
        RWKV_WORLD("rwkv-world"), GRANITE("granite"), GIGACHAT("gigachat"), MEGREZ("megrez");

        final String id;

        Format(String id) {
            this.id = id;
        }
    }

    private static final Map<String, Format> BY_NAME;

    static {
        Map<String, Format> m = new TreeMap<>(); // llama.cpp's std::map order (its template list is sorted too)
        for (Format f : Format.values()) {
            m.put(f.id, f);
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    /** The built-in names, sorted as llama.cpp lists them ({@code llama_chat_builtin_templates}). */
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
     * llama.cpp's {@code llm_chat_detect_template}: the built-in a template string stands for, either a built-in name
     * or a Jinja source recognised by its markers (e.g. {@code <|im_start|>} is chatml, or phi4 with
     * {@code <|im_sep|>}). llama.cpp uses it only without {@code --jinja}; gguf4j always renders a file's Jinja
     * template itself and offers this for callers who want llama.cpp's non-Jinja behaviour.
     */
    public static Optional<String> detect(String tmpl) {
        if (isName(tmpl)) {
            return Optional.of(tmpl);
        }
        Format f = detectFormat(tmpl);
        return f == null ? Optional.empty() : Optional.of(f.id);
    }

    private static Format detectFormat(String tmpl) {
        if (has(tmpl, "<|im_start|>")) {
            return has(tmpl, "<|im_sep|>") ? Format.PHI_4 : Format.CHATML;
        } else if (tmpl.startsWith("mistral") || has(tmpl, "[INST]")) {
            if (has(tmpl, "[SYSTEM_PROMPT]")) {
                return Format.MISTRAL_V7;
            } else if (has(tmpl, "' [INST] ' + system_message") || has(tmpl, "[AVAILABLE_TOOLS]")) {
                if (has(tmpl, " [INST]")) {
                    return Format.MISTRAL_V1;
                } else if (has(tmpl, "\"[INST]\"")) {
                    return Format.MISTRAL_V3_TEKKEN;
                }
                return Format.MISTRAL_V3;
            } else {
                if (has(tmpl, "content.strip()")) {
                    return Format.LLAMA_2_SYS_STRIP;
                } else if (has(tmpl, "bos_token + '[INST]")) {
                    return Format.LLAMA_2_SYS_BOS;
                } else if (has(tmpl, "<<SYS>>")) {
                    return Format.LLAMA_2_SYS;
                }
                return Format.LLAMA_2;
            }
        } else if (has(tmpl, "<|assistant|>") && has(tmpl, "<|end|>")) {
            return Format.PHI_3;
        } else if (has(tmpl, "<|assistant|>") && has(tmpl, "<|user|>")) {
            return has(tmpl, "</s>") ? Format.FALCON_3 : Format.GLMEDGE;
        } else if (has(tmpl, "<|user|>") && has(tmpl, "<|endoftext|>")) {
            return Format.ZEPHYR;
        } else if (has(tmpl, "bos_token + message['role']")) {
            return Format.MONARCH;
        } else if (has(tmpl, "<start_of_turn>")) {
            return Format.GEMMA;
        } else if (has(tmpl, "'\\n\\nAssistant: ' + eos_token")) {
            return Format.ORION;
        } else if (has(tmpl, "GPT4 Correct ")) {
            return Format.OPENCHAT;
        } else if (has(tmpl, "USER: ") && has(tmpl, "ASSISTANT: ")) {
            return has(tmpl, "SYSTEM: ") ? Format.VICUNA_ORCA : Format.VICUNA;
        } else if (has(tmpl, "### Instruction:") && has(tmpl, "<|EOT|>")) {
            return Format.DEEPSEEK;
        } else if (has(tmpl, "<|START_OF_TURN_TOKEN|>") && has(tmpl, "<|USER_TOKEN|>")) {
            return Format.COMMAND_R;
        } else if (has(tmpl, "<|start_header_id|>") && has(tmpl, "<|end_header_id|>")) {
            return Format.LLAMA_3;
        } else if (has(tmpl, "[gMASK]sop")) {
            return Format.CHATGLM_3;
        } else if (has(tmpl, "[gMASK]<sop>")) {
            return Format.CHATGLM_4;
        } else if (has(tmpl, "<用户>")) {
            return Format.MINICPM;
        } else if (has(tmpl, "'Assistant: ' + message['content'] + eos_token")) {
            return Format.DEEPSEEK_2;
        } else if (has(tmpl, "<｜Assistant｜>") && has(tmpl, "<｜User｜>") && has(tmpl, "<｜end▁of▁sentence｜>")) {
            return Format.DEEPSEEK_3;
        } else if (has(tmpl, "[|system|]") && has(tmpl, "[|assistant|]") && has(tmpl, "[|endofturn|]")) {
            return Format.EXAONE_3;
        } else if (has(tmpl, "rwkv-world")) {
            return Format.RWKV_WORLD;
        } else if (has(tmpl, "<|start_of_role|>")) {
            return Format.GRANITE;
        } else if (has(tmpl, "message['role'] + additional_special_tokens[0] + message['content'] + "
                + "additional_special_tokens[1]")) {
            return Format.GIGACHAT;
        } else if (has(tmpl, "<|role_start|>")) {
            return Format.MEGREZ;
        }
        return null;
    }

    private static boolean has(String s, String needle) {
        return s.contains(needle);
    }

    /** One message as llama.cpp's legacy path sees it: role and content text. */
    private record Msg(String role, String content) {
    }

    /**
     * Renders {@code messages} (JSON-shaped, as {@link ChatTemplate#apply} takes them) with the built-in {@code name},
     * as llama.cpp's {@code llama_chat_apply_template} does.
     */
    static String apply(String name, List<?> messages, boolean addAss) {
        Format tmpl = BY_NAME.get(name);
        if (tmpl == null) {
            throw new IllegalArgumentException("not a built-in chat template: " + name);
        }
        Msg[] chat = new Msg[messages == null ? 0 : messages.size()];
        for (int i = 0; i < chat.length; i++) {
            chat[i] = message(i, messages.get(i));
        }
        return apply(tmpl, Arrays.asList(chat), addAss);
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
            StringBuilder sb = new StringBuilder(); // common_chat_templates_apply_legacy: text parts, "\n" between
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

    /** C's isspace in the "C" locale. */
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

    // llm_chat_apply_template, branch by branch
    private static String apply(Format tmpl, List<Msg> chat, boolean addAss) {
        StringBuilder ss = new StringBuilder();
        switch (tmpl) {
            case CHATML -> {
                for (Msg m : chat) {
                    ss.append("<|im_start|>").append(m.role).append('\n').append(m.content).append("<|im_end|>\n");
                }
                if (addAss) {
                    ss.append("<|im_start|>assistant\n");
                }
            }
            case MISTRAL_V7 -> {
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        ss.append("[SYSTEM_PROMPT] ").append(m.content).append("[/SYSTEM_PROMPT]");
                    } else if (m.role.equals("user")) {
                        ss.append("[INST] ").append(m.content).append("[/INST]");
                    } else {
                        ss.append(' ').append(m.content).append("</s>");
                    }
                }
            }
            case MISTRAL_V1, MISTRAL_V3, MISTRAL_V3_TEKKEN -> {
                String leadingSpace = tmpl == Format.MISTRAL_V1 ? " " : "";
                String trailingSpace = tmpl == Format.MISTRAL_V3_TEKKEN ? "" : " ";
                boolean trimAssistant = tmpl == Format.MISTRAL_V3;
                boolean insideTurn = false;
                for (Msg m : chat) {
                    if (!insideTurn) {
                        ss.append(leadingSpace).append("[INST]").append(trailingSpace);
                        insideTurn = true;
                    }
                    if (m.role.equals("system")) {
                        ss.append(m.content).append("\n\n");
                    } else if (m.role.equals("user")) {
                        ss.append(m.content).append(leadingSpace).append("[/INST]");
                    } else {
                        ss.append(trailingSpace).append(trimAssistant ? trim(m.content) : m.content).append("</s>");
                        insideTurn = false;
                    }
                }
            }
            case LLAMA_2, LLAMA_2_SYS, LLAMA_2_SYS_BOS, LLAMA_2_SYS_STRIP -> {
                boolean supportSystem = tmpl != Format.LLAMA_2;
                boolean bosInsideHistory = tmpl == Format.LLAMA_2_SYS_BOS;
                boolean strip = tmpl == Format.LLAMA_2_SYS_STRIP;
                boolean insideTurn = true; // skip BOS at the beginning
                ss.append("[INST] ");
                for (Msg m : chat) {
                    String content = strip ? trim(m.content) : m.content;
                    if (!insideTurn) {
                        insideTurn = true;
                        ss.append(bosInsideHistory ? "<s>[INST] " : "[INST] ");
                    }
                    if (m.role.equals("system")) {
                        if (supportSystem) {
                            ss.append("<<SYS>>\n").append(content).append("\n<</SYS>>\n\n");
                        } else {
                            ss.append(content).append('\n');
                        }
                    } else if (m.role.equals("user")) {
                        ss.append(content).append(" [/INST]");
                    } else {
                        ss.append(content).append("</s>");
                        insideTurn = false;
                    }
                }
            }
            case PHI_3 -> {
                for (Msg m : chat) {
                    ss.append("<|").append(m.role).append("|>\n").append(m.content).append("<|end|>\n");
                }
                if (addAss) {
                    ss.append("<|assistant|>\n");
                }
            }
            case PHI_4 -> {
                for (Msg m : chat) {
                    ss.append("<|im_start|>").append(m.role).append("<|im_sep|>").append(m.content).append("<|im_end|>");
                }
                if (addAss) {
                    ss.append("<|im_start|>assistant<|im_sep|>");
                }
            }
            case FALCON_3 -> {
                for (Msg m : chat) {
                    ss.append("<|").append(m.role).append("|>\n").append(m.content).append('\n');
                }
                if (addAss) {
                    ss.append("<|assistant|>\n");
                }
            }
            case ZEPHYR -> {
                for (Msg m : chat) {
                    ss.append("<|").append(m.role).append("|>\n").append(m.content).append("<|endoftext|>\n");
                }
                if (addAss) {
                    ss.append("<|assistant|>\n");
                }
            }
            case MONARCH -> {
                for (int i = 0; i < chat.size(); i++) {
                    Msg m = chat.get(i);
                    ss.append(i == 0 ? "" : "<s>").append(m.role).append('\n').append(m.content).append("</s>\n");
                }
                if (addAss) {
                    ss.append("<s>assistant\n");
                }
            }
            case GEMMA -> {
                String systemPrompt = "";
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        systemPrompt = trim(m.content); // merged into the next user turn
                        continue;
                    }
                    String role = m.role.equals("assistant") ? "model" : m.role;
                    ss.append("<start_of_turn>").append(role).append('\n');
                    if (!systemPrompt.isEmpty() && !role.equals("model")) {
                        ss.append(systemPrompt).append("\n\n");
                        systemPrompt = "";
                    }
                    ss.append(trim(m.content)).append("<end_of_turn>\n");
                }
                if (addAss) {
                    ss.append("<start_of_turn>model\n");
                }
            }
            case ORION -> {
                String systemPrompt = "";
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        systemPrompt = m.content;
                    } else if (m.role.equals("user")) {
                        ss.append("Human: ");
                        if (!systemPrompt.isEmpty()) {
                            ss.append(systemPrompt).append("\n\n");
                            systemPrompt = "";
                        }
                        ss.append(m.content).append("\n\nAssistant: </s>");
                    } else {
                        ss.append(m.content).append("</s>");
                    }
                }
            }
            case OPENCHAT -> {
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        ss.append(m.content).append("<|end_of_turn|>");
                    } else {
                        String role = m.role.isEmpty() ? m.role
                                : asciiUpper(m.role.charAt(0)) + m.role.substring(1);
                        ss.append("GPT4 Correct ").append(role).append(": ").append(m.content).append("<|end_of_turn|>");
                    }
                }
                if (addAss) {
                    ss.append("GPT4 Correct Assistant:");
                }
            }
            case VICUNA, VICUNA_ORCA -> {
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        if (tmpl == Format.VICUNA_ORCA) {
                            ss.append("SYSTEM: ").append(m.content).append('\n');
                        } else {
                            ss.append(m.content).append("\n\n");
                        }
                    } else if (m.role.equals("user")) {
                        ss.append("USER: ").append(m.content).append('\n');
                    } else if (m.role.equals("assistant")) {
                        ss.append("ASSISTANT: ").append(m.content).append("</s>\n");
                    }
                }
                if (addAss) {
                    ss.append("ASSISTANT:");
                }
            }
            case DEEPSEEK -> {
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        ss.append(m.content);
                    } else if (m.role.equals("user")) {
                        ss.append("### Instruction:\n").append(m.content).append('\n');
                    } else if (m.role.equals("assistant")) {
                        ss.append("### Response:\n").append(m.content).append("\n<|EOT|>\n");
                    }
                }
                if (addAss) {
                    ss.append("### Response:\n");
                }
            }
            case COMMAND_R -> {
                for (Msg m : chat) {
                    String token = switch (m.role) {
                        case "system" -> "<|SYSTEM_TOKEN|>";
                        case "user" -> "<|USER_TOKEN|>";
                        case "assistant" -> "<|CHATBOT_TOKEN|>";
                        default -> null;
                    };
                    if (token != null) {
                        ss.append("<|START_OF_TURN_TOKEN|>").append(token).append(trim(m.content))
                                .append("<|END_OF_TURN_TOKEN|>");
                    }
                }
                if (addAss) {
                    ss.append("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
                }
            }
            case LLAMA_3 -> {
                for (Msg m : chat) {
                    ss.append("<|start_header_id|>").append(m.role).append("<|end_header_id|>\n\n")
                            .append(trim(m.content)).append("<|eot_id|>");
                }
                if (addAss) {
                    ss.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                }
            }
            case CHATGLM_3, CHATGLM_4, GLMEDGE -> {
                ss.append(tmpl == Format.CHATGLM_3 ? "[gMASK]sop" : tmpl == Format.CHATGLM_4 ? "[gMASK]<sop>" : "");
                String sep = tmpl == Format.CHATGLM_3 ? "\n " : "\n";
                for (Msg m : chat) {
                    ss.append("<|").append(m.role).append("|>").append(sep).append(m.content);
                }
                if (addAss) {
                    ss.append("<|assistant|>");
                }
            }
            case MINICPM -> {
                for (Msg m : chat) {
                    if (m.role.equals("user")) {
                        ss.append("<用户>").append(trim(m.content)).append("<AI>");
                    } else {
                        ss.append(trim(m.content));
                    }
                }
            }
            case DEEPSEEK_2 -> {
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        ss.append(m.content).append("\n\n");
                    } else if (m.role.equals("user")) {
                        ss.append("User: ").append(m.content).append("\n\n");
                    } else if (m.role.equals("assistant")) {
                        ss.append("Assistant: ").append(m.content).append("<｜end▁of▁sentence｜>");
                    }
                }
                if (addAss) {
                    ss.append("Assistant:");
                }
            }
            case DEEPSEEK_3 -> {
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        ss.append(m.content).append("\n\n");
                    } else if (m.role.equals("user")) {
                        ss.append("<｜User｜>").append(m.content);
                    } else if (m.role.equals("assistant")) {
                        ss.append("<｜Assistant｜>").append(m.content).append("<｜end▁of▁sentence｜>");
                    }
                }
                if (addAss) {
                    ss.append("<｜Assistant｜>");
                }
            }
            case EXAONE_3 -> {
                for (Msg m : chat) {
                    if (m.role.equals("system")) {
                        ss.append("[|system|]").append(trim(m.content)).append("[|endofturn|]\n");
                    } else if (m.role.equals("user")) {
                        ss.append("[|user|]").append(trim(m.content)).append('\n');
                    } else if (m.role.equals("assistant")) {
                        ss.append("[|assistant|]").append(trim(m.content)).append("[|endofturn|]\n");
                    }
                }
                if (addAss) {
                    ss.append("[|assistant|]");
                }
            }
            case RWKV_WORLD -> {
                for (Msg m : chat) {
                    if (m.role.equals("user")) {
                        ss.append("User: ").append(m.content).append("\n\nAssistant:");
                    } else {
                        ss.append(m.content).append("\n\n");
                    }
                }
            }
            case GRANITE -> {
                for (Msg m : chat) {
                    ss.append("<|start_of_role|>").append(m.role).append("<|end_of_role|>");
                    if (m.role.equals("assistant_tool_call")) {
                        ss.append("<|tool_call|>");
                    }
                    ss.append(m.content).append("<|end_of_text|>\n");
                }
                if (addAss) {
                    ss.append("<|start_of_role|>assistant<|end_of_role|>\n");
                }
            }
            case GIGACHAT -> {
                boolean hasSystem = !chat.isEmpty() && chat.get(0).role.equals("system");
                ss.append("<s>");
                if (hasSystem) {
                    ss.append(chat.get(0).content).append("<|message_sep|>");
                }
                for (int i = hasSystem ? 1 : 0; i < chat.size(); i++) {
                    Msg m = chat.get(i);
                    if (m.role.equals("user")) {
                        ss.append("user<|role_sep|>").append(m.content).append("<|message_sep|>")
                                .append("available functions<|role_sep|>[]<|message_sep|>");
                    } else if (m.role.equals("assistant")) {
                        ss.append("assistant<|role_sep|>").append(m.content).append("<|message_sep|>");
                    }
                }
                if (addAss) {
                    ss.append("assistant<|role_sep|>");
                }
            }
            case MEGREZ -> {
                for (Msg m : chat) {
                    ss.append("<|role_start|>").append(m.role).append("<|role_end|>").append(m.content)
                            .append("<|turn_end|>");
                }
                if (addAss) {
                    ss.append("<|role_start|>assistant<|role_end|>");
                }
            }
            default -> throw new AssertionError(tmpl);
        }
        return ss.toString();
    }

    private static char asciiUpper(char c) {
        return c >= 'a' && c <= 'z' ? (char) (c - 32) : c;
    }
}
