package dev.gguf4j.engine;

import dev.gguf4j.backend.Accelerator;
import dev.gguf4j.backend.DeviceBuffer;
import dev.gguf4j.backend.DeviceContext;
import dev.gguf4j.backend.DeviceOutOfMemoryException;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.llama.OffloadPlan;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The offloaded part of a model in device memory, uploaded once at load and shared by every session: the weights
 * of layers [{@link #firstLayer()}, layers) and, when the plan says so, the output layer. Owns a device context
 * of its own; closing it frees them.
 */
public final class DeviceWeights implements AutoCloseable {
    /** A weight matrix in device memory. */
    record DeviceWeight(GgmlType type, int rows, int cols, long rowBytes, DeviceBuffer data) {
    }

    private final Accelerator accelerator;
    private final OffloadPlan plan;
    private final DeviceContext ctx;
    private final int firstLayer;
    private final DeviceWeight[][] matrices; // [layer][TensorRole ordinal], null where absent or on the CPU
    private final DeviceBuffer[][] vectors;  // [layer][TensorRole ordinal]
    private final DeviceWeight[][][] experts; // [layer][TensorRole ordinal][expert]: views of a stacked matrix
    private final DeviceBuffer outputNorm;
    private final DeviceWeight output;
    // [ropeDim/2] per-frequency divisor sets on the device (rope_freqs; LongRoPE's long and short), by host array
    private final java.util.Map<float[], DeviceBuffer> ropeFactors = new java.util.IdentityHashMap<>();
    private long allocated;

    private DeviceWeights(LlamaModel model, Accelerator accelerator, OffloadPlan plan) {
        this.accelerator = accelerator;
        this.plan = plan;
        LlamaConfig c = model.config();
        this.firstLayer = c.layers() - plan.deviceLayers();
        DeviceOps.refuseUnsupported(model, accelerator.name(), firstLayer, plan.outputOnDevice());
        this.ctx = accelerator.open();
        try (Arena staging = Arena.ofConfined()) {
            int roles = TensorRole.values().length;
            matrices = new DeviceWeight[c.layers()][roles];
            vectors = new DeviceBuffer[c.layers()][roles];
            experts = new DeviceWeight[c.layers()][roles][];
            for (int l = firstLayer; l < c.layers(); l++) {
                for (TensorRole.Spec s : model.layerTensors()) { // the architecture's table, in its order
                    int r = s.role().ordinal();
                    if (s.matrix()) {
                        Weight w = model.weight(l, s.role());
                        matrices[l][r] = w == null ? null : weight(w);
                        if (w != null && s.experts() > 0) { // stacked experts: expert e's rows, views, no copy
                            DeviceWeight f = matrices[l][r];
                            DeviceWeight[] slices = new DeviceWeight[s.experts()];
                            for (int e = 0; e < slices.length; e++) {
                                slices[e] = new DeviceWeight(f.type(), s.rows(), f.cols(), f.rowBytes(),
                                        f.data().slice((long) e * s.rows() * f.rowBytes(), s.rows() * f.rowBytes()));
                            }
                            experts[l][r] = slices;
                        }
                        for (int i = 0, r0 = 0; w != null && s.parts() != null && i < s.parts().length;
                                r0 += s.partRows()[i++]) { // a fused matrix's parts: views of its rows
                            DeviceWeight f = matrices[l][r];
                            int rows = s.partRows()[i];
                            matrices[l][s.parts()[i].ordinal()] = new DeviceWeight(f.type(), rows, f.cols(),
                                    f.rowBytes(), f.data().slice(r0 * f.rowBytes(), rows * f.rowBytes()));
                        }
                    } else {
                        vectors[l][r] = vector(staging, model.vector(l, s.role()), s.role().tensorName(l));
                    }
                }
            }
            if (plan.deviceLayers() > 0) { // every set: a session picks one by its context length (LongRoPE)
                for (float[] f : model.ropeFactorSets()) {
                    ropeFactors.put(f, vector(staging, f, "rope factors"));
                }
            }
            if (plan.outputOnDevice()) {
                outputNorm = vector(staging, model.outputNorm(), "output_norm");
                output = weight(model.output());
            } else {
                outputNorm = null;
                output = null;
            }
            ctx.synchronize(); // the sessions' streams read these
        } catch (DeviceOutOfMemoryException e) {
            ctx.close();
            throw new DeviceOutOfMemoryException(e.getMessage(), e.what(), e.requestedBytes(), e.freeBytes() + allocated,
                    e.suggestedGpuLayers(), e);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /**
     * Uploads what {@code plan} puts on the device; if it does not fit, everything is freed and the
     * {@link DeviceOutOfMemoryException}'s {@code freeBytes} is what was free before the upload began (the free
     * memory at the failure plus what the upload had taken).
     */
    public static DeviceWeights upload(LlamaModel model, Accelerator accelerator, OffloadPlan plan) {
        return new DeviceWeights(model, accelerator, plan);
    }

    private DeviceWeight weight(Weight w) {
        long bytes = (long) w.rows() * w.rowBytes();
        DeviceBuffer b = ctx.alloc(bytes, w.name());
        allocated += bytes;
        ctx.upload(b, w.data(), bytes);
        return new DeviceWeight(w.type(), w.rows(), w.cols(), w.rowBytes(), b);
    }

    private DeviceBuffer vector(Arena staging, float[] v, String name) {
        if (v == null) {
            return null;
        }
        MemorySegment host = staging.allocate(ValueLayout.JAVA_FLOAT, v.length);
        MemorySegment.copy(v, 0, host, ValueLayout.JAVA_FLOAT, 0, v.length);
        DeviceBuffer b = ctx.alloc(host.byteSize(), name);
        allocated += host.byteSize();
        ctx.upload(b, host, host.byteSize());
        return b;
    }

    /** Device bytes of layer {@code l}'s weights (matrices, norms, biases). */
    public static long layerBytes(LlamaModel model, int l) {
        long b = 0;
        for (TensorRole.Spec s : model.layerTensors()) {
            if (s.matrix()) {
                Weight w = model.weight(l, s.role());
                b += w == null ? 0 : bytes(w);
            } else {
                float[] v = model.vector(l, s.role());
                b += v == null ? 0 : 4L * v.length;
            }
        }
        return b;
    }

    public static long bytes(Weight w) {
        return (long) w.rows() * w.rowBytes();
    }

    public Accelerator accelerator() {
        return accelerator;
    }

    OffloadPlan plan() {
        return plan;
    }

    int firstLayer() {
        return firstLayer;
    }

    /** Layer {@code l}'s matrix of this role in device memory, or null when the model has none. */
    DeviceWeight weight(int l, TensorRole role) {
        return matrices[l][role.ordinal()];
    }

    /** Expert {@code e}'s slice of layer {@code l}'s stacked matrix of this role in device memory, or null. */
    DeviceWeight expert(int l, TensorRole role, int e) {
        DeviceWeight[] slices = experts[l][role.ordinal()];
        return slices == null ? null : slices[e];
    }

    /** Layer {@code l}'s vector (norm weights, bias) of this role in device memory, or null. */
    DeviceBuffer vector(int l, TensorRole role) {
        return vectors[l][role.ordinal()];
    }

    boolean outputOnDevice() {
        return output != null;
    }

    DeviceBuffer outputNorm() {
        return outputNorm;
    }

    /**
     * The device copy of {@code host}, one of the model's RoPE divisor sets ({@link LlamaModel#ropeFactors}: what a
     * session of its context length uses), or null for null.
     */
    DeviceBuffer ropeFactors(float[] host) {
        if (host == null) {
            return null;
        }
        DeviceBuffer b = ropeFactors.get(host);
        if (b == null) {
            throw new IllegalStateException("rope factors not uploaded");
        }
        return b;
    }

    DeviceWeight output() {
        return output;
    }

    @Override
    public void close() {
        ctx.close();
    }
}
