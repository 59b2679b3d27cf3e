package dev.gguf4j.llama;

/**
 * Timings of a completion or chat, on its result ({@link Completion#timings()}, {@link
 * dev.gguf4j.chat.ChatCompletion#timings()}, and the last chunk of a stream): {@code promptTokens} evaluated in
 * {@code promptSeconds} (for a chat, the prompt tokens after the {@code reusedTokens} whose KV cache the previous
 * chat left), {@code generatedTokens} in {@code generationSeconds}.
 */
public record Timings(int promptTokens, double promptSeconds, int generatedTokens, double generationSeconds,
        int reusedTokens) {
    public double promptTokensPerSecond() {
        return promptTokens / Math.max(1e-9, promptSeconds);
    }

    public double generationTokensPerSecond() {
        return generatedTokens / Math.max(1e-9, generationSeconds);
    }
}
