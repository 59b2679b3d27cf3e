package dev.gguf4j.gguf;

import java.util.Optional;
import java.util.Set;

/**
 * A model's shape hyper-parameters, read from GGUF metadata and checked here, once, for every command that reads
 * a model: {@code run} (through {@code LlamaConfig}) and {@code quantize} (through {@code QuantPolicy.Model}), so
 * a file one refuses the other refuses too, with the same message: the file, the key, the value and the limit.
 *
 * <p>The limits are llama.cpp's (c392e50), which both llama-cli and llama-quantize apply when they load the
 * hyper-parameters ({@code llama_model::load_hparams}):
 * <ul>
 *   <li>{@code <arch>.block_count} in [1, {@value #MAX_LAYERS}]: llama.cpp's {@code LLAMA_MAX_LAYERS}, the size of
 *       its per-layer arrays (it stops with "n &gt; N_MAX" beyond it); no released model comes near it.
 *   <li>{@code <arch>.context_length} and {@code <arch>.embedding_length} in [1, 2^31 - 1].
 *   <li>{@code <arch>.attention.head_count} in [1, embedding length] (a scalar or one value per layer); 0 (or
 *       absent) only for the attention-free architectures whose converters write 0 ({@link #ATTENTION_FREE});
 *       {@code head_count_kv} (default: head_count) in [1, head_count], dividing it.
 *   <li>The head size: {@code attention.key_length} when present, else embedding / head_count, which must then
 *       divide evenly; {@code rope.dimension_count} (default: the head size) even and in [2, head size].
 *   <li>{@code <arch>.feed_forward_length} (optional; a scalar or one value per layer) at least 1 (0 for the
 *       attention-free architectures).
 *   <li>{@code <arch>.expert_count} in [0, {@value #MAX_EXPERTS}] ({@code LLAMA_MAX_EXPERTS}),
 *       {@code expert_used_count} in [0, expert_count].
 * </ul>
 * Per-layer arrays are checked element by element (at most block_count of them, as llama.cpp); the scalar
 * fields here hold layer 0's value, as llama.cpp's {@code n_head()} does.
 *
 * @param headCount    0 for attention-free architectures
 * @param headCountKv  0 for attention-free architectures
 * @param headSize     0 for attention-free architectures
 * @param ropeDimensionCount 0 for attention-free architectures
 */
public record Hyperparameters(String architecture, int blockCount, int contextLength, int embeddingLength,
        int headCount, int headCountKv, int headSize, int ropeDimensionCount, int expertCount, int expertUsedCount) {

    /** llama.cpp's LLAMA_MAX_LAYERS. */
    public static final int MAX_LAYERS = 512;
    /** llama.cpp's LLAMA_MAX_EXPERTS at c392e50. */
    public static final int MAX_EXPERTS = 256;
    /** Architectures without attention: llama.cpp's converters write head_count 0 for them. */
    public static final Set<String> ATTENTION_FREE = Set.of("mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7",
            "arwkv7");

    public static final String KEY_LENGTH = "attention.key_length";
    public static final String EXPERT_COUNT = "expert_count";
    public static final String EXPERT_USED_COUNT = "expert_used_count";

    /** Reads and checks; a {@link GgufFormatException} names {@code source}, the key, the value and the limit. */
    public static Hyperparameters read(String source, GgufMetadata md) {
        String arch = md.getString(WellKnownKeys.ARCHITECTURE);
        String p = arch + ".";
        int layers = md.getInt(p + WellKnownKeys.BLOCK_COUNT, 1, MAX_LAYERS);
        int ctx = md.getInt(p + WellKnownKeys.CONTEXT_LENGTH, 1, Integer.MAX_VALUE);
        int dim = md.getInt(p + WellKnownKeys.EMBEDDING_LENGTH, 1, Integer.MAX_VALUE);
        boolean attentionFree = ATTENTION_FREE.contains(arch);
        String headKey = p + WellKnownKeys.HEAD_COUNT;
        int heads = perLayer(source, md, headKey, layers, attentionFree ? 0 : 1, dim).orElse(attentionFree ? 0 : -1);
        if (heads < 0) {
            throw new GgufFormatException(source, headKey, "required key is missing (an attention model needs its"
                    + " head count)");
        }
        int headSize = 0;
        int ropeDim = 0;
        if (heads > 0) {
            String klKey = p + KEY_LENGTH;
            if (md.contains(klKey)) {
                headSize = md.getInt(klKey, 1, Integer.MAX_VALUE);
            } else if (dim % heads != 0) {
                throw new GgufFormatException(source, headKey, "value " + heads + " does not divide "
                        + p + WellKnownKeys.EMBEDDING_LENGTH + " " + dim + " (and there is no " + klKey + ")");
            } else {
                headSize = dim / heads;
            }
        }
        String kvKey = p + WellKnownKeys.HEAD_COUNT_KV;
        boolean headArray = isArray(md, headKey);
        int kvHeads = perLayer(source, md, kvKey, layers, heads == 0 ? 0 : 1, headArray ? dim : heads).orElse(heads);
        if (heads > 0 && !headArray && !isArray(md, kvKey) && heads % kvHeads != 0) {
            throw new GgufFormatException(source, kvKey, "value " + kvHeads + " does not divide " + headKey + " "
                    + heads);
        }
        if (heads > 0) {
            String ropeKey = p + WellKnownKeys.ROPE_DIMENSION_COUNT;
            ropeDim = md.findLong(ropeKey).map(v -> (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)))
                    .orElse(headSize);
            if (ropeDim < 2 || ropeDim > headSize || ropeDim % 2 != 0) {
                throw new GgufFormatException(source, ropeKey, "value " + md.findLong(ropeKey).orElse((long) ropeDim)
                        + " must be even and within [2, head size " + headSize + "]");
            }
        }
        // llama.cpp reads it as optional; when present, at least 1 per layer (0 for attention-free models)
        perLayer(source, md, p + WellKnownKeys.FEED_FORWARD_LENGTH, layers, attentionFree ? 0 : 1, Integer.MAX_VALUE);
        String ecKey = p + EXPERT_COUNT;
        int experts = md.contains(ecKey) ? md.getInt(ecKey, 0, MAX_EXPERTS) : 0;
        String euKey = p + EXPERT_USED_COUNT;
        int used = md.contains(euKey) ? md.getInt(euKey, 0, experts) : 0;
        return new Hyperparameters(arch, layers, ctx, dim, heads, kvHeads, headSize, ropeDim, experts, used);
    }

    private static boolean isArray(GgufMetadata md, String key) {
        return md.get(key).map(v -> v.type() == GgufValueType.ARRAY).orElse(false);
    }

    /**
     * A scalar or per-layer array (at most {@code layers} integers, each in [min, max]): layer 0's value, or empty
     * when absent.
     */
    private static Optional<Integer> perLayer(String source, GgufMetadata md, String key, int layers, int min,
            int max) {
        Optional<GgufValue> v = md.get(key);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        if (v.get().value() instanceof GgufValue.GgufArray a) {
            if (!(a.values() instanceof long[] l)) {
                throw new GgufFormatException(source, key, "array of " + a.elementType() + ", expected an integer"
                        + " or an array of integers");
            }
            if (l.length == 0 || l.length > layers) {
                throw new GgufFormatException(source, key, "array of " + l.length + " values, expected 1 to "
                        + WellKnownKeys.BLOCK_COUNT + " " + layers);
            }
            for (int i = 0; i < l.length; i++) {
                if (l[i] < min || l[i] > max) {
                    throw new GgufFormatException(source, key, "layer " + i + ": value " + l[i] + " is outside ["
                            + min + ", " + max + "]");
                }
            }
            return Optional.of((int) l[0]);
        }
        return Optional.of(md.getInt(key, min, max));
    }
}
