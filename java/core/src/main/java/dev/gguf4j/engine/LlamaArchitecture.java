package dev.gguf4j.engine;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.Hyperparameters;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code llama} (Llama 1-3, Mistral, TinyLlama, the DeepSeek-R1 Llama distills): pre-norm RMSNorm blocks,
 * grouped-query attention with adjacent-pair RoPE (optional Llama-3 {@code rope_freqs} factors, linear scaling),
 * optional Q/K/V biases, a SwiGLU FFN. As llama.cpp's {@code llm_build_llama}.
 */
class LlamaArchitecture implements Architecture {

    @Override
    public String name() {
        return "llama";
    }

    /** NEOX-style RoPE (pairs i and i + d/2) instead of adjacent pairs. */
    protected boolean ropeNeox() {
        return false;
    }

    /** Whether the head size ({@code attention.key_length}) may differ from n_embd / n_head (gemma). */
    protected boolean headSizeFree() {
        return false;
    }

    /** Whether the Q/K/V biases must be there (else optional). */
    protected boolean biasesRequired() {
        return false;
    }

    @Override
    public LlamaConfig config(String source, GgufMetadata md, int vocab) {
        WellKnownKeys k = new WellKnownKeys(md);
        String arch = k.architecture();
        // the shape checks run and quantize share (Hyperparameters); then what this forward pass needs
        Hyperparameters h = Hyperparameters.read(source, md);
        int dim = h.embeddingLength();
        int heads = k.headCount();
        int kvHeads = k.headCountKv();
        if (h.headSize() * heads != dim && !headSizeFree()) {
            throw new GgufFormatException(source, k.archKey(Hyperparameters.KEY_LENGTH), "head size " + h.headSize()
                    + " x " + heads + " heads is not the embedding length " + dim + ": not supported yet");
        }
        int headDim = h.headSize();
        int ropeDim = h.ropeDimensionCount();
        // llama.cpp: rope.scaling.type none/linear/yarn (longrope: refused here); factor from rope.scaling.factor,
        // else the older rope.scale_linear; freq_scale = 1 / factor (0: none)
        String scalingKey = k.archKey(WellKnownKeys.ROPE_SCALING_TYPE);
        String scaling = md.findString(scalingKey).orElse("linear");
        if (!scaling.equals("linear") && !scaling.equals("none") && !scaling.equals("yarn")) {
            throw new GgufFormatException(source, scalingKey, "'" + scaling + "' is not supported yet (supported:"
                    + " none, linear, yarn, and Llama-3 rope_freqs or Phi-3.5 long/short factors)");
        }
        String factorKey = k.archKey(WellKnownKeys.ROPE_SCALING_FACTOR);
        if (!md.contains(factorKey)) {
            factorKey = k.archKey(WellKnownKeys.ROPE_SCALE_LINEAR);
        }
        float factor = scaling.equals("none") ? 0.0f : md.findFloat(factorKey).orElse(0.0f);
        if (!(factor >= 0.0f) || Float.isInfinite(factor)) {
            throw new GgufFormatException(source, factorKey, factor + " must be a finite number >= 0 (0: no scaling)");
        }
        float freqScale = factor == 0.0f ? 1.0f : 1.0f / factor;
        // llama_init_from_model's context defaults: ext_factor 1 for yarn, else 0; attn_factor 1 x the file's
        String attnKey = k.archKey(WellKnownKeys.ROPE_SCALING_ATTN_FACTOR);
        float attnFactor = md.findFloat(attnKey).orElse(1.0f);
        if (!(attnFactor > 0.0f) || Float.isInfinite(attnFactor)) {
            throw new GgufFormatException(source, attnKey, attnFactor + " must be a finite number > 0");
        }
        String origKey = k.archKey(WellKnownKeys.ROPE_SCALING_ORIGINAL_CONTEXT);
        long orig = md.findLong(origKey).orElse((long) h.contextLength());
        if (orig < 1 || orig > Integer.MAX_VALUE) {
            throw new GgufFormatException(source, origKey, orig + " must be in [1, " + Integer.MAX_VALUE + "]");
        }
        LlamaConfig c = new LlamaConfig(arch, dim, h.blockCount(), heads, kvHeads, headDim, k.feedForwardLength(),
                vocab, h.contextLength(), k.rmsEpsilon(), k.ropeFreqBase(), ropeDim, ropeNeox(), freqScale,
                scaling.equals("yarn") ? 1.0f : 0.0f, attnFactor, (int) orig, 0, 0, 0);
        return experts(source, md, h, c);
    }

    /**
     * The config with this file's experts: llama with {@code expert_count} &gt; 0 (Mixtral) has a mixture-of-experts
     * FFN of {@code expert_used_count} experts of {@code feed_forward_length} in every layer (llama.cpp asserts
     * expert_used_count &gt; 0 when expert_count &gt; 0).
     */
    protected LlamaConfig experts(String source, GgufMetadata md, Hyperparameters h, LlamaConfig c) {
        if (h.expertCount() == 0) {
            return c;
        }
        requireUsed(source, md, h);
        return c.withExperts(h.expertCount(), h.expertUsedCount(), c.ffDim(), c.ffDim());
    }

    static void requireUsed(String source, GgufMetadata md, Hyperparameters h) {
        if (h.expertUsedCount() < 1) {
            String key = new WellKnownKeys(md).archKey(Hyperparameters.EXPERT_USED_COUNT);
            throw new GgufFormatException(source, key, "value " + h.expertUsedCount() + " must be in [1, "
                    + Hyperparameters.EXPERT_COUNT + " " + h.expertCount() + "] for a model with experts");
        }
    }

    /** The routing of this architecture's expert layers (Mixtral: the chosen experts' weights renormalised). */
    protected BlockOps.Moe moe(LlamaConfig c) {
        return new BlockOps.Moe(c.experts(), c.expertsUsed(), true);
    }

    @Override
    public List<TensorRole.Spec> layerTensors(LlamaConfig c) {
        List<TensorRole.Spec> t = new ArrayList<>();
        Blocks.attentionTensors(t, c, biasesRequired());
        if (c.experts() > 0) {
            Blocks.moeTensors(t, c);
        } else {
            Blocks.ffnTensors(t, c);
        }
        return t;
    }

    @Override
    public void block(BlockOps o, int layer) {
        Blocks.selfAttention(o, layer);
        LlamaConfig c = o.config();
        if (c.experts() > 0) {
            Blocks.moeFfn(o, layer, moe(c));
        } else {
            Blocks.gatedFfn(o, layer);
        }
    }
}
