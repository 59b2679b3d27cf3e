package dev.gguf4j.llama;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.CpuMath;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link BlockOps} on the CPU: matmuls through {@link MatMul} (the backend's kernels, rows split over the
 * {@link WorkerPool}), attention through {@link Backend#attention} (heads split over the workers), the element-wise
 * ops through {@link CpuMath}, a slice of the tokens per worker (one token runs on the calling thread). Owns a
 * session's activations ([tokens][width] float arrays, grown to the largest step) and the KV cache of the layers
 * the CPU runs. Nothing is allocated per op once the buffers have grown.
 *
 * <p>A step's rows may belong to several sequences ({@link #beginSegments}, {@link BatchEngine}): each sequence
 * has its own KV cache (a slot), each segment of rows its own positions; the matmuls and element-wise ops run
 * over all rows at once (a row's result does not depend on the other rows: each output element is one row's dot
 * product in the kernel's fixed order), attention runs per segment over its slot's cache.
 */
final class CpuOps implements BlockOps, AutoCloseable {
    private final LlamaModel model;
    private final LlamaConfig c;
    private final Backend backend;
    private final WorkerPool pool;
    private final MatMul matmul;
    private final boolean f16Cache;
    private final Arena arena = Arena.ofShared(); // KV cache and attention buffers, freed by close()
    // KV cache of the CPU's layers, off-heap: [slot][layer] -> [ctx][kvDim] elements of F16 bits or F32
    private final MemorySegment[][] keyCache;
    private final MemorySegment[][] valueCache;
    private final float[] attentionScale; // [layer]
    private final float[] attentionSoftCap; // [layer], 0: none
    private final int[] attentionWindow;    // [layer], 0: none
    private MemorySegment attnQ;   // [tokens][qDim] queries handed to the attention kernel
    private MemorySegment attnOut; // [tokens][qDim] its output
    private final float thetaScale;
    private final float[] ropeFactors; // per-frequency divisors for this context (rope_freqs, LongRoPE), or null
    private final float[] yarnCorrDims; // YaRN's {lo, hi}, or null without YaRN
    private float[] ropeCos = new float[0]; // [tokens][ropeDim/2] cos of each pair's angle at each token's position
    private float[] ropeSin = new float[0]; // [tokens][ropeDim/2]

    private final float[][][] acts = new float[Act.values().length][][]; // [slot][token][width]
    private int capacity;
    private int n;    // tokens of the current step
    // the step's segments: rows [segStart, segStart + segLen) of sequence slot segSlot at positions segPos0 ..
    private int segments;
    private int[] segStart = new int[1];
    private int[] segLen = new int[1];
    private int[] segSlot = new int[1];
    private int[] segPos0 = new int[1];
    private int[] rowPos = new int[0];  // [row] position
    private int[] rowSlot = new int[0]; // [row] slot
    private final int[] one = new int[1];
    private final int[] zero = new int[1];
    private final int[] firstPos = new int[1];

    // scratch for grouped matmuls: [count] -> arrays of that length, refilled per call
    private final Weight[][] groupWeights = new Weight[5][];
    private final float[][][][] groupOuts = new float[5][][][];

    // the element-wise op in progress, read by opTask on the workers (no allocation per op)
    private static final int RMS_NORM = 0;
    private static final int ADD_BIAS = 1;
    private static final int ROPE = 2;
    private static final int STORE_KV = 3;
    private static final int SWIGLU = 4;
    private static final int ADD = 5;
    private static final int SCALE = 6;
    private static final int SOFT_CAP = 7;
    private static final int GEGLU = 8;
    private int op;
    private float[][] opA;
    private float[][] opB;
    private float[][] opOut;
    private float[] opVec;
    private int opWidth;
    private int opHeads;
    private int opLayer;
    private float opScalar;
    private final WorkerPool.RangeTask opTask = this::elements;
    private int attnLayer; // the attention call in progress, read by attnTask on the workers
    private final WorkerPool.RangeTask attnTask = this::attendHeads;

    /** Keeps the KV cache of layers [0, cpuLayers) for {@code contextLength} positions (one sequence). */
    CpuOps(LlamaModel model, Backend backend, int threads, int contextLength, LlamaSession.KvType kvType,
            int cpuLayers) {
        this(model, backend, threads, contextLength, kvType, cpuLayers, 1);
    }

    /** {@code slots} sequences, each with the KV cache of layers [0, cpuLayers) for {@code contextLength} positions. */
    CpuOps(LlamaModel model, Backend backend, int threads, int contextLength, LlamaSession.KvType kvType,
            int cpuLayers, int slots) {
        this.model = model;
        this.c = model.config();
        this.backend = backend;
        this.f16Cache = kvType == LlamaSession.KvType.F16;
        for (int i = 0; i < groupWeights.length; i++) {
            groupWeights[i] = new Weight[i];
            groupOuts[i] = new float[i][][];
        }
        attentionScale = new float[c.layers()];
        attentionSoftCap = new float[c.layers()];
        attentionWindow = new int[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            Attention a = model.architecture().attention(c, l);
            attentionScale[l] = a.scale();
            attentionSoftCap[l] = a.softCap();
            attentionWindow[l] = a.slidingWindow();
        }
        this.pool = new WorkerPool(threads);
        this.matmul = new MatMul(backend, pool, Math.max(Math.max(c.dim(), c.qDim()), c.ffDim()),
                Math.max(c.vocab(), Math.max(2 * c.ffDim(), c.qDim() + 2 * c.kvDim())));
        long layerBytes = (long) contextLength * c.kvDim() * (f16Cache ? 2 : 4);
        keyCache = new MemorySegment[slots][c.layers()];
        valueCache = new MemorySegment[slots][c.layers()];
        try {
            for (int s = 0; s < slots; s++) {
                for (int l = 0; l < cpuLayers; l++) {
                    keyCache[s][l] = arena.allocate(layerBytes, 64);
                    valueCache[s][l] = arena.allocate(layerBytes, 64);
                }
            }
        } catch (OutOfMemoryError e) {
            close();
            throw new Gguf4jException("cannot allocate the KV cache: " + (slots > 1 ? slots + " sequences x " : "")
                    + cpuLayers + " layers x 2 x " + layerBytes + " bytes (" + contextLength + " positions x "
                    + c.kvDim() + " " + kvType + "); use a shorter context" + (slots > 1 ? ", fewer sequences" : "")
                    + " or the F16 cache", e);
        }
        attnQ = arena.allocate((long) c.qDim() * 4, 64);
        attnOut = arena.allocate((long) c.qDim() * 4, 64);
        thetaScale = CpuMath.ropeThetaScale(c.ropeTheta(), c.ropeDim());
        ropeFactors = model.ropeFactors(contextLength);
        // llama.cpp's context defaults: beta_fast 32, beta_slow 1
        yarnCorrDims = c.ropeExtFactor() == 0.0f ? null
                : CpuMath.ropeYarnCorrDims(c.ropeDim(), c.ropeOrigContext(), c.ropeTheta(), 32.0f, 1.0f);
        grow(1);
    }

    @Override
    public String name() {
        return "cpu (" + backend.name() + ")";
    }

    @Override
    public LlamaConfig config() {
        return c;
    }

    @Override
    public int tokens() {
        return n;
    }

    /** Starts a step of {@code tokens} tokens at positions {@code first ..}: sizes the buffers, fills the RoPE tables. */
    void begin(int tokens, int first) {
        one[0] = tokens;
        firstPos[0] = first;
        beginSegments(1, zero, firstPos, one);
    }

    /**
     * Starts a step over {@code count} sequences: segment {@code i} is {@code len[i]} rows of slot {@code slot[i]}
     * at positions {@code pos0[i] ..}, the segments' rows one after another.
     */
    void beginSegments(int count, int[] slot, int[] pos0, int[] len) {
        int tokens = 0;
        if (segStart.length < count) {
            segStart = new int[count];
            segLen = new int[count];
            segSlot = new int[count];
            segPos0 = new int[count];
        }
        for (int i = 0; i < count; i++) {
            segStart[i] = tokens;
            segLen[i] = len[i];
            segSlot[i] = slot[i];
            segPos0[i] = pos0[i];
            tokens += len[i];
        }
        segments = count;
        grow(tokens);
        n = tokens;
        if (rowPos.length < tokens) {
            rowPos = new int[tokens];
            rowSlot = new int[tokens];
        }
        int half = c.ropeDim() / 2;
        if (ropeCos.length < tokens * half) {
            ropeCos = new float[tokens * half];
            ropeSin = new float[tokens * half];
        }
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < len[i]; j++) {
                int b = segStart[i] + j;
                rowPos[b] = pos0[i] + j;
                rowSlot[b] = slot[i];
                CpuMath.ropeAngles(rowPos[b], half, thetaScale, c.ropeFreqScale(), ropeFactors, c.ropeExtFactor(),
                        yarnCorrDims, c.ropeAttnFactor(), ropeCos, ropeSin, b * half);
            }
        }
    }

    /** Copies positions [0, n) of slot {@code from}'s KV cache into slot {@code to}'s. */
    void copyCache(int from, int to, int n) {
        long bytes = (long) n * c.kvDim() * (f16Cache ? 2 : 4);
        for (int l = 0; l < keyCache[from].length; l++) {
            if (keyCache[from][l] != null) {
                MemorySegment.copy(keyCache[from][l], 0, keyCache[to][l], 0, bytes);
                MemorySegment.copy(valueCache[from][l], 0, valueCache[to][l], 0, bytes);
            }
        }
    }

    /** Puts the embeddings of {@code tokens[0 .. count)} in the first rows of X. */
    void embed(int[] tokens, int count) {
        float[][] x = acts[Act.X.ordinal()];
        var emb = model.tokenEmbedding();
        var codec = dev.gguf4j.quant.Codecs.of(emb.type());
        for (int b = 0; b < count; b++) {
            codec.dequantize(emb.data(), (long) tokens[b] * emb.rowBytes(), x[b], 0, c.dim());
        }
    }

    private void grow(int tokens) {
        if (capacity >= tokens) {
            return;
        }
        for (Act a : Act.values()) {
            if (a != Act.LOGITS) {
                acts[a.ordinal()] = new float[tokens][width(a)];
            }
        }
        capacity = tokens;
    }

    /** The rows of slot {@code a} (the step's tokens are the first {@link #tokens()}). */
    float[][] rows(Act a) {
        return acts[a.ordinal()];
    }

    /**
     * The output layer for rows [first, first + count) of X, the logits into {@code out[0 .. count)} ([vocab]
     * each). One row from 0 allocates nothing.
     */
    void head(int first, int count, float[][] out) {
        if (first == 0) {
            head(null, count, out);
        } else {
            int[] rows = new int[count];
            for (int i = 0; i < count; i++) {
                rows[i] = first + i;
            }
            head(rows, count, out);
        }
    }

    /**
     * The output layer for rows {@code rows[0 .. count)} of X (null: rows 0 .. count - 1), the logits into
     * {@code out[0 .. count)}.
     */
    void head(int[] rows, int count, float[][] out) {
        float[][] xs = acts[Act.X.ordinal()];
        int steps = n;
        if (rows != null) {
            float[][] view = new float[count][];
            for (int i = 0; i < count; i++) {
                view[i] = xs[rows[i]];
            }
            acts[Act.X.ordinal()] = view;
        }
        acts[Act.LOGITS.ordinal()] = out;
        n = count;
        try {
            model.architecture().head(this);
        } finally {
            acts[Act.X.ordinal()] = xs;
            acts[Act.LOGITS.ordinal()] = null;
            n = steps;
        }
    }

    private int width(Act a) {
        return switch (a) {
            case X, XB, XB2 -> c.dim();
            case Q, ATT -> c.qDim();
            case K, V -> c.kvDim();
            case HB, HB2 -> c.ffDim();
            case LOGITS -> c.vocab();
        };
    }

    @Override
    public boolean has(int layer, TensorRole t) {
        return layer == MODEL ? true : model.weight(layer, t) != null || model.vector(layer, t) != null;
    }

    private Weight weight(int layer, TensorRole t) {
        Weight w = layer == MODEL ? (t == TensorRole.OUTPUT ? model.output() : null) : model.weight(layer, t);
        if (w == null) {
            throw new IllegalStateException("the model has no " + t.tensorName(layer));
        }
        return w;
    }

    private float[] vector(int layer, TensorRole t) {
        return layer == MODEL ? (t == TensorRole.OUTPUT_NORM ? model.outputNorm() : null) : model.vector(layer, t);
    }

    @Override
    public void rmsNorm(Act in, int layer, TensorRole weight, Act out) {
        float[] w = vector(layer, weight);
        if (w == null) {
            throw new IllegalStateException("the model has no " + weight.tensorName(layer));
        }
        elementwise(RMS_NORM, in, null, out, w, w.length);
    }

    @Override
    public void matmul(int layer, TensorRole w, Act in, Act out) {
        Weight[] ws = groupWeights[1];
        float[][][] outs = groupOuts[1];
        ws[0] = weight(layer, w);
        outs[0] = acts[out.ordinal()];
        matmul.applyBatch(ws, acts[in.ordinal()], n, outs);
    }

    @Override
    public void matmul(int layer, TensorRole[] w, Act in, Act[] out) {
        Weight[] ws = groupWeights[w.length];
        float[][][] outs = groupOuts[w.length];
        for (int i = 0; i < w.length; i++) {
            ws[i] = weight(layer, w[i]);
            outs[i] = acts[out[i].ordinal()];
        }
        matmul.applyBatch(ws, acts[in.ordinal()], n, outs);
    }

    @Override
    public void addBias(int layer, TensorRole bias, Act x) {
        float[] b = vector(layer, bias);
        if (b != null) {
            elementwise(ADD_BIAS, x, null, x, b, b.length);
        }
    }

    @Override
    public void rope(Act x, int heads) {
        opHeads = heads;
        elementwise(ROPE, x, null, x, null, 0);
    }

    @Override
    public void attention(int layer, Act q, Act k, Act v, Act out) {
        opLayer = layer;
        elementwise(STORE_KV, k, v, null, null, c.kvDim());
        int qDim = c.qDim();
        long bytes = (long) n * qDim * 4;
        if (attnQ.byteSize() < bytes) {
            attnQ = arena.allocate(bytes, 64);
            attnOut = arena.allocate(bytes, 64);
        }
        float[][] qs = acts[q.ordinal()];
        for (int b = 0; b < n; b++) {
            MemorySegment.copy(qs[b], 0, attnQ, ValueLayout.JAVA_FLOAT, (long) b * qDim * 4, qDim);
        }
        attnLayer = layer;
        pool.forRange(segments * c.heads(), attnTask);
        float[][] outs = acts[out.ordinal()];
        for (int b = 0; b < n; b++) {
            MemorySegment.copy(attnOut, ValueLayout.JAVA_FLOAT, (long) b * qDim * 4, outs[b], 0, qDim);
        }
    }

    /**
     * Items [i0, i1) of the attention call in progress, item = segment x heads + head: the backend's kernel, as
     * ggml computes it, for each segment's rows over its own slot's cache.
     */
    private void attendHeads(int i0, int i1) {
        int heads = c.heads();
        for (int i = i0; i < i1; ) {
            int s = i / heads;
            int h0 = i % heads;
            int h1 = Math.min(heads, h0 + (i1 - i));
            long off = (long) segStart[s] * c.qDim() * 4;
            long bytes = (long) segLen[s] * c.qDim() * 4;
            MemorySegment q = segments == 1 ? attnQ : attnQ.asSlice(off, bytes);
            MemorySegment out = segments == 1 ? attnOut : attnOut.asSlice(off, bytes);
            int slot = segSlot[s];
            backend.attention(f16Cache, segLen[s], segPos0[s], heads, c.kvHeads(), c.headDim(), q, c.qDim(),
                    keyCache[slot][attnLayer], valueCache[slot][attnLayer], c.kvDim(), attentionScale[attnLayer],
                    attentionSoftCap[attnLayer], attentionWindow[attnLayer], h0, h1, out, c.qDim());
            i += h1 - h0;
        }
    }

    @Override
    public void swiglu(Act gate, Act up, Act out) {
        elementwise(SWIGLU, gate, up, out, null, width(gate));
    }

    @Override
    public void gegluTanh(Act gate, Act up, Act out) {
        elementwise(GEGLU, gate, up, out, null, width(gate));
    }

    @Override
    public void add(Act x, Act y) {
        elementwise(ADD, x, y, x, null, width(x));
    }

    @Override
    public void scale(Act x, float s) {
        opScalar = s;
        elementwise(SCALE, x, null, x, null, width(x));
    }

    @Override
    public void softCap(Act x, float cap) {
        opScalar = cap;
        elementwise(SOFT_CAP, x, null, x, null, width(x));
    }

    /** Runs element-wise op {@code kind} over the step's tokens, a slice of them per worker. */
    private void elementwise(int kind, Act a, Act b, Act out, float[] vec, int width) {
        op = kind;
        opA = a == null ? null : acts[a.ordinal()];
        opB = b == null ? null : acts[b.ordinal()];
        opOut = out == null ? null : acts[out.ordinal()];
        opVec = vec;
        opWidth = width;
        pool.forRange(n, opTask);
        opA = opB = opOut = null;
        opVec = null;
    }

    /** Tokens [t0, t1) of the element-wise op in progress. */
    private void elements(int t0, int t1) {
        int w = opWidth;
        for (int t = t0; t < t1; t++) {
            float[] a = opA[t];
            switch (op) {
                case RMS_NORM -> CpuMath.rmsNorm(opOut[t], 0, a, 0, opVec, w, c.rmsEps());
                case ADD_BIAS -> {
                    for (int i = 0; i < w; i++) {
                        a[i] += opVec[i];
                    }
                }
                case ROPE -> CpuMath.rope(a, 0, opHeads, c.headDim(), c.ropeDim(), c.ropeNeox(), ropeCos, ropeSin,
                        t * (c.ropeDim() / 2));
                case STORE_KV -> CpuMath.storeKv(a, opB[t], rowPos[t], w, f16Cache, keyCache[rowSlot[t]][opLayer],
                        valueCache[rowSlot[t]][opLayer]);
                case SWIGLU -> CpuMath.swiglu(a, 0, opB[t], 0, opOut[t], 0, w);
                case GEGLU -> CpuMath.geglu(a, 0, opB[t], 0, opOut[t], 0, w);
                case ADD -> {
                    float[] y = opB[t];
                    for (int i = 0; i < w; i++) {
                        a[i] += y[i];
                    }
                }
                case SCALE -> {
                    for (int i = 0; i < w; i++) {
                        a[i] *= opScalar;
                    }
                }
                case SOFT_CAP -> { // ggml: scale by 1/cap, tanh, scale by cap
                    float inv = 1.0f / opScalar;
                    for (int i = 0; i < w; i++) {
                        a[i] = (float) Math.tanh(a[i] * inv) * opScalar;
                    }
                }
                default -> throw new IllegalStateException("op " + op);
            }
        }
    }

    @Override
    public void close() {
        if (matmul != null) {
            matmul.close();
        }
        if (pool != null) {
            pool.close();
        }
        arena.close();
    }
}
