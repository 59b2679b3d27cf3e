package dev.gguf4j.llama;

import static dev.gguf4j.internal.JsonText.quote;

import java.util.List;

/**
 * An OpenAI-shaped completion ({@code object: "text_completion"}), as llama-cpp-python returns it. Streaming
 * yields chunks of the same shape, with {@code finishReason} null until the last one.
 *
 * @param usage   token counts: on a result and on the last chunk of a stream, null on the others
 * @param timings prompt and generation tokens and seconds: like {@code usage}, on a result and on the last chunk;
 *                null on the others, and on a completion assembled by hand (not part of OpenAI's JSON)
 */
public record Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage,
        Timings timings) {

    /** A completion without timings. */
    public Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {
        this(id, object, created, model, choices, usage, null);
    }

    /**
     * One generated text; finishReason is "stop" (EOS or a stop string), "length" (max tokens or context), or null.
     * {@code logprobs}: null unless asked for ({@link CompletionParams#withLogprobs}); else one entry per generated
     * token of this chunk (of the whole text in a result), the end-of-generation token not included.
     */
    public record Choice(String text, int index, String finishReason, List<TokenLogprob> logprobs) {
        public Choice(String text, int index, String finishReason) {
            this(text, index, finishReason, null);
        }

        public Choice {
            logprobs = logprobs == null ? null : List.copyOf(logprobs);
        }
    }

    public record Usage(int promptTokens, int completionTokens, int totalTokens) {
    }

    /** The text of the first choice. */
    public String text() {
        return choices.getFirst().text();
    }

    /** OpenAI's JSON for this object. */
    public String toJson() {
        return toJson(0);
    }

    /**
     * OpenAI's JSON, the log-probabilities in the legacy completions shape ({@code tokens}, {@code token_logprobs},
     * {@code top_logprobs} as {token: logprob} objects, {@code text_offset} in code points of the text counted from
     * {@code textOffset}: the length of the text streamed before this chunk).
     */
    public String toJson(int textOffset) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"id\":").append(quote(id)).append(",\"object\":").append(quote(object)).append(",\"created\":")
                .append(created).append(",\"model\":").append(quote(model)).append(",\"choices\":[");
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"text\":").append(quote(c.text())).append(",\"index\":")
                    .append(c.index()).append(",\"logprobs\":");
            appendLegacyLogprobs(sb, c.logprobs(), textOffset).append(",\"finish_reason\":")
                    .append(c.finishReason() == null ? "null" : quote(c.finishReason())).append('}');
        }
        sb.append(']');
        if (usage != null) {
            sb.append(",\"usage\":{\"prompt_tokens\":").append(usage.promptTokens()).append(",\"completion_tokens\":")
                    .append(usage.completionTokens()).append(",\"total_tokens\":").append(usage.totalTokens()).append('}');
        }
        return sb.append('}').toString();
    }

    private static StringBuilder appendLegacyLogprobs(StringBuilder sb, List<TokenLogprob> lp, int offset) {
        if (lp == null) {
            return sb.append("null");
        }
        StringBuilder tokens = new StringBuilder("[");
        StringBuilder values = new StringBuilder("[");
        StringBuilder tops = new StringBuilder("[");
        StringBuilder offsets = new StringBuilder("[");
        for (int i = 0; i < lp.size(); i++) {
            String sep = i == 0 ? "" : ",";
            TokenLogprob t = lp.get(i);
            quote(tokens.append(sep), t.token());
            values.append(sep).append(TokenLogprob.jsonNumber(t.logprob()));
            tops.append(sep).append('{');
            for (int j = 0; j < t.topLogprobs().size(); j++) {
                TokenLogprob a = t.topLogprobs().get(j);
                quote(tops.append(j == 0 ? "" : ","), a.token()).append(':')
                        .append(TokenLogprob.jsonNumber(a.logprob()));
            }
            tops.append('}');
            offsets.append(sep).append(offset);
            offset += t.token().codePointCount(0, t.token().length());
        }
        return sb.append("{\"tokens\":").append(tokens).append("],\"token_logprobs\":").append(values)
                .append("],\"top_logprobs\":").append(tops).append("],\"text_offset\":").append(offsets)
                .append("]}");
    }
}
