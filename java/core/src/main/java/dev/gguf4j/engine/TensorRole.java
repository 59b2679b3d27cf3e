package dev.gguf4j.engine;

/**
 * The tensors a model may have, by role, with their GGUF names (llama.cpp's {@code LLM_TENSOR_*} and their names
 * in llama-arch.cpp). An architecture's table ({@link Architecture#layerTensors}) says which of the per-layer
 * ones it uses, their shapes, and whether each is required; {@link LlamaModel} loads exactly that table, and the
 * device upload, the offload sizes and the weight-type checks all walk it.
 */
public enum TensorRole {
    // model-level
    TOKEN_EMBD("token_embd.weight", false),
    OUTPUT_NORM("output_norm.weight", false),
    OUTPUT("output.weight", false),
    ROPE_FREQS("rope_freqs.weight", false),
    /** Phi-3.5's LongRoPE divisors for contexts beyond the original one ([ropeDim/2] F32). */
    ROPE_FACTORS_LONG("rope_factors_long.weight", false),
    /** Phi-3.5's LongRoPE divisors within the original context. */
    ROPE_FACTORS_SHORT("rope_factors_short.weight", false),
    /** BERT-family encoders (llama-arch.cpp c392e50 LLM_ARCH_BERT / NOMIC_BERT): the embeddings' LayerNorm. */
    TOKEN_EMBD_NORM("token_embd_norm.weight", false),
    TOKEN_EMBD_NORM_BIAS("token_embd_norm.bias", false),
    /** The token-type ("segment") embeddings [types][dim]; llama.cpp always adds row 0 ("sentence A"). */
    TOKEN_TYPES("token_types.weight", false),
    /** bert's learned absolute position embeddings [context][dim]. */
    POS_EMBD("position_embd.weight", false),
    // per layer: "blk.<layer>." + the suffix
    ATTN_NORM("attn_norm.weight", true),
    ATTN_Q("attn_q.weight", true),
    ATTN_K("attn_k.weight", true),
    ATTN_V("attn_v.weight", true),
    /** Fused Q, K and V (phi3): [dim] -> [qDim + 2 kvDim]. */
    ATTN_QKV("attn_qkv.weight", true),
    ATTN_OUT("attn_output.weight", true),
    ATTN_OUT_BIAS("attn_output.bias", true),
    /** BERT's post-attention LayerNorm (after the residual add). */
    ATTN_OUT_NORM("attn_output_norm.weight", true),
    ATTN_OUT_NORM_BIAS("attn_output_norm.bias", true),
    ATTN_Q_BIAS("attn_q.bias", true),
    ATTN_K_BIAS("attn_k.bias", true),
    ATTN_V_BIAS("attn_v.bias", true),
    /** gemma2's norm of the attention output before the residual add. */
    ATTN_POST_NORM("post_attention_norm.weight", true),
    FFN_NORM("ffn_norm.weight", true),
    FFN_GATE("ffn_gate.weight", true),
    FFN_UP("ffn_up.weight", true),
    FFN_DOWN("ffn_down.weight", true),
    FFN_UP_BIAS("ffn_up.bias", true),
    FFN_DOWN_BIAS("ffn_down.bias", true),
    /** BERT's LayerNorm after the FFN's residual add (the layer's output). */
    LAYER_OUT_NORM("layer_output_norm.weight", true),
    LAYER_OUT_NORM_BIAS("layer_output_norm.bias", true),
    /** Fused gate and up (phi3's ffn_up): [dim] -> [2 ffDim], the gate's rows first. */
    FFN_GATE_UP("ffn_up.weight", true),
    /** gemma2's norm of the FFN output before the residual add. */
    FFN_POST_NORM("post_ffw_norm.weight", true),
    /** The mixture-of-experts router: [dim] -> [experts] logits. */
    FFN_GATE_INP("ffn_gate_inp.weight", true),
    /** The experts' gate, up and down matrices, stacked: [experts][ffExp][dim] (3-D; one 2-D slice per expert). */
    FFN_GATE_EXPS("ffn_gate_exps.weight", true),
    FFN_UP_EXPS("ffn_up_exps.weight", true),
    FFN_DOWN_EXPS("ffn_down_exps.weight", true),
    /** qwen2moe's shared expert's gate: [dim] -> 1 (a 1-D tensor used as a one-row matrix), through a sigmoid. */
    FFN_GATE_INP_SHEXP("ffn_gate_inp_shexp.weight", true),
    /** qwen2moe's shared expert: a dense SwiGLU FFN of expert_shared_feed_forward_length. */
    FFN_GATE_SHEXP("ffn_gate_shexp.weight", true),
    FFN_UP_SHEXP("ffn_up_shexp.weight", true),
    FFN_DOWN_SHEXP("ffn_down_shexp.weight", true);

    private final String suffix;
    private final boolean perLayer;

    TensorRole(String suffix, boolean perLayer) {
        this.suffix = suffix;
        this.perLayer = perLayer;
    }

    /** The tensor's GGUF name in layer {@code layer} (ignored for model-level tensors). */
    String tensorName(int layer) {
        return perLayer ? "blk." + layer + "." + suffix : suffix;
    }

    boolean perLayer() {
        return perLayer;
    }

    /**
     * One row of an architecture's tensor table: a matrix of {@code rows} x {@code cols} (y[rows] = W x[cols]) or
     * a vector of {@code cols} floats (norm weights, biases), required or optional. A fused matrix ({@link #fused})
     * also names its {@code parts}: consecutive row ranges of {@code partRows} rows each, which the model and the
     * device expose as those roles' matrices (views, no copy), so a block multiplies by them as by separate ones.
     * A stacked matrix ({@link #experts}) is a 3-D tensor [experts][rows][cols]: {@code experts} 2-D weights of
     * {@code rows} x {@code cols} one after the other, which the model exposes whole (rows x experts rows) and as
     * one view per expert ({@link LlamaModel#expert}), so an expert is multiplied by the kernels of a 2-D weight.
     */
    record Spec(TensorRole role, boolean matrix, int cols, int rows, boolean required, TensorRole[] parts,
            int[] partRows, int experts) {
        static Spec matrix(TensorRole role, int cols, int rows) {
            return new Spec(role, true, cols, rows, true, null, null, 0);
        }

        static Spec vector(TensorRole role, int n) {
            return new Spec(role, false, n, 1, true, null, null, 0);
        }

        /** {@code experts} matrices of rows x cols stacked in one 3-D tensor (ggml: ne = [cols, rows, experts]). */
        static Spec experts(TensorRole role, int cols, int rows, int experts) {
            return new Spec(role, true, cols, rows, true, null, null, experts);
        }

        /** A fused matrix whose rows are {@code parts[0]}'s {@code partRows[0]} rows, then {@code parts[1]}'s ... */
        static Spec fused(TensorRole role, int cols, TensorRole[] parts, int... partRows) {
            int rows = 0;
            for (int r : partRows) {
                rows += r;
            }
            return new Spec(role, true, cols, rows, true, parts.clone(), partRows.clone(), 0);
        }

        /** The same row, the tensor optional (absent: the op that uses it does nothing, or the block skips it). */
        Spec optional() {
            return new Spec(role, matrix, cols, rows, false, parts, partRows, experts);
        }
    }
}
