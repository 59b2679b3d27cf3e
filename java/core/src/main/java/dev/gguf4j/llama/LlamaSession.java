package dev.gguf4j.llama;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.CpuMath;
import dev.gguf4j.quant.Codecs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One sequence's state over a shared {@link LlamaModel}: the KV cache, scratch buffers and worker threads.
 * Not thread-safe: one thread drives a session; many sessions may share a model.
 *
 * <p>The forward pass, one token at a time (buffers carry their shapes):
 * <pre>
 *   x[dim] = token_embd[token]
 *   for each layer:
 *     xb = rmsnorm(x) * attn_norm
 *     q[dim] = Wq xb (+bq), k[kvDim] = Wk xb (+bk), v[kvDim] = Wv xb (+bv); rope(q, k, pos)
 *     cache k, v at pos; per head h: att = softmax(q_h . k_{g(h)} / sqrt(headDim)); xb_h = sum att * v_{g(h)}
 *     x += Wo xb
 *     xb = rmsnorm(x) * ffn_norm;  hb[ff] = silu(Wgate xb) * (Wup xb);  x += Wdown hb
 *   logits[vocab] = Woutput (rmsnorm(x) * output_norm)
 * </pre>
 *
 * <p>With GPU layers ({@link OffloadPlan}), layers [0, firstDeviceLayer) run here as above, then
 * {@link DeviceLayers} runs the rest on the device (and the output layer when the plan puts it there): x goes up
 * once and comes back once per step, as hidden states or as logits.
 */
public final class LlamaSession implements AutoCloseable {
    /** KV cache element type. */
    public enum KvType { F16, F32 }

    private final LlamaModel model;
    private final LlamaConfig c;
    private final int contextLength;
    private final KvType kvType;
    private final Backend backend;
    private final WorkerPool pool;
    private final MatMul matmul;
    private final Arena arena = Arena.ofShared(); // KV cache and attention buffers, freed by close()

    // activations
    private final float[] x;      // [dim] residual stream
    private final float[] xb;     // [dim]
    private final float[] xb2;    // [dim]
    private final float[] q;      // [dim]
    private final float[] k;      // [kvDim]
    private final float[] v;      // [kvDim]
    private final float[] hb;     // [ff]
    private final float[] hb2;    // [ff]
    private final float[] logits; // [vocab]
    // KV cache of the CPU's layers, off-heap: [layer] -> [ctx][kvDim] elements of F16 bits or F32
    private final MemorySegment[] keyCache;
    private final MemorySegment[] valueCache;
    private MemorySegment attnQ;   // [batch][dim] queries handed to the attention kernel
    private MemorySegment attnOut; // [batch][dim] its output
    private int attnLayer;         // the attention call in progress, read by attnTask on the workers
    private int attnN;
    private int attnPos0;
    private final WorkerPool.RangeTask attnTask = this::attendHeads;
    private final float thetaScale;
    private final float attentionScale;
    private float[] ropeCos = new float[0]; // [batch][ropeDim/2] cos of each pair's angle at each token's position
    private float[] ropeSin = new float[0]; // [batch][ropeDim/2]
    private final Weight[][] qkvWeights;     // [layer] {wq, wk, wv}: one dispatch for the three
    private final Weight[][] gateUpWeights;  // [layer] {wgate, wup}
    private final float[][] qkv;             // {q, k, v}
    private final float[][] gateUp;          // {hb, hb2}
    private final float[][] qOne;            // {q}: attention's input, a batch of one
    private final float[][] xbOne;           // {xb}
    private final float[][] x1;              // {x}: one token's hidden state for the device step
    private final float[][] logits1;         // {logits}
    private final DeviceLayers device;       // null: everything on the CPU
    private final int deviceFrom;            // first layer on the device (layers() when none)
    private int position;
    private boolean closed;
    private long nextFileCheck = System.nanoTime(); // when to re-check the mapped file's size: the first step does

    public LlamaSession(LlamaModel model, Backend backend, int contextLength, int threads, KvType kvType) {
        this(model, backend, contextLength, threads, kvType, null, 0, false);
    }

    /**
     * A session whose layers from {@code offload.firstLayer()} on (and the output layer if the plan says so) run
     * on the device, up to {@code maxDeviceTokens} tokens per device step, the one-token step replayed as a
     * device graph if {@code deviceGraphs}; {@code offload} null = CPU only.
     */
    LlamaSession(LlamaModel model, Backend backend, int contextLength, int threads, KvType kvType,
            DeviceWeights offload, int maxDeviceTokens, boolean deviceGraphs) {
        this.model = model;
        this.c = model.config();
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
        }
        this.contextLength = contextLength;
        this.kvType = kvType;
        this.backend = backend;
        this.pool = new WorkerPool(threads);
        this.matmul = new MatMul(backend, pool, Math.max(c.dim(), c.ffDim()),
                Math.max(c.vocab(), Math.max(2 * c.ffDim(), c.dim() + 2 * c.kvDim())));
        x = new float[c.dim()];
        xb = new float[c.dim()];
        xb2 = new float[c.dim()];
        q = new float[c.dim()];
        k = new float[c.kvDim()];
        v = new float[c.kvDim()];
        hb = new float[c.ffDim()];
        hb2 = new float[c.ffDim()];
        qkv = new float[][] {q, k, v};
        gateUp = new float[][] {hb, hb2};
        qOne = new float[][] {q};
        xbOne = new float[][] {xb};
        qkvWeights = new Weight[c.layers()][];
        gateUpWeights = new Weight[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            LlamaModel.Layer w = model.layer(l);
            qkvWeights[l] = new Weight[] {w.wq(), w.wk(), w.wv()};
            gateUpWeights[l] = new Weight[] {w.wGate(), w.wUp()};
        }
        logits = new float[c.vocab()];
        // the CPU's layers [0, deviceFrom) keep their cache here; the device layers' cache is in device memory
        this.deviceFrom = offload == null ? c.layers() : offload.firstLayer();
        long layerBytes = (long) contextLength * c.kvDim() * (kvType == KvType.F16 ? 2 : 4);
        keyCache = new MemorySegment[c.layers()];
        valueCache = new MemorySegment[c.layers()];
        try {
            for (int l = 0; l < deviceFrom; l++) {
                keyCache[l] = arena.allocate(layerBytes, 64);
                valueCache[l] = arena.allocate(layerBytes, 64);
            }
        } catch (OutOfMemoryError e) {
            arena.close();
            matmul.close();
            pool.close();
            throw new Gguf4jException("cannot allocate the KV cache: " + deviceFrom + " layers x 2 x " + layerBytes
                    + " bytes (" + contextLength + " positions x " + c.kvDim() + " " + kvType + "); use a shorter"
                    + " context or the F16 cache", e);
        }
        attnQ = arena.allocate((long) c.dim() * 4, 64);
        attnOut = arena.allocate((long) c.dim() * 4, 64);
        thetaScale = CpuMath.ropeThetaScale(c.ropeTheta(), c.ropeDim());
        attentionScale = (float) (1.0 / Math.sqrt(c.headDim()));
        x1 = new float[][] {x};
        logits1 = new float[][] {logits};
        try {
            this.device = offload == null ? null : new DeviceLayers(offload, c, contextLength, kvType,
                    Math.max(1, Math.min(maxDeviceTokens, contextLength)), deviceGraphs);
        } catch (RuntimeException e) {
            arena.close();
            matmul.close();
            pool.close();
            throw e;
        }
    }

    public int position() {
        return position;
    }

    public int contextLength() {
        return contextLength;
    }

    /** Forgets everything: the next token goes to position 0. */
    public void reset() {
        position = 0;
    }

    /** Rewinds to {@code pos} (the cache after it is discarded). */
    public void rewind(int pos) {
        if (pos < 0 || pos > position) {
            throw new IllegalArgumentException("cannot rewind to " + pos + " from " + position);
        }
        position = pos;
    }

    /** Runs one token at the next position and returns the logits ([vocab], valid until the next call). */
    public float[] forward(int token) {
        checkFile();
        int pos = embedAndRunCpuLayers(token);
        boolean logitsDone = device != null && device.run(x1, 1, pos, 0, logits1);
        if (!logitsDone) {
            rmsnorm(xb, x, model.outputNorm(), c.dim());
            matmul.apply(model.output(), xb, logits);
        }
        position++;
        return logits;
    }

    /**
     * Runs one token and returns the most likely next token (greedy decoding: the largest logit, the lowest id
     * among equals, as the greedy sampler picks). With the output layer on the device, only that id comes back
     * from it, not the logits.
     */
    public int forwardArgmax(int token) {
        if (device == null || !device.outputOnDevice()) {
            return argmax(forward(token));
        }
        checkFile();
        int pos = embedAndRunCpuLayers(token);
        int next = device.runArgmax(x, pos);
        position++;
        return next;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Fails cleanly if the mapped model file shrank ({@link LlamaModel#checkMappedFile}): on the first step, then at
     * most every 100 ms, so a token costs one clock read.
     */
    private void checkFile() {
        long now = System.nanoTime();
        if (now - nextFileCheck >= 0) {
            model.checkMappedFile();
            nextFileCheck = now + LlamaModel.FILE_CHECK_NANOS;
        }
    }

    /** Checks the token, puts its embedding in x and runs the CPU's layers on it; returns its position. */
    private int embedAndRunCpuLayers(int token) {
        if (token < 0 || token >= c.vocab()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + c.vocab() + ")");
        }
        if (position >= contextLength) {
            throw new Gguf4jException("context is full: " + contextLength + " tokens (use a larger context length)");
        }
        int pos = position;
        var emb = model.tokenEmbedding();
        Codecs.of(emb.type()).dequantize(emb.data(), (long) token * emb.rowBytes(), x, 0, c.dim());
        ropeAngles(pos, 1);
        for (int l = 0; l < deviceFrom; l++) {
            layer(l, pos);
        }
        return pos;
    }

    /** Layer {@code l} on the CPU for the token at {@code pos}: x is updated in place. */
    private void layer(int l, int pos) {
        int dim = c.dim();
        LlamaModel.Layer w = model.layer(l);
        rmsnorm(xb, x, w.attnNorm(), dim);
        matmul.apply(qkvWeights[l], xb, qkv);
        addBias(q, w.bq());
        addBias(k, w.bk());
        addBias(v, w.bv());
        rope(q, c.heads(), 0);
        rope(k, c.kvHeads(), 0);
        storeKv(l, pos, k, v);

        attend(l, pos, 1, qOne, xbOne);
        matmul.apply(w.wo(), xb, xb2);
        for (int i = 0; i < dim; i++) {
            x[i] += xb2[i];
        }

        rmsnorm(xb, x, w.ffnNorm(), dim);
        matmul.apply(gateUpWeights[l], xb, gateUp);
        CpuMath.swiglu(hb, 0, hb2, 0, hb, 0, c.ffDim());
        matmul.apply(w.wDown(), hb, xb);
        for (int i = 0; i < dim; i++) {
            x[i] += xb[i];
        }
    }

    /**
     * Attention of {@code n} tokens at positions {@code pos0 ..} over the cache of layer {@code l} (which already
     * holds their K and V): {@code qs[b]} [dim] are the queries, {@code outs[b]} [dim] receive the result. The heads
     * are split across the workers; the backend's attention kernel computes it as ggml does (see
     * {@link Backend#attention}).
     */
    private void attend(int l, int pos0, int n, float[][] qs, float[][] outs) {
        int dim = c.dim();
        long bytes = (long) n * dim * 4;
        if (attnQ.byteSize() < bytes) {
            attnQ = arena.allocate(bytes, 64);
            attnOut = arena.allocate(bytes, 64);
        }
        for (int b = 0; b < n; b++) {
            MemorySegment.copy(qs[b], 0, attnQ, ValueLayout.JAVA_FLOAT, (long) b * dim * 4, dim);
        }
        attnLayer = l;
        attnN = n;
        attnPos0 = pos0;
        pool.forRange(c.heads(), attnTask);
        for (int b = 0; b < n; b++) {
            MemorySegment.copy(attnOut, ValueLayout.JAVA_FLOAT, (long) b * dim * 4, outs[b], 0, dim);
        }
    }

    /** Heads [h0, h1) of the attention call in progress (see attend). */
    private void attendHeads(int h0, int h1) {
        backend.attention(kvType == KvType.F16, attnN, attnPos0, c.heads(), c.kvHeads(), c.headDim(), attnQ, c.dim(),
                keyCache[attnLayer], valueCache[attnLayer], c.kvDim(), attentionScale, h0, h1, attnOut, c.dim());
    }

    // batch buffers, [token][...], grown on demand
    private float[][] bx = new float[0][];
    private float[][] bxb;
    private float[][] bxb2;
    private float[][][] bqkv;
    private float[][][] bgateUp;
    private float[][][] bout;

    private void ensureBatch(int n) {
        if (bx.length >= n) {
            return;
        }
        bx = new float[n][c.dim()];
        bxb = new float[n][c.dim()];
        bxb2 = new float[n][c.dim()];
        bqkv = new float[][][] {new float[n][c.dim()], new float[n][c.kvDim()], new float[n][c.kvDim()]};
        bgateUp = new float[][][] {new float[n][c.ffDim()], new float[n][c.ffDim()]};
        bout = new float[][][] {bxb2};
    }

    /**
     * Prompt processing: runs {@code tokens} at the next positions as one batch (each weight row reused across
     * the batch) and returns the logits of every token ({@code allLogits}) or of the last one only
     * ([n][vocab] or [1][vocab]). The results equal running {@link #forward} token by token.
     */
    public float[][] forwardBatch(int[] tokens, boolean allLogits) {
        int n = tokens.length;
        if (n == 0) {
            return new float[0][];
        }
        if (position + n > contextLength) {
            throw new Gguf4jException("context is full: " + (position + n) + " tokens do not fit " + contextLength
                    + " (use a larger context length)");
        }
        for (int token : tokens) {
            if (token < 0 || token >= c.vocab()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + c.vocab() + ")");
            }
        }
        if (device != null && n > device.maxTokens()) {
            return forwardInDeviceSizedBatches(tokens, allLogits);
        }
        checkFile();
        ensureBatch(n);
        int dim = c.dim();
        var emb = model.tokenEmbedding();
        for (int b = 0; b < n; b++) {
            Codecs.of(emb.type()).dequantize(emb.data(), (long) tokens[b] * emb.rowBytes(), bx[b], 0, dim);
        }
        ropeAngles(position, n);
        for (int l = 0; l < deviceFrom; l++) {
            batchLayer(l, n);
        }
        int first = allLogits ? 0 : n - 1;
        int count = n - first;
        float[][] out = new float[count][c.vocab()];
        boolean logitsDone = device != null && device.run(bx, n, position, first, out);
        if (!logitsDone) {
            float[][] normed = new float[count][];
            for (int b = 0; b < count; b++) {
                normed[b] = new float[dim];
                rmsnorm(normed[b], bx[first + b], model.outputNorm(), dim);
            }
            matmul.applyBatch(new Weight[] {model.output()}, normed, count, new float[][][] {out});
        }
        position += n;
        return out;
    }

    /**
     * Layer {@code l} on the CPU for the batch's {@code n} tokens at position.. position + n - 1. The per-token steps
     * run over the workers, a slice of the batch each: the same float operations per token as {@link #layer}.
     */
    private void batchLayer(int l, int n) {
        int dim = c.dim();
        int pos0 = position;
        LlamaModel.Layer w = model.layer(l);
        pool.forRange(n, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                rmsnorm(bxb[b], bx[b], w.attnNorm(), dim);
            }
        });
        matmul.applyBatch(qkvWeights[l], bxb, n, bqkv);
        pool.forRange(n, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                float[] bq = bqkv[0][b];
                float[] bk = bqkv[1][b];
                float[] bv = bqkv[2][b];
                addBias(bq, w.bq());
                addBias(bk, w.bk());
                addBias(bv, w.bv());
                rope(bq, c.heads(), b);
                rope(bk, c.kvHeads(), b);
                storeKv(l, pos0 + b, bk, bv);
            }
        });
        attend(l, pos0, n, bqkv[0], bxb);
        matmul.applyBatch(new Weight[] {w.wo()}, bxb, n, bout);
        pool.forRange(n, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                for (int i = 0; i < dim; i++) {
                    bx[b][i] += bxb2[b][i];
                }
                rmsnorm(bxb[b], bx[b], w.ffnNorm(), dim);
            }
        });
        matmul.applyBatch(gateUpWeights[l], bxb, n, bgateUp);
        pool.forRange(n, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                CpuMath.swiglu(bgateUp[0][b], 0, bgateUp[1][b], 0, bgateUp[0][b], 0, c.ffDim());
            }
        });
        matmul.applyBatch(new Weight[] {w.wDown()}, bgateUp[0], n, bout);
        pool.forRange(n, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                for (int i = 0; i < dim; i++) {
                    bx[b][i] += bxb2[b][i];
                }
            }
        });
    }

    /** A batch larger than the device's step, as consecutive batches the device takes. */
    private float[][] forwardInDeviceSizedBatches(int[] tokens, boolean allLogits) {
        int step = device.maxTokens();
        float[][] all = allLogits ? new float[tokens.length][] : null;
        float[][] last = null;
        for (int from = 0; from < tokens.length; from += step) {
            int to = Math.min(tokens.length, from + step);
            last = forwardBatch(java.util.Arrays.copyOfRange(tokens, from, to), allLogits);
            if (allLogits) {
                System.arraycopy(last, 0, all, from, last.length);
            }
        }
        return allLogits ? all : last;
    }

    /** Stores k and v [kvDim] at {@code pos} of layer l's cache (rounded to binary16 for the F16 cache). */
    private void storeKv(int l, int pos, float[] k, float[] v) {
        CpuMath.storeKv(k, v, pos, c.kvDim(), kvType == KvType.F16, keyCache[l], valueCache[l]);
    }

    private void rmsnorm(float[] out, float[] in, float[] weight, int n) {
        CpuMath.rmsNorm(out, 0, in, 0, weight, n, c.rmsEps());
    }

    private static void addBias(float[] v, float[] b) {
        if (b != null) {
            for (int i = 0; i < b.length; i++) {
                v[i] += b[i];
            }
        }
    }

    /**
     * Fills the RoPE tables for {@code n} tokens at positions {@code pos0 ..} (see {@link CpuMath#ropeAngles}): one
     * table serves every head and every layer.
     */
    private void ropeAngles(int pos0, int n) {
        int half = c.ropeDim() / 2;
        if (ropeCos.length < n * half) {
            ropeCos = new float[n * half];
            ropeSin = new float[n * half];
        }
        for (int b = 0; b < n; b++) {
            CpuMath.ropeAngles(pos0 + b, half, thetaScale, c.ropeFreqScale(), model.ropeFreqs(), ropeCos, ropeSin,
                    b * half);
        }
    }

    /** Rotates each head's first ropeDim dimensions by the angles of table row {@code row} (see ropeAngles). */
    private void rope(float[] vec, int heads, int row) {
        int half = c.ropeDim() / 2;
        CpuMath.rope(vec, 0, heads, c.headDim(), c.ropeDim(), c.ropeNeox(), ropeCos, ropeSin, row * half);
    }

    /** Whether this session runs layers on a device. */
    public boolean offloaded() {
        return device != null;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (device != null) {
            device.close();
        }
        matmul.close();
        pool.close();
        arena.close();
    }
}
