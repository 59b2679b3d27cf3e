package dev.gguf4j.bench;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Writes a llama-architecture GGUF of a given shape with random weights (normal, sigma 0.02; norms 1.0) and a
 * placeholder SentencePiece vocabulary, with the project's own writer: benchmark input that llama.cpp loads.
 *
 * <pre>
 *   java -cp java/bench/target/gguf4j-bench.jar dev.gguf4j.bench.RandomModel tinyllama F16 /tmp/tinyllama-f16.gguf
 *   shapes: tinyllama (n_embd 2048, 22 layers, 32 heads, 4 KV heads, n_ff 5632, vocab 32000),
 *           llama3-8b (4096, 32, 32, 8, 14336, 128256), llama-246m (1024, 16, 16, 4, 2816, 32000),
 *           tiny (256, 2, 4, 2, 512, 1024)
 *   java -cp ... RandomModel qwen2-tiny F16 OUT.gguf ../shared/golden/tokenizer/ggml-vocab-gpt-2.gguf
 *           arch qwen2 (256, 4, 8, 2, 768, 1024): see {@link #QWEN2_TINY}; tests/golden/qwen2-tiny-F16.gguf
 * </pre>
 */
public final class RandomModel {
    public record Shape(int embd, int layers, int heads, int kvHeads, int ff, int vocab, int ctx) {
    }

    private RandomModel() {
    }

    static Shape shape(String name) {
        return switch (name) {
            case "tinyllama" -> new Shape(2048, 22, 32, 4, 5632, 32000, 2048);
            case "llama3-8b" -> new Shape(4096, 32, 32, 8, 14336, 128256, 8192);
            case "tiny" -> new Shape(256, 2, 4, 2, 512, 1024, 256);
            // 245.7M parameters: 2 x 32.8M embeddings/output + 16 x 11.2M layers
            case "llama-246m" -> new Shape(1024, 16, 16, 4, 2816, 32000, 2048);
            default -> throw new IllegalArgumentException("unknown shape " + name
                    + " (tinyllama, llama3-8b, llama-246m, tiny)");
        };
    }

    /**
     * The MoE benchmark model (docs/benchmarks.md, "Mixture of experts"): Mixtral 8x7B's shape scaled down to fit
     * this project's 24 GiB AVX2 machine, llama with 8 experts of which 2 are used, n_embd 1024, 28 layers, 8 heads
     * of 128, 2 KV heads, expert n_ff 3584, vocab 32000, untied output: 2.60B parameters, 1.5 GB as Q4_K_M.
     */
    public static final Shape MIXTRAL_BENCH = new Shape(1024, 28, 8, 2, 3584, 32000, 4096);
    public static final int MIXTRAL_BENCH_EXPERTS = 8;
    public static final int MIXTRAL_BENCH_USED = 2;

    public static void main(String[] args) throws IOException {
        if (args.length == 3 && args[0].equals("mixtral-bench")) {
            long t0 = System.nanoTime();
            writeMixtral(MIXTRAL_BENCH, MIXTRAL_BENCH_EXPERTS, MIXTRAL_BENCH_USED,
                    GgmlType.byName(args[1]).orElseThrow(), Path.of(args[2]), 42);
            System.err.printf("wrote %s in %.1f s%n", args[2], (System.nanoTime() - t0) / 1e9);
            return;
        }
        boolean qwen = args.length > 0 && args[0].equals("qwen2-tiny");
        if (args.length != (qwen ? 4 : 3)) {
            System.err.println("usage: RandomModel SHAPE F16|F32|BF16 OUT.gguf\n"
                    + "       RandomModel qwen2-tiny F16|F32|BF16 OUT.gguf GPT2-VOCAB.gguf");
            System.exit(2);
        }
        GgmlType type = GgmlType.byName(args[1]).orElseThrow();
        Path out = Path.of(args[2]);
        long t0 = System.nanoTime();
        if (qwen) {
            try (GgufFile vocab = GgufFile.open(Path.of(args[3]))) {
                writeQwen2(QWEN2_TINY, vocab, type, out, QWEN2_SEED);
            }
        } else {
            write(shape(args[0]), type, out, 42);
        }
        System.err.printf("wrote %s in %.1f s%n", out, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * A qwen2-architecture test model: n_embd 256, 4 layers, 8 heads of 32, 2 KV heads, n_ff 768 (every matrix
     * takes k-quants), untied output, q/k/v biases, rope theta 1e6, and a GPT-2 byte-level BPE vocabulary cut to
     * its first 1021 tokens (the 256 byte symbols and the 765 highest-ranked merges, whose results they are) plus
     * three Qwen control tokens: vocab 1024. F16: 7.1 MB.
     */
    public static final Shape QWEN2_TINY = new Shape(256, 4, 8, 2, 768, 1024, 32768);

    public static final long QWEN2_SEED = 2;

    /**
     * Writes a qwen2 model with weights scaled as in a trained network (so attention is not uniform and every
     * term shows in the logits): matrices N(0, 1/fan_in), the token embedding and the output N(0, 1/16^2),
     * norms 1 + N(0, 0.1^2), q/k/v biases N(0, 0.5^2). The bytes depend only on the shape, the type, the vocab
     * and the seed.
     */
    public static void writeQwen2(Shape s, GgufFile gpt2Vocab, GgmlType type, Path out, long seed)
            throws IOException {
        try (GgufWriter w = GgufWriter.create(out)) {
            String a = "qwen2.";
            w.put("general.architecture", GgufValue.ofString("qwen2"));
            w.put("general.name", GgufValue.ofString("gguf4j random qwen2-tiny seed " + seed));
            w.put(a + "block_count", GgufValue.ofUInt32(s.layers));
            w.put(a + "context_length", GgufValue.ofUInt32(s.ctx));
            w.put(a + "embedding_length", GgufValue.ofUInt32(s.embd));
            w.put(a + "feed_forward_length", GgufValue.ofUInt32(s.ff));
            w.put(a + "attention.head_count", GgufValue.ofUInt32(s.heads));
            w.put(a + "attention.head_count_kv", GgufValue.ofUInt32(s.kvHeads));
            w.put(a + "rope.freq_base", GgufValue.ofFloat32(1000000f));
            w.put(a + "attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-6f));
            w.put("general.file_type", GgufValue.ofUInt32(type == GgmlType.F16 ? FileType.MOSTLY_F16.id()
                    : type == GgmlType.BF16 ? FileType.MOSTLY_BF16.id() : FileType.ALL_F32.id()));
            bpeVocabulary(w, gpt2Vocab, s.vocab);
            int kvDim = s.embd / s.heads * s.kvHeads;
            List<Object[]> tensors = new ArrayList<>(); // name, shape, mean, sigma
            tensors.add(new Object[] {"token_embd.weight", new long[] {s.embd, s.vocab}, 0.0, 1 / 16.0});
            for (int l = 0; l < s.layers; l++) {
                String p = "blk." + l + ".";
                double in = 1 / Math.sqrt(s.embd);
                tensors.add(new Object[] {p + "attn_norm.weight", new long[] {s.embd}, 1.0, 0.1});
                tensors.add(new Object[] {p + "attn_q.weight", new long[] {s.embd, s.embd}, 0.0, in});
                tensors.add(new Object[] {p + "attn_q.bias", new long[] {s.embd}, 0.0, 0.5});
                tensors.add(new Object[] {p + "attn_k.weight", new long[] {s.embd, kvDim}, 0.0, in});
                tensors.add(new Object[] {p + "attn_k.bias", new long[] {kvDim}, 0.0, 0.5});
                tensors.add(new Object[] {p + "attn_v.weight", new long[] {s.embd, kvDim}, 0.0, in});
                tensors.add(new Object[] {p + "attn_v.bias", new long[] {kvDim}, 0.0, 0.5});
                tensors.add(new Object[] {p + "attn_output.weight", new long[] {s.embd, s.embd}, 0.0, in});
                tensors.add(new Object[] {p + "ffn_norm.weight", new long[] {s.embd}, 1.0, 0.1});
                tensors.add(new Object[] {p + "ffn_gate.weight", new long[] {s.embd, s.ff}, 0.0, in});
                tensors.add(new Object[] {p + "ffn_up.weight", new long[] {s.embd, s.ff}, 0.0, in});
                tensors.add(new Object[] {p + "ffn_down.weight", new long[] {s.ff, s.embd}, 0.0,
                        1 / Math.sqrt(s.ff)});
            }
            tensors.add(new Object[] {"output_norm.weight", new long[] {s.embd}, 1.0, 0.1});
            // untied, as Qwen2-7B (a tied random model greedily repeats its input token)
            tensors.add(new Object[] {"output.weight", new long[] {s.embd, s.vocab}, 0.0, 1 / 16.0});
            int i = 0;
            for (Object[] t : tensors) {
                String name = (String) t[0];
                long[] shape = (long[]) t[1];
                double mean = (Double) t[2];
                double sigma = (Double) t[3];
                GgmlType tt = shape.length == 1 ? GgmlType.F32 : type;
                long tensorSeed = seed * 1_000_003L + i++;
                w.addTensor(name, tt, shape, ch -> fill(ch, tt, shape, false, mean, sigma, tensorSeed));
            }
            w.finish();
        }
    }

    /** The first {@code n - 3} tokens of a GPT-2 vocabulary (bytes, then one per merge) and Qwen's controls. */
    private static void bpeVocabulary(GgufWriter w, GgufFile src, int n) {
        String[] srcTokens = src.metadata().getStringArray("tokenizer.ggml.tokens");
        String[] srcMerges = src.metadata().getStringArray("tokenizer.ggml.merges");
        String[] controls = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
        int normal = n - controls.length;
        int merges = normal - 256;
        String[] tokens = new String[n];
        long[] types = new long[n];
        for (int i = 0; i < normal; i++) {
            tokens[i] = srcTokens[i];
            types[i] = 1; // NORMAL
            if (i >= 256 && !srcMerges[i - 256].replace(" ", "").equals(tokens[i])) {
                throw new IllegalArgumentException("token " + i + " '" + tokens[i] + "' is not the result of merge "
                        + (i - 256) + " '" + srcMerges[i - 256] + "': not a GPT-2-ordered vocabulary");
            }
        }
        for (int i = 0; i < controls.length; i++) {
            tokens[normal + i] = controls[i];
            types[normal + i] = 3; // CONTROL
        }
        String[] keptMerges = java.util.Arrays.copyOf(srcMerges, merges);
        w.put("tokenizer.ggml.model", GgufValue.ofString("gpt2"));
        w.put("tokenizer.ggml.pre", GgufValue.ofString("qwen2"));
        w.put("tokenizer.ggml.tokens", GgufValue.ofArray(new GgufValue.GgufArray(dev.gguf4j.gguf.GgufValueType.STRING, tokens)));
        w.put("tokenizer.ggml.token_type", GgufValue.ofArray(new GgufValue.GgufArray(dev.gguf4j.gguf.GgufValueType.INT32, types)));
        w.put("tokenizer.ggml.merges", GgufValue.ofArray(new GgufValue.GgufArray(dev.gguf4j.gguf.GgufValueType.STRING, keptMerges)));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(normal));
        w.put("tokenizer.ggml.padding_token_id", GgufValue.ofUInt32(normal));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.ofUInt32(normal));
        w.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(false));
    }

    static void write(Shape s, GgmlType type, Path out, long seed) throws IOException {
        try (GgufWriter w = GgufWriter.create(out)) {
            w.put("general.architecture", GgufValue.ofString("llama"));
            w.put("general.name", GgufValue.ofString("random " + s));
            w.put("llama.context_length", GgufValue.ofUInt32(s.ctx));
            w.put("llama.embedding_length", GgufValue.ofUInt32(s.embd));
            w.put("llama.block_count", GgufValue.ofUInt32(s.layers));
            w.put("llama.feed_forward_length", GgufValue.ofUInt32(s.ff));
            w.put("llama.rope.dimension_count", GgufValue.ofUInt32(s.embd / s.heads));
            w.put("llama.attention.head_count", GgufValue.ofUInt32(s.heads));
            w.put("llama.attention.head_count_kv", GgufValue.ofUInt32(s.kvHeads));
            w.put("llama.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
            w.put("llama.rope.freq_base", GgufValue.ofFloat32(10000f));
            w.put("general.file_type", GgufValue.ofUInt32(type == GgmlType.F16 ? FileType.MOSTLY_F16.id()
                    : type == GgmlType.BF16 ? FileType.MOSTLY_BF16.id() : FileType.ALL_F32.id()));
            vocabulary(w, s.vocab);
            List<Object[]> tensors = new ArrayList<>();
            tensors.add(new Object[] {"token_embd.weight", new long[] {s.embd, s.vocab}});
            tensors.add(new Object[] {"output_norm.weight", new long[] {s.embd}});
            tensors.add(new Object[] {"output.weight", new long[] {s.embd, s.vocab}});
            int headDim = s.embd / s.heads;
            for (int l = 0; l < s.layers; l++) {
                String p = "blk." + l + ".";
                tensors.add(new Object[] {p + "attn_norm.weight", new long[] {s.embd}});
                tensors.add(new Object[] {p + "attn_q.weight", new long[] {s.embd, s.embd}});
                tensors.add(new Object[] {p + "attn_k.weight", new long[] {s.embd, (long) headDim * s.kvHeads}});
                tensors.add(new Object[] {p + "attn_v.weight", new long[] {s.embd, (long) headDim * s.kvHeads}});
                tensors.add(new Object[] {p + "attn_output.weight", new long[] {s.embd, s.embd}});
                tensors.add(new Object[] {p + "ffn_norm.weight", new long[] {s.embd}});
                tensors.add(new Object[] {p + "ffn_gate.weight", new long[] {s.embd, s.ff}});
                tensors.add(new Object[] {p + "ffn_down.weight", new long[] {s.ff, s.embd}});
                tensors.add(new Object[] {p + "ffn_up.weight", new long[] {s.embd, s.ff}});
            }
            int i = 0;
            for (Object[] t : tensors) {
                String name = (String) t[0];
                long[] shape = (long[]) t[1];
                GgmlType tt = shape.length == 1 ? GgmlType.F32 : type;
                long tensorSeed = seed * 1_000_003L + i++;
                w.addTensor(name, tt, shape, ch -> fill(ch, tt, shape, name.endsWith("norm.weight"), tensorSeed));
            }
            w.finish();
        }
    }

    /**
     * A llama model with {@code experts} experts per layer ({@code used} per token), stacked as llama.cpp expects
     * ({@code ffn_{gate,up,down}_exps} of ne [cols, rows, experts], router {@code ffn_gate_inp}), weights scaled as
     * in a trained network (matrices N(0, 1/fan_in), embeddings and output N(0, 1/16^2), norms 1 + N(0, 0.1^2)) so
     * the router spreads the tokens over the experts; placeholder SentencePiece vocabulary.
     */
    static void writeMixtral(Shape s, int experts, int used, GgmlType type, Path out, long seed) throws IOException {
        try (GgufWriter w = GgufWriter.create(out)) {
            String a = "llama.";
            w.put("general.architecture", GgufValue.ofString("llama"));
            w.put("general.name", GgufValue.ofString("gguf4j random mixtral-bench seed " + seed));
            w.put(a + "context_length", GgufValue.ofUInt32(s.ctx));
            w.put(a + "embedding_length", GgufValue.ofUInt32(s.embd));
            w.put(a + "block_count", GgufValue.ofUInt32(s.layers));
            w.put(a + "feed_forward_length", GgufValue.ofUInt32(s.ff));
            w.put(a + "rope.dimension_count", GgufValue.ofUInt32(s.embd / s.heads));
            w.put(a + "attention.head_count", GgufValue.ofUInt32(s.heads));
            w.put(a + "attention.head_count_kv", GgufValue.ofUInt32(s.kvHeads));
            w.put(a + "attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
            w.put(a + "rope.freq_base", GgufValue.ofFloat32(1000000f));
            w.put(a + "expert_count", GgufValue.ofUInt32(experts));
            w.put(a + "expert_used_count", GgufValue.ofUInt32(used));
            w.put("general.file_type", GgufValue.ofUInt32(type == GgmlType.F16 ? FileType.MOSTLY_F16.id()
                    : type == GgmlType.BF16 ? FileType.MOSTLY_BF16.id() : FileType.ALL_F32.id()));
            vocabulary(w, s.vocab);
            int kvDim = s.embd / s.heads * s.kvHeads;
            double in = 1 / Math.sqrt(s.embd);
            List<Object[]> tensors = new ArrayList<>(); // name, shape, mean, sigma
            tensors.add(new Object[] {"token_embd.weight", new long[] {s.embd, s.vocab}, 0.0, 1 / 16.0});
            for (int l = 0; l < s.layers; l++) {
                String p = "blk." + l + ".";
                tensors.add(new Object[] {p + "attn_norm.weight", new long[] {s.embd}, 1.0, 0.1});
                tensors.add(new Object[] {p + "attn_q.weight", new long[] {s.embd, s.embd}, 0.0, in});
                tensors.add(new Object[] {p + "attn_k.weight", new long[] {s.embd, kvDim}, 0.0, in});
                tensors.add(new Object[] {p + "attn_v.weight", new long[] {s.embd, kvDim}, 0.0, in});
                tensors.add(new Object[] {p + "attn_output.weight", new long[] {s.embd, s.embd}, 0.0, in});
                tensors.add(new Object[] {p + "ffn_norm.weight", new long[] {s.embd}, 1.0, 0.1});
                tensors.add(new Object[] {p + "ffn_gate_inp.weight", new long[] {s.embd, experts}, 0.0, in});
                tensors.add(new Object[] {p + "ffn_gate_exps.weight", new long[] {s.embd, s.ff, experts}, 0.0, in});
                tensors.add(new Object[] {p + "ffn_up_exps.weight", new long[] {s.embd, s.ff, experts}, 0.0, in});
                tensors.add(new Object[] {p + "ffn_down_exps.weight", new long[] {s.ff, s.embd, experts}, 0.0,
                    1 / Math.sqrt(s.ff)});
            }
            tensors.add(new Object[] {"output_norm.weight", new long[] {s.embd}, 1.0, 0.1});
            tensors.add(new Object[] {"output.weight", new long[] {s.embd, s.vocab}, 0.0, 1 / 16.0});
            int i = 0;
            for (Object[] t : tensors) {
                long[] shape = (long[]) t[1];
                GgmlType tt = shape.length == 1 ? GgmlType.F32 : type;
                long tensorSeed = seed * 1_000_003L + i++;
                w.addTensor((String) t[0], tt, shape, ch -> fill(ch, tt, shape, false, (Double) t[2], (Double) t[3],
                        tensorSeed * 0x9E3779B97F4A7C15L));
            }
            w.finish();
        }
    }

    private static void vocabulary(GgufWriter w, int n) {
        String[] tokens = new String[n];
        float[] scores = new float[n];
        long[] types = new long[n];
        for (int i = 0; i < n; i++) {
            if (i < 3) {
                tokens[i] = new String[] {"<unk>", "<s>", "</s>"}[i];
                types[i] = i == 0 ? 2 : 3; // UNKNOWN, CONTROL
            } else if (i < 3 + 256) {
                tokens[i] = String.format("<0x%02X>", i - 3);
                types[i] = 6; // BYTE
            } else {
                tokens[i] = "\u2581t" + i;
                types[i] = 1; // NORMAL
                scores[i] = -i;
            }
        }
        w.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
        w.put("tokenizer.ggml.tokens", GgufValue.ofArray(new GgufValue.GgufArray(dev.gguf4j.gguf.GgufValueType.STRING, tokens)));
        w.put("tokenizer.ggml.scores", GgufValue.ofArray(new GgufValue.GgufArray(dev.gguf4j.gguf.GgufValueType.FLOAT32, scores)));
        w.put("tokenizer.ggml.token_type", GgufValue.ofArray(new GgufValue.GgufArray(dev.gguf4j.gguf.GgufValueType.INT32, types)));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.ofUInt32(1));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(2));
        w.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUInt32(0));
    }

    /** Generates the tensor in row chunks on all cores, in a fixed order, so the bytes depend only on the seed. */
    private static void fill(java.nio.channels.WritableByteChannel ch, GgmlType type, long[] shape, boolean ones,
            long seed) throws IOException {
        fill(ch, type, shape, ones, 0.0, 0.02, seed);
    }

    /** Rows of {@code mean + sigma * N(0, 1)} (or 1.0 where {@code ones}), row r seeded {@code seed * 31 + r}. */
    private static void fill(java.nio.channels.WritableByteChannel ch, GgmlType type, long[] shape, boolean ones,
            double mean, double sigma, long seed) throws IOException {
        int cols = (int) shape[0];
        long rows = 1;
        for (int d = 1; d < shape.length; d++) {
            rows *= shape[d]; // a 3-D tensor: its 2-D slices one after the other
        }
        int chunkRows = (int) Math.max(1, Math.min(rows, (1 << 22) / cols));
        long rowBytes = type.bytesFor(cols);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(rowBytes * chunkRows);
            for (long r0 = 0; r0 < rows; r0 += chunkRows) {
                int n = (int) Math.min(chunkRows, rows - r0);
                long base = r0;
                IntStream.range(0, n).parallel().forEach(r -> {
                    float[] row = new float[cols];
                    SplittableRandom rnd = new SplittableRandom(seed * 31 + base + r);
                    for (int c = 0; c < cols; c++) {
                        row[c] = ones ? 1.0f : (float) (mean + rnd.nextGaussian() * sigma);
                    }
                    Codecs.of(type).quantize(row, 0, cols, null, buf, r * rowBytes);
                });
                ByteBuffer b = buf.asSlice(0, n * rowBytes).asByteBuffer();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }
    }
}
