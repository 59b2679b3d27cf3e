package dev.gguf4j.quantize;

/**
 * What a tensor is, as far as llama.cpp's type-mixture policy ({@code llama_tensor_get_type} in
 * {@code src/llama-quant.cpp}, c392e50) cares.
 *
 * <p>llama.cpp tells the roles apart by substrings of the tensor name, tried in a fixed order (the order of its
 * {@code else if} chain); the first that matches wins. The constants from {@link #ATTN_V} on are declared in that
 * order and {@link #byName} tries them in declaration order. {@link #OUTPUT} and {@link #TOKEN_EMBD} are exact
 * names and are decided before the substrings (see {@link QuantPolicy}).
 */
public enum TensorRole {
    /** {@code output.weight}, or {@code token_embd.weight} when the model has no {@code output.weight} (tied). */
    OUTPUT("output.weight"),
    /** {@code token_embd.weight} of a model that has its own {@code output.weight}. */
    TOKEN_EMBD("token_embd.weight"),
    ATTN_V("attn_v.weight"),
    ATTN_K("attn_k.weight"),
    ATTN_Q("attn_q.weight"),
    /** Matches {@code ffn_down}, {@code ffn_down_exps}, {@code ffn_down_shexp}, ... (no ".weight" in the test). */
    FFN_DOWN("ffn_down"),
    ATTN_OUTPUT("attn_output.weight"),
    ATTN_QKV("attn_qkv.weight"),
    /** Matches {@code ffn_gate}, {@code ffn_gate_exps}, ... ({@code ffn_gate_inp} is never quantized). */
    FFN_GATE("ffn_gate"),
    FFN_UP("ffn_up"),
    /** Anything else: quantized to the file type's default type, with no mixture rule. */
    OTHER("");

    private final String marker;

    TensorRole(String marker) {
        this.marker = marker;
    }

    /**
     * The exact name ({@link #OUTPUT}, {@link #TOKEN_EMBD}) or the substring (the others) llama.cpp tests for;
     * empty for {@link #OTHER}.
     */
    public String marker() {
        return marker;
    }

    /** Short name for reasons, e.g. {@code attn_v}. */
    public String label() {
        return switch (this) {
            case OUTPUT -> "output";
            case TOKEN_EMBD -> "token_embd";
            case OTHER -> "other";
            default -> marker.endsWith(".weight") ? marker.substring(0, marker.length() - 7) : marker;
        };
    }

    /**
     * The role of a tensor that is neither the output nor the token embeddings, by the first substring that
     * matches in llama.cpp's order.
     */
    static TensorRole byName(String name) {
        for (TensorRole r : values()) {
            if (r != OUTPUT && r != TOKEN_EMBD && r != OTHER && name.contains(r.marker)) {
                return r;
            }
        }
        return OTHER;
    }
}
