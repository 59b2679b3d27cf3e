package dev.gguf4j.engine;

import static dev.gguf4j.engine.BlockOps.Act.ATT;
import static dev.gguf4j.engine.BlockOps.Act.HB;
import static dev.gguf4j.engine.BlockOps.Act.HB2;
import static dev.gguf4j.engine.BlockOps.Act.K;
import static dev.gguf4j.engine.BlockOps.Act.Q;
import static dev.gguf4j.engine.BlockOps.Act.V;
import static dev.gguf4j.engine.BlockOps.Act.X;
import static dev.gguf4j.engine.BlockOps.Act.XB2;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.Hyperparameters;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bert} (BERT, bge, all-MiniLM, e5 encoders), as llama.cpp c392e50's {@code build_bert} (src/llama.cpp) with
 * the tensors of {@code load_tensors} LLM_ARCH_BERT (src/llama-model.cpp) and the names of src/llama-arch.cpp: an
 * encoder with no output layer. x = token_embd[token] + token_types[0] + position_embd[position], then
 * LayerNorm (token_embd_norm). Per layer (post-norm): q, k, v = W x + b; attention over the whole input (not
 * causal; scale 1/sqrtf(head size)); a = attn_output att + b; x = LayerNorm(a + x) (attn_output_norm);
 * f = ffn_down gelu(ffn_up x + b) + b; x = LayerNorm(f + x) (layer_output_norm). The hidden states are the last
 * layer's x; pooling ({@code bert.pooling_type}) and normalisation are {@link Embedder}'s.
 */
class BertArchitecture implements Architecture {
    static final String LAYER_NORM_EPS = "attention.layer_norm_epsilon";
    static final String CAUSAL = "attention.causal";
    static final String POOLING_TYPE = "pooling_type";
    private static final TensorRole[] QKV = {TensorRole.ATTN_Q, TensorRole.ATTN_K, TensorRole.ATTN_V};
    private static final BlockOps.Act[] QKV_OUT = {Q, K, V};
    private final boolean causal;

    BertArchitecture() {
        this(false);
    }

    private BertArchitecture(boolean causal) {
        this.causal = causal;
    }

    @Override
    public String name() {
        return "bert";
    }

    /** A copy with the file's {@code attention.causal} (converters write false; llama.cpp requires the key). */
    @Override
    public Architecture forFile(String source, GgufMetadata md) {
        boolean c = md.findBool(name() + "." + CAUSAL).orElse(false);
        return c == causal() ? this : copy(c);
    }

    protected Architecture copy(boolean causal) {
        return new BertArchitecture(causal);
    }

    @Override
    public boolean encoder() {
        return true;
    }

    @Override
    public boolean causal() {
        return causal;
    }

    /** nomic-bert: rotary positions instead of learned ones. */
    protected boolean rotary() {
        return false;
    }

    @Override
    public LlamaConfig config(String source, GgufMetadata md, int vocab) {
        WellKnownKeys k = new WellKnownKeys(md);
        Hyperparameters h = Hyperparameters.read(source, md);
        int dim = h.embeddingLength();
        int heads = h.headCount();
        if (h.headSize() * heads != dim || h.headCountKv() != heads) {
            throw new GgufFormatException(source, k.archKey(WellKnownKeys.HEAD_COUNT_KV), h.headCountKv()
                    + " KV heads of size " + h.headSize() + " with " + heads + " heads and embedding length " + dim
                    + ": " + name() + " needs n_head_kv = n_head and head size n_embd / n_head");
        }
        String epsKey = k.archKey(LAYER_NORM_EPS);
        float eps = md.getFloat(epsKey);
        if (!(eps >= 0) || Float.isInfinite(eps)) {
            throw new GgufFormatException(source, epsKey, eps + " must be a finite number >= 0");
        }
        return new LlamaConfig(k.architecture(), dim, h.blockCount(), heads, heads, h.headSize(),
                k.feedForwardLength(), vocab, h.contextLength(), eps, k.ropeFreqBase(), h.ropeDimensionCount(), true,
                1.0f, 0.0f, 1.0f, h.contextLength(), 0, 0, 0);
    }

    @Override
    public List<TensorRole.Spec> modelVectors(LlamaConfig c) {
        return List.of(TensorRole.Spec.vector(TensorRole.TOKEN_EMBD_NORM, c.dim()),
                TensorRole.Spec.vector(TensorRole.TOKEN_EMBD_NORM_BIAS, c.dim()),
                TensorRole.Spec.vector(TensorRole.TOKEN_TYPES, c.dim()));
    }

    @Override
    public List<TensorRole.Spec> layerTensors(LlamaConfig c) {
        List<TensorRole.Spec> t = new ArrayList<>();
        attentionTensors(t, c);
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_OUT, c.dim(), c.dim()));
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_OUT_NORM, c.dim()));
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_OUT_NORM_BIAS, c.dim()));
        ffnTensors(t, c);
        t.add(TensorRole.Spec.vector(TensorRole.LAYER_OUT_NORM, c.dim()));
        t.add(TensorRole.Spec.vector(TensorRole.LAYER_OUT_NORM_BIAS, c.dim()));
        return t;
    }

    protected void attentionTensors(List<TensorRole.Spec> t, LlamaConfig c) {
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_Q, c.dim(), c.dim()));
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_Q_BIAS, c.dim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_K, c.dim(), c.kvDim()));
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_K_BIAS, c.kvDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.ATTN_V, c.dim(), c.kvDim()));
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_V_BIAS, c.kvDim()));
        t.add(TensorRole.Spec.vector(TensorRole.ATTN_OUT_BIAS, c.dim()));
    }

    protected void ffnTensors(List<TensorRole.Spec> t, LlamaConfig c) {
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_UP, c.dim(), c.ffDim()));
        t.add(TensorRole.Spec.vector(TensorRole.FFN_UP_BIAS, c.ffDim()));
        t.add(TensorRole.Spec.matrix(TensorRole.FFN_DOWN, c.ffDim(), c.dim()));
        t.add(TensorRole.Spec.vector(TensorRole.FFN_DOWN_BIAS, c.dim()));
    }

    /** x = token_embd + token_types[0] (+ position_embd), then LayerNorm(token_embd_norm). */
    @Override
    public void embedded(BlockOps o) {
        o.addBias(BlockOps.MODEL, TensorRole.TOKEN_TYPES, X);
        if (!rotary()) {
            o.addPositionEmbeddings(X);
        }
        o.layerNorm(X, BlockOps.MODEL, TensorRole.TOKEN_EMBD_NORM, TensorRole.TOKEN_EMBD_NORM_BIAS, X);
    }

    @Override
    public void block(BlockOps o, int l) {
        o.matmul(l, QKV, X, QKV_OUT);
        o.addBias(l, TensorRole.ATTN_Q_BIAS, Q);
        o.addBias(l, TensorRole.ATTN_K_BIAS, K);
        o.addBias(l, TensorRole.ATTN_V_BIAS, V);
        if (rotary()) {
            o.rope(Q, o.config().heads());
            o.rope(K, o.config().kvHeads());
        }
        o.attention(l, Q, K, V, ATT);
        o.matmul(l, TensorRole.ATTN_OUT, ATT, XB2);
        o.addBias(l, TensorRole.ATTN_OUT_BIAS, XB2);
        o.add(XB2, X);
        o.layerNorm(XB2, l, TensorRole.ATTN_OUT_NORM, TensorRole.ATTN_OUT_NORM_BIAS, X);
        ffn(o, l);
        o.add(XB2, X);
        o.layerNorm(XB2, l, TensorRole.LAYER_OUT_NORM, TensorRole.LAYER_OUT_NORM_BIAS, X);
    }

    /** X in, the FFN's output in XB2: ffn_down gelu(ffn_up x + b) + b (LLM_FFN_GELU, LLM_FFN_SEQ). */
    protected void ffn(BlockOps o, int l) {
        o.matmul(l, TensorRole.FFN_UP, X, HB);
        o.addBias(l, TensorRole.FFN_UP_BIAS, HB);
        o.gelu(HB);
        o.matmul(l, TensorRole.FFN_DOWN, HB, XB2);
        o.addBias(l, TensorRole.FFN_DOWN_BIAS, XB2);
    }

    /** kq_scale 1.0f/sqrtf(float(n_embd_head)), in the softmax. */
    @Override
    public BlockOps.Attention attention(LlamaConfig c, int layer) {
        return new BlockOps.Attention(1.0f / (float) Math.sqrt((float) c.headDim()), 0, 0);
    }

    /** The last layer's output ({@code result_embd}): no final norm. */
    @Override
    public BlockOps.Act hidden(BlockOps o) {
        return X;
    }

    @Override
    public void head(BlockOps o) {
        throw new Gguf4jException(o.config().architecture() + " is an embedding model (an encoder without an output"
                + " layer): it cannot generate text; use embeddings (Llama.embed, gguf4j embed)");
    }
}
