package dev.gguf4j.backend;

import dev.gguf4j.internal.NativeCuda;
import dev.gguf4j.internal.NativeException;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * A CUDA GPU as an {@link Accelerator}: {@link DeviceContext}s over {@code g4j_cuda_ctx} (libgguf4j_cuda, through
 * {@link NativeCuda}). {@link #open(int)} fails with {@link BackendUnavailableException} carrying the CUDA probe's
 * reason when there is no library, driver or device.
 */
public final class CudaAccelerator implements Accelerator {
    private final NativeCuda lib;
    private final NativeCuda.Device device;
    /** The weight types g4j_cuda_matmul takes, as the library answers (g4j_cuda_matmul_supports). */
    private final Set<GgmlType> matmulTypes = EnumSet.noneOf(GgmlType.class);

    private CudaAccelerator(NativeCuda lib, NativeCuda.Device device) {
        this.lib = lib;
        this.device = device;
        for (GgmlType t : GgmlType.values()) {
            if (lib.matmulSupports(t.id())) {
                matmulTypes.add(t);
            }
        }
    }

    /** GPU {@code index}; a {@link BackendUnavailableException} saying why if it cannot be used. */
    public static CudaAccelerator open(int index) {
        NativeCuda lib = CudaBackend.get().library();
        if (index < 0 || index >= lib.devices().size()) {
            throw new BackendUnavailableException("CUDA device " + index + " does not exist (devices: " + lib.devices()
                    + ")", null);
        }
        return new CudaAccelerator(lib, lib.devices().get(index));
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return "cuda " + device + ", libgguf4j_cuda from " + lib.loaded();
    }

    @Override
    public DeviceMemory memory() {
        long[] m = lib.memory(device.index());
        return new DeviceMemory(m[0], m[1]);
    }

    @Override
    public boolean supports(GgmlType type) {
        return matmulTypes.contains(type);
    }

    @Override
    public DeviceContext open() {
        return new Context(lib.open(device.index()));
    }

    /** Device memory: an address and a size; {@code root} for whole allocations. */
    private record Buffer(long address, long byteSize, boolean root) implements DeviceBuffer {
        @Override
        public DeviceBuffer slice(long offset, long bytes) {
            if (offset < 0 || bytes < 0 || offset + bytes > byteSize) {
                throw new IndexOutOfBoundsException("slice " + offset + "+" + bytes + " of " + byteSize + " bytes");
            }
            return new Buffer(address + offset, bytes, false);
        }
    }

    private static long a(DeviceBuffer b) {
        if (b == null) {
            return 0;
        }
        if (!(b instanceof Buffer cb)) {
            throw new IllegalArgumentException("not a CUDA buffer: " + b);
        }
        return cb.address;
    }

    private final class Context implements DeviceContext {
        private final NativeCuda.Context ctx;

        Context(NativeCuda.Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Accelerator accelerator() {
            return CudaAccelerator.this;
        }

        @Override
        public DeviceBuffer alloc(long bytes, String what) {
            try {
                return new Buffer(ctx.alloc(bytes), bytes, true);
            } catch (NativeException e) {
                if (e.status() == NativeCuda.E_OUT_OF_MEMORY) {
                    throw DeviceOutOfMemoryException.allocation("CUDA device", what, bytes, ctx.memInfo()[0], e);
                }
                throw e;
            }
        }

        @Override
        public void free(DeviceBuffer buffer) {
            if (!(buffer instanceof Buffer b) || !b.root) {
                throw new IllegalArgumentException("not a whole allocation: " + buffer);
            }
            ctx.free(b.address);
        }

        @Override
        public void upload(DeviceBuffer dst, MemorySegment src, long bytes) {
            ctx.upload(a(dst), src, bytes);
        }

        @Override
        public void download(MemorySegment dst, DeviceBuffer src, long bytes) {
            ctx.download(dst, a(src), bytes);
        }

        @Override
        public void memset(DeviceBuffer dst, int byteValue, long bytes) {
            ctx.memset(a(dst), byteValue, bytes);
        }

        @Override
        public void synchronize() {
            ctx.synchronize();
        }

        @Override
        public void matmul(GgmlType type, DeviceBuffer w, long rows, long cols, long rowBytes, long nTokens,
                DeviceBuffer x, long xStride, DeviceBuffer y, long yStride) {
            ctx.matmul(type.id(), a(w), rows, cols, rowBytes, nTokens, a(x), xStride, a(y), yStride);
        }

        @Override
        public void rmsNorm(long nTokens, long dim, DeviceBuffer x, DeviceBuffer weight, float eps, DeviceBuffer y) {
            ctx.rmsNorm(nTokens, dim, a(x), a(weight), eps, a(y));
        }

        @Override
        public void add(long n, DeviceBuffer x, DeviceBuffer b, DeviceBuffer y) {
            ctx.add(n, a(x), a(b), a(y));
        }

        @Override
        public void addBias(long nTokens, long dim, DeviceBuffer x, DeviceBuffer bias) {
            ctx.addBias(nTokens, dim, a(x), a(bias));
        }

        @Override
        public void swiglu(long n, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer y) {
            ctx.swiglu(n, a(gate), a(up), a(y));
        }

        @Override
        public void scaleAdd(long n, float s, DeviceBuffer x, boolean accumulate, DeviceBuffer y) {
            ctx.scaleAdd(n, s, a(x), accumulate, a(y));
        }

        @Override
        public void geglu(long n, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer y) {
            ctx.geglu(n, a(gate), a(up), a(y));
        }

        @Override
        public void softCap(long n, float cap, DeviceBuffer x, DeviceBuffer y) {
            ctx.softCap(n, cap, a(x), a(y));
        }

        @Override
        public void rope(boolean neox, long nTokens, long nHeads, long headDim, long nRot, DeviceBuffer pos0,
                float freqBase, float freqScale, float extFactor, float attnFactor, float corrLo, float corrHi,
                DeviceBuffer freqFactors, DeviceBuffer x) {
            ctx.rope(neox, nTokens, nHeads, headDim, nRot, a(pos0), freqBase, freqScale, extFactor, attnFactor, corrLo,
                    corrHi, a(freqFactors), a(x));
        }

        @Override
        public void attention(GgmlType kvType, long nTokens, DeviceBuffer pos0, long nCtx, long nHead, long nHeadKv,
                long headDim, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer kCache,
                DeviceBuffer vCache, float scale, float softCap, int window, DeviceBuffer out) {
            ctx.attention(kvType.id(), nTokens, a(pos0), nCtx, nHead, nHeadKv, headDim, a(q), a(k), a(v), a(kCache),
                    a(vCache), scale, softCap, window, a(out));
        }

        @Override
        public void argmax(long n, DeviceBuffer x, DeviceBuffer out) {
            ctx.argmax(n, a(x), a(out));
        }

        @Override
        public void beginGraph() {
            ctx.beginGraph();
        }

        @Override
        public DeviceGraph endGraph() {
            MemorySegment g = ctx.endGraph();
            return new Graph(this, g);
        }

        @Override
        public void launch(DeviceGraph graph) {
            if (!(graph instanceof Graph g) || g.owner != this) {
                throw new IllegalArgumentException("not a graph of this context: " + graph);
            }
            ctx.launchGraph(g.handle);
        }

        @Override
        public void close() {
            ctx.close(); // destroys its graphs too
        }
    }

    private static final class Graph implements DeviceGraph {
        private final Context owner;
        private MemorySegment handle;

        Graph(Context owner, MemorySegment handle) {
            this.owner = owner;
            this.handle = handle;
        }

        @Override
        public void close() {
            if (handle != null) {
                owner.ctx.destroyGraph(handle);
                handle = null;
            }
        }
    }
}
