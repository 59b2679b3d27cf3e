package dev.gguf4j.llama;

import static dev.gguf4j.internal.JsonText.quote;

import java.util.List;

/**
 * An OpenAI-shaped completion ({@code object: "text_completion"}), as llama-cpp-python returns it. Streaming
 * yields chunks of the same shape, with {@code finishReason} null until the last one.
 */
public record Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    /** One generated text; finishReason is "stop" (EOS or a stop string), "length" (max tokens or context), or null. */
    public record Choice(String text, int index, String finishReason) {
    }

    public record Usage(int promptTokens, int completionTokens, int totalTokens) {
    }

    /** The text of the first choice. */
    public String text() {
        return choices.getFirst().text();
    }

    /** OpenAI's JSON for this object. */
    public String toJson() {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"id\":").append(quote(id)).append(",\"object\":").append(quote(object)).append(",\"created\":")
                .append(created).append(",\"model\":").append(quote(model)).append(",\"choices\":[");
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"text\":").append(quote(c.text())).append(",\"index\":")
                    .append(c.index()).append(",\"logprobs\":null,\"finish_reason\":")
                    .append(c.finishReason() == null ? "null" : quote(c.finishReason())).append('}');
        }
        sb.append(']');
        if (usage != null) {
            sb.append(",\"usage\":{\"prompt_tokens\":").append(usage.promptTokens()).append(",\"completion_tokens\":")
                    .append(usage.completionTokens()).append(",\"total_tokens\":").append(usage.totalTokens()).append('}');
        }
        return sb.append('}').toString();
    }
}
