package dev.gguf4j.engine;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.LlamaConfig;
import java.util.List;

/**
 * {@code gemma2} (Gemma 2 2B / 9B / 27B), as llama.cpp c392e50's {@code build_gemma2}: gemma's block plus an
 * RMSNorm on the attention output ({@code post_attention_norm}) and on the FFN output ({@code post_ffw_norm})
 * before each residual add, attention scores soft-capped ({@code attn_logit_softcapping}, default 50) and a
 * sliding window ({@code attention.sliding_window}, default 4096) on even layers, logits soft-capped
 * ({@code final_logit_softcapping}, default 30). The query scale depends on the model size, which llama.cpp
 * knows only from the layer count: 26 (2B) and 42 (9B) layers 1/sqrtf(key_length), 46 (27B)
 * 1/sqrtf(n_embd / n_head); other counts are refused (llama.cpp aborts on them).
 */
final class Gemma2Architecture extends GemmaArchitecture {
    static final String ATTN_SOFTCAP = "attn_logit_softcapping";
    static final String FINAL_SOFTCAP = "final_logit_softcapping";
    static final String SLIDING_WINDOW = "attention.sliding_window";

    private final float attnSoftCap;
    private final float finalSoftCap;
    private final int window;

    /** The registry's instance (llama.cpp's defaults); {@link #forFile} makes the one a model runs with. */
    Gemma2Architecture() {
        this(50.0f, 30.0f, 4096);
    }

    private Gemma2Architecture(float attnSoftCap, float finalSoftCap, int window) {
        this.attnSoftCap = attnSoftCap;
        this.finalSoftCap = finalSoftCap;
        this.window = window;
    }

    @Override
    public String name() {
        return "gemma2";
    }

    @Override
    public Architecture forFile(String source, GgufMetadata md) {
        WellKnownKeys k = new WellKnownKeys(md);
        return new Gemma2Architecture(positive(source, md, k.archKey(ATTN_SOFTCAP), attnSoftCap),
                positive(source, md, k.archKey(FINAL_SOFTCAP), finalSoftCap),
                md.contains(k.archKey(SLIDING_WINDOW)) ? md.getInt(k.archKey(SLIDING_WINDOW), 1, Integer.MAX_VALUE)
                        : window);
    }

    private static float positive(String source, GgufMetadata md, String key, float fallback) {
        float v = md.findFloat(key).orElse(fallback);
        if (!(v > 0.0f) || Float.isInfinite(v)) {
            throw new GgufFormatException(source, key, v + " must be a finite number > 0");
        }
        return v;
    }

    @Override
    public LlamaConfig config(String source, GgufMetadata md, int vocab) {
        LlamaConfig c = super.config(source, md, vocab);
        if (c.layers() != 26 && c.layers() != 42 && c.layers() != 46) {
            throw new GgufFormatException(source, new WellKnownKeys(md).archKey(WellKnownKeys.BLOCK_COUNT),
                    "value " + c.layers() + ": llama.cpp knows gemma2 only with 26 (2B), 42 (9B) or 46 (27B) layers"
                    + " (the count picks the query scale)");
        }
        return c;
    }

    @Override
    public List<TensorRole.Spec> layerTensors(LlamaConfig c) {
        List<TensorRole.Spec> t = new java.util.ArrayList<>(super.layerTensors(c));
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_POST_NORM, c.dim()));
        t.add(TensorRole.Spec.vector(TensorRole.FFN_POST_NORM, c.dim()));
        return t;
    }

    /** 2B/9B: 1/sqrtf(key_length); 27B (46 layers): 1/sqrtf(n_embd / n_head), integer division. */
    @Override
    protected float queryScale(LlamaConfig c) {
        return c.layers() == 46 ? 1.0f / (float) Math.sqrt((float) (c.dim() / c.heads())) : super.queryScale(c);
    }

    /** Scale 1 (q is scaled in the block), soft-capped, the sliding window on even layers. */
    @Override
    public BlockOps.Attention attention(LlamaConfig c, int layer) {
        return new BlockOps.Attention(1.0f, attnSoftCap, layer % 2 == 0 ? window : 0);
    }

    @Override
    public void block(BlockOps o, int l) {
        attention(o, l, TensorRole.ATTN_POST_NORM);
        ffn(o, l, TensorRole.FFN_POST_NORM);
    }

    /** Gemma's output layer, then logits = cap * tanh(logits / cap). */
    @Override
    public void head(BlockOps o) {
        super.head(o);
        o.softCap(BlockOps.Act.LOGITS, finalSoftCap);
    }
}
