package dev.gguf4j.engine;

import dev.gguf4j.backend.Backend;
import dev.gguf4j.llama.Pooling;
import dev.gguf4j.quant.Codecs;
import java.util.ArrayList;
import java.util.List;

/**
 * Computes embeddings on the CPU (llama.cpp c392e50's embedding path: {@code llama_encode} / {@code llama_decode}
 * with {@code embeddings = true}, {@code append_pooling}, and llama-embedding's {@code common_embd_normalize}).
 * Several inputs run in one forward pass, each its own sequence at positions 0.., attention within each input only
 * (a {@link CpuOps#SCRATCH} segment each: its K/V in the step's scratch buffer, no KV cache); the hidden states
 * ({@link Architecture#hidden}: an encoder's last layer, a decoder's output-normed states) are pooled per input and
 * normalised. Not thread-safe: one call at a time.
 */
public final class Embedder implements AutoCloseable {
    private final LlamaModel model;
    private final Architecture arch;
    private final CpuOps cpu;

    /** {@code kvType}: how K and V are held for attention (encoders: F32, as llama.cpp's bert graph). */
    public Embedder(LlamaModel model, Backend backend, int threads, int contextLength, LlamaSession.KvType kvType) {
        this.model = model;
        this.arch = model.architecture();
        this.cpu = new CpuOps(model, backend, threads, contextLength, kvType, 0);
    }

    /** The model's pooling ({@code <arch>.pooling_type}); null when the GGUF does not say. */
    public static Pooling modelPooling(LlamaModel model) {
        String key = model.config().architecture() + "." + BertArchitecture.POOLING_TYPE;
        return model.file().metadata().findLong(key).map(v -> Pooling.ofGguf(model.file().source(), key, v))
                .orElse(null);
    }

    /**
     * One forward pass over {@code inputs} (token ids, each its own sequence): per input, [1][dim] pooled or
     * [tokens][dim] with {@link Pooling#NONE}, normalised as {@code normalize}.
     */
    public float[][][] run(List<int[]> inputs, Pooling pooling, int normalize) {
        model.checkMappedFile();
        int[] start = new int[inputs.size() + 1];
        int[] slot = new int[inputs.size()];
        int[] pos0 = new int[inputs.size()]; // each input at positions 0 ..
        int[] lens = new int[inputs.size()];
        for (int s = 0; s < inputs.size(); s++) {
            lens[s] = inputs.get(s).length;
            start[s + 1] = start[s] + lens[s];
            slot[s] = CpuOps.SCRATCH;
        }
        int vocab = model.config().vocab();
        cpu.beginSegments(inputs.size(), slot, pos0, lens, arch.causal());
        float[][] x = cpu.rows(BlockOps.Act.X);
        var emb = model.tokenEmbedding();
        var codec = Codecs.of(emb.type());
        int dim = model.config().dim();
        for (int s = 0; s < inputs.size(); s++) {
            int[] toks = inputs.get(s);
            for (int i = 0; i < toks.length; i++) {
                int tok = toks[i];
                if (tok < 0 || tok >= vocab) {
                    throw new IllegalArgumentException("token id " + tok + " is outside the vocabulary [0, " + vocab
                            + ")");
                }
                codec.dequantize(emb.data(), (long) tok * emb.rowBytes(), x[start[s] + i], 0, dim);
            }
        }
        arch.embedded(cpu);
        for (int l = 0; l < model.config().layers(); l++) {
            arch.block(cpu, l);
        }
        float[][] h = cpu.rows(arch.hidden(cpu));
        float[][][] out = new float[inputs.size()][][];
        for (int s = 0; s < inputs.size(); s++) {
            int first = start[s];
            int len = start[s + 1] - first;
            out[s] = switch (pooling) {
                case NONE -> {
                    float[][] v = new float[len][];
                    for (int t = 0; t < len; t++) {
                        v[t] = normalize(h[first + t], dim, normalize);
                    }
                    yield v;
                }
                case MEAN -> {
                    // llama.cpp: ggml_mul_mat(inp^T, inp_mean), inp_mean = 1/len per token of the sequence
                    float w = 1.0f / len;
                    float[] m = new float[dim];
                    for (int t = 0; t < len; t++) {
                        float[] r = h[first + t];
                        for (int i = 0; i < dim; i++) {
                            m[i] += r[i] * w;
                        }
                    }
                    yield new float[][] {normalize(m, dim, normalize)};
                }
                case CLS -> new float[][] {normalize(h[first], dim, normalize)};
                case LAST -> new float[][] {normalize(h[first + len - 1], dim, normalize)};
            };
        }
        return out;
    }

    /** llama.cpp's common_embd_normalize (c392e50 common/common.cpp), into a new array. */
    static float[] normalize(float[] in, int n, int norm) {
        double sum = 0.0;
        switch (norm) {
            case -1 -> sum = 1.0;
            case 0 -> {
                for (int i = 0; i < n; i++) {
                    if (sum < Math.abs(in[i])) {
                        sum = Math.abs(in[i]);
                    }
                }
                sum /= 32760.0;
            }
            case 2 -> {
                for (int i = 0; i < n; i++) {
                    sum += in[i] * in[i];
                }
                sum = Math.sqrt(sum);
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    sum += Math.pow(Math.abs(in[i]), norm);
                }
                sum = Math.pow(sum, 1.0 / norm);
            }
        }
        float f = sum > 0.0 ? (float) (1.0 / sum) : 0.0f;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = in[i] * f;
        }
        return out;
    }

    /** Groups inputs into passes of at most {@code batchTokens} tokens (a longer input alone), in order. */
    public static List<List<Integer>> batches(List<int[]> inputs, int batchTokens) {
        List<List<Integer>> out = new ArrayList<>();
        List<Integer> cur = new ArrayList<>();
        int tokens = 0;
        for (int i = 0; i < inputs.size(); i++) {
            int len = inputs.get(i).length;
            if (!cur.isEmpty() && tokens + len > batchTokens) {
                out.add(cur);
                cur = new ArrayList<>();
                tokens = 0;
            }
            cur.add(i);
            tokens += len;
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    @Override
    public void close() {
        cpu.close();
    }
}
