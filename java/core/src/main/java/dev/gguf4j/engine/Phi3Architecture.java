package dev.gguf4j.engine;

import static dev.gguf4j.engine.BlockOps.Act.ATT;
import static dev.gguf4j.engine.BlockOps.Act.K;
import static dev.gguf4j.engine.BlockOps.Act.Q;
import static dev.gguf4j.engine.BlockOps.Act.V;
import static dev.gguf4j.engine.BlockOps.Act.X;
import static dev.gguf4j.engine.BlockOps.Act.XB;
import static dev.gguf4j.engine.BlockOps.Act.XB2;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code phi3} (Phi-3, Phi-3.5, Phi-4 mini), as llama.cpp c392e50's {@code build_phi3}: llama's pre-norm block
 * with a fused {@code attn_qkv} (rows q, k, v) and a fused {@code ffn_up} (rows gate, up), NEOX RoPE with
 * Phi-3.5's LongRoPE factors ({@code rope_factors_long}/{@code _short}, chosen per session by its context
 * length: {@link LlamaModel#ropeFactors}) and {@code rope.scaling.attn_factor} on cos and sin, the query multiplied
 * by 1/sqrtf(head size) after RoPE (the attention's own scale is 1), and a sliding window
 * ({@code attention.sliding_window}; 0: none) on every layer.
 */
final class Phi3Architecture extends LlamaArchitecture {
    static final String SLIDING_WINDOW = "attention.sliding_window";
    private static final TensorRole[] QKV = {TensorRole.ATTN_Q, TensorRole.ATTN_K, TensorRole.ATTN_V};
    private static final BlockOps.Act[] QKV_OUT = {Q, K, V};
    private static final TensorRole[] GATE_UP = {TensorRole.FFN_GATE, TensorRole.FFN_UP};

    private final int window;

    /** The registry's instance; {@link #forFile} makes the one a model runs with (its window). */
    Phi3Architecture() {
        this(0);
    }

    private Phi3Architecture(int window) {
        this.window = window;
    }

    @Override
    public String name() {
        return "phi3";
    }

    @Override
    protected boolean ropeNeox() {
        return true;
    }

    /** llama.cpp's phi3 loader requires {@code output.weight} (never tied). */
    @Override
    public boolean outputRequired() {
        return true;
    }

    /**
     * The window from {@code attention.sliding_window}; absent, llama.cpp's defaults by shape (load_hparams
     * LLM_ARCH_PHI3): 32 or 40 layers with a 4096 context 2047, 32 layers of 32 KV heads with 131072 262144, 40
     * layers with 131072 131072, any other shape refused.
     */
    @Override
    public Architecture forFile(String source, GgufMetadata md) {
        WellKnownKeys k = new WellKnownKeys(md);
        String key = k.archKey(SLIDING_WINDOW);
        if (md.contains(key)) {
            return new Phi3Architecture(md.getInt(key, 0, Integer.MAX_VALUE));
        }
        int layers = k.blockCount();
        int ctx = k.contextLength();
        if ((layers == 32 || layers == 40) && ctx == 4096) {
            return new Phi3Architecture(2047);
        } else if (layers == 32 && k.headCountKv() == 32 && ctx == 131072) {
            return new Phi3Architecture(262144);
        } else if (layers == 40 && ctx == 131072) {
            return new Phi3Architecture(131072);
        }
        throw new GgufFormatException(source, key, "is missing, and llama.cpp knows no default for " + layers
                + " layers with context " + ctx + " (only Phi-3's shapes)");
    }

    /**
     * attn_norm, attn_qkv [dim -> qDim + 2 kvDim] (its rows are ATTN_Q, ATTN_K, ATTN_V), attn_output, ffn_norm,
     * ffn_up [dim -> 2 ffDim] (its rows are FFN_GATE, FFN_UP), ffn_down.
     */
    @Override
    public List<TensorRole.Spec> layerTensors(LlamaConfig c) {
        List<TensorRole.Spec> t = new ArrayList<>();
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_NORM, c.dim()));
        t.add(TensorRole.Spec.fused(TensorRole.ATTN_QKV, c.dim(), QKV, c.qDim(), c.kvDim(), c.kvDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_OUT, c.qDim(), c.dim()));
        t.add(TensorRole.Spec.vector(TensorRole.FFN_NORM, c.dim()));
        t.add(TensorRole.Spec.fused(TensorRole.FFN_GATE_UP, c.dim(), GATE_UP, c.ffDim(), c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_DOWN, c.ffDim(), c.dim()));
        return t;
    }

    /** Scale 1 (q is scaled in the block), the sliding window on every layer. */
    @Override
    public BlockOps.Attention attention(LlamaConfig c, int layer) {
        return new BlockOps.Attention(1.0f, 0, window);
    }

    /**
     * xb = rmsnorm(x) * attn_norm; q, k, v = the rows of attn_qkv xb; NEOX RoPE on q and k; q *= 1/sqrtf(head);
     * x += attn_output attention(q); then llama's SwiGLU FFN on the rows of the fused ffn_up.
     */
    @Override
    public void block(BlockOps o, int l) {
        LlamaConfig c = o.config();
        o.rmsNorm(X, l, TensorRole.ATTN_NORM, XB);
        o.matmul(l, QKV, XB, QKV_OUT);
        o.rope(Q, c.heads());
        o.rope(K, c.kvHeads());
        o.scale(Q, 1.0f / (float) Math.sqrt((float) c.headDim()));
        o.attention(l, Q, K, V, ATT);
        o.matmul(l, TensorRole.ATTN_OUT, ATT, XB2);
        o.add(X, XB2);
        Blocks.gatedFfn(o, l);
    }
}
