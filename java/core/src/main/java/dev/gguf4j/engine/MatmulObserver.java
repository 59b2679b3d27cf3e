package dev.gguf4j.engine;

/**
 * Sees the input of every weight matrix product of a session's CPU forward pass (what llama-imatrix's graph
 * callback sees): set with {@link LlamaSession#observeMatmuls}. Called on the session's thread, before the
 * product, with the activations the weight multiplies; they must not be modified or kept. A session without an
 * observer pays one null check per matmul.
 */
public interface MatmulObserver {
    /**
     * {@code x[0 .. n)} (each {@code cols} floats) are the inputs of weight {@code weight} (its GGUF tensor name,
     * e.g. {@code blk.0.attn_q.weight}) in one product of {@code n} tokens (ggml's MUL_MAT).
     */
    void input(String weight, float[][] x, int n, int cols);

    /**
     * One product of a stacked expert weight ({@code [experts][rows][cols]}, ggml's MUL_MAT_ID) for {@code n}
     * tokens: token {@code t} uses the {@code k} experts {@code ids[t * k .. t * k + k)}, and the row its slot
     * {@code s} multiplies is {@code x[t * k + s]} when {@code perSlot} (the down projection: each expert has its
     * own input), else {@code x[t]} (gate and up: every slot multiplies the token's row). For MoE forward passes;
     * the default ignores it.
     */
    default void expertInput(String weight, int experts, int[] ids, int k, float[][] x, int n, boolean perSlot,
            int cols) {
    }
}
