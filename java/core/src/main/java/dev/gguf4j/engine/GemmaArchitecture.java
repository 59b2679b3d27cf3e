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

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.Hyperparameters;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code gemma} (Gemma 2B / 7B), as llama.cpp c392e50's {@code build_gemma}: embeddings scaled by sqrtf(n_embd),
 * the head size from {@code attention.key_length} (7B: 256 with n_embd / n_head = 192), NEOX RoPE, the query
 * multiplied by 1/sqrtf(head size) after RoPE (so the attention's own scale is 1), a GELU-gated FFN (ggml's F16
 * GELU table), no biases, the output tied to the token embedding. Norm weights are used as stored (the converter
 * already added Gemma's +1).
 */
class GemmaArchitecture extends LlamaArchitecture {
    private static final TensorRole[] QKV = {TensorRole.ATTN_Q, TensorRole.ATTN_K, TensorRole.ATTN_V};
    private static final BlockOps.Act[] QKV_OUT = {Q, K, V};
    private static final TensorRole[] GATE_UP = {TensorRole.FFN_GATE, TensorRole.FFN_UP};
    private static final BlockOps.Act[] GATE_UP_OUT = {HB, HB2};
    static final String VALUE_LENGTH = "attention.value_length";

    @Override
    public String name() {
        return "gemma";
    }

    @Override
    protected boolean ropeNeox() {
        return true;
    }

    @Override
    protected boolean headSizeFree() {
        return true;
    }

    @Override
    public LlamaConfig config(String source, GgufMetadata md, int vocab) {
        LlamaConfig c = super.config(source, md, vocab);
        // one head size for keys and values (llama.cpp allows two; every Gemma has them equal)
        String vKey = new WellKnownKeys(md).archKey(VALUE_LENGTH);
        long vLength = md.findLong(vKey).orElse((long) c.headDim());
        if (vLength != c.headDim()) {
            throw new GgufFormatException(source, vKey, "value " + vLength + " differs from "
                    + Hyperparameters.KEY_LENGTH + " " + c.headDim() + ": not supported yet");
        }
        return c;
    }

    @Override
    public List<TensorRole.Spec> layerTensors(LlamaConfig c) {
        List<TensorRole.Spec> t = new ArrayList<>();
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_NORM, c.dim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_Q, c.dim(), c.qDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_K, c.dim(), c.kvDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_V, c.dim(), c.kvDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_OUT, c.qDim(), c.dim()));
        Blocks.ffnTensors(t, c);
        return t;
    }

    /** x = embd * sqrtf(n_embd) (ggml_scale; n_embd converted to float, then sqrtf). */
    @Override
    public void embedded(BlockOps o) {
        o.scale(X, (float) Math.sqrt((float) o.config().dim()));
    }

    /** The factor on q after RoPE: 1/sqrtf(head size). */
    protected float queryScale(LlamaConfig c) {
        return 1.0f / (float) Math.sqrt((float) c.headDim());
    }

    /** q is scaled in the block, so the softmax's own scale is 1. */
    @Override
    public BlockOps.Attention attention(LlamaConfig c, int layer) {
        return new BlockOps.Attention(1.0f, 0, 0);
    }

    @Override
    public void block(BlockOps o, int l) {
        attention(o, l, null);
        ffn(o, l, null);
    }

    /**
     * xb = rmsnorm(x) * attn_norm; q, k, v; NEOX RoPE on q and k; q *= queryScale; att = attention (scale 1, the
     * layer's cap and window); o = attn_output att, then rmsnorm(o) * {@code postNorm} when given; x += o.
     */
    protected void attention(BlockOps o, int l, TensorRole postNorm) {
        LlamaConfig c = o.config();
        o.rmsNorm(X, l, TensorRole.ATTN_NORM, XB);
        o.matmul(l, QKV, XB, QKV_OUT);
        o.rope(Q, c.heads());
        o.rope(K, c.kvHeads());
        o.scale(Q, queryScale(c));
        o.attention(l, Q, K, V, ATT);
        o.matmul(l, TensorRole.ATTN_OUT, ATT, XB2);
        if (postNorm != null) {
            o.rmsNorm(XB2, l, postNorm, XB);
            o.add(X, XB);
        } else {
            o.add(X, XB2);
        }
    }

    /**
     * xb = rmsnorm(x) * ffn_norm; f = ffn_down (gelu(ffn_gate xb) * ffn_up xb), then rmsnorm(f) * {@code postNorm}
     * when given; x += f.
     */
    protected void ffn(BlockOps o, int l, TensorRole postNorm) {
        o.rmsNorm(X, l, TensorRole.FFN_NORM, XB);
        o.matmul(l, GATE_UP, XB, GATE_UP_OUT);
        o.gegluTanh(HB, HB2, HB);
        o.matmul(l, TensorRole.FFN_DOWN, HB, XB2);
        if (postNorm != null) {
            o.rmsNorm(XB2, l, postNorm, XB);
            o.add(X, XB);
        } else {
            o.add(X, XB2);
        }
    }
}
