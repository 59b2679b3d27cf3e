package dev.gguf4j.engine;

import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.llama.LlamaConfig;
import java.util.List;

/**
 * One model architecture ({@code general.architecture}): how its hyper-parameters are read from the GGUF keys,
 * its per-layer tensor table, and its forward pass written against {@link BlockOps} (so it runs on the CPU and
 * on a device unchanged, one token or a batch). One file per architecture, registered in {@link Architectures};
 * shared pieces (the standard attention block, the gated FFN) are in {@link Blocks}. See docs/architectures.md.
 */
public interface Architecture {
    /** The {@code general.architecture} value. */
    String name();

    /**
     * The instance that runs the model in this file: this one, or, for an architecture with per-file parameters
     * beyond {@link LlamaConfig} (gemma2's soft-caps and window), a copy holding them, read and checked here.
     */
    default Architecture forFile(String source, GgufMetadata md) {
        return this;
    }

    /** Whether {@code output.weight} must be there (phi3); else a file without it ties the output to token_embd. */
    default boolean outputRequired() {
        return false;
    }

    /** Reads and checks the hyper-parameters (a GgufFormatException names the file, key, value and limit). */
    LlamaConfig config(String source, GgufMetadata md, int vocab);

    /** The per-layer tensors, their shapes and whether each is required, in upload order. */
    List<TensorRole.Spec> layerTensors(LlamaConfig c);

    /**
     * Whether this is an encoder with no output layer (bert, nomic-bert): its models give embeddings only
     * ({@code Llama.embed}); {@code output_norm} / {@code output} are not read.
     */
    default boolean encoder() {
        return false;
    }

    /** Whether a token attends only to itself and earlier tokens (decoders); encoders see their whole input. */
    default boolean causal() {
        return true;
    }

    /**
     * Model-level vectors beyond {@code output_norm} that the block reads with layer {@link BlockOps#MODEL}
     * (bert's embedding LayerNorm, the token-type row): vector rows of the table, read once at load. A vector row
     * whose tensor holds more elements than {@code cols} (token_types: [types][dim]) gives its first {@code cols}.
     */
    default List<TensorRole.Spec> modelVectors(LlamaConfig c) {
        return List.of();
    }

    /**
     * The hidden states an embedding is pooled from ({@code result_norm} / {@code result_embd} in llama.cpp):
     * X in, the slot holding them out. Decoders: rmsnorm(X) * output_norm, the output layer's input.
     */
    default BlockOps.Act hidden(BlockOps o) {
        o.rmsNorm(BlockOps.Act.X, BlockOps.MODEL, TensorRole.OUTPUT_NORM, BlockOps.Act.XB);
        return BlockOps.Act.XB;
    }

    /** Called once the token embeddings are in X, before the first layer (gemma scales them). */
    default void embedded(BlockOps o) {
    }

    /** Layer {@code layer}: X in, X out. */
    void block(BlockOps o, int layer);

    /** The output layer: X in, LOGITS out. */
    default void head(BlockOps o) {
        o.rmsNorm(BlockOps.Act.X, BlockOps.MODEL, TensorRole.OUTPUT_NORM, BlockOps.Act.XB);
        o.matmul(BlockOps.MODEL, TensorRole.OUTPUT, BlockOps.Act.XB, BlockOps.Act.LOGITS);
    }

    /**
     * Layer {@code layer}'s attention parameters: scale 1/sqrt(head size) in float as llama.cpp writes it
     * ({@code 1.0f/sqrtf(float(n_embd_head))}; the double quotient rounded once differs for some sizes, e.g. 96),
     * causal, no cap, no window.
     */
    default BlockOps.Attention attention(LlamaConfig c, int layer) {
        return new BlockOps.Attention(1.0f / (float) Math.sqrt((float) c.headDim()), 0, 0);
    }
}
