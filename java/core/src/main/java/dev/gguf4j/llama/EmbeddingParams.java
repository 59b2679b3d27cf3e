package dev.gguf4j.llama;

/**
 * How {@link Llama#embed} computes embeddings.
 *
 * @param pooling     null: the model's {@code <arch>.pooling_type}, or {@link Pooling#MEAN} when the GGUF has none
 *                    (decoder models; llama-embedding would print per-token vectors there, pooling none)
 * @param normalize   llama-embedding's {@code --embd-normalize}: -1 none, 0 max absolute (int16 range), 1 taxicab,
 *                    2 euclidean (L2, the default), p &gt; 2 p-norm
 * @param truncate    an input longer than the limit keeps its first {@code limit} tokens (flagged in the result)
 *                    instead of failing
 * @param batchTokens inputs are run together, each its own sequence, up to this many tokens per forward pass
 *                    (llama-embedding's {@code -b}, default 2048); a longer input runs alone
 */
public record EmbeddingParams(Pooling pooling, int normalize, boolean truncate, int batchTokens) {
    public static final EmbeddingParams DEFAULTS = new EmbeddingParams(null, 2, false, 2048);

    public EmbeddingParams {
        if (normalize < -1) {
            throw new IllegalArgumentException("normalize must be -1 (none), 0 (max absolute), 1, 2 (euclidean) or"
                    + " a p-norm > 2, got " + normalize);
        }
        if (batchTokens < 1) {
            throw new IllegalArgumentException("batchTokens must be >= 1, got " + batchTokens);
        }
    }

    public EmbeddingParams withPooling(Pooling p) {
        return new EmbeddingParams(p, normalize, truncate, batchTokens);
    }

    public EmbeddingParams withNormalize(int n) {
        return new EmbeddingParams(pooling, n, truncate, batchTokens);
    }

    public EmbeddingParams withTruncate(boolean t) {
        return new EmbeddingParams(pooling, normalize, t, batchTokens);
    }

    public EmbeddingParams withBatchTokens(int n) {
        return new EmbeddingParams(pooling, normalize, truncate, n);
    }
}
