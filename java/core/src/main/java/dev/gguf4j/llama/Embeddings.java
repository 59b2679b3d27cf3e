package dev.gguf4j.llama;

import java.util.List;

/**
 * The result of {@link Llama#embed}: one {@link Embedding} per input, in input order, with the pooling and the
 * normalisation that made them, and the token counts (usage).
 *
 * @param data         one per input
 * @param pooling      the pooling used
 * @param normalize    the normalisation used (as {@link EmbeddingParams#normalize}: 2 = L2)
 * @param promptTokens the tokens of all inputs together, after any truncation
 */
public record Embeddings(List<Embedding> data, Pooling pooling, int normalize, int promptTokens) {

    /**
     * One input's embedding.
     *
     * @param index     the input's index
     * @param vectors   [1][dim] when pooled; [tokens][dim] (one per token) with {@link Pooling#NONE}
     * @param tokens    the input's tokens, special tokens included, after any truncation
     * @param truncated whether the input was cut to the limit ({@link EmbeddingParams#truncate})
     */
    public record Embedding(int index, float[][] vectors, int tokens, boolean truncated) {
        /** The pooled vector; with {@link Pooling#NONE}, the first token's. */
        public float[] vector() {
            return vectors[0];
        }
    }

    /** The pooled vectors, one per input, in input order. */
    public List<float[]> vectors() {
        return data.stream().map(Embedding::vector).toList();
    }

    /** The embedding length. */
    public int dimension() {
        return data.isEmpty() ? 0 : data.get(0).vector().length;
    }
}
