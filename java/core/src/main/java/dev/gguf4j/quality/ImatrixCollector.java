package dev.gguf4j.quality;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.engine.MatmulObserver;
import dev.gguf4j.llama.Perplexity;
import dev.gguf4j.quantize.Imatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An importance matrix as llama-imatrix c392e50 computes it: for every weight matrix the forward pass multiplies,
 * the sum over tokens of the squared input of each column ({@code x[j]^2}), with per-column counts and the number
 * of products seen ({@code ncall}); for a stacked MoE expert weight, one such vector per expert. Which products
 * count follows llama-imatrix's callback: plain products of at least 16 tokens whose weight's name starts with
 * {@code blk.} (and {@code output.weight} with {@code processOutput}); every expert product.
 *
 * <p>{@link #collect} runs a text through a model as llama-imatrix does (chunks of {@code nCtx} tokens, BOS
 * first, each evaluated from an empty cache in steps of {@link Perplexity#UBATCH} tokens, the second half of each
 * chunk scored for its perplexity); {@link #write} saves the result in llama-imatrix's {@code .dat} format, which
 * {@code quantize --imatrix} (here and llama-quantize) reads.
 */
public final class ImatrixCollector implements MatmulObserver {
    /** llama-imatrix skips plain products of fewer tokens than this ("why are small batches ignored?"). */
    public static final int MIN_TOKENS = 16;

    private final boolean processOutput;
    private final Map<String, Stats> stats = new LinkedHashMap<>();
    private int lastCall;

    /** One weight's accumulators: sums of x^2 and counts per column (x experts), products seen. */
    private static final class Stats {
        final float[] values;
        final int[] counts;
        int ncall;

        Stats(int n) {
            values = new float[n];
            counts = new int[n];
        }
    }

    /** Collects {@code blk.*} weights, and {@code output.weight} too when {@code processOutput}. */
    public ImatrixCollector(boolean processOutput) {
        this.processOutput = processOutput;
    }

    /** The result of {@link #collect}: the matrix and the text's perplexity as llama-imatrix prints it. */
    public record Run(ImatrixCollector imatrix, Perplexity.Result perplexity) {
    }

    /**
     * llama-imatrix's computation: {@code tokens} (the text tokenized with BOS) in chunks of {@code nCtx},
     * {@code maxChunks} < 0 for all; {@code listener} (null: none) sees each chunk with the perplexity so far. A
     * text shorter than 2 x nCtx tokens is refused, as llama-imatrix refuses it.
     */
    public static Run collect(Llama llama, int[] tokens, int nCtx, int maxChunks, boolean processOutput,
            Perplexity.ChunkListener listener) {
        ImatrixCollector c = new ImatrixCollector(processOutput);
        Perplexity.chunks(tokens.length, nCtx, maxChunks, "imatrix");
        Perplexity.Result r = Perplexity.compute(llama, tokens, nCtx, maxChunks, listener, c);
        return new Run(c, r);
    }

    private boolean wanted(String weight) {
        return weight.startsWith("blk.") || (processOutput && weight.equals("output.weight"));
    }

    private Stats stats(String weight, int size) {
        Stats e = stats.computeIfAbsent(weight, k -> new Stats(size));
        if (e.values.length != size) {
            throw new Gguf4jException("imatrix: inconsistent size for " + weight + " (" + e.values.length + " vs "
                    + size + ")");
        }
        return e;
    }

    @Override
    public void input(String weight, float[][] x, int n, int cols) {
        if (n < MIN_TOKENS || !wanted(weight)) {
            return;
        }
        Stats e = stats(weight, cols);
        e.ncall++;
        float[] v = e.values;
        int[] cnt = e.counts;
        for (int row = 0; row < n; row++) {
            float[] r = x[row];
            for (int j = 0; j < cols; j++) {
                v[j] += r[j] * r[j];
                cnt[j]++;
            }
        }
        check(weight, v);
        lastCall = Math.max(lastCall, e.ncall);
    }

    @Override
    public void expertInput(String weight, int experts, int[] ids, int k, float[][] x, int n, boolean perSlot,
            int cols) {
        Stats e = stats(weight, cols * experts);
        e.ncall++;
        // llama-imatrix's loop order: expert, slot, token
        for (int ex = 0; ex < experts; ex++) {
            int base = ex * cols;
            for (int s = 0; s < k; s++) {
                for (int t = 0; t < n; t++) {
                    int cur = ids[t * k + s];
                    if (cur < 0 || cur >= experts) {
                        throw new IllegalArgumentException(weight + ": expert id " + cur + " outside [0, " + experts + ")");
                    }
                    if (cur != ex) {
                        continue;
                    }
                    float[] r = x[perSlot ? t * k + s : t];
                    for (int j = 0; j < cols; j++) {
                        e.values[base + j] += r[j] * r[j];
                        e.counts[base + j]++;
                    }
                }
            }
        }
        check(weight, e.values);
        lastCall = Math.max(lastCall, e.ncall);
    }

    private static void check(String weight, float[] v) {
        for (float f : v) {
            if (!Float.isFinite(f)) {
                throw new Gguf4jException("imatrix: " + f + " detected in " + weight);
            }
        }
    }

    /** The number of products seen by the weight seen most often (llama-imatrix's chunk count: m_last_call). */
    public int calls() {
        return lastCall;
    }

    /** Weights seen, in the order first seen. */
    public List<String> weights() {
        return List.copyOf(stats.keySet());
    }

    /**
     * The entries as llama-imatrix saves them: per weight with data in every column, {@code sum / count * ncall}
     * (in float, as it computes it); weights with a column never reached (an expert no token chose) are left out,
     * as llama-imatrix leaves them out, and listed in {@code skipped} when it is not null.
     */
    public List<Imatrix.StoredEntry> entries(List<String> skipped) {
        List<Imatrix.StoredEntry> out = new ArrayList<>();
        stats.forEach((name, e) -> {
            int zeros = 0;
            for (int c : e.counts) {
                zeros += c == 0 ? 1 : 0;
            }
            if (zeros > 0) {
                if (skipped != null) {
                    skipped.add(name + (zeros == e.counts.length ? " (no data)" : String.format(java.util.Locale.ROOT,
                            " (partial data: %.2f%%)", 100.0f * (e.counts.length - zeros) / e.counts.length)));
                }
                return;
            }
            float[] v = new float[e.values.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = (e.values[i] / (float) e.counts[i]) * (float) e.ncall;
            }
            out.add(new Imatrix.StoredEntry(name, e.ncall, v));
        });
        return Collections.unmodifiableList(out);
    }

    /**
     * Writes the matrix in llama-imatrix's {@code .dat} format, naming {@code dataset} (the calibration text as
     * given on the command line: llama-quantize copies it into the quantized file's metadata); returns the
     * weights left out (see {@link #entries}).
     */
    public List<String> write(Path out, String dataset) throws IOException {
        List<String> skipped = new ArrayList<>();
        List<Imatrix.StoredEntry> entries = entries(skipped);
        if (entries.isEmpty()) {
            throw new Gguf4jException(out + ": no imatrix entry has data (" + stats.size() + " weights seen)");
        }
        Imatrix.write(out, entries, lastCall, dataset);
        return skipped;
    }
}
