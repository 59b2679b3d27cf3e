package dev.gguf4j.llama;

import dev.gguf4j.engine.Architecture;
import dev.gguf4j.engine.Architectures;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.WellKnownKeys;

/**
 * Hyper-parameters of a model, read from GGUF metadata by its {@link Architecture}.
 *
 * @param ropeNeox      NEOX-style RoPE (rotate pairs i and i + d/2: qwen2) instead of adjacent pairs (llama)
 * @param ropeFreqScale  linear RoPE scaling: angles are multiplied by it (1 / {@code rope.scaling.factor}, as
 *                       llama.cpp's rope_freq_scale_train); 1 without scaling. Llama-3-style per-frequency factors
 *                       come from the {@code rope_freqs.weight} tensor instead (LlamaModel).
 * @param ropeExtFactor  YaRN's extrapolation mix (llama.cpp's yarn_ext_factor): 1 for {@code rope.scaling.type}
 *                       yarn, else 0
 * @param ropeAttnFactor multiplies every RoPE cos and sin ({@code rope.scaling.attn_factor}, default 1)
 * @param ropeOrigContext {@code rope.scaling.original_context_length} (default {@code context_length}): YaRN's
 *                       correction dims, and which of Phi-3.5's LongRoPE factor sets a context uses
 * @param experts        mixture-of-experts layers: {@code expert_count} (0: a dense FFN)
 * @param expertsUsed    experts each token is routed to ({@code expert_used_count})
 * @param expertFfDim    one expert's hidden width (Mixtral: {@code feed_forward_length}; qwen2moe:
 *                       {@code expert_feed_forward_length}); 0 without experts. {@code ffDim} is then the widest
 *                       dense FFN of a layer (qwen2moe's shared expert), the width of the HB slots
 */
public record LlamaConfig(String architecture, int dim, int layers, int heads, int kvHeads, int headDim, int ffDim,
        int vocab, int contextLength, float rmsEps, float ropeTheta, int ropeDim, boolean ropeNeox,
        float ropeFreqScale, float ropeExtFactor, float ropeAttnFactor, int ropeOrigContext, int experts,
        int expertsUsed, int expertFfDim) {

    /** The same hyper-parameters with experts (a mixture-of-experts FFN in every layer). */
    public LlamaConfig withExperts(int experts, int expertsUsed, int expertFfDim, int ffDim) {
        return new LlamaConfig(architecture, dim, layers, heads, kvHeads, headDim, ffDim, vocab, contextLength, rmsEps,
                ropeTheta, ropeDim, ropeNeox, ropeFreqScale, ropeExtFactor, ropeAttnFactor, ropeOrigContext, experts,
                expertsUsed, expertFfDim);
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Width of the queries and of the attention output: heads x head size. */
    public int qDim() {
        return heads * headDim;
    }

    /** The hyper-parameters of the model described by {@code md}, as its {@link Architecture} reads them. */
    public static LlamaConfig from(String source, GgufMetadata md, int vocab) {
        return Architectures.of(source, new WellKnownKeys(md).architecture()).config(source, md, vocab);
    }
}
