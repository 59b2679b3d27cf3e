package dev.gguf4j.engine;

/**
 * What a generation drives: one sequence's KV cache and forward pass. A {@link LlamaSession} (its own workers), or a
 * slot of a {@link BatchEngine} (its steps evaluated together with the other slots' in one batched forward pass).
 * Both give the same logits, bit for bit. One thread drives a sequence.
 */
public interface Sequence extends AutoCloseable {
    /** Tokens in the KV cache (the next token's position). */
    int position();

    /** Rewinds to {@code pos} (the cache after it is discarded). */
    void rewind(int pos);

    /** Runs one token at the next position; returns the logits ([vocab], valid until the next call). */
    float[] forward(int token);

    /** Runs one token; returns the most likely next token (the largest logit, the lowest id among equals). */
    int forwardArgmax(int token);

    /** Runs {@code tokens} at the next positions (a prompt); returns the last one's logits. */
    float[] forwardLast(int[] tokens);

    /** Called when the generation using it ends (it may be kept for a later one's shared prefix). */
    default void idle() {
    }

    @Override
    void close();
}
