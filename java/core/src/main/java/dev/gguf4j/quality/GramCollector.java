package dev.gguf4j.quality;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.engine.MatmulObserver;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.Perplexity;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Gram matrix {@code X^T X} (sum over calibration tokens of the outer product of each input row) of every
 * weight matrix's input in a forward pass: what GPTQ ({@link dev.gguf4j.quant.Gptq}) needs, where an importance
 * matrix keeps only its diagonal. Weights that take the same input in one product (attn_q/k/v, ffn_gate/up: the
 * engine reports them one after the other with the same activations) share one matrix. Plain (not MoE expert)
 * products only; {@code output.weight} included.
 */
public final class GramCollector implements MatmulObserver {
    /** One input's accumulator: the upper triangle of X^T X (row-major n x n), tokens seen. */
    private static final class Gram {
        final int n;
        final double[] sum;
        long tokens;

        Gram(int n) {
            this.n = n;
            sum = new double[n * n];
        }
    }

    private final Map<String, Gram> grams = new LinkedHashMap<>();
    private final Map<String, String> alias = new HashMap<>();
    private float[][] lastX;
    private int lastN;
    private String lastWeight;
    private float[] tile = new float[0];
    private float[] lastCopy = new float[0];
    private long nanos;

    /** Seconds spent summing outer products (the rest of a collection is the forward pass). */
    public double seconds() {
        return nanos / 1e9;
    }

    /** Whether x[0 .. n) still holds what the last accumulated product's input held (not rewritten since). */
    private boolean same(float[][] x, int n, int cols) {
        for (int r = 0; r < n; r++) {
            if (!java.util.Arrays.equals(x[r], 0, cols, lastCopy, r * cols, r * cols + cols)) {
                return false;
            }
        }
        return true;
    }

    /** Runs {@code tokens} (with BOS) through {@code llama} in chunks of {@code nCtx} ({@code maxChunks} < 0: all). */
    public static GramCollector collect(Llama llama, int[] tokens, int nCtx, int maxChunks) {
        GramCollector c = new GramCollector();
        Perplexity.compute(llama, tokens, nCtx, maxChunks, null, c);
        return c;
    }

    @Override
    public void input(String weight, float[][] x, int n, int cols) {
        if (x == lastX && n == lastN && lastWeight != null && grams.get(lastWeight).n == cols && same(x, n, cols)) {
            String prev = alias.putIfAbsent(weight, lastWeight);
            if (prev != null && !prev.equals(lastWeight)) {
                throw new IllegalStateException(weight + " shared its input with " + prev + ", now " + lastWeight);
            }
            return;
        }
        String owner = alias.getOrDefault(weight, weight);
        Gram g = grams.computeIfAbsent(owner, k -> new Gram(cols));
        if (g.n != cols) {
            throw new Gguf4jException("calibration: inconsistent input size for " + weight);
        }
        long t0 = System.nanoTime();
        accumulate(g, x, n);
        nanos += System.nanoTime() - t0;
        if (lastCopy.length < n * cols) {
            lastCopy = new float[n * cols];
        }
        for (int r = 0; r < n; r++) {
            System.arraycopy(x[r], 0, lastCopy, r * cols, cols);
        }
        lastX = x;
        lastN = n;
        lastWeight = owner;
    }

    /** sum += X^T X for the rows x[0 .. rows), upper triangle, in float per call and double across calls. */
    private void accumulate(Gram g, float[][] x, int rows) {
        int n = g.n;
        if (tile.length < n * n) {
            tile = new float[n * n];
        }
        float[] t = tile;
        // blocks of 16 rows i of the upper triangle, in parallel (independent); within one, 4 tokens at a time
        // stay in cache across its 16 rows
        int blocks = (n + 15) / 16;
        java.util.stream.IntStream.range(0, blocks).parallel().forEach(bk -> {
            int i0 = bk * 16;
            int i1 = Math.min(n, i0 + 16);
            for (int i = i0; i < i1; i++) {
                java.util.Arrays.fill(t, i * n + i, i * n + n, 0f);
            }
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                float[] a = x[r];
                float[] b = x[r + 1];
                float[] c = x[r + 2];
                float[] d = x[r + 3];
                for (int i = i0; i < i1; i++) {
                    float ai = a[i];
                    float bi = b[i];
                    float ci = c[i];
                    float di = d[i];
                    int o = i * n;
                    for (int j = i; j < n; j++) {
                        t[o + j] += ai * a[j] + bi * b[j] + ci * c[j] + di * d[j];
                    }
                }
            }
            for (; r < rows; r++) {
                float[] a = x[r];
                for (int i = i0; i < i1; i++) {
                    float ai = a[i];
                    int o = i * n;
                    for (int j = i; j < n; j++) {
                        t[o + j] += ai * a[j];
                    }
                }
            }
        });
        double[] s = g.sum;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                s[i * n + j] += t[i * n + j];
            }
        }
        g.tokens += rows;
    }

    /** The symmetric Gram matrix of {@code weight}'s input (row-major n x n), or null when it was never seen. */
    public double[] gram(String weight) {
        Gram g = grams.get(alias.getOrDefault(weight, weight));
        if (g == null) {
            return null;
        }
        int n = g.n;
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                m[i * n + j] = g.sum[i * n + j];
                m[j * n + i] = g.sum[i * n + j];
            }
        }
        return m;
    }

    /** The name whose Gram matrix {@code weight} uses (itself unless it shares an input). */
    public String owner(String weight) {
        return alias.getOrDefault(weight, weight);
    }

    /** Tokens seen by {@code weight}'s input. */
    public long tokens(String weight) {
        Gram g = grams.get(alias.getOrDefault(weight, weight));
        return g == null ? 0 : g.tokens;
    }
}
