package dev.gguf4j.llama;

import dev.gguf4j.sampling.SamplingParams;
import java.util.List;

/**
 * One completion request.
 *
 * @param maxTokens      tokens to generate at most (finish reason "length")
 * @param stop           strings that end the completion; never emitted, not even in part
 * @param sampling       the sampler chain's settings (llama.cpp's defaults)
 * @param truncatePrompt keep only the prompt's last tokens when it does not fit the context (otherwise that is
 *                       an error)
 */
public record CompletionParams(int maxTokens, List<String> stop, SamplingParams sampling, boolean truncatePrompt) {
    public static final CompletionParams DEFAULTS = new CompletionParams(16, List.of(), SamplingParams.DEFAULTS, false);

    public CompletionParams {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }
        stop = List.copyOf(stop);
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("stop strings must not be empty");
        }
    }

    public CompletionParams withMaxTokens(int n) {
        return new CompletionParams(n, stop, sampling, truncatePrompt);
    }

    public CompletionParams withStop(List<String> s) {
        return new CompletionParams(maxTokens, s, sampling, truncatePrompt);
    }

    public CompletionParams withSampling(SamplingParams s) {
        return new CompletionParams(maxTokens, stop, s, truncatePrompt);
    }

    public CompletionParams withTruncatePrompt(boolean t) {
        return new CompletionParams(maxTokens, stop, sampling, t);
    }
}
