package dev.gguf4j.testing;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufValueType;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Deterministic random-weight BERT-family encoders ({@code bert}, {@code nomic-bert}) for the embedding goldens made
 * with llama.cpp c392e50's llama-embedding (tests/golden/embeddings, docs/golden-data.md) and the embedding
 * benchmark. The vocabulary is the first {@code vocab} tokens of the bge WordPiece vocabulary
 * ({@code tests/golden/tokenizer/ggml-vocab-bert-bge.gguf}: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103,
 * then characters and the most common words), with its other {@code tokenizer.*} keys. Tensor names and shapes
 * are llama.cpp's (llama-arch.cpp LLM_ARCH_BERT / LLM_ARCH_NOMIC_BERT, load_tensors).
 *
 * <p>Weights (1-D tensors, position_embd and token_types in F32 as llama.cpp's converter writes them; the rest F32
 * or F16): matrices N(0, 1/fan_in); token, position and type embeddings N(0, 0.5^2); LayerNorm weights
 * 1 + N(0, 0.1^2), biases N(0, 0.1^2); matrix and embedding values rounded to F16 (so the F32 file is the F16 file
 * widened). Tensor i is seeded {@code SEED * 1_000_003 + i}, row r {@code tensorSeed * 0x9E3779B97F4A7C15 + r}.
 *
 * <pre>
 *   java -cp java/core/target/test-classes:java/core/target/classes dev.gguf4j.testing.RandomEncoders \
 *       bert|nomic-bert|bge-small F32|F16 OUT.gguf
 * </pre>
 */
public final class RandomEncoders {
    public static final long SEED = 12;

    /** An encoder shape. {@code pooling}: the GGUF's pooling_type (1 mean, 2 cls). */
    public enum Preset {
        /** bert, bge-like (CLS pooling), 4 layers of 256, 4 heads, n_ff 1024, 2 token types, 512 positions. */
        BERT("bert", "bert", 256, 4, 4, 1024, 512, 4096, 2, 0),
        /** nomic-bert, nomic-embed-like (mean pooling, rotary base 1000, SwiGLU), 4 layers of 256, 4 heads, n_ff 512. */
        NOMIC_BERT("nomic-bert", "nomic-bert", 256, 4, 4, 512, 2048, 4096, 1, 0),
        /** bge-small-en-v1.5's shape (the benchmark): 384, 12 layers, 12 heads, n_ff 1536, vocab 30522, CLS. */
        BGE_SMALL("bge-small", "bert", 384, 12, 12, 1536, 512, 30522, 2, 0);

        public final String id;
        public final String arch;
        public final int embd;
        public final int layers;
        public final int heads;
        public final int ff;
        public final int ctx;
        public final int vocab;
        public final int pooling;

        Preset(String id, String arch, int embd, int layers, int heads, int ff, int ctx, int vocab, int pooling,
                int unused) {
            this.id = id;
            this.arch = arch;
            this.embd = embd;
            this.layers = layers;
            this.heads = heads;
            this.ff = ff;
            this.ctx = ctx;
            this.vocab = vocab;
            this.pooling = pooling;
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

    static final String VOCAB = "tests/golden/tokenizer/ggml-vocab-bert-bge.gguf";
    static final long ROW_STRIDE = 0x9E3779B97F4A7C15L;

    private RandomEncoders() {
    }

    /** Writes {@code p} as F32 or F16 (1-D tensors F32) to {@code out}, vocabulary from {@code vocabFile}. */
    public static void write(Preset p, GgmlType type, Path vocabFile, Path out) throws IOException {
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("F32 or F16, not " + type);
        }
        try (GgufFile tok = GgufFile.open(vocabFile); GgufWriter w = GgufWriter.create(out)) {
            String a = p.arch + ".";
            w.put("general.architecture", GgufValue.ofString(p.arch));
            w.put("general.name", GgufValue.ofString("gguf4j random " + p.id + " seed " + SEED));
            w.put("general.file_type", GgufValue.ofUInt32(
                    type == GgmlType.F16 ? FileType.MOSTLY_F16.id() : FileType.ALL_F32.id()));
            w.put(a + "context_length", GgufValue.ofUInt32(p.ctx));
            w.put(a + "embedding_length", GgufValue.ofUInt32(p.embd));
            w.put(a + "block_count", GgufValue.ofUInt32(p.layers));
            w.put(a + "feed_forward_length", GgufValue.ofUInt32(p.ff));
            w.put(a + "attention.head_count", GgufValue.ofUInt32(p.heads));
            w.put(a + "attention.layer_norm_epsilon", GgufValue.ofFloat32(1e-12f));
            w.put(a + "attention.causal", GgufValue.ofBool(false));
            w.put(a + "pooling_type", GgufValue.ofUInt32(p.pooling));
            if (p.arch.equals("nomic-bert")) {
                w.put(a + "rope.freq_base", GgufValue.ofFloat32(1000f));
            }
            w.put("tokenizer.ggml.token_type_count", GgufValue.ofUInt32(2));
            String[] tokens = tok.metadata().getStringArray("tokenizer.ggml.tokens");
            tok.metadata().asMap().forEach((k, v) -> {
                if (k.equals("tokenizer.ggml.tokens")) {
                    w.put(k, GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.STRING,
                            Arrays.copyOf(tokens, p.vocab))));
                } else if (k.equals("tokenizer.ggml.token_type")) {
                    GgufValue.GgufArray t = (GgufValue.GgufArray) v.value();
                    w.put(k, GgufValue.ofArray(new GgufValue.GgufArray(t.elementType(),
                            Arrays.copyOf((long[]) t.values(), p.vocab))));
                } else if (k.startsWith("tokenizer.")) {
                    w.put(k, v);
                }
            });
            for (Tensor t : tensors(p)) {
                // convert_hf_to_gguf.py keeps POS_EMBD and TOKEN_TYPES in F32 (llama.cpp adds token_types to F32)
                boolean f32 = t.shape.length == 1 || t.name.equals("position_embd.weight")
                        || t.name.equals("token_types.weight");
                GgmlType tt = f32 ? GgmlType.F32 : type;
                w.addTensor(t.name, tt, t.shape, GgufWriter.TensorSource.of(t.values(tt)));
            }
            w.finish();
        }
    }

    /** {@link #write} with the repository's bge vocabulary. */
    public static void write(Preset p, GgmlType type, Path out) throws IOException {
        write(p, type, TestData.root().resolve(VOCAB), out);
    }

    private record Tensor(String name, long[] shape, double mean, double sigma, long seed) {
        MemorySegment values(GgmlType type) {
            int cols = (int) shape[0];
            int rows = shape.length > 1 ? (int) shape[1] : 1;
            float[] v = new float[cols * rows];
            IntStream.range(0, rows).parallel().forEach(r -> {
                SplittableRandom rnd = new SplittableRandom(seed * ROW_STRIDE + r);
                for (int c = 0; c < cols; c++) {
                    float x = (float) (mean + rnd.nextGaussian() * sigma);
                    v[r * cols + c] = shape.length > 1 ? Float.float16ToFloat(Float.floatToFloat16(x)) : x;
                }
            });
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

    private static List<Tensor> tensors(Preset p) {
        List<Object[]> t = new ArrayList<>();
        int d = p.embd;
        double in = 1 / Math.sqrt(d);
        boolean nomic = p.arch.equals("nomic-bert");
        t.add(new Object[] {"token_embd.weight", new long[] {d, p.vocab}, 0.0, 0.5});
        t.add(new Object[] {"token_types.weight", new long[] {d, 2}, 0.0, 0.5});
        if (!nomic) {
            t.add(new Object[] {"position_embd.weight", new long[] {d, p.ctx}, 0.0, 0.5});
        }
        t.add(new Object[] {"token_embd_norm.weight", new long[] {d}, 1.0, 0.1});
        t.add(new Object[] {"token_embd_norm.bias", new long[] {d}, 0.0, 0.1});
        for (int l = 0; l < p.layers; l++) {
            String b = "blk." + l + ".";
            if (nomic) {
                t.add(new Object[] {b + "attn_qkv.weight", new long[] {d, 3L * d}, 0.0, in});
            } else {
                for (String x : new String[] {"q", "k", "v"}) {
                    t.add(new Object[] {b + "attn_" + x + ".weight", new long[] {d, d}, 0.0, in});
                    t.add(new Object[] {b + "attn_" + x + ".bias", new long[] {d}, 0.0, 0.1});
                }
            }
            t.add(new Object[] {b + "attn_output.weight", new long[] {d, d}, 0.0, in});
            if (!nomic) {
                t.add(new Object[] {b + "attn_output.bias", new long[] {d}, 0.0, 0.1});
            }
            t.add(new Object[] {b + "attn_output_norm.weight", new long[] {d}, 1.0, 0.1});
            t.add(new Object[] {b + "attn_output_norm.bias", new long[] {d}, 0.0, 0.1});
            t.add(new Object[] {b + "ffn_up.weight", new long[] {d, p.ff}, 0.0, in});
            if (nomic) {
                t.add(new Object[] {b + "ffn_gate.weight", new long[] {d, p.ff}, 0.0, in});
            } else {
                t.add(new Object[] {b + "ffn_up.bias", new long[] {p.ff}, 0.0, 0.1});
            }
            t.add(new Object[] {b + "ffn_down.weight", new long[] {p.ff, d}, 0.0, 1 / Math.sqrt(p.ff)});
            if (!nomic) {
                t.add(new Object[] {b + "ffn_down.bias", new long[] {d}, 0.0, 0.1});
            }
            t.add(new Object[] {b + "layer_output_norm.weight", new long[] {d}, 1.0, 0.1});
            t.add(new Object[] {b + "layer_output_norm.bias", new long[] {d}, 0.0, 0.1});
        }
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            Object[] o = t.get(i);
            out.add(new Tensor((String) o[0], (long[]) o[1], (Double) o[2], (Double) o[3], SEED * 1_000_003L + i));
        }
        return out;
    }

    /** {@code RandomEncoders PRESET F32|F16 OUT.gguf}, run from the repository root. */
    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: RandomEncoders bert|nomic-bert|bge-small F32|F16 OUT.gguf");
            System.exit(2);
        }
        Preset p = Preset.byId(args[0]);
        GgmlType type = GgmlType.byName(args[1]).orElseThrow();
        write(p, type, Path.of(VOCAB), Path.of(args[2]));
    }
}
