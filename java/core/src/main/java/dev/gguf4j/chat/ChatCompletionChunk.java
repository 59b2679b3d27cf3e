package dev.gguf4j.chat;

import dev.gguf4j.internal.JsonText;
import dev.gguf4j.llama.Completion.Usage;
import java.util.List;

/**
 * One OpenAI {@code chat.completion.chunk} of a streamed reply: the first carries the role, the following ones
 * pieces of content (or of tool calls), the last the finish reason (and, if asked for, the usage).
 * {@code timings} (not part of OpenAI's JSON): on the last chunk of a reply, null on the others.
 */
public record ChatCompletionChunk(String id, long created, String model, List<Choice> choices, Usage usage,
        dev.gguf4j.llama.Timings timings) {
    public static final String OBJECT = "chat.completion.chunk";

    /** A chunk without timings. */
    public ChatCompletionChunk(String id, long created, String model, List<Choice> choices, Usage usage) {
        this(id, created, model, choices, usage, null);
    }

    public ChatCompletionChunk {
        choices = List.copyOf(choices);
    }

    /**
     * One choice's delta; {@code finishReason} is null until the last chunk; {@code logprobs} null unless asked for,
     * else the entries of the tokens generated for this chunk.
     */
    public record Choice(int index, Delta delta, String finishReason, List<dev.gguf4j.llama.TokenLogprob> logprobs) {
        public Choice(int index, Delta delta, String finishReason) {
            this(index, delta, finishReason, null);
        }

        public Choice {
            logprobs = logprobs == null ? null : List.copyOf(logprobs);
        }
    }

    /** What this chunk adds: fields that are null are absent from the JSON. */
    public record Delta(String role, String content, List<ToolCallDelta> toolCalls) {
        public Delta {
            toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        }

        public static Delta role(String role) {
            return new Delta(role, null, List.of());
        }

        public static Delta content(String text) {
            return new Delta(null, text, List.of());
        }

        public static final Delta EMPTY = new Delta(null, null, List.of());
    }

    /**
     * A piece of the tool call at {@code index}: the first piece carries id and name, the others more of the
     * arguments text. Null fields are absent.
     */
    public record ToolCallDelta(int index, String id, String name, String arguments) {
        /** A whole call in one piece. */
        public static ToolCallDelta of(int index, ToolCall call) {
            return new ToolCallDelta(index, call.id(), call.name(), call.arguments());
        }
    }

    /** OpenAI's JSON for this object (one line of a server-sent event stream, after {@code data: }). */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\"id\":");
        JsonText.quote(sb, id).append(",\"object\":\"").append(OBJECT).append("\",\"created\":").append(created)
                .append(",\"model\":");
        JsonText.quote(sb, model).append(",\"choices\":[");
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"index\":").append(c.index()).append(",\"delta\":{");
            Delta d = c.delta();
            String sep = "";
            if (d.role() != null) {
                JsonText.quote(sb.append("\"role\":"), d.role());
                sep = ",";
            }
            if (d.content() != null) {
                JsonText.quote(sb.append(sep).append("\"content\":"), d.content());
                sep = ",";
            }
            if (!d.toolCalls().isEmpty()) {
                sb.append(sep).append("\"tool_calls\":[");
                for (int j = 0; j < d.toolCalls().size(); j++) {
                    ToolCallDelta t = d.toolCalls().get(j);
                    sb.append(j == 0 ? "" : ",").append("{\"index\":").append(t.index());
                    if (t.id() != null) {
                        JsonText.quote(sb.append(",\"id\":"), t.id()).append(",\"type\":\"function\"");
                    }
                    sb.append(",\"function\":{");
                    String fsep = "";
                    if (t.name() != null) {
                        JsonText.quote(sb.append("\"name\":"), t.name());
                        fsep = ",";
                    }
                    if (t.arguments() != null) {
                        JsonText.quote(sb.append(fsep).append("\"arguments\":"), t.arguments());
                    }
                    sb.append("}}");
                }
                sb.append(']');
            }
            dev.gguf4j.llama.TokenLogprob.appendContent(sb.append("},\"logprobs\":"), c.logprobs())
                    .append(",\"finish_reason\":");
            ChatCompletion.quoteOrNull(sb, c.finishReason()).append('}');
        }
        sb.append(']');
        ChatCompletion.appendUsage(sb, usage);
        return sb.append('}').toString();
    }
}
