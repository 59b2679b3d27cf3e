package dev.gguf4j.engine;

import static dev.gguf4j.engine.BlockOps.Act.HB;
import static dev.gguf4j.engine.BlockOps.Act.HB2;
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
 * {@code qwen2moe} (Qwen1.5-MoE, Qwen2-57B-A14B): qwen2's attention (NEOX RoPE, required Q/K/V biases) and a
 * mixture-of-experts FFN without renormalised weights, plus a shared expert (a dense SwiGLU FFN of
 * {@code expert_shared_feed_forward_length}) gated per token by sigmoid({@code ffn_gate_inp_shexp} x). As
 * llama.cpp's {@code build_qwen2moe} (c392e50): x1 = attention + x; f = rmsnorm(x1) ffn_norm; x = (moe(f) +
 * shexp(f) sigmoid(g f)) + x1. Output untied (required).
 */
final class Qwen2MoeArchitecture extends LlamaArchitecture {
    static final String EXPERT_FF = "expert_feed_forward_length";
    static final String SHARED_FF = "expert_shared_feed_forward_length";
    private static final TensorRole[] SHARED_GATE_UP = {TensorRole.FFN_GATE_SHEXP, TensorRole.FFN_UP_SHEXP};
    private static final BlockOps.Act[] GATE_UP_OUT = {HB, HB2};

    @Override
    public String name() {
        return "qwen2moe";
    }

    @Override
    protected boolean ropeNeox() {
        return true;
    }

    @Override
    protected boolean biasesRequired() {
        return true;
    }

    @Override
    public boolean outputRequired() {
        return true;
    }

    /** llama.cpp: n_ff_exp = expert_feed_forward_length, else n_ff / n_expert_used; n_ff_shexp, else n_ff. */
    @Override
    protected LlamaConfig experts(String source, GgufMetadata md, Hyperparameters h, LlamaConfig c) {
        WellKnownKeys k = new WellKnownKeys(md);
        if (h.expertCount() == 0) {
            throw new GgufFormatException(source, k.archKey(Hyperparameters.EXPERT_COUNT), "is "
                    + (md.contains(k.archKey(Hyperparameters.EXPERT_COUNT)) ? "0" : "missing")
                    + ": qwen2moe needs at least 1 expert (llama.cpp: n_expert must be > 0)");
        }
        requireUsed(source, md, h);
        String ek = k.archKey(EXPERT_FF);
        int expertFf = md.contains(ek) ? md.getInt(ek, 0, Integer.MAX_VALUE) : 0;
        if (expertFf == 0) {
            expertFf = c.ffDim() / h.expertUsedCount();
        }
        String sk = k.archKey(SHARED_FF);
        int sharedFf = md.contains(sk) ? md.getInt(sk, 0, Integer.MAX_VALUE) : 0;
        if (sharedFf == 0) {
            sharedFf = c.ffDim();
        }
        if (expertFf < 1) {
            throw new GgufFormatException(source, ek, "an expert of 0 rows (feed_forward_length " + c.ffDim()
                    + " / " + h.expertUsedCount() + " used experts): set " + ek);
        }
        return c.withExperts(h.expertCount(), h.expertUsedCount(), expertFf, sharedFf);
    }

    @Override
    protected BlockOps.Moe moe(LlamaConfig c) {
        return new BlockOps.Moe(c.experts(), c.expertsUsed(), false);
    }

    @Override
    public List<TensorRole.Spec> layerTensors(LlamaConfig c) {
        List<TensorRole.Spec> t = new ArrayList<>();
        Blocks.attentionTensors(t, c, true);
        Blocks.moeTensors(t, c);
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_GATE_INP_SHEXP, c.dim(), 1));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_GATE_SHEXP, c.dim(), c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_UP_SHEXP, c.dim(), c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_DOWN_SHEXP, c.ffDim(), c.dim()));
        return t;
    }

    @Override
    public void block(BlockOps o, int l) {
        Blocks.selfAttention(o, l);
        o.rmsNorm(X, l, TensorRole.FFN_NORM, XB);
        // the shared expert first (XB2 = shexp(f) * sigmoid(g f)), then XB2 = moe(f) + XB2: ggml's moe_out + shexp
        o.matmul(l, SHARED_GATE_UP, XB, GATE_UP_OUT);
        o.swiglu(HB, HB2, HB);
        o.matmul(l, TensorRole.FFN_DOWN_SHEXP, HB, XB2);
        o.sigmoidGate(l, TensorRole.FFN_GATE_INP_SHEXP, XB, XB2);
        o.moe(l, XB, XB2, moe(o.config()), true);
        o.add(X, XB2);
    }
}
