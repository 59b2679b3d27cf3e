package dev.gguf4j.engine;

import static dev.gguf4j.engine.BlockOps.Act.LOGITS;
import static dev.gguf4j.engine.BlockOps.Act.X;
import static dev.gguf4j.engine.BlockOps.Act.XB2;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.LlamaConfig;

/**
 * {@code granite} (IBM Granite 3.x dense), as llama.cpp c392e50's {@code build_llama} with the Granite
 * multipliers (all four keys required): embeddings times {@code embedding_scale}; the attention's scale is
 * {@code attention.scale} (instead of 1/sqrt(head size)); the attention output and the FFN output times
 * {@code residual_scale} before their residual adds; the logits times the float 1/{@code logit_scale}.
 * Tensors, biases and RoPE (adjacent pairs) as llama.
 */
final class GraniteArchitecture extends LlamaArchitecture {
    private final float embeddingScale;
    private final float residualScale;
    private final float attentionScale;
    private final float logitScale;

    /** The registry's instance; {@link #forFile} makes the one a model runs with (its multipliers). */
    GraniteArchitecture() {
        this(0, 0, 0, 0);
    }

    private GraniteArchitecture(float embeddingScale, float residualScale, float attentionScale, float logitScale) {
        this.embeddingScale = embeddingScale;
        this.residualScale = residualScale;
        this.attentionScale = attentionScale;
        this.logitScale = logitScale;
    }

    @Override
    public String name() {
        return "granite";
    }

    @Override
    public Architecture forFile(String source, GgufMetadata md) {
        WellKnownKeys k = new WellKnownKeys(md);
        return new GraniteArchitecture(finite(source, md, k.archKey("embedding_scale")),
                finite(source, md, k.archKey("residual_scale")), finite(source, md, k.archKey("attention.scale")),
                finite(source, md, k.archKey("logit_scale")));
    }

    private static float finite(String source, GgufMetadata md, String key) {
        float v = md.getFloat(key);
        if (!Float.isFinite(v)) {
            throw new GgufFormatException(source, key, v + " must be a finite number");
        }
        return v;
    }

    /** x *= embedding_scale (0: none, as llama.cpp). */
    @Override
    public void embedded(BlockOps o) {
        if (embeddingScale != 0.0f) {
            o.scale(X, embeddingScale);
        }
    }

    /** attention.scale (0: llama.cpp's default 1/sqrtf(head size)). */
    @Override
    public BlockOps.Attention attention(LlamaConfig c, int layer) {
        return new BlockOps.Attention(attentionScale != 0.0f ? attentionScale
                : 1.0f / (float) Math.sqrt((float) c.headDim()), 0, 0);
    }

    /** llama's block with each branch's output times residual_scale before its residual add. */
    @Override
    public void block(BlockOps o, int l) {
        Blocks.attentionBranch(o, l);
        residual(o);
        Blocks.ffnBranch(o, l);
        residual(o);
    }

    private void residual(BlockOps o) {
        if (residualScale != 0.0f) {
            o.scale(XB2, residualScale);
        }
        o.add(X, XB2);
    }

    /** llama's output layer, then logits *= 1/logit_scale (the reciprocal in float, as llama.cpp). */
    @Override
    public void head(BlockOps o) {
        super.head(o);
        if (logitScale != 0.0f) {
            o.scale(LOGITS, 1.0f / logitScale);
        }
    }
}
