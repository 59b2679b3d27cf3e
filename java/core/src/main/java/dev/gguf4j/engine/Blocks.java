package dev.gguf4j.engine;

import static dev.gguf4j.engine.BlockOps.Act.ATT;
import static dev.gguf4j.engine.BlockOps.Act.HB;
import static dev.gguf4j.engine.BlockOps.Act.HB2;
import static dev.gguf4j.engine.BlockOps.Act.K;
import static dev.gguf4j.engine.BlockOps.Act.Q;
import static dev.gguf4j.engine.BlockOps.Act.V;
import static dev.gguf4j.engine.BlockOps.Act.X;
import static dev.gguf4j.engine.BlockOps.Act.XB;
import static dev.gguf4j.engine.BlockOps.Act.XB2;

import dev.gguf4j.llama.LlamaConfig;

/** The pieces of a transformer block that architectures share, written against {@link BlockOps}. */
final class Blocks {
    private static final TensorRole[] QKV = {TensorRole.ATTN_Q, TensorRole.ATTN_K, TensorRole.ATTN_V};
    private static final BlockOps.Act[] QKV_OUT = {Q, K, V};
    private static final TensorRole[] GATE_UP = {TensorRole.FFN_GATE, TensorRole.FFN_UP};
    private static final BlockOps.Act[] GATE_UP_OUT = {HB, HB2};

    private Blocks() {
    }

    /** The separate Q/K/V (optional biases) and output tensors of {@link #selfAttention}, shaped for {@code c}. */
    static void attentionTensors(java.util.List<TensorRole.Spec> t, LlamaConfig c, boolean biasesRequired) {
        int qDim = c.heads() * c.headDim();
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_NORM, c.dim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_Q, c.dim(), qDim));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_K, c.dim(), c.kvDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_V, c.dim(), c.kvDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_OUT, qDim, c.dim()));
        TensorRole.Spec[] biases = {TensorRole.Spec.vector(TensorRole.ATTN_Q_BIAS, qDim),
            TensorRole.Spec.vector(TensorRole.ATTN_K_BIAS, c.kvDim()),
            TensorRole.Spec.vector(TensorRole.ATTN_V_BIAS, c.kvDim())};
        for (TensorRole.Spec b : biases) {
            t.add(biasesRequired ? b : b.optional());
        }
    }

    /** The tensors of {@link #gatedFfn}. */
    static void ffnTensors(java.util.List<TensorRole.Spec> t, LlamaConfig c) {
        t.add(TensorRole.Spec.vector(TensorRole.FFN_NORM, c.dim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_GATE, c.dim(), c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_UP, c.dim(), c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_DOWN, c.ffDim(), c.dim()));
    }

    /** The tensors of {@link #moeFfn}: ffn_norm, the router and the stacked experts. */
    static void moeTensors(java.util.List<TensorRole.Spec> t, LlamaConfig c) {
        t.add(TensorRole.Spec.vector(TensorRole.FFN_NORM, c.dim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_GATE_INP, c.dim(), c.experts()));
        t.add(TensorRole.Spec.experts(TensorRole.FFN_GATE_EXPS, c.dim(), c.expertFfDim(), c.experts()));
        t.add(TensorRole.Spec.experts(TensorRole.FFN_UP_EXPS, c.dim(), c.expertFfDim(), c.experts()));
        t.add(TensorRole.Spec.experts(TensorRole.FFN_DOWN_EXPS, c.expertFfDim(), c.dim(), c.experts()));
    }

    /** Pre-norm mixture-of-experts FFN with the residual add: x += moe(rmsnorm(x) * ffn_norm) (llama with experts). */
    static void moeFfn(BlockOps o, int l, BlockOps.Moe m) {
        o.rmsNorm(X, l, TensorRole.FFN_NORM, XB);
        o.moe(l, XB, XB2, m, false);
        o.add(X, XB2);
    }

    /**
     * Pre-norm self-attention with the residual add: xb = rmsnorm(x) * attn_norm; q, k, v = Wq xb (+ bq), Wk xb
     * (+ bk), Wv xb (+ bv); RoPE on q and k; cache k, v; x += Wo attention(q).
     */
    static void selfAttention(BlockOps o, int l) {
        attentionBranch(o, l);
        o.add(X, XB2);
    }

    /** {@link #selfAttention} without the residual add: its branch's output is left in XB2. */
    static void attentionBranch(BlockOps o, int l) {
        LlamaConfig c = o.config();
        o.rmsNorm(X, l, TensorRole.ATTN_NORM, XB);
        o.matmul(l, QKV, XB, QKV_OUT);
        o.addBias(l, TensorRole.ATTN_Q_BIAS, Q);
        o.addBias(l, TensorRole.ATTN_K_BIAS, K);
        o.addBias(l, TensorRole.ATTN_V_BIAS, V);
        o.rope(Q, c.heads());
        o.rope(K, c.kvHeads());
        o.attention(l, Q, K, V, ATT);
        o.matmul(l, TensorRole.ATTN_OUT, ATT, XB2);
    }

    /** Pre-norm SwiGLU FFN with the residual add: xb = rmsnorm(x) * ffn_norm; x += Wdown (silu(Wgate xb) * Wup xb). */
    static void gatedFfn(BlockOps o, int l) {
        ffnBranch(o, l);
        o.add(X, XB2);
    }

    /** {@link #gatedFfn} without the residual add: its branch's output is left in XB2. */
    static void ffnBranch(BlockOps o, int l) {
        o.rmsNorm(X, l, TensorRole.FFN_NORM, XB);
        o.matmul(l, GATE_UP, XB, GATE_UP_OUT);
        o.swiglu(HB, HB2, HB);
        o.matmul(l, TensorRole.FFN_DOWN, HB, XB2);
    }
}
