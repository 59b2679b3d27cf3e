package dev.gguf4j.chat;

import dev.gguf4j.internal.JsonText;
import dev.gguf4j.llama.Completion.Usage;
import java.util.List;

/**
 * An OpenAI {@code chat.completion}: the reply to a chat request.
 *
 * @param id      {@code chatcmpl-...}
 * @param created Unix seconds
 * @param model   the model's name
 * @param choices one per generated reply
 * @param usage   token counts (null when not known)
 * @param timings prompt and generation tokens and seconds (null when not known; not part of OpenAI's JSON)
 */
public record ChatCompletion(String id, long created, String model, List<Choice> choices, Usage usage,
        dev.gguf4j.llama.Timings timings) {
    public static final String OBJECT = "chat.completion";

    /** A reply without timings. */
    public ChatCompletion(String id, long created, String model, List<Choice> choices, Usage usage) {
        this(id, created, model, choices, usage, null);
    }

    /** The finish reasons: an end-of-generation token or stop string, the token limit, or tool calls. */
    public static final String STOP = "stop";
    public static final String LENGTH = "length";
    public static final String TOOL_CALLS = "tool_calls";

    public ChatCompletion {
        choices = List.copyOf(choices);
    }

    /**
     * One reply: the assistant message and why generation ended ({@link #STOP}, {@link #LENGTH} or
     * {@link #TOOL_CALLS}); {@code logprobs} null unless asked for ({@link ChatParams#withLogprobs}), else one entry
     * per generated token (the end-of-generation token not included).
     */
    public record Choice(int index, ChatMessage message, String finishReason,
            List<dev.gguf4j.llama.TokenLogprob> logprobs) {
        public Choice(int index, ChatMessage message, String finishReason) {
            this(index, message, finishReason, null);
        }

        public Choice {
            logprobs = logprobs == null ? null : List.copyOf(logprobs);
        }
    }

    /** The first choice's message. */
    public ChatMessage message() {
        return choices.getFirst().message();
    }

    /** OpenAI's JSON for this object. */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\"id\":");
        JsonText.quote(sb, id).append(",\"object\":\"").append(OBJECT).append("\",\"created\":").append(created)
                .append(",\"model\":");
        JsonText.quote(sb, model).append(",\"choices\":[");
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"index\":").append(c.index()).append(",\"message\":");
            dev.gguf4j.llama.TokenLogprob.appendContent(c.message().appendJson(sb).append(",\"logprobs\":"),
                    c.logprobs()).append(",\"finish_reason\":");
            quoteOrNull(sb, c.finishReason()).append('}');
        }
        sb.append(']');
        appendUsage(sb, usage);
        return sb.append('}').toString();
    }

    static StringBuilder quoteOrNull(StringBuilder sb, String s) {
        return s == null ? sb.append("null") : JsonText.quote(sb, s);
    }

    static void appendUsage(StringBuilder sb, Usage usage) {
        if (usage != null) {
            sb.append(",\"usage\":{\"prompt_tokens\":").append(usage.promptTokens()).append(",\"completion_tokens\":")
                    .append(usage.completionTokens()).append(",\"total_tokens\":").append(usage.totalTokens())
                    .append('}');
        }
    }
}
