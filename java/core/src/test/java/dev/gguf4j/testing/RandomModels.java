package dev.gguf4j.testing;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Deterministic tiny random-weight models of real architecture families, for goldens made by llama.cpp (c392e50)
 * through {@code docs/oracles/llama-logits-oracle.c} (recipe and shapes: docs/golden-data.md, math:
 * docs/architectures.md). Every preset uses the bundled stories260K tokenizer (SentencePiece, 512 tokens, all of
 * its {@code tokenizer.*} keys copied), n_embd 256 and row lengths that are multiples of 256, so every matrix
 * takes k-quants (Q4_K_M without fallbacks).
 *
 * <p>Weights: matrices N(0, 1/fan_in), token embedding and untied output N(0, 1/16^2) (granite's output
 * N(0, 1/2^2), since its logits are divided by {@code logit_scale}), norm weights 1 + N(0, 0.1^2); with a tied
 * output (gemma, gemma2) the embedding is N(0, 1/64^2) and the output norm 4 + N(0, 0.4^2); phi3.5's rope factors
 * are fixed ramps. Every matrix value is rounded to F16 before it is written, so the F32 file is the F16 file widened
 * exactly: the two differ only in how llama.cpp rounds activations. The bytes depend only on the preset and the
 * type (tensor i is seeded {@code SEED * 1_000_003 + i}, its row r {@code tensorSeed * ROW_STRIDE + r}); tests rebuild
 * the model and check its SHA-256 against the golden's {@code golden.model_sha256}.
 *
 * <pre>
 *   java -cp java/core/target/test-classes:java/core/target/classes dev.gguf4j.testing.RandomModels \
 *       gemma2 F16 OUT.gguf [TOKENIZER-MODEL.gguf, default the bundled stories260K]
 * </pre>
 */
public final class RandomModels {
    /** The seed of every preset. */
    public static final long SEED = 11;

    /**
     * A model family. {@code keyLength} is {@code attention.key_length} (0: not written, n_embd / n_head);
     * {@code window} is {@code attention.sliding_window} (0: not written).
     */
    public enum Preset {
        /** llama (Llama-3 shape family: GQA 4:1, untied) with YaRN RoPE scaling, factor 4 over 128 positions. */
        LLAMA_YARN("llama-yarn", "llama", 4, 8, 2, 0, 768, 512, 0, true),
        /** gemma (7B-style head size 128 != n_embd / n_head = 64; 2B-style MQA), tied output, GELU. */
        GEMMA("gemma", "gemma", 4, 4, 1, 128, 512, 8192, 0, false),
        /** gemma2 (2B: 26 layers, as llama.cpp requires 26/42/46), head size 128 != 64, soft-capping, SWA 8. */
        GEMMA2("gemma2", "gemma2", 26, 4, 2, 128, 512, 8192, 8, false),
        /** phi3 (Phi-3-mini-4k style: MHA, fused qkv and gate/up), sliding window 16. */
        PHI3("phi3", "phi3", 4, 4, 4, 0, 512, 4096, 16, true),
        /** phi3 (Phi-3.5-mini style): LongRoPE factors long/short, original context 256, attn_factor. */
        PHI35("phi3.5", "phi3", 4, 4, 4, 0, 512, 4096, 262144, true),
        /** granite (Granite 3 style: GQA 4:1) with embedding, residual, attention and logit multipliers. */
        GRANITE("granite", "granite", 4, 8, 2, 0, 512, 4096, 0, true),
        /** llama with experts (Mixtral 8x7B's family: GQA 4:1, 8 experts, 2 used, untied), stacked expert tensors. */
        MIXTRAL("mixtral", "llama", 4, 8, 2, 0, 512, 4096, 0, true, 8, 2, 0, 0),
        /**
         * qwen2moe (Qwen1.5-MoE-A2.7B's family: MHA, q/k/v biases, NEOX RoPE; many small experts, 4 used, and a
         * shared expert of its own width with a sigmoid gate).
         */
        QWEN2MOE("qwen2moe", "qwen2moe", 4, 4, 4, 0, 512, 4096, 0, true, 16, 4, 256, 768);

        public final String id;
        public final String arch;
        public final int layers;
        public final int heads;
        public final int kvHeads;
        public final int keyLength;
        public final int ff;
        public final int ctx;
        public final int window;
        public final boolean untiedOutput;
        /** {@code expert_count}, {@code expert_used_count} (0: a dense FFN). */
        public final int experts;
        public final int expertsUsed;
        /** qwen2moe's {@code expert_feed_forward_length} and {@code expert_shared_feed_forward_length}. */
        public final int expertFf;
        public final int sharedFf;

        Preset(String id, String arch, int layers, int heads, int kvHeads, int keyLength, int ff, int ctx,
                int window, boolean untiedOutput) {
            this(id, arch, layers, heads, kvHeads, keyLength, ff, ctx, window, untiedOutput, 0, 0, 0, 0);
        }

        Preset(String id, String arch, int layers, int heads, int kvHeads, int keyLength, int ff, int ctx,
                int window, boolean untiedOutput, int experts, int expertsUsed, int expertFf, int sharedFf) {
            this.experts = experts;
            this.expertsUsed = expertsUsed;
            this.expertFf = expertFf;
            this.sharedFf = sharedFf;
            this.id = id;
            this.arch = arch;
            this.layers = layers;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.keyLength = keyLength;
            this.ff = ff;
            this.ctx = ctx;
            this.window = window;
            this.untiedOutput = untiedOutput;
        }

        public int headSize() {
            return keyLength != 0 ? keyLength : EMBD / heads;
        }

        public static Preset byId(String id) {
            for (Preset p : values()) {
                if (p.id.equals(id)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown preset " + id);
        }
    }

    public static final int EMBD = 256;

    /**
     * Row r of tensor seed s is seeded {@code s * ROW_STRIDE + r}. (bench's RandomModel uses {@code s * 31 + r}
     * with consecutive tensor seeds, so row r of one tensor repeats row r - 31 of the one before: correlated
     * weights whose greedy output repeats its input token.)
     */
    static final long ROW_STRIDE = 0x9E3779B97F4A7C15L;

    /* The hyperparameters beyond the shape, one definition each (docs/golden-data.md repeats them). */
    public static final float YARN_FACTOR = 4.0f;
    public static final int YARN_ORIGINAL_CONTEXT = 128;
    public static final float GEMMA2_ATTN_SOFTCAP = 5.0f;
    public static final float GEMMA2_FINAL_SOFTCAP = 3.0f;
    public static final int PHI35_ORIGINAL_CONTEXT = 256;
    /** Phi-3.5's converter: sqrt(1 + ln(ctx / original) / ln(original)) = sqrt(1 + ln 16 / ln 256). */
    public static final float PHI35_ATTN_FACTOR = (float) Math.sqrt(1 + Math.log(4096.0 / 256) / Math.log(256));
    public static final float GRANITE_EMBEDDING_SCALE = 12.0f;
    public static final float GRANITE_RESIDUAL_SCALE = 0.22f;
    public static final float GRANITE_ATTENTION_SCALE = 0.0625f;
    public static final float GRANITE_LOGIT_SCALE = 8.0f;

    private RandomModels() {
    }

    /** Writes {@code preset} as {@code type} (F32 or F16 matrices) to {@code out}, with stories260K's tokenizer. */
    public static void write(Preset preset, GgmlType type, Path out) throws IOException {
        write(preset, type, TestData.model("stories260K.gguf"), out);
    }

    /**
     * Writes {@code preset} into {@code dir} as F16, or as F16 quantized by gguf4j's quantizer (llama-quantize's
     * bytes) when {@code type} names a file type such as "Q4_K_M"; returns the model's path.
     */
    public static Path writeAs(Preset preset, String type, Path dir) throws IOException {
        Path f16 = dir.resolve(preset.id + "-F16.gguf");
        write(preset, GgmlType.F16, f16);
        if (type.equals("F16")) {
            return f16;
        }
        Path q = dir.resolve(preset.id + "-" + type + ".gguf");
        ModelQuantizer.quantize(f16, q, QuantizeOptions.to(FileType.valueOf("MOSTLY_" + type)).threads(2),
                ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() { });
        return q;
    }

    public static void write(Preset p, GgmlType type, Path tokenizerModel, Path out) throws IOException {
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("F32 or F16, not " + type);
        }
        try (GgufFile tok = GgufFile.open(tokenizerModel); GgufWriter w = GgufWriter.create(out)) {
            String a = p.arch + ".";
            w.put("general.architecture", GgufValue.ofString(p.arch));
            // not "phi3" in the name: llama.cpp's vocab loader then sets phi3 token attributes, and looks up
            // "<|endoftext|>", which the stories260K vocabulary lacks (llama-vocab.cpp, load: "unordered_map::at")
            w.put("general.name", GgufValue.ofString("gguf4j random " + p.id.replace("phi3", "phi 3") + " seed "
                    + SEED));
            w.put("general.file_type", GgufValue.ofUInt32(
                    type == GgmlType.F16 ? FileType.MOSTLY_F16.id() : FileType.ALL_F32.id()));
            w.put(a + "context_length", GgufValue.ofUInt32(p.ctx));
            w.put(a + "embedding_length", GgufValue.ofUInt32(EMBD));
            w.put(a + "block_count", GgufValue.ofUInt32(p.layers));
            w.put(a + "feed_forward_length", GgufValue.ofUInt32(p.ff));
            w.put(a + "attention.head_count", GgufValue.ofUInt32(p.heads));
            w.put(a + "attention.head_count_kv", GgufValue.ofUInt32(p.kvHeads));
            if (p.keyLength != 0) {
                w.put(a + "attention.key_length", GgufValue.ofUInt32(p.keyLength));
                w.put(a + "attention.value_length", GgufValue.ofUInt32(p.keyLength));
            }
            w.put(a + "rope.dimension_count", GgufValue.ofUInt32(p.headSize()));
            w.put(a + "rope.freq_base", GgufValue.ofFloat32(10000f));
            w.put(a + "attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(
                    p.arch.startsWith("gemma") ? 1e-6f : 1e-5f));
            if (p.window != 0) {
                w.put(a + "attention.sliding_window", GgufValue.ofUInt32(p.window));
            }
            if (p.experts != 0) {
                w.put(a + "expert_count", GgufValue.ofUInt32(p.experts));
                w.put(a + "expert_used_count", GgufValue.ofUInt32(p.expertsUsed));
            }
            if (p.expertFf != 0) {
                w.put(a + "expert_feed_forward_length", GgufValue.ofUInt32(p.expertFf));
                w.put(a + "expert_shared_feed_forward_length", GgufValue.ofUInt32(p.sharedFf));
            }
            switch (p) {
                case LLAMA_YARN -> {
                    w.put(a + "rope.scaling.type", GgufValue.ofString("yarn"));
                    w.put(a + "rope.scaling.factor", GgufValue.ofFloat32(YARN_FACTOR));
                    w.put(a + "rope.scaling.original_context_length", GgufValue.ofUInt32(YARN_ORIGINAL_CONTEXT));
                }
                case GEMMA2 -> {
                    w.put(a + "attn_logit_softcapping", GgufValue.ofFloat32(GEMMA2_ATTN_SOFTCAP));
                    w.put(a + "final_logit_softcapping", GgufValue.ofFloat32(GEMMA2_FINAL_SOFTCAP));
                }
                case PHI35 -> {
                    w.put(a + "rope.scaling.original_context_length", GgufValue.ofUInt32(PHI35_ORIGINAL_CONTEXT));
                    w.put(a + "rope.scaling.attn_factor", GgufValue.ofFloat32(PHI35_ATTN_FACTOR));
                }
                case GRANITE -> {
                    w.put(a + "embedding_scale", GgufValue.ofFloat32(GRANITE_EMBEDDING_SCALE));
                    w.put(a + "residual_scale", GgufValue.ofFloat32(GRANITE_RESIDUAL_SCALE));
                    w.put(a + "attention.scale", GgufValue.ofFloat32(GRANITE_ATTENTION_SCALE));
                    w.put(a + "logit_scale", GgufValue.ofFloat32(GRANITE_LOGIT_SCALE));
                }
                default -> { }
            }
            tok.metadata().asMap().forEach((k, v) -> {
                if (k.startsWith("tokenizer.")) {
                    w.put(k, v);
                }
            });
            int vocab = tok.metadata().getStringArray("tokenizer.ggml.tokens").length;
            for (Tensor t : tensors(p, vocab)) {
                GgmlType tt = t.shape.length == 1 ? GgmlType.F32 : type;
                w.addTensor(t.name, tt, t.shape, GgufWriter.TensorSource.of(t.values(tt)));
            }
            w.finish();
        }
    }

    /** One tensor: {@code mean + sigma * N(0, 1)} per element, or fixed {@code values}. */
    private record Tensor(String name, long[] shape, double mean, double sigma, long seed, float[] fixed) {
        MemorySegment values(GgmlType type) {
            int cols = (int) shape[0];
            int rows = 1;
            for (int d = 1; d < shape.length; d++) {
                rows *= (int) shape[d]; // a 3-D tensor: its 2-D slices one after the other
            }
            float[] v = fixed != null ? fixed : new float[cols * rows];
            if (fixed == null) {
                IntStream.range(0, rows).parallel().forEach(r -> {
                    SplittableRandom rnd = new SplittableRandom(seed * ROW_STRIDE + r);
                    for (int c = 0; c < cols; c++) {
                        float x = (float) (mean + rnd.nextGaussian() * sigma);
                        // matrices: F16-representable values, so that F32 = F16 widened exactly
                        v[r * cols + c] = shape.length > 1 ? Float.float16ToFloat(Float.floatToFloat16(x)) : x;
                    }
                });
            }
            if (type == GgmlType.F32) {
                return MemorySegment.ofArray(v);
            }
            short[] h = new short[v.length];
            for (int i = 0; i < v.length; i++) {
                h[i] = Float.floatToFloat16(v[i]);
            }
            return MemorySegment.ofArray(h);
        }
    }

    /** The tensors of {@code p} in file order (llama.cpp's names and shapes, llama-arch.cpp / load_tensors). */
    private static List<Tensor> tensors(Preset p, int vocab) {
        List<Object[]> t = new ArrayList<>(); // name, shape, mean, sigma[, fixed values]
        int qDim = p.heads * p.headSize();
        int kvDim = p.kvHeads * p.headSize();
        double in = 1 / Math.sqrt(EMBD);
        // tied output (gemma, gemma2): a small embedding (gemma scales it by sqrt(n_embd) = 16 on the way in) and
        // a large output norm, else the residual stream is mostly the input token's embedding and greedy decoding
        // repeats its input token
        boolean tied = !p.untiedOutput;
        t.add(new Object[] {"token_embd.weight", new long[] {EMBD, vocab}, 0.0, tied ? 1 / 64.0 : 1 / 16.0});
        if (p == Preset.PHI35) {
            int half = p.headSize() / 2;
            float[] longF = new float[half];
            float[] shortF = new float[half];
            for (int i = 0; i < half; i++) {
                // Phi-3.5's shape: short factors near 1, long factors growing with the wavelength
                shortF[i] = 1.0f + 0.5f * i / (half - 1);
                longF[i] = 1.0f + 15.0f * i * i / ((half - 1) * (half - 1));
            }
            t.add(new Object[] {"rope_factors_long.weight", new long[] {half}, 0.0, 0.0, longF});
            t.add(new Object[] {"rope_factors_short.weight", new long[] {half}, 0.0, 0.0, shortF});
        }
        for (int l = 0; l < p.layers; l++) {
            String b = "blk." + l + ".";
            t.add(new Object[] {b + "attn_norm.weight", new long[] {EMBD}, 1.0, 0.1});
            if (p.arch.equals("phi3")) {
                t.add(new Object[] {b + "attn_qkv.weight", new long[] {EMBD, qDim + 2L * kvDim}, 0.0, in});
            } else {
                t.add(new Object[] {b + "attn_q.weight", new long[] {EMBD, qDim}, 0.0, in});
                t.add(new Object[] {b + "attn_k.weight", new long[] {EMBD, kvDim}, 0.0, in});
                t.add(new Object[] {b + "attn_v.weight", new long[] {EMBD, kvDim}, 0.0, in});
            }
            t.add(new Object[] {b + "attn_output.weight", new long[] {qDim, EMBD}, 0.0, 1 / Math.sqrt(qDim)});
            if (p.arch.equals("gemma2")) {
                t.add(new Object[] {b + "post_attention_norm.weight", new long[] {EMBD}, 1.0, 0.1});
            }
            if (p.arch.equals("qwen2moe")) {
                t.add(new Object[] {b + "attn_q.bias", new long[] {qDim}, 0.0, 0.25});
                t.add(new Object[] {b + "attn_k.bias", new long[] {kvDim}, 0.0, 0.25});
                t.add(new Object[] {b + "attn_v.bias", new long[] {kvDim}, 0.0, 0.25});
            }
            t.add(new Object[] {b + "ffn_norm.weight", new long[] {EMBD}, 1.0, 0.1});
            if (p.experts != 0) {
                // llama.cpp's stacked experts: ne = [cols, rows, n_expert]; the router N(0, 1/fan_in)
                int ffe = p.expertFf != 0 ? p.expertFf : p.ff;
                t.add(new Object[] {b + "ffn_gate_inp.weight", new long[] {EMBD, p.experts}, 0.0, in});
                t.add(new Object[] {b + "ffn_gate_exps.weight", new long[] {EMBD, ffe, p.experts}, 0.0, in});
                t.add(new Object[] {b + "ffn_up_exps.weight", new long[] {EMBD, ffe, p.experts}, 0.0, in});
                t.add(new Object[] {b + "ffn_down_exps.weight", new long[] {ffe, EMBD, p.experts}, 0.0,
                    1 / Math.sqrt(ffe)});
                if (p.sharedFf != 0) {
                    t.add(new Object[] {b + "ffn_gate_inp_shexp.weight", new long[] {EMBD}, 0.0, in});
                    t.add(new Object[] {b + "ffn_gate_shexp.weight", new long[] {EMBD, p.sharedFf}, 0.0, in});
                    t.add(new Object[] {b + "ffn_up_shexp.weight", new long[] {EMBD, p.sharedFf}, 0.0, in});
                    t.add(new Object[] {b + "ffn_down_shexp.weight", new long[] {p.sharedFf, EMBD}, 0.0,
                        1 / Math.sqrt(p.sharedFf)});
                }
                continue;
            }
            if (p.arch.equals("phi3")) {
                t.add(new Object[] {b + "ffn_up.weight", new long[] {EMBD, 2L * p.ff}, 0.0, in});
            } else {
                t.add(new Object[] {b + "ffn_gate.weight", new long[] {EMBD, p.ff}, 0.0, in});
                t.add(new Object[] {b + "ffn_up.weight", new long[] {EMBD, p.ff}, 0.0, in});
            }
            t.add(new Object[] {b + "ffn_down.weight", new long[] {p.ff, EMBD}, 0.0, 1 / Math.sqrt(p.ff)});
            if (p.arch.equals("gemma2")) {
                t.add(new Object[] {b + "post_ffw_norm.weight", new long[] {EMBD}, 1.0, 0.1});
            }
        }
        t.add(new Object[] {"output_norm.weight", new long[] {EMBD}, tied ? 4.0 : 1.0, tied ? 0.4 : 0.1});
        if (p.untiedOutput) {
            double sigma = p == Preset.GRANITE ? 0.5 : 1 / 16.0;
            t.add(new Object[] {"output.weight", new long[] {EMBD, vocab}, 0.0, sigma});
        }
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            Object[] o = t.get(i);
            out.add(new Tensor((String) o[0], (long[]) o[1], (Double) o[2], (Double) o[3], SEED * 1_000_003L + i,
                    o.length > 4 ? (float[]) o[4] : null));
        }
        return out;
    }

    /** The bundled stories260K model, from the repository root. */
    static final String BUNDLED = "java/cli/src/main/resources/dev/gguf4j/cli/stories260K.gguf";

    /**
     * {@code RandomModels PRESET F32|F16 OUT.gguf [TOKENIZER-MODEL.gguf]} (default: the bundled stories260K, run
     * from the repository root): the golden recipe's model writer.
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: RandomModels llama-yarn|gemma|gemma2|phi3|phi3.5|granite|mixtral|qwen2moe"
                    + " F32|F16 OUT.gguf [TOKENIZER-MODEL.gguf]");
            System.exit(2);
        }
        Preset p = Preset.byId(args[0]);
        GgmlType type = GgmlType.byName(args[1]).orElseThrow();
        long t0 = System.nanoTime();
        // the bundled model (TestData, which tests use, needs JUnit on the class path)
        write(p, type, Path.of(args.length == 4 ? args[3] : BUNDLED), Path.of(args[2]));
        System.err.printf("wrote %s in %.2f s%n", args[2], (System.nanoTime() - t0) / 1e9);
    }
}
