package dev.gguf4j.engine;

import dev.gguf4j.backend.DeviceBuffer;
import dev.gguf4j.backend.DeviceContext;
import dev.gguf4j.backend.DeviceGraph;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A session's side of the offload: its device context, activation buffers and the KV cache of the offloaded
 * layers, and the device half of the forward pass. One step: the hidden states (and the position) go up in one
 * upload, layers [firstLayer, layers) run on the device, then either the logits (output layer on the device) or
 * the hidden states come back in one download (a batch that asks for every token's logits: one per
 * {@link #OUTPUT_ROWS} tokens).
 */
public final class DeviceLayers implements AutoCloseable {
    /** The io buffer holds the first position (an int32) at 0 and the hidden states [tokens][dim] from here. */
    private static final long HIDDEN_OFFSET = 256;
    /** Logits are computed and brought back this many tokens at a time (a prompt's all-logits batch). */
    static final int OUTPUT_ROWS = 16;

    private final DeviceWeights weights;
    private final LlamaConfig c;
    private final Architecture arch;
    private final DeviceOps ops;
    private final int contextLength;
    private final int maxTokens;
    private final DeviceContext ctx;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment staging;
    private final DeviceBuffer io;
    private final DeviceBuffer pos0;
    private final DeviceBuffer x;
    private final DeviceBuffer xb;
    private final DeviceBuffer xb2;
    private final DeviceBuffer q;
    private final DeviceBuffer att; // the attention output: xb when qDim = dim, else its own
    private final DeviceBuffer k;
    private final DeviceBuffer v;
    private final DeviceBuffer hb;
    private final DeviceBuffer hb2;
    private final DeviceBuffer logits;
    private final DeviceBuffer argmax;
    private final DeviceBuffer[] keyCache;
    private final DeviceBuffer[] valueCache;
    // the one-token step, recorded once per kind and replayed: hidden states back, logits, argmax
    private static final int HIDDEN = 0;
    private static final int LOGITS = 1;
    private static final int ARGMAX = 2;
    private boolean useGraphs;
    private final DeviceGraph[] graphs = new DeviceGraph[3];
    private final int[] eagerRuns = new int[3];
    private final Runnable[] oneTokenOps = {this::oneTokenHidden, this::oneTokenLogits, this::oneTokenArgmax};
    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");

    /** Activation bytes a session needs on the device for up to {@code maxTokens} tokens per step. */
    static long scratchBytes(LlamaConfig c, int maxTokens) {
        // x, xb, xb2 / q (and att when it cannot share xb: a head size other than n_embd / n_head) / k, v / hb, hb2
        long perToken = 3L * c.dim() + (c.qDim() == c.dim() ? 1L : 2L) * c.qDim() + 2L * c.kvDim() + 2L * c.ffDim();
        return HIDDEN_OFFSET + 4L * maxTokens * perToken + libraryScratchBytes(c, maxTokens)
                + DeviceOps.moeScratchBytes(c, maxTokens);
    }

    /** An estimate of the device library's own scratch (8-bit copies of activations for integer dot products). */
    public static long libraryScratchBytes(LlamaConfig c, int maxTokens) {
        return 2L * maxTokens * Math.max(c.dim(), c.ffDim());
    }

    /** Extra bytes when the output layer is on the device: the logits, and the argmax result. */
    static long outputScratchBytes(LlamaConfig c, int maxTokens) {
        return 4L * Math.min(maxTokens, OUTPUT_ROWS) * c.vocab() + 256;
    }

    /** KV cache bytes per layer. */
    static long kvBytesPerLayer(LlamaConfig c, int contextLength, LlamaSession.KvType kv) {
        return 2L * contextLength * c.kvDim() * (kv == LlamaSession.KvType.F16 ? 2 : 4);
    }

    /** {@code graphs}: record the one-token step once and replay it (CUDA graphs) instead of issuing each op. */
    DeviceLayers(DeviceWeights weights, LlamaModel model, int contextLength, LlamaSession.KvType kv, int maxTokens,
            boolean graphs) {
        this.weights = weights;
        this.c = model.config();
        // a mixture-of-experts step routes on the host mid-step (a download): it cannot be recorded as a graph
        this.useGraphs = graphs && c.experts() == 0;
        this.arch = model.architecture();
        this.contextLength = contextLength;
        this.maxTokens = maxTokens;
        this.ctx = weights.accelerator().open();
        try {
            long n = maxTokens;
            io = ctx.alloc(HIDDEN_OFFSET + 4 * n * c.dim(), "hidden states");
            pos0 = io.slice(0, 4);
            x = io.slice(HIDDEN_OFFSET);
            xb = ctx.alloc(4 * n * c.dim(), "activations");
            xb2 = ctx.alloc(4 * n * c.dim(), "activations");
            q = ctx.alloc(4 * n * c.qDim(), "activations");
            att = c.qDim() == c.dim() ? xb : ctx.alloc(4 * n * c.qDim(), "activations");
            k = ctx.alloc(4 * n * c.kvDim(), "activations");
            v = ctx.alloc(4 * n * c.kvDim(), "activations");
            hb = ctx.alloc(4 * n * c.ffDim(), "activations");
            hb2 = ctx.alloc(4 * n * c.ffDim(), "activations");
            long outRows = Math.min(n, OUTPUT_ROWS);
            logits = weights.outputOnDevice() ? ctx.alloc(4 * outRows * c.vocab() + 256, "logits") : null;
            argmax = logits == null ? null : logits.slice(4 * outRows * c.vocab(), 4);
            keyCache = new DeviceBuffer[c.layers()];
            valueCache = new DeviceBuffer[c.layers()];
            long cache = kvBytesPerLayer(c, contextLength, kv) / 2;
            for (int l = weights.firstLayer(); l < c.layers(); l++) {
                keyCache[l] = ctx.alloc(cache, "KV cache of layer " + l);
                valueCache[l] = ctx.alloc(cache, "KV cache of layer " + l);
            }
            staging = arena.allocate(Math.max(HIDDEN_OFFSET + 4 * n * c.dim(), 4 * outRows * c.vocab()), 64);
            ops = new DeviceOps(ctx, weights, model, kv == LlamaSession.KvType.F16 ? GgmlType.F16 : GgmlType.F32,
                    contextLength, pos0, keyCache, valueCache);
            ops.bind(BlockOps.Act.X, x);
            ops.bind(BlockOps.Act.XB, xb);
            ops.bind(BlockOps.Act.ATT, att); // shares xb when qDim = dim (the blocks read xb before attention writes)
            ops.bind(BlockOps.Act.XB2, xb2);
            ops.bind(BlockOps.Act.Q, q);
            ops.bind(BlockOps.Act.K, k);
            ops.bind(BlockOps.Act.V, v);
            ops.bind(BlockOps.Act.HB, hb);
            ops.bind(BlockOps.Act.HB2, hb2);
            ops.bind(BlockOps.Act.LOGITS, logits);
            if (c.experts() > 0) {
                ops.bindMoe(maxTokens, arena.allocate(4L * n * c.experts(), 64));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    int firstLayer() {
        return weights.firstLayer();
    }

    /** Tokens one {@link #run} takes at most. */
    int maxTokens() {
        return maxTokens;
    }

    /** Whether the output layer runs here (then {@link #runArgmax} is available). */
    boolean outputOnDevice() {
        return weights.outputOnDevice();
    }

    /**
     * The device half of a greedy step for one token at {@code pos} with hidden state {@code x}: the index of the
     * largest logit (the lowest among equals), computed on the device; 4 bytes come back instead of the logits.
     */
    int runArgmax(float[] xh, int pos) {
        int dim = c.dim();
        staging.set(ValueLayout.JAVA_INT, 0, pos);
        MemorySegment.copy(xh, 0, staging, ValueLayout.JAVA_FLOAT, HIDDEN_OFFSET, dim);
        ctx.upload(io, staging, HIDDEN_OFFSET + 4L * dim);
        step(ARGMAX);
        ctx.download(staging, argmax, 4);
        return staging.get(ValueLayout.JAVA_INT, 0);
    }

    /** The one-token step of this kind: op by op the first time, then recorded once and replayed. */
    private void step(int kind) {
        if (!useGraphs) {
            oneTokenOps[kind].run();
            return;
        }
        if (graphs[kind] == null && eagerRuns[kind]++ == 0) {
            // the first time op by op: whatever the device library sets up lazily (scratch) is not recorded
            oneTokenOps[kind].run();
            return;
        }
        if (graphs[kind] == null) {
            try {
                ctx.beginGraph();
                oneTokenOps[kind].run();
                graphs[kind] = ctx.endGraph();
            } catch (RuntimeException e) {
                try {
                    ctx.endGraph().close();
                } catch (RuntimeException ignored) {
                    // recording had not started, or ended with the failure
                }
                useGraphs = false;
                LOG.log(System.Logger.Level.WARNING, "gguf4j: recording the one-token step as a device graph failed;"
                        + " running op by op (-D" + dev.gguf4j.Settings.DEVICE_GRAPHS + "=false avoids trying): " + e);
                oneTokenOps[kind].run();
                return;
            }
        }
        ctx.launch(graphs[kind]);
    }

    private void oneTokenHidden() {
        layers(1);
    }

    private void oneTokenLogits() {
        layers(1);
        logits(1, x);
    }

    private void oneTokenArgmax() {
        oneTokenLogits();
        ctx.argmax(c.vocab(), logits, argmax);
    }

    /** The architecture's block for layers [firstLayer, layers) on the device, for {@code n} tokens. */
    private void layers(int n) {
        ops.tokens(n);
        for (int l = weights.firstLayer(); l < c.layers(); l++) {
            arch.block(ops, l);
        }
    }

    /** Logits of the {@code count} hidden states at {@code rows} into the logits buffer: the architecture's head. */
    private void logits(int count, DeviceBuffer rows) {
        ops.tokens(count);
        ops.bind(BlockOps.Act.X, rows);
        arch.head(ops);
        ops.bind(BlockOps.Act.X, x);
    }

    /**
     * The device half of a step for {@code n} tokens at positions pos..pos+n-1 whose hidden states are {@code xs[0..n)}
     * after the CPU layers. With the output layer on the device: puts the logits of tokens [first, n) in
     * {@code out[0..n-first)} and returns true. Otherwise writes the hidden states back to {@code xs} and returns
     * false (the CPU computes the logits).
     */
    boolean run(float[][] xs, int n, int pos, int first, float[][] out) {
        int dim = c.dim();
        staging.set(ValueLayout.JAVA_INT, 0, pos);
        for (int t = 0; t < n; t++) {
            MemorySegment.copy(xs[t], 0, staging, ValueLayout.JAVA_FLOAT, HIDDEN_OFFSET + 4L * t * dim, dim);
        }
        ctx.upload(io, staging, HIDDEN_OFFSET + 4L * n * dim);
        boolean oneToken = n == 1 && first == 0;
        if (!weights.outputOnDevice()) {
            if (oneToken) {
                step(HIDDEN);
            } else {
                layers(n);
            }
            ctx.download(staging, x, 4L * n * dim);
            for (int t = 0; t < n; t++) {
                MemorySegment.copy(staging, ValueLayout.JAVA_FLOAT, 4L * t * dim, xs[t], 0, dim);
            }
            return false;
        }
        if (oneToken) {
            step(LOGITS);
            ctx.download(staging, logits, 4L * c.vocab());
            MemorySegment.copy(staging, ValueLayout.JAVA_FLOAT, 0, out[0], 0, c.vocab());
            return true;
        }
        layers(n);
        for (int from = first; from < n; from += OUTPUT_ROWS) { // OUTPUT_ROWS tokens' logits at a time
            int count = Math.min(OUTPUT_ROWS, n - from);
            logits(count, from == 0 ? x : x.slice(4L * from * dim));
            ctx.download(staging, logits, 4L * count * c.vocab());
            for (int t = 0; t < count; t++) {
                MemorySegment.copy(staging, ValueLayout.JAVA_FLOAT, 4L * t * c.vocab(), out[from - first + t], 0,
                        c.vocab());
            }
        }
        return true;
    }

    /** Bytes of KV cache allocated on the device (its layers, keys and values). */
    long kvCacheBytes() {
        long n = 0;
        for (int l = 0; l < keyCache.length; l++) {
            n += (keyCache[l] == null ? 0 : keyCache[l].byteSize()) + (valueCache[l] == null ? 0 : valueCache[l].byteSize());
        }
        return n;
    }

    @Override
    public void close() {
        for (DeviceGraph g : graphs) {
            if (g != null) {
                g.close();
            }
        }
        ctx.close();
        arena.close();
    }
}
