package dev.gguf4j.engine;

import static dev.gguf4j.engine.BlockOps.Act.HB;
import static dev.gguf4j.engine.BlockOps.Act.HB2;
import static dev.gguf4j.engine.BlockOps.Act.X;
import static dev.gguf4j.engine.BlockOps.Act.XB2;

import dev.gguf4j.llama.LlamaConfig;
import java.util.List;

/**
 * {@code nomic-bert} (nomic-embed-text), as llama.cpp c392e50's {@code build_bert} for LLM_ARCH_NOMIC_BERT: bert's
 * post-norm encoder with a fused {@code attn_qkv} (rows q, k, v), no Q/K/V or output biases, NEOX RoPE on q and k
 * ({@code rope.freq_base}) instead of position embeddings, and a SwiGLU FFN without biases (ffn_down (silu(ffn_gate
 * x) * ffn_up x), LLM_FFN_SILU + LLM_FFN_PAR). {@code nomic-bert.pooling_type} is required (llama.cpp reads it so).
 */
final class NomicBertArchitecture extends BertArchitecture {
    private static final TensorRole[] GATE_UP = {TensorRole.FFN_GATE, TensorRole.FFN_UP};
    private static final BlockOps.Act[] GATE_UP_OUT = {HB, HB2};
    private final boolean causal;

    NomicBertArchitecture() {
        this(false);
    }

    private NomicBertArchitecture(boolean causal) {
        this.causal = causal;
    }

    @Override
    public String name() {
        return "nomic-bert";
    }

    @Override
    protected Architecture copy(boolean causal) {
        return new NomicBertArchitecture(causal);
    }

    @Override
    public boolean causal() {
        return causal;
    }

    @Override
    protected boolean rotary() {
        return true;
    }

    @Override
    protected void attentionTensors(List<TensorRole.Spec> t, LlamaConfig c) {
        t.add(TensorRole.Spec.fused(TensorRole.ATTN_QKV, c.dim(), new TensorRole[] {TensorRole.ATTN_Q,
            TensorRole.ATTN_K, TensorRole.ATTN_V}, c.dim(), c.kvDim(), c.kvDim()));
    }

    @Override
    protected void ffnTensors(List<TensorRole.Spec> t, LlamaConfig c) {
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_UP, c.dim(), c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_GATE, c.dim(), c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_DOWN, c.ffDim(), c.dim()));
    }

    @Override
    protected void ffn(BlockOps o, int l) {
        o.matmul(l, GATE_UP, X, GATE_UP_OUT);
        o.swiglu(HB, HB2, HB);
        o.matmul(l, TensorRole.FFN_DOWN, HB, XB2);
    }
}
