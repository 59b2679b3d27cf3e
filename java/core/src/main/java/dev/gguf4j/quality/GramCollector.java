package dev.gguf4j.quality;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.internal.NativeCpu;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import dev.gguf4j.engine.MatmulObserver;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.Perplexity;
import dev.gguf4j.quant.Gptq;
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
    /**
     * One input's accumulator: the upper triangle of X^T X, packed by rows (row i holds columns i .. n-1, see
     * {@link Gptq#packedIndex}), in float: each product adds one batch's sums (exact products, float sums from the
     * native kernel), so a 64 x 256-token pass adds 64+ partial sums per entry; tokens seen.
     */
    private static final class Gram {
        final int n;
        final float[] sum;
        long tokens;

        Gram(int n) {
            this.n = n;
            sum = new float[Math.toIntExact(Gptq.packedSize(n))];
        }
    }

    private final Map<String, Gram> grams = new LinkedHashMap<>();
    private final Map<String, String> alias = new HashMap<>();
    private float[][] lastX;
    private int lastN;
    private String lastWeight;
    private final Arena arena = Arena.ofAuto();
    private MemorySegment xt; // X^T of the current product, off-heap
    private MemorySegment tile; // its n x n products
    private static final int BLOCK = 64;
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

    /**
     * sum += X^T X for the rows x[0 .. rows), upper triangle: X^T (cols x rows) is written once off-heap and the
     * native F32 matrix product ({@code g4j_matmat_converted}, F32 "weights" = the rows of X^T, F32 activations
     * = the rows of X^T too) computes, for each block of 64 columns i, the products with every column j >= the
     * block's first; blocks run in parallel.
     */
    private void accumulate(Gram g, float[][] x, int rows) {
        int n = g.n;
        long xtBytes = (long) n * rows * Float.BYTES;
        if (xt == null || xt.byteSize() < xtBytes) {
            xt = arena.allocate(xtBytes, 64);
        }
        if (tile == null || tile.byteSize() < (long) n * n * Float.BYTES) {
            tile = arena.allocate((long) n * n * Float.BYTES, 64);
        }
        MemorySegment xs = xt;
        MemorySegment ts = tile;
        for (int r = 0; r < rows; r++) {
            float[] row = x[r];
            for (int i = 0; i < n; i++) {
                xs.setAtIndex(ValueLayout.JAVA_FLOAT, (long) i * rows + r, row[i]);
            }
        }
        NativeCpu lib = CpuBackend.get().library();
        int isa = lib.isa();
        int blocks = (n + BLOCK - 1) / BLOCK;
        java.util.stream.IntStream.range(0, blocks).parallel().forEach(bk -> {
            int i0 = bk * BLOCK;
            int i1 = Math.min(n, i0 + BLOCK);
            // y[j * n + i] = sum_t X[t][i] X[t][j] for i in [i0, i1), j in [i0, n)
            lib.matmatConverted(isa, GgmlType.F32, i0, i0, i1 - i0, rows, xs, (long) rows * Float.BYTES, n - i0,
                    xs.asSlice((long) i0 * rows * Float.BYTES), (long) rows * Float.BYTES,
                    ts.asSlice((long) i0 * n * Float.BYTES), n);
        });
        float[] s = g.sum;
        for (int i = 0; i < n; i++) {
            int o = (int) Gptq.packedIndex(n, i, i);
            for (int j = i; j < n; j++) {
                s[o + j - i] += ts.getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * n + i);
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
                double v = g.sum[(int) Gptq.packedIndex(n, i, j)];
                m[i * n + j] = v;
                m[j * n + i] = v;
            }
        }
        return m;
    }

    /** The names that own an input (a Gram matrix), in the order the forward pass first reached them. */
    public java.util.Set<String> inputs() {
        return java.util.Collections.unmodifiableSet(grams.keySet());
    }

    /** Weight name to the name of the weight whose input it shares (only weights that share one). */
    public Map<String, String> shares() {
        return java.util.Collections.unmodifiableMap(alias);
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
