package dev.gguf4j.engine;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.CpuMath;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.quant.Codecs;
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
 * <p>A step's rows may belong to several sequences, one segment of rows each ({@link #beginSegments}): a segment
 * has its positions and its K/V storage, either a slot's KV cache ({@link BatchEngine}, {@link LlamaSession}) or,
 * for a {@link #SCRATCH} segment ({@link Embedder}), its own rows of a scratch buffer that lives for the step only.
 * The matmuls and element-wise ops run over all rows at once (a row's result does not depend on the other rows:
 * each output element is one row's dot product in the kernel's fixed order); attention runs per segment over its
 * own storage, causal or, in a non-causal step, each row seeing its whole segment.
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
    /** The slot of a segment whose K/V live for the step only, in its rows of the scratch buffer. */
    static final int SCRATCH = -1;
    // the step's segments: segment s is rows [segStart, segStart + segLen) at positions segPos0 .., its K/V for
    // layer l in segKeys[s][l] / segValues[s][l] with position 0 at row segKvRow0 (a slot's cache: row 0; a
    // SCRATCH segment, whose positions start at 0: its first row, segStart, of the scratch buffer)
    private int segments;
    private int[] segStart = new int[1];
    private int[] segLen = new int[1];
    private int[] segPos0 = new int[1];
    private int[] segKvRow0 = new int[1];
    private MemorySegment[][] segKeys = new MemorySegment[1][];
    private MemorySegment[][] segValues = new MemorySegment[1][];
    private boolean causal = true; // a row sees the positions up to its own; false: every position of its segment
    private int[] rowPos = new int[0];  // [row] position
    private int[] rowSeg = new int[0];  // [row] segment
    // the scratch buffer, [tokens][kvDim] F16 bits or F32: the same one for every layer (a layer's K/V are not
    // read once its attention has run), grown to the largest step with SCRATCH segments
    private MemorySegment[] scratchKeys;
    private MemorySegment[] scratchValues;
    private float[][] posRows = new float[0][]; // [row][dim] each row's position embedding (ADD_POS)
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
    private static final int LAYER_NORM = 9;
    private static final int GELU = 10;
    private static final int ADD_POS = 11;
    private int op;
    private float[][] opA;
    private float[][] opB;
    private float[][] opOut;
    private float[] opVec;
    private float[] opVec2;
    private int opWidth;
    private int opHeads;
    private int opLayer;
    private float opScalar;
    private final WorkerPool.RangeTask opTask = this::elements;
    private MatmulObserver observer; // null: none (LlamaSession.observeMatmuls)
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
        this.matmul = new MatMul(backend, pool, Math.max(Math.max(c.dim(), c.qDim()), Math.max(c.ffDim(),
                c.expertFfDim())), Math.max(Math.max(c.vocab(), c.experts()), Math.max(2 * Math.max(c.ffDim(),
                c.expertFfDim()), c.qDim() + 2 * c.kvDim())));
        long layerBytes = DeviceLayers.kvBytesPerLayer(c, contextLength, kvType) / 2; // keys, and as much for values
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
        yarnCorrDims = yarnCorrDims(c);
        grow(1);
    }

    /**
     * YaRN's correction dimensions {lo, hi} for this model (llama.cpp's context defaults: beta_fast 32, beta_slow 1),
     * or null when its RoPE has no YaRN mix (ext factor 0); the device path uses the same.
     */
    static float[] yarnCorrDims(LlamaConfig c) {
        return c.ropeExtFactor() == 0.0f ? null
                : CpuMath.ropeYarnCorrDims(c.ropeDim(), c.ropeOrigContext(), c.ropeTheta(), 32.0f, 1.0f);
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
     * Starts a causal step over {@code count} sequences: segment {@code i} is {@code len[i]} rows of slot
     * {@code slot[i]} at positions {@code pos0[i] ..}, the segments' rows one after another.
     */
    void beginSegments(int count, int[] slot, int[] pos0, int[] len) {
        beginSegments(count, slot, pos0, len, true);
    }

    /**
     * Starts a step over {@code count} sequences: segment {@code i} is {@code len[i]} rows at positions
     * {@code pos0[i] ..}, the segments' rows one after another, its K and V kept in slot {@code slot[i]}'s cache
     * or, for {@link #SCRATCH} (positions from 0 only: nothing earlier is kept), in its rows of the step's scratch
     * buffer, as llama.cpp's KQ mask keeps the sequence ids of a batch apart. {@code causal}: a row sees the
     * positions up to its own; else (encoders) every position of its segment.
     */
    void beginSegments(int count, int[] slot, int[] pos0, int[] len, boolean causal) {
        int tokens = 0;
        if (segStart.length < count) {
            segStart = new int[count];
            segLen = new int[count];
            segPos0 = new int[count];
            segKvRow0 = new int[count];
            segKeys = new MemorySegment[count][];
            segValues = new MemorySegment[count][];
        }
        boolean scratch = false;
        for (int i = 0; i < count; i++) {
            if (slot[i] == SCRATCH && pos0[i] != 0) {
                throw new IllegalArgumentException("a scratch segment starts at position 0, not " + pos0[i]);
            }
            scratch |= slot[i] == SCRATCH;
            segStart[i] = tokens;
            segLen[i] = len[i];
            segPos0[i] = pos0[i];
            tokens += len[i];
        }
        segments = count;
        this.causal = causal;
        grow(tokens);
        n = tokens;
        if (scratch) {
            growScratch(tokens);
        }
        for (int i = 0; i < count; i++) {
            boolean s = slot[i] == SCRATCH;
            segKeys[i] = s ? scratchKeys : keyCache[slot[i]];
            segValues[i] = s ? scratchValues : valueCache[slot[i]];
            segKvRow0[i] = s ? segStart[i] : 0;
        }
        if (rowPos.length < tokens) {
            rowPos = new int[tokens];
            rowSeg = new int[tokens];
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
                rowSeg[b] = i;
                CpuMath.ropeAngles(rowPos[b], half, thetaScale, c.ropeFreqScale(), ropeFactors, c.ropeExtFactor(),
                        yarnCorrDims, c.ropeAttnFactor(), ropeCos, ropeSin, b * half);
            }
        }
    }

    /** Grows the scratch buffer to {@code tokens} rows (F16 bits when the session's cache type is). */
    private void growScratch(int tokens) {
        long bytes = (long) tokens * c.kvDim() * (f16Cache ? 2 : 4);
        if (scratchKeys == null || scratchKeys[0].byteSize() < bytes) {
            scratchKeys = new MemorySegment[c.layers()];
            scratchValues = new MemorySegment[c.layers()];
            java.util.Arrays.fill(scratchKeys, arena.allocate(bytes, 64));
            java.util.Arrays.fill(scratchValues, arena.allocate(bytes, 64));
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
        return a.width(c);
    }

    @Override
    public boolean has(int layer, TensorRole t) {
        if (layer == MODEL) {
            return switch (t) {
                case OUTPUT, OUTPUT_NORM -> true;
                case POS_EMBD -> model.positionEmbedding() != null;
                default -> model.modelVector(t) != null;
            };
        }
        return model.weight(layer, t) != null || model.vector(layer, t) != null;
    }

    private Weight weight(int layer, TensorRole t) {
        Weight w = layer == MODEL ? (t == TensorRole.OUTPUT ? model.output() : null) : model.weight(layer, t);
        if (w == null) {
            throw new IllegalStateException("the model has no " + t.tensorName(layer));
        }
        return w;
    }

    private float[] vector(int layer, TensorRole t) {
        return layer == MODEL ? model.modelVector(t) : model.vector(layer, t);
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
        if (observer != null) {
            observe(ws, in);
        }
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
        if (observer != null) {
            observe(ws, in);
        }
        matmul.applyBatch(ws, acts[in.ordinal()], n, outs);
    }

    /** Shows the observer the input of each of {@code ws} (weights sharing an input are reported one by one). */
    private void observe(Weight[] ws, Act in) {
        for (Weight w : ws) {
            observer.input(w.name(), acts[in.ordinal()], n, w.cols());
        }
    }

    void observer(MatmulObserver o) {
        observer = o;
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
        if (!causal && (attentionSoftCap[layer] != 0 || attentionWindow[layer] != 0)) {
            throw new Gguf4jException(c.architecture() + ": non-causal (embedding) attention with soft-capped or"
                    + " sliding-window layers is not implemented yet");
        }
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
     * ggml computes it, for each segment's rows over its own K/V storage. Causal: the segment's rows in one call.
     * Non-causal: row by row, each as the query at the segment's last position, which sees every position of the
     * segment.
     */
    private void attendHeads(int i0, int i1) {
        int heads = c.heads();
        for (int i = i0; i < i1; ) {
            int s = i / heads;
            int h0 = i % heads;
            int h1 = Math.min(heads, h0 + (i1 - i));
            MemorySegment keys = segKeys[s][attnLayer];
            MemorySegment values = segValues[s][attnLayer];
            if (segKvRow0[s] != 0) {
                long off = (long) segKvRow0[s] * c.kvDim() * (f16Cache ? 2 : 4);
                keys = keys.asSlice(off);
                values = values.asSlice(off);
            }
            if (causal) {
                attend(segStart[s], segLen[s], segPos0[s], keys, values, h0, h1);
            } else {
                int last = segPos0[s] + segLen[s] - 1;
                for (int r = segStart[s]; r < segStart[s] + segLen[s]; r++) {
                    attend(r, 1, last, keys, values, h0, h1);
                }
            }
            i += h1 - h0;
        }
    }

    /** Heads [h0, h1) of the queries of rows [row, row + rows) at positions {@code pos0 ..} over keys, values. */
    private void attend(int row, int rows, int pos0, MemorySegment keys, MemorySegment values, int h0, int h1) {
        int qDim = c.qDim();
        boolean all = row == 0 && rows == n; // no slice (nothing allocated for one sequence)
        MemorySegment q = all ? attnQ : attnQ.asSlice((long) row * qDim * 4, (long) rows * qDim * 4);
        MemorySegment out = all ? attnOut : attnOut.asSlice((long) row * qDim * 4, (long) rows * qDim * 4);
        backend.attention(f16Cache, rows, pos0, c.heads(), c.kvHeads(), c.headDim(), q, qDim, keys, values,
                c.kvDim(), attentionScale[attnLayer], attentionSoftCap[attnLayer], attentionWindow[attnLayer], h0, h1,
                out, qDim);
    }

    @Override
    public void layerNorm(Act in, int layer, TensorRole weight, TensorRole bias, Act out) {
        float[] w = vector(layer, weight);
        float[] b = vector(layer, bias);
        if (w == null || b == null) {
            throw new IllegalStateException("the model has no " + (w == null ? weight : bias).tensorName(layer));
        }
        opVec2 = b;
        elementwise(LAYER_NORM, in, null, out, w, w.length);
        opVec2 = null;
    }

    @Override
    public void gelu(Act x) {
        elementwise(GELU, x, null, x, null, width(x));
    }

    @Override
    public void addPositionEmbeddings(Act x) {
        var pe = model.positionEmbedding();
        if (pe == null) {
            throw new IllegalStateException("the model has no " + TensorRole.POS_EMBD.tensorName(0));
        }
        long positions = pe.elementCount() / c.dim();
        for (int t = 0; t < n; t++) {
            int p = rowPos[t];
            if (p >= positions) {
                throw new dev.gguf4j.Gguf4jException("position " + p + " is beyond the model's " + positions
                        + " position embeddings (" + TensorRole.POS_EMBD.tensorName(0) + ")");
            }
        }
        if (posRows.length < n) {
            posRows = new float[capacity][c.dim()];
        }
        elementwise(ADD_POS, x, null, x, null, width(x));
    }

    // ---- mixture of experts ----------------------------------------------------------------------------------
    // scratch, grown to the largest step: [token][expert] router probabilities, [token * used + j] the chosen
    // experts and their weights, per expert the slots routed to it, and the gathered rows of one expert's batch
    private float[][] moeProbs = new float[0][];
    private int[] moeChosen = new int[0];
    private float[] moeWeight = new float[0];
    private int[] moeOrder = new int[0];     // [experts]: argsort scratch
    private int[] moeCount = new int[0];     // [experts]
    private int[] moeSlots = new int[0];     // [token * used + j], grouped by expert (moeStart)
    private int[] moeStart = new int[0];     // [experts + 1]
    private float[][] moeIn = new float[0][];     // [rows][dim]: an expert's gathered inputs
    private float[][] moeGate = new float[0][];   // [rows][expertFf]
    private float[][] moeUp = new float[0][];     // [rows][expertFf]
    private float[][] moeOut = new float[0][];    // [token * used + j][dim]: each chosen expert's output
    private float[][] moeOne = new float[1][];    // a one-row view
    private Weight[] moeWs = new Weight[0];
    private float[][][] moeOuts = new float[0][][];
    private final Weight[] moeW1 = new Weight[1];
    private final float[][][] moeO1 = new float[1][][];

    @Override
    public void moe(int layer, Act in, Act out, Moe m, boolean add) {
        int k = m.used();
        int ne = m.experts();
        int ff = c.expertFfDim();
        int slots = n * k;
        if (moeProbs.length < n) {
            moeProbs = new float[n][ne];
        }
        if (moeChosen.length < slots) {
            moeChosen = new int[slots];
            moeWeight = new float[slots];
            moeSlots = new int[slots];
            moeOut = new float[slots][c.dim()];
        }
        if (moeOrder.length < ne) {
            moeOrder = new int[ne];
            moeCount = new int[ne];
            moeStart = new int[ne + 1];
        }
        float[][] xs = acts[in.ordinal()];
        // router logits for every token: one batched matmul; then per token softmax, top-k, weights
        moeW1[0] = weight(layer, TensorRole.FFN_GATE_INP);
        moeO1[0] = moeProbs;
        matmul.applyBatch(moeW1, xs, n, moeO1);
        java.util.Arrays.fill(moeCount, 0, ne, 0);
        for (int t = 0; t < n; t++) {
            route(moeProbs[t], ne, k, m.normalize(), moeOrder, moeChosen, moeWeight, t * k);
            for (int j = 0; j < k; j++) {
                moeCount[moeChosen[t * k + j]]++;
            }
        }
        // group the (token, j) slots by expert, in token order within an expert
        moeStart[0] = 0;
        for (int e = 0; e < ne; e++) {
            moeStart[e + 1] = moeStart[e] + moeCount[e];
        }
        System.arraycopy(moeStart, 0, moeOrder, 0, ne); // fill positions
        for (int s = 0; s < slots; s++) {
            moeSlots[moeOrder[moeChosen[s]]++] = s;
        }
        if (n == 1) {
            expertsOneToken(layer, xs[0], k, ff);
        } else {
            for (int e = 0; e < ne; e++) {
                int rows = moeStart[e + 1] - moeStart[e];
                if (rows > 0) {
                    expertBatch(layer, e, xs, moeStart[e], rows, ff);
                }
            }
        }
        // weighted sum in top-k order (ggml: experts * weights, then ((e0 + e1) + e2) ...), then + out if asked
        float[][] outs = acts[out.ordinal()];
        int dim = c.dim();
        for (int t = 0; t < n; t++) {
            float[] o = outs[t];
            for (int i = 0; i < dim; i++) {
                float sum = moeOut[t * k][i] * moeWeight[t * k];
                for (int j = 1; j < k; j++) {
                    sum += moeOut[t * k + j][i] * moeWeight[t * k + j];
                }
                o[i] = add ? sum + o[i] : sum;
            }
        }
    }

    /**
     * One token's routing (logits in p, replaced by the probabilities): ggml's soft_max ({@link CpuMath#softmax},
     * a row of exactly {@code ne} columns), ggml_top_k (argsort descending: ggml's exchange sort, whose
     * first k places are final after k passes), the chosen probabilities, divided by their sum (summed in double,
     * as ggml_sum_rows) when {@code normalize}.
     * The one definition of this arithmetic: the device path ({@link DeviceOps#moe}) routes on the host with it.
     * Writes the chosen experts to {@code chosen[slot0 ..]} and their weights to {@code weight[slot0 ..]};
     * {@code idx} is scratch of at least {@code ne} ints.
     */
    static void route(float[] p, int ne, int k, boolean normalize, int[] idx, int[] chosen, float[] weight,
            int slot0) {
        CpuMath.softmax(p, 0, ne, false);
        for (int i = 0; i < ne; i++) {
            idx[i] = i;
        }
        for (int j = 0; j < k; j++) {
            for (int q = j + 1; q < ne; q++) {
                if (p[idx[j]] < p[idx[q]]) {
                    int tmp = idx[j];
                    idx[j] = idx[q];
                    idx[q] = tmp;
                }
            }
        }
        double wsum = 0;
        for (int j = 0; j < k; j++) {
            chosen[slot0 + j] = idx[j];
            weight[slot0 + j] = p[idx[j]];
            wsum += p[idx[j]];
        }
        if (normalize) {
            float s = (float) wsum;
            for (int j = 0; j < k; j++) {
                weight[slot0 + j] /= s;
            }
        }
    }

    /** Grows the gathered-row buffers to {@code rows} rows (and the one-token views to the used experts). */
    private void growExpertRows(int rows, int ff) {
        if (moeIn.length < rows) {
            moeIn = new float[rows][];
            moeGate = new float[rows][ff];
            moeUp = new float[rows][ff];
        }
        int k = c.expertsUsed();
        if (moeWs.length != 2 * k) {
            moeWs = new Weight[2 * k];
            moeOuts = new float[2 * k][][];
            moeRowViews = new float[3 * k][][];
        }
    }

    private float[][][] moeRowViews = new float[0][][]; // one-row views: [j] gate j, [k + j] up j, [2k + j] out j

    /**
     * One token: the gate and up matrices of all its chosen experts in one dispatch (they share the input), then
     * each expert's down matrix into its slot. Nothing is allocated once the buffers have grown.
     */
    private void expertsOneToken(int layer, float[] x, int k, int ff) {
        growExpertRows(k, ff);
        for (int j = 0; j < k; j++) {
            if (moeRowViews[j] == null || moeRowViews[j][0] != moeGate[j]) {
                moeRowViews[j] = new float[][] {moeGate[j]};
                moeRowViews[k + j] = new float[][] {moeUp[j]};
            }
            if (moeRowViews[2 * k + j] == null || moeRowViews[2 * k + j][0] != moeOut[j]) {
                moeRowViews[2 * k + j] = new float[][] {moeOut[j]};
            }
            int e = moeChosen[j];
            moeWs[2 * j] = model.expert(layer, TensorRole.FFN_GATE_EXPS, e);
            moeWs[2 * j + 1] = model.expert(layer, TensorRole.FFN_UP_EXPS, e);
            moeOuts[2 * j] = moeRowViews[j];
            moeOuts[2 * j + 1] = moeRowViews[k + j];
        }
        moeOne[0] = x;
        matmul.applyBatch(moeWs, moeOne, 1, moeOuts);
        elementwise(SWIGLU, moeGate, moeUp, moeGate, null, ff, k);
        for (int j = 0; j < k; j++) {
            moeW1[0] = model.expert(layer, TensorRole.FFN_DOWN_EXPS, moeChosen[j]);
            moeOne[0] = moeGate[j];
            moeO1[0] = moeRowViews[2 * k + j];
            matmul.applyBatch(moeW1, moeOne, 1, moeO1);
        }
    }

    /**
     * Expert {@code e}'s rows of a batch: its tokens' inputs gathered (slots moeSlots[start, start + rows)), one
     * batched matmul per matrix (each weight row read once for all of them), its outputs scattered to the slots.
     * A row's result does not depend on the other rows of the batch (the tiled kernels compute each element as
     * the per-row kernel does), so grouping changes no bit.
     */
    private void expertBatch(int layer, int e, float[][] xs, int start, int rows, int ff) {
        growExpertRows(rows, ff);
        int k = c.expertsUsed();
        for (int r = 0; r < rows; r++) {
            moeIn[r] = xs[moeSlots[start + r] / k];
        }
        Weight[] ws = {model.expert(layer, TensorRole.FFN_GATE_EXPS, e),
            model.expert(layer, TensorRole.FFN_UP_EXPS, e)};
        matmul.applyBatch(ws, moeIn, rows, new float[][][] {moeGate, moeUp});
        for (int r = 0; r < rows; r++) {
            CpuMath.swiglu(moeGate[r], 0, moeUp[r], 0, moeGate[r], 0, ff);
            moeIn[r] = moeOut[moeSlots[start + r]];
        }
        // the down matrix writes straight into the slots' rows (moeIn now points at them)
        matmul.applyBatch(new Weight[] {model.expert(layer, TensorRole.FFN_DOWN_EXPS, e)}, moeGate, rows,
                new float[][][] {moeIn});
    }

    @Override
    public void sigmoidGate(int layer, TensorRole w, Act in, Act x) {
        moeW1[0] = weight(layer, w);
        float[][] g = moeGateScalar.length >= n ? moeGateScalar : (moeGateScalar = new float[n][1]);
        moeO1[0] = g;
        matmul.applyBatch(moeW1, acts[in.ordinal()], n, moeO1);
        float[][] xs = acts[x.ordinal()];
        int width = width(x);
        for (int t = 0; t < n; t++) {
            float gate = sigmoidGate(g[t][0]);
            for (int i = 0; i < width; i++) {
                xs[t][i] *= gate;
            }
        }
    }

    private float[][] moeGateScalar = new float[0][];

    /** The shared-expert gate's factor for gate logit v: ggml's silu(v) / v (the device path uses it too). */
    static float sigmoidGate(float v) {
        return v / (1.0f + (float) Math.exp(-v)) / v;
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
        elementwise(kind, a == null ? null : acts[a.ordinal()], b == null ? null : acts[b.ordinal()],
                out == null ? null : acts[out.ordinal()], vec, width, n);
    }

    /**
     * Fewer elements than this per thread run on the calling thread (a worker's share of a smaller op costs about
     * what handing it over does; the test models' FFNs, 768 wide, still split at 2 threads).
     */
    private static final int SPLIT_ELEMENTS = 256;
    /** Elements per claim of a split element-wise op (see {@link #splits}). */
    private static final int ELEMENT_GRAIN = 64;

    /**
     * Runs element-wise op {@code kind} over rows [0, rows) of a, b, out: a slice of the rows per worker, or, for
     * the ops that cost a transcendental per element ({@link #splits}) over fewer rows than threads (one token
     * generating, the chosen experts of one token), a slice of the elements: each element is computed the same
     * way whoever computes it, so the split changes no bit.
     */
    private void elementwise(int kind, float[][] a, float[][] b, float[][] out, float[] vec, int width, int rows) {
        op = kind;
        opA = a;
        opB = b;
        opOut = out;
        opVec = vec;
        opWidth = width;
        if (splits(kind) && rows < 2 * pool.threads() && (long) rows * width >= (long) SPLIT_ELEMENTS * pool.threads()) {
            pool.forRange(rows * width, ELEMENT_GRAIN, opElementTask);
        } else {
            pool.forRange(rows, opTask);
        }
        opA = opB = opOut = null;
        opVec = null;
    }

    /** Whether op {@code kind} is independent per element and dear enough to split a row of it between threads. */
    private static boolean splits(int kind) {
        return kind == SWIGLU || kind == GEGLU || kind == GELU || kind == SOFT_CAP;
    }

    private final WorkerPool.RangeTask opElementTask = this::elementRange;

    /** Elements [i0, i1) of the rows (row-major, opWidth each) of the split element-wise op in progress. */
    private void elementRange(int i0, int i1) {
        int w = opWidth;
        for (int t = i0 / w; t * w < i1; t++) {
            int lo = Math.max(i0 - t * w, 0);
            int hi = Math.min(i1 - t * w, w);
            float[] a = opA[t];
            switch (op) {
                case SWIGLU -> CpuMath.swiglu(a, lo, opB[t], lo, opOut[t], lo, hi - lo);
                case GEGLU -> CpuMath.geglu(a, lo, opB[t], lo, opOut[t], lo, hi - lo);
                case GELU -> {
                    for (int i = lo; i < hi; i++) {
                        a[i] = CpuMath.gelu(a[i]);
                    }
                }
                case SOFT_CAP -> {
                    float inv = 1.0f / opScalar;
                    for (int i = lo; i < hi; i++) {
                        a[i] = (float) Math.tanh(a[i] * inv) * opScalar;
                    }
                }
                default -> throw new IllegalStateException("op " + op);
            }
        }
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
                case STORE_KV -> {
                    int s = rowSeg[t];
                    CpuMath.storeKv(a, opB[t], segKvRow0[s] + rowPos[t], w, f16Cache, segKeys[s][opLayer],
                            segValues[s][opLayer]);
                }
                case LAYER_NORM -> CpuMath.layerNorm(opOut[t], 0, a, 0, opVec, opVec2, w, c.rmsEps());
                case GELU -> {
                    for (int i = 0; i < w; i++) {
                        a[i] = CpuMath.gelu(a[i]);
                    }
                }
                case ADD_POS -> {
                    var pe = model.positionEmbedding();
                    float[] row = posRows[t];
                    Codecs.of(pe.type()).dequantize(pe.data(), (long) rowPos[t] * pe.rowBytes(), row, 0, w);
                    for (int i = 0; i < w; i++) {
                        a[i] += row[i];
                    }
                }
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
                case SOFT_CAP -> CpuMath.softCap(a, 0, w, opScalar); // ggml: scale by 1/cap, tanh, scale by cap
                default -> throw new IllegalStateException("op " + op);
            }
        }
    }

    /** Bytes of KV cache allocated here (the CPU's layers, keys and values, of every sequence slot). */
    long kvCacheBytes() {
        long n = 0;
        for (int s = 0; s < keyCache.length; s++) {
            for (int l = 0; l < keyCache[s].length; l++) {
                n += (keyCache[s][l] == null ? 0 : keyCache[s][l].byteSize())
                        + (valueCache[s][l] == null ? 0 : valueCache[s][l].byteSize());
            }
        }
        return n;
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
