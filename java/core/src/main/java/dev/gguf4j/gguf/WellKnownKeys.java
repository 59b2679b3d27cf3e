package dev.gguf4j.gguf;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A typed view of the metadata keys that llama.cpp defines for every model: architecture, shape
 * hyper-parameters ({@code <arch>.context_length} ...), RoPE and norm settings, file type and tokenizer arrays.
 * Missing or mistyped keys are {@link GgufFormatException}s naming the key; unknown keys are left alone.
 */
public final class WellKnownKeys {
    public static final String ARCHITECTURE = "general.architecture";
    public static final String NAME = "general.name";
    public static final String FILE_TYPE = "general.file_type";
    public static final String QUANTIZATION_VERSION = "general.quantization_version";
    public static final String TOKENIZER_MODEL = "tokenizer.ggml.model";
    public static final String TOKENIZER_PRE = "tokenizer.ggml.pre";
    public static final String TOKENS = "tokenizer.ggml.tokens";
    public static final String SCORES = "tokenizer.ggml.scores";
    public static final String TOKEN_TYPES = "tokenizer.ggml.token_type";
    public static final String MERGES = "tokenizer.ggml.merges";
    public static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    public static final String EOS_ID = "tokenizer.ggml.eos_token_id";

    /** Per-architecture keys, without the {@code <arch>.} prefix. */
    public static final String CONTEXT_LENGTH = "context_length";
    public static final String EMBEDDING_LENGTH = "embedding_length";
    public static final String BLOCK_COUNT = "block_count";
    public static final String FEED_FORWARD_LENGTH = "feed_forward_length";
    public static final String HEAD_COUNT = "attention.head_count";
    public static final String HEAD_COUNT_KV = "attention.head_count_kv";
    public static final String RMS_EPS = "attention.layer_norm_rms_epsilon";
    public static final String ROPE_FREQ_BASE = "rope.freq_base";
    public static final String ROPE_DIMENSION_COUNT = "rope.dimension_count";
    public static final String ROPE_SCALING_TYPE = "rope.scaling.type";
    public static final String ROPE_SCALING_FACTOR = "rope.scaling.factor";
    /** The older spelling of a linear scaling factor (llama.cpp still reads it). */
    public static final String ROPE_SCALE_LINEAR = "rope.scale_linear";
    /** YaRN's and LongRoPE's original (training) context, llama.cpp's n_ctx_orig_yarn; default context_length. */
    public static final String ROPE_SCALING_ORIGINAL_CONTEXT = "rope.scaling.original_context_length";
    /** A factor on every RoPE cos and sin (llama.cpp's rope_attn_factor), default 1. */
    public static final String ROPE_SCALING_ATTN_FACTOR = "rope.scaling.attn_factor";
    public static final String VOCAB_SIZE = "vocab_size";

    private final GgufMetadata md;

    public WellKnownKeys(GgufMetadata md) {
        this.md = md;
    }

    public String architecture() {
        return md.getString(ARCHITECTURE);
    }

    /** {@code <arch>.<suffix>}. */
    public String archKey(String suffix) {
        return architecture() + "." + suffix;
    }

    public int contextLength() {
        return md.getInt(archKey(CONTEXT_LENGTH), 1, Integer.MAX_VALUE);
    }

    public int embeddingLength() {
        return md.getInt(archKey(EMBEDDING_LENGTH), 1, Integer.MAX_VALUE);
    }

    public int blockCount() {
        return md.getInt(archKey(BLOCK_COUNT), 1, Hyperparameters.MAX_LAYERS);
    }

    public int feedForwardLength() {
        return md.getInt(archKey(FEED_FORWARD_LENGTH), 1, Integer.MAX_VALUE);
    }

    public int headCount() {
        return md.getInt(archKey(HEAD_COUNT), 1, 1 << 16);
    }

    /** KV heads; defaults to the head count when absent, as llama.cpp does. */
    public int headCountKv() {
        String k = archKey(HEAD_COUNT_KV);
        return md.contains(k) ? md.getInt(k, 1, 1 << 16) : headCount();
    }

    public float rmsEpsilon() {
        return md.getFloat(archKey(RMS_EPS));
    }

    /** RoPE base frequency; 10000 when absent, as llama.cpp does. */
    public float ropeFreqBase() {
        return md.findFloat(archKey(ROPE_FREQ_BASE)).orElse(10000.0f);
    }

    public Optional<Long> fileType() {
        return md.findLong(FILE_TYPE);
    }

    /** Vocabulary size: the length of {@code tokenizer.ggml.tokens}. */
    public int vocabSize() {
        return md.getArray(TOKENS).length();
    }

    /** The well-known keys present in the file, labelled, in a fixed order, with values summarised. */
    public Map<String, String> summary() {
        Map<String, String> out = new LinkedHashMap<>();
        md.get(ARCHITECTURE).ifPresent(v -> out.put("architecture", v.summary()));
        md.get(NAME).ifPresent(v -> out.put("name", v.summary()));
        String arch = md.findString(ARCHITECTURE).orElse(null);
        if (arch != null) {
            for (String k : new String[] {CONTEXT_LENGTH, EMBEDDING_LENGTH, BLOCK_COUNT, FEED_FORWARD_LENGTH, HEAD_COUNT,
                    HEAD_COUNT_KV, RMS_EPS, ROPE_FREQ_BASE, ROPE_DIMENSION_COUNT, VOCAB_SIZE}) {
                md.get(arch + "." + k).ifPresent(v -> out.put(arch + "." + k, v.summary()));
            }
        }
        for (String k : new String[] {TOKENIZER_MODEL, TOKENIZER_PRE, TOKENS, SCORES, TOKEN_TYPES, MERGES, BOS_ID, EOS_ID}) {
            md.get(k).ifPresent(v -> out.put(k, v.summary()));
        }
        return out;
    }
}
