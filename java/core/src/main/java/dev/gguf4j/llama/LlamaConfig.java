package dev.gguf4j.llama;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.Hyperparameters;
import dev.gguf4j.gguf.WellKnownKeys;

/**
 * Hyper-parameters of a llama-family model, read from GGUF metadata.
 *
 * @param ropeNeox      NEOX-style RoPE (rotate pairs i and i + d/2: qwen2) instead of adjacent pairs (llama)
 * @param ropeFreqScale  linear RoPE scaling: angles are multiplied by it (1 / {@code rope.scaling.factor}, as
 *                       llama.cpp's rope_freq_scale_train); 1 without scaling. Llama-3-style per-frequency factors
 *                       come from the {@code rope_freqs.weight} tensor instead (LlamaModel).
 */
public record LlamaConfig(String architecture, int dim, int layers, int heads, int kvHeads, int headDim, int ffDim,
        int vocab, int contextLength, float rmsEps, float ropeTheta, int ropeDim, boolean ropeNeox,
        float ropeFreqScale) {

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Architectures this forward pass runs. */
    static final java.util.Set<String> SUPPORTED = java.util.Set.of("llama", "qwen2");

    static LlamaConfig from(String source, GgufMetadata md, int vocab) {
        WellKnownKeys k = new WellKnownKeys(md);
        String arch = k.architecture();
        if (!SUPPORTED.contains(arch)) {
            throw new GgufFormatException(source, WellKnownKeys.ARCHITECTURE, "'" + arch
                    + "' is not supported yet (supported: " + String.join(", ", new java.util.TreeSet<>(SUPPORTED)) + ")");
        }
        // the shape checks run and quantize share (Hyperparameters); then what this forward pass needs
        Hyperparameters h = Hyperparameters.read(source, md);
        int dim = h.embeddingLength();
        int heads = k.headCount();
        int kvHeads = k.headCountKv();
        if (h.headSize() * heads != dim) {
            throw new GgufFormatException(source, k.archKey(Hyperparameters.KEY_LENGTH), "head size " + h.headSize()
                    + " x " + heads + " heads is not the embedding length " + dim + ": not supported yet");
        }
        int headDim = h.headSize();
        int ropeDim = h.ropeDimensionCount();
        // llama.cpp: rope.scaling.type none/linear (yarn and longrope need their extra parameters: refused here);
        // factor from rope.scaling.factor, else the older rope.scale_linear; freq_scale = 1 / factor (0: none)
        String scalingKey = k.archKey(WellKnownKeys.ROPE_SCALING_TYPE);
        String scaling = md.findString(scalingKey).orElse("linear");
        if (!scaling.equals("linear") && !scaling.equals("none")) {
            throw new GgufFormatException(source, scalingKey, "'" + scaling + "' is not supported yet (supported:"
                    + " none, linear, and Llama-3 rope_freqs factors)");
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
        return new LlamaConfig(arch, dim, h.blockCount(), heads, kvHeads, headDim, k.feedForwardLength(), vocab,
                h.contextLength(), k.rmsEpsilon(), k.ropeFreqBase(), ropeDim, arch.equals("qwen2"), freqScale);
    }
}
