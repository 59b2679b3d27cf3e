package dev.gguf4j.engine;

import dev.gguf4j.backend.DeviceBuffer;
import dev.gguf4j.backend.DeviceContext;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.types.GgmlType;

/**
 * {@link BlockOps} on a device ({@link DeviceContext}: CUDA, or the host reference): each op is one device call
 * on buffers in device memory, enqueued in order (and recordable as a device graph: nothing here allocates, and
 * only the mixture-of-experts ops transfer: their routing is decided on the host, so a model with experts runs
 * its steps op by op). The activations and the KV cache belong to the session's {@link DeviceLayers}; the weights to the
 * model's {@link DeviceWeights}.
 */
final class DeviceOps implements BlockOps {
    private final DeviceContext ctx;
    private final DeviceWeights weights;
    private final LlamaConfig c;
    private final GgmlType kvType;
    private final int contextLength;
    private final DeviceBuffer pos0;
    private final DeviceBuffer[] acts = new DeviceBuffer[Act.values().length];
    private final DeviceBuffer[] keyCache;
    private final DeviceBuffer[] valueCache;
    private final float[] attentionScale;   // [layer]
    private final float[] attentionSoftCap; // [layer], 0: none
    private final int[] attentionWindow;    // [layer], 0: none
    private final DeviceBuffer ropeFactors; // the divisor set of this context length (LlamaModel.ropeFactors), or null
    private final float corrLo;             // YaRN's correction dims (CpuMath.ropeYarnCorrDims), when ext factor != 0
    private final float corrHi;
    private int n;

    DeviceOps(DeviceContext ctx, DeviceWeights weights, LlamaModel model, GgmlType kvType, int contextLength,
            DeviceBuffer pos0, DeviceBuffer[] keyCache, DeviceBuffer[] valueCache) {
        this.ctx = ctx;
        this.weights = weights;
        this.c = model.config();
        this.kvType = kvType;
        this.contextLength = contextLength;
        this.pos0 = pos0;
        this.keyCache = keyCache;
        this.valueCache = valueCache;
        this.attentionScale = new float[c.layers()];
        this.attentionSoftCap = new float[c.layers()];
        this.attentionWindow = new int[c.layers()];
        for (int l = weights.firstLayer(); l < c.layers(); l++) {
            Attention a = model.architecture().attention(c, l);
            attentionScale[l] = a.scale();
            attentionSoftCap[l] = a.softCap();
            attentionWindow[l] = a.slidingWindow();
        }
        this.ropeFactors = weights.ropeFactors(model.ropeFactors(contextLength));
        float[] corr = CpuOps.yarnCorrDims(c);
        this.corrLo = corr == null ? 0.0f : corr[0];
        this.corrHi = corr == null ? 0.0f : corr[1];
    }

    /**
     * Refuses, in one line naming the architecture, the device and what is missing, a model whose layers from
     * {@code firstLayer} on (and output layer, if {@code output}) use ops or attention the device does not have
     * yet: the architecture's block is run once against a probe that records every op it calls, before anything
     * is uploaded, so an offload never fails half way or computes something else.
     */
    static void refuseUnsupported(LlamaModel model, String device, int firstLayer, boolean output) {
        java.util.Optional<String> why = unsupported(model.config(), model.architecture(), device, firstLayer, output);
        if (why.isPresent()) {
            throw new dev.gguf4j.Gguf4jException(why.get());
        }
    }

    /** {@link #refuseUnsupported}'s message, or empty when the device runs that part of the model. */
    static java.util.Optional<String> unsupported(LlamaConfig c, Architecture arch, String device, int firstLayer,
            boolean output) {
        if (arch.encoder()) { // Llama.load never offloads an encoder (its head is not an output layer either)
            return java.util.Optional.of(c.architecture() + ": offloading its layers to " + device
                    + " is not supported yet (an encoder: embeddings run on the CPU)");
        }
        java.util.Set<String> missing = new java.util.TreeSet<>();
        BlockOps probe = (BlockOps) java.lang.reflect.Proxy.newProxyInstance(BlockOps.class.getClassLoader(),
                new Class<?>[] {BlockOps.class}, (p, m, args) -> switch (m.getName()) {
                    case "name" -> device;
                    case "config" -> c;
                    case "tokens" -> 1;
                    case "has" -> true;
                    default -> {
                        if (!hasOp(m)) {
                            missing.add(m.getName());
                        }
                        yield null;
                    }
                });
        if (firstLayer < c.layers()) {
            arch.block(probe, firstLayer);
            if (firstLayer == 0) {
                arch.embedded(probe);
            }
        }
        if (output) {
            arch.head(probe);
        }
        if (!missing.isEmpty()) {
            return java.util.Optional.of(c.architecture() + ": offloading its layers to " + device
                    + " is not supported yet (the device has no " + String.join(", ", missing)
                    + "); run it on the CPU (--gpu-layers 0)");
        }
        return java.util.Optional.empty();
    }

    /** Whether this class implements the op {@code m} (else it is the interface's refusing default). */
    private static boolean hasOp(java.lang.reflect.Method m) {
        try {
            return DeviceOps.class.getMethod(m.getName(), m.getParameterTypes()).getDeclaringClass() != BlockOps.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    // mixture of experts: device scratch (router logits [tokens][experts], one expert's gate / up [expertFf], its
    // output and the weighted sum [dim]), the router logits' host copy, and the host side of the routing
    private DeviceBuffer moeRouter;
    private DeviceBuffer moeGate;
    private DeviceBuffer moeUp;
    private DeviceBuffer moeOut;
    private DeviceBuffer moeSum;
    private java.lang.foreign.MemorySegment moeHost;
    private float[] moeProbs = new float[0];
    private int[] moeIdx = new int[0];
    private int[] moeChosen = new int[0];
    private float[] moeWeight = new float[0];

    /** Device bytes of {@link #bindMoe}'s scratch for {@code maxTokens} tokens (0 without experts). */
    static long moeScratchBytes(LlamaConfig c, int maxTokens) {
        return c.experts() == 0 ? 0 : 4L * maxTokens * c.experts() + 8L * c.expertFfDim() + 8L * c.dim();
    }

    /** Allocates (in {@code ctx}) the scratch of the mixture-of-experts ops; {@code host}: native memory for the router logits. */
    void bindMoe(int maxTokens, java.lang.foreign.MemorySegment host) {
        moeRouter = ctx.alloc(4L * maxTokens * c.experts(), "router logits");
        moeGate = ctx.alloc(4L * c.expertFfDim(), "activations");
        moeUp = ctx.alloc(4L * c.expertFfDim(), "activations");
        moeOut = ctx.alloc(4L * c.dim(), "activations");
        moeSum = ctx.alloc(4L * c.dim(), "activations");
        moeHost = host;
        moeProbs = new float[c.experts()];
        moeIdx = new int[c.experts()];
        moeChosen = new int[c.expertsUsed()];
        moeWeight = new float[c.expertsUsed()];
    }

    /** Points slot {@code a} at {@code buffer} ([tokens][width] floats). */
    void bind(Act a, DeviceBuffer buffer) {
        acts[a.ordinal()] = buffer;
    }

    DeviceBuffer buffer(Act a) {
        return acts[a.ordinal()];
    }

    /** The next ops work on {@code tokens} rows. */
    void tokens(int tokens) {
        n = tokens;
    }

    @Override
    public String name() {
        return weights.accelerator().name();
    }

    @Override
    public LlamaConfig config() {
        return c;
    }

    @Override
    public int tokens() {
        return n;
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
        return layer == MODEL || weights.weight(layer, t) != null || weights.vector(layer, t) != null;
    }

    private DeviceWeights.DeviceWeight weight(int layer, TensorRole t) {
        DeviceWeights.DeviceWeight w = layer == MODEL ? (t == TensorRole.OUTPUT ? weights.output() : null)
                : weights.weight(layer, t);
        if (w == null) {
            throw new IllegalStateException("no " + t.tensorName(layer) + " on the device");
        }
        return w;
    }

    private DeviceBuffer vector(int layer, TensorRole t) {
        return layer == MODEL ? (t == TensorRole.OUTPUT_NORM ? weights.outputNorm() : null) : weights.vector(layer, t);
    }

    @Override
    public void rmsNorm(Act in, int layer, TensorRole weight, Act out) {
        DeviceBuffer w = vector(layer, weight);
        if (w == null) {
            throw new IllegalStateException("no " + weight.tensorName(layer) + " on the device");
        }
        ctx.rmsNorm(n, width(in), buffer(in), w, c.rmsEps(), buffer(out));
    }

    @Override
    public void matmul(int layer, TensorRole w, Act in, Act out) {
        DeviceWeights.DeviceWeight m = weight(layer, w);
        ctx.matmul(m.type(), m.data(), m.rows(), m.cols(), m.rowBytes(), n, buffer(in), m.cols(), buffer(out),
                m.rows());
    }

    @Override
    public void matmul(int layer, TensorRole[] ws, Act in, Act[] outs) {
        for (int i = 0; i < ws.length; i++) {
            matmul(layer, ws[i], in, outs[i]);
        }
    }

    @Override
    public void addBias(int layer, TensorRole bias, Act x) {
        DeviceBuffer b = vector(layer, bias);
        if (b != null) {
            ctx.addBias(n, width(x), buffer(x), b);
        }
    }

    @Override
    public void rope(Act x, int heads) {
        ctx.rope(c.ropeNeox(), n, heads, c.headDim(), c.ropeDim(), pos0, c.ropeTheta(), c.ropeFreqScale(),
                c.ropeExtFactor(), c.ropeAttnFactor(), corrLo, corrHi, ropeFactors, buffer(x));
    }

    @Override
    public void attention(int layer, Act q, Act k, Act v, Act out) {
        ctx.attention(kvType, n, pos0, contextLength, c.heads(), c.kvHeads(), c.headDim(), buffer(q), buffer(k),
                buffer(v), keyCache[layer], valueCache[layer], attentionScale[layer], attentionSoftCap[layer],
                attentionWindow[layer], buffer(out));
    }

    /** Token {@code t}'s row of slot {@code a}. */
    private DeviceBuffer row(Act a, int t) {
        long w = 4L * width(a);
        return buffer(a).slice(t * w, w);
    }

    /**
     * The router logits on the device, brought to the host for the routing (CpuOps' {@link CpuOps#route}: the one
     * definition of the softmax, top-k and renormalisation); then per token each chosen expert's gate / up matmuls
     * on slices of the stacked expert weights, SwiGLU, its down matmul, and the weighted sum in top-k order
     * ((w0 e0 + w1 e1) + ...), plus {@code out} when {@code add}: the CPU path's arithmetic, op for op.
     */
    @Override
    public void moe(int layer, Act in, Act out, Moe m, boolean add) {
        int k = m.used();
        int ne = m.experts();
        int ff = c.expertFfDim();
        int dim = c.dim();
        DeviceWeights.DeviceWeight r = weight(layer, TensorRole.FFN_GATE_INP);
        ctx.matmul(r.type(), r.data(), r.rows(), r.cols(), r.rowBytes(), n, buffer(in), width(in), moeRouter, ne);
        ctx.download(moeHost, moeRouter, 4L * n * ne);
        for (int t = 0; t < n; t++) {
            java.lang.foreign.MemorySegment.copy(moeHost, java.lang.foreign.ValueLayout.JAVA_FLOAT, 4L * t * ne,
                    moeProbs, 0, ne);
            CpuOps.route(moeProbs, ne, k, m.normalize(), moeIdx, moeChosen, moeWeight, 0);
            DeviceBuffer x = row(in, t);
            DeviceBuffer o = row(out, t);
            DeviceBuffer sum = add || buffer(out) == buffer(in) ? moeSum : o;
            for (int j = 0; j < k; j++) {
                int e = moeChosen[j];
                DeviceWeights.DeviceWeight g = expert(layer, TensorRole.FFN_GATE_EXPS, e);
                DeviceWeights.DeviceWeight u = expert(layer, TensorRole.FFN_UP_EXPS, e);
                DeviceWeights.DeviceWeight d = expert(layer, TensorRole.FFN_DOWN_EXPS, e);
                ctx.matmul(g.type(), g.data(), g.rows(), g.cols(), g.rowBytes(), 1, x, dim, moeGate, ff);
                ctx.matmul(u.type(), u.data(), u.rows(), u.cols(), u.rowBytes(), 1, x, dim, moeUp, ff);
                ctx.swiglu(ff, moeGate, moeUp, moeGate);
                ctx.matmul(d.type(), d.data(), d.rows(), d.cols(), d.rowBytes(), 1, moeGate, ff, moeOut, dim);
                ctx.scaleAdd(dim, moeWeight[j], moeOut, j > 0, sum);
            }
            if (add) {
                ctx.add(dim, sum, o, o);
            } else if (sum != o) {
                ctx.scaleAdd(dim, 1.0f, sum, false, o);
            }
        }
    }

    private DeviceWeights.DeviceWeight expert(int layer, TensorRole t, int e) {
        DeviceWeights.DeviceWeight w = weights.expert(layer, t, e);
        if (w == null) {
            throw new IllegalStateException("no " + t.tensorName(layer) + " on the device");
        }
        return w;
    }

    /** x *= silu(g) / g per token, g = w in computed on the device, the factor on the host (CpuOps' arithmetic). */
    @Override
    public void sigmoidGate(int layer, TensorRole w, Act in, Act x) {
        DeviceWeights.DeviceWeight g = weight(layer, w);
        ctx.matmul(g.type(), g.data(), g.rows(), g.cols(), g.rowBytes(), n, buffer(in), width(in), moeRouter, 1);
        ctx.download(moeHost, moeRouter, 4L * n);
        for (int t = 0; t < n; t++) {
            float s = CpuOps.sigmoidGate(moeHost.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 4L * t));
            DeviceBuffer row = row(x, t);
            ctx.scaleAdd(width(x), s, row, false, row);
        }
    }

    @Override
    public void swiglu(Act gate, Act up, Act out) {
        ctx.swiglu((long) n * width(gate), buffer(gate), buffer(up), buffer(out));
    }

    @Override
    public void gegluTanh(Act gate, Act up, Act out) {
        ctx.geglu((long) n * width(gate), buffer(gate), buffer(up), buffer(out));
    }

    @Override
    public void add(Act x, Act y) {
        ctx.add((long) n * width(x), buffer(x), buffer(y), buffer(x));
    }

    /** x *= s: scale_add without accumulation, the product rounded as the CPU's x[i] * s. */
    @Override
    public void scale(Act x, float s) {
        ctx.scaleAdd((long) n * width(x), s, buffer(x), false, buffer(x));
    }

    @Override
    public void softCap(Act x, float cap) {
        ctx.softCap((long) n * width(x), cap, buffer(x), buffer(x));
    }
}
