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
 * @param logprobs       -1: no log-probabilities (no cost); 0 to {@value TokenLogprob#MAX_TOP}: each generated
 *                       token's {@link TokenLogprob} with that many most likely alternatives, in
 *                       {@link Completion.Choice#logprobs()}
 */
public record CompletionParams(int maxTokens, List<String> stop, SamplingParams sampling, boolean truncatePrompt,
        int logprobs) {
    public static final CompletionParams DEFAULTS = new CompletionParams(16, List.of(), SamplingParams.DEFAULTS, false);

    public CompletionParams(int maxTokens, List<String> stop, SamplingParams sampling, boolean truncatePrompt) {
        this(maxTokens, stop, sampling, truncatePrompt, -1);
    }

    public CompletionParams {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }
        if (logprobs < -1 || logprobs > TokenLogprob.MAX_TOP) {
            throw new IllegalArgumentException("logprobs must be -1 (none) or 0 to " + TokenLogprob.MAX_TOP + ", got "
                    + logprobs);
        }
        stop = List.copyOf(stop);
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("stop strings must not be empty");
        }
    }

    public CompletionParams withMaxTokens(int n) {
        return new CompletionParams(n, stop, sampling, truncatePrompt, logprobs);
    }

    public CompletionParams withStop(List<String> s) {
        return new CompletionParams(maxTokens, s, sampling, truncatePrompt, logprobs);
    }

    public CompletionParams withSampling(SamplingParams s) {
        return new CompletionParams(maxTokens, stop, s, truncatePrompt, logprobs);
    }

    public CompletionParams withTruncatePrompt(boolean t) {
        return new CompletionParams(maxTokens, stop, sampling, t, logprobs);
    }

    /**
     * Log-probabilities of the generated tokens, each with its {@code top} most likely alternatives (0 to
     * {@value TokenLogprob#MAX_TOP}); -1: none.
     */
    public CompletionParams withLogprobs(int top) {
        return new CompletionParams(maxTokens, stop, sampling, truncatePrompt, top);
    }
}
