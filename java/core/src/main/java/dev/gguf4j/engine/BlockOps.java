package dev.gguf4j.engine;

import dev.gguf4j.llama.LlamaConfig;
/**
 * The operations a transformer block is written with, for every backend: the CPU ({@link CpuOps}: MatMul over
 * the native kernels, the worker pool, CpuMath) and a device ({@link DeviceOps}: CUDA, or the host reference
 * {@link dev.gguf4j.backend.HostAccelerator}). An {@link Architecture} writes its block once against this
 * interface; the same code runs one token (generation) or a batch (a prompt): every op works on the first
 * {@link #tokens()} rows of its activations.
 *
 * <p>Activations are named slots ({@link Act}), [tokens][width] each, owned by the implementation (no allocation
 * per op); weights are named by layer and {@link TensorRole} and looked up in the implementation's own copy
 * (mapped file, device memory). The ops compute as ggml does, so every implementation gives llama.cpp's numbers;
 * an op a backend does not have yet throws {@link UnsupportedOperationException} naming it and the backend.
 */
interface BlockOps {
    /** The layer argument for model-level tensors (OUTPUT_NORM, OUTPUT). */
    int MODEL = -1;

    /**
     * Activation slots and their widths: X, XB, XB2 [dim]; Q, ATT [qDim = heads x headDim]; K, V [kvDim]; HB, HB2
     * [ffDim]; LOGITS [vocab]. X is the residual stream (the embeddings in, the hidden states out); the others are
     * scratch a block may overwrite.
     */
    enum Act { X, XB, XB2, Q, K, V, ATT, HB, HB2, LOGITS }

    /**
     * What a layer's attention computes beyond causal softmax(scale q.K) V (per layer: {@link
     * Architecture#attention}): {@code softCap} &gt; 0 caps the logits as cap * tanh(s / cap) (gemma2);
     * {@code slidingWindow} &gt; 0 lets a token see only the last that many positions (gemma2's, phi3's alternate
     * layers). Implementations refuse at construction what they cannot compute yet.
     */
    record Attention(float scale, float softCap, int slidingWindow) {
        boolean plain() {
            return softCap == 0 && slidingWindow == 0;
        }
    }

    /** "cpu" or the device's name, for messages. */
    String name();

    LlamaConfig config();

    /** Rows the ops of this step work on. */
    int tokens();

    /** Whether the model has this tensor in layer {@code layer} (optional tensors). */
    boolean has(int layer, TensorRole t);

    /** out = rmsnorm(in) * weight (ggml_rms_norm then ggml_mul). */
    void rmsNorm(Act in, int layer, TensorRole weight, Act out);

    /** out = W in (W: [rows][cols] of any weight type the backend has a matmul for). */
    void matmul(int layer, TensorRole w, Act in, Act out);

    /** outs[i] = ws[i] in for weights that share their input (Q/K/V, gate/up): one dispatch where it helps. */
    void matmul(int layer, TensorRole[] ws, Act in, Act[] outs);

    /** x += bias; nothing when the model has no such tensor. */
    void addBias(int layer, TensorRole bias, Act x);

    /** RoPE in place on {@code heads} heads of x at the step's positions (the config's style, base, scaling). */
    void rope(Act x, int heads);

    /**
     * Stores k and v in layer {@code layer}'s KV cache at the step's positions, then out = attention of q over
     * the cache (grouped-query heads; the layer's {@link Attention} parameters).
     */
    void attention(int layer, Act q, Act k, Act v, Act out);

    /** out = silu(gate) * up. */
    void swiglu(Act gate, Act up, Act out);

    /** x += y. */
    void add(Act x, Act y);

    // ---- ops other architectures need; not every backend has them yet ------------------------------------------

    /**
     * A mixture-of-experts FFN, as llama.cpp's {@code llm_build_moe_ffn} (c392e50) with softmax gating and a SwiGLU
     * expert: per token, logits = {@code FFN_GATE_INP} in ({@code experts} of them); p = softmax(logits); the
     * {@code used} experts of highest p (ggml_top_k: ggml's argsort order); their weights w = p of them, divided by
     * their sum when {@code normalize} (Mixtral; not qwen2moe); e_i = {@code FFN_DOWN_EXPS}[i] (silu(
     * {@code FFN_GATE_EXPS}[i] in) * {@code FFN_UP_EXPS}[i] in) for each chosen expert i, and the result
     * (e_0 w_0 + e_1 w_1) + ... in the top-k order. {@code add}: out = result + out (after the sum), else out = result.
     */
    default void moe(int layer, Act in, Act out, Moe m, boolean add) {
        throw unsupported("mixture-of-experts FFN");
    }

    /** x *= sigmoid(w in) per token, w a one-row matrix (qwen2moe's shared-expert gate: silu(g) / g as ggml). */
    default void sigmoidGate(int layer, TensorRole w, Act in, Act x) {
        throw unsupported("sigmoid gate");
    }

    /** The routing of a {@link #moe} layer: experts in all, used per token, weights renormalised or not. */
    record Moe(int experts, int used, boolean normalize) {
    }

    /** out = gelu_tanh(gate) * up (gemma's GEGLU). */
    default void gegluTanh(Act gate, Act up, Act out) {
        throw unsupported("GELU-tanh gating");
    }

    /** out = layernorm(in) * weight + bias (ggml_norm, ggml_mul, ggml_add; BERT's norms); in may be out. */
    default void layerNorm(Act in, int layer, TensorRole weight, TensorRole bias, Act out) {
        throw unsupported("LayerNorm");
    }

    /** x = gelu(x) in place (ggml_gelu: the F16 table; BERT's FFN). */
    default void gelu(Act x) {
        throw unsupported("GELU");
    }

    /** x += position_embd[position of each token] (bert's learned absolute positions). */
    default void addPositionEmbeddings(Act x) {
        throw unsupported("position embeddings");
    }

    /** x *= s (gemma's embedding scale, granite's multipliers). */
    default void scale(Act x, float s) {
        throw unsupported("scale");
    }

    /** x = cap * tanh(x / cap) (gemma2's final logit soft-capping). */
    default void softCap(Act x, float cap) {
        throw unsupported("soft-capping");
    }

    default UnsupportedOperationException unsupported(String op) {
        return new UnsupportedOperationException(op + " is not implemented on the " + name() + " backend yet");
    }
}
