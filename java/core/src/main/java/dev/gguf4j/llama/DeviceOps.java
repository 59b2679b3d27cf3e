package dev.gguf4j.llama;

import dev.gguf4j.backend.DeviceBuffer;
import dev.gguf4j.backend.DeviceContext;
import dev.gguf4j.types.GgmlType;

/**
 * {@link BlockOps} on a device ({@link DeviceContext}: CUDA, or the host reference): each op is one device call
 * on buffers in device memory, enqueued in order (and recordable as a device graph: nothing here transfers or
 * allocates). The activations and the KV cache belong to the session's {@link DeviceLayers}; the weights to the
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
    private final float[] attentionScale; // [layer]
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
        for (int l = weights.firstLayer(); l < c.layers(); l++) {
            Attention a = model.architecture().attention(c, l);
            if (!a.plain()) {
                throw unsupported(c.architecture() + " layer " + l + ": attention with soft-capping or a sliding"
                        + " window");
            }
            attentionScale[l] = a.scale();
        }
    }

    /**
     * Refuses, in one line naming the architecture, the device and what is missing, a model whose layers from
     * {@code firstLayer} on (and output layer, if {@code output}) use ops or attention the device does not have
     * yet: the architecture's block is run once against a probe that records every op it calls, before anything
     * is uploaded, so an offload never fails half way or computes something else.
     */
    static void refuseUnsupported(LlamaModel model, String device, int firstLayer, boolean output) {
        java.util.Optional<String> why = unsupported(model.config(), model.architecture(), model.hasLongRopeFactors(),
                device, firstLayer, output);
        if (why.isPresent()) {
            throw new dev.gguf4j.Gguf4jException(why.get());
        }
    }

    /** {@link #refuseUnsupported}'s message, or empty when the device runs that part of the model. */
    static java.util.Optional<String> unsupported(LlamaConfig c, Architecture arch, boolean longRope, String device,
            int firstLayer, boolean output) {
        java.util.Set<String> missing = new java.util.TreeSet<>();
        BlockOps probe = (BlockOps) java.lang.reflect.Proxy.newProxyInstance(BlockOps.class.getClassLoader(),
                new Class<?>[] {BlockOps.class}, (p, m, args) -> switch (m.getName()) {
                    case "name" -> device;
                    case "config" -> c;
                    case "tokens" -> 1;
                    case "has" -> true;
                    default -> {
                        if (!hasOp(m)) {
                            missing.add(switch (m.getName()) {
                                case "moe" -> "mixture-of-experts FFN";
                                case "sigmoidGate" -> "sigmoid gate";
                                default -> m.getName();
                            });
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
        for (int l = firstLayer; l < c.layers(); l++) {
            if (!arch.attention(c, l).plain()) {
                missing.add("soft-capped or sliding-window attention");
                break;
            }
        }
        if (c.qDim() != c.dim() && firstLayer < c.layers()) {
            missing.add("a head size other than n_embd / n_head");
        }
        if (firstLayer < c.layers() && (c.ropeExtFactor() != 0 || c.ropeAttnFactor() != 1.0f || longRope)) {
            missing.add("YaRN, LongRoPE or attn_factor RoPE");
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
                weights.ropeFreqs(), buffer(x));
    }

    @Override
    public void attention(int layer, Act q, Act k, Act v, Act out) {
        ctx.attention(kvType, n, pos0, contextLength, c.heads(), c.kvHeads(), c.headDim(), buffer(q), buffer(k),
                buffer(v), keyCache[layer], valueCache[layer], attentionScale[layer], buffer(out));
    }

    @Override
    public void swiglu(Act gate, Act up, Act out) {
        ctx.swiglu((long) n * width(gate), buffer(gate), buffer(up), buffer(out));
    }

    @Override
    public void add(Act x, Act y) {
        ctx.add((long) n * width(x), buffer(x), buffer(y), buffer(x));
    }
}
