package dev.gguf4j.engine;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.llama.OffloadPlan;

/**
 * One sequence's state over a shared {@link LlamaModel}: the KV cache, scratch buffers and worker threads.
 * Not thread-safe: one thread drives a session; many sessions may share a model.
 *
 * <p>The forward pass is the model's {@link Architecture}: its block, written once against {@link BlockOps},
 * runs here on {@link CpuOps} for one token (generation) or a batch (a prompt) alike:
 * <pre>
 *   X[tokens][dim] = token_embd[tokens]; architecture.embedded(ops)
 *   for each layer: architecture.block(ops, layer)       (llama: Blocks.selfAttention, Blocks.gatedFfn)
 *   logits = architecture.head(ops)                      (rmsnorm(X) * output_norm, then output)
 * </pre>
 *
 * <p>With GPU layers ({@link OffloadPlan}), layers [0, firstDeviceLayer) run here as above, then
 * {@link DeviceLayers} runs the same block on the device ({@link DeviceOps}) for the rest (and the output layer
 * when the plan puts it there): X goes up once and comes back once per step, as hidden states or as logits.
 */
public final class LlamaSession implements Sequence {
    /** KV cache element type. */
    public enum KvType { F16, F32 }

    private final LlamaModel model;
    private final LlamaConfig c;
    private final Architecture arch;
    private final int contextLength;
    private final CpuOps cpu;
    private final float[] logits;            // [vocab]: forward's result
    private final float[][] logits1;         // {logits}
    private final int[] oneToken = new int[1];
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
    public LlamaSession(LlamaModel model, Backend backend, int contextLength, int threads, KvType kvType,
            DeviceWeights offload, int maxDeviceTokens, boolean deviceGraphs) {
        this.model = model;
        this.c = model.config();
        this.arch = model.architecture();
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
        }
        this.contextLength = contextLength;
        // the CPU's layers [0, deviceFrom) keep their cache in CpuOps; the device layers' cache is in device memory
        this.deviceFrom = offload == null ? c.layers() : offload.firstLayer();
        this.cpu = new CpuOps(model, backend, threads, contextLength, kvType, deviceFrom);
        logits = new float[c.vocab()];
        logits1 = new float[][] {logits};
        try {
            this.device = offload == null ? null : new DeviceLayers(offload, model, contextLength, kvType,
                    Math.max(1, Math.min(maxDeviceTokens, contextLength)), deviceGraphs);
        } catch (RuntimeException e) {
            cpu.close();
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
        boolean logitsDone = device != null && device.run(cpu.rows(BlockOps.Act.X), 1, pos, 0, logits1);
        if (!logitsDone) {
            cpu.head(0, 1, logits1);
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
        int next = device.runArgmax(cpu.rows(BlockOps.Act.X)[0], pos);
        position++;
        return next;
    }

    /** The index of the largest value, the lowest among equals (the greedy sampler's pick). */
    public static int argmax(float[] v) {
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
        oneToken[0] = token;
        runCpuLayers(oneToken, 1, pos);
        return pos;
    }

    /**
     * Puts the embeddings of {@code tokens[0 .. n)} in X and runs the CPU's layers on them at positions
     * {@code pos0 ..}: the architecture's block, the same code for one token and a batch.
     */
    private void runCpuLayers(int[] tokens, int n, int pos0) {
        cpu.begin(n, pos0);
        cpu.embed(tokens, n);
        arch.embedded(cpu);
        for (int l = 0; l < deviceFrom; l++) {
            arch.block(cpu, l);
        }
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
        runCpuLayers(tokens, n, position);
        int first = allLogits ? 0 : n - 1;
        int count = n - first;
        float[][] out = new float[count][c.vocab()];
        boolean logitsDone = device != null && device.run(cpu.rows(BlockOps.Act.X), n, position, first, out);
        if (!logitsDone) {
            cpu.head(first, count, out);
        }
        position += n;
        return out;
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

    /**
     * Shows {@code observer} the input of every weight matrix product from the next step on (null: none), as
     * llama-imatrix's callback sees them. Only the CPU's layers are observed: a session with device layers refuses.
     */
    public void observeMatmuls(MatmulObserver observer) {
        if (device != null && observer != null) {
            throw new Gguf4jException("observing matmuls needs every layer on the CPU; this session runs layers "
                    + deviceFrom + " and up on the GPU (load it without -ngl)");
        }
        cpu.observer(observer);
    }

    /** Bytes of KV cache this session holds, in host and device memory together. */
    public long kvCacheBytes() {
        return cpu.kvCacheBytes() + (device == null ? 0 : device.kvCacheBytes());
    }

    @Override
    public float[] forwardLast(int[] tokens) {
        return forwardBatch(tokens, false)[0];
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
        cpu.close();
    }
}
