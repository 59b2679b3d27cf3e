package dev.gguf4j.llama;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.WellKnownKeys;

/**
 * Hyper-parameters of a llama-family model, read from GGUF metadata.
 *
 * @param ropeNeox NEOX-style RoPE (rotate pairs i and i + d/2: qwen2) instead of adjacent pairs (llama)
 */
public record LlamaConfig(String architecture, int dim, int layers, int heads, int kvHeads, int headDim, int ffDim,
        int vocab, int contextLength, float rmsEps, float ropeTheta, int ropeDim, boolean ropeNeox) {

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
        int dim = k.embeddingLength();
        int heads = k.headCount();
        int kvHeads = k.headCountKv();
        if (dim % heads != 0 || heads % kvHeads != 0) {
            throw new GgufFormatException(source, k.archKey(WellKnownKeys.HEAD_COUNT), "embedding length " + dim
                    + ", " + heads + " heads and " + kvHeads + " KV heads do not divide evenly");
        }
        int headDim = dim / heads;
        int ropeDim = md.findLong(k.archKey(WellKnownKeys.ROPE_DIMENSION_COUNT)).map(Long::intValue).orElse(headDim);
        return new LlamaConfig(arch, dim, k.blockCount(), heads, kvHeads, headDim, k.feedForwardLength(), vocab,
                k.contextLength(), k.rmsEpsilon(), k.ropeFreqBase(), ropeDim, arch.equals("qwen2"));
    }
}
