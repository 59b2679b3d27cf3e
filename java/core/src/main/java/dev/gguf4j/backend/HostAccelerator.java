package dev.gguf4j.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The device operations executed on the host: "device memory" is native host memory with a capacity of its own
 * (so running out of it can be tested), matmul is the CPU {@link Backend}'s matvec (one token) or matmat (a
 * batch), and the rest is {@link CpuMath}, the code the CPU forward pass runs. A model run through it therefore
 * gives the CPU path's logits bit for bit, which is what makes the offload orchestration (which layers run where,
 * what crosses host and device, the memory plan) testable without a GPU. It counts transfers.
 *
 * <p>It lives in the main sources, not the tests, because it is also the reference the CUDA kernels are checked
 * against, and {@code -Dgguf4j.device=host} runs the whole offload path from the CLI on a machine without a GPU.
 */
public final class HostAccelerator implements Accelerator {
    /** Transfers between host and "device" so far. */
    public record Transfers(long uploads, long uploadBytes, long downloads, long downloadBytes) {
        public Transfers since(Transfers earlier) {
            return new Transfers(uploads - earlier.uploads, uploadBytes - earlier.uploadBytes,
                    downloads - earlier.downloads, downloadBytes - earlier.downloadBytes);
        }
    }

    private final Backend backend;
    private final long capacity;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong uploads = new AtomicLong();
    private final AtomicLong uploadBytes = new AtomicLong();
    private final AtomicLong downloads = new AtomicLong();
    private final AtomicLong downloadBytes = new AtomicLong();
    private final AtomicLong graphLaunches = new AtomicLong();

    /** A host device whose matmuls run on {@code backend}, with {@code capacityBytes} of "device memory". */
    public HostAccelerator(Backend backend, long capacityBytes) {
        this.backend = backend;
        this.capacity = capacityBytes;
    }

    @Override
    public String name() {
        return "host";
    }

    @Override
    public String description() {
        return "host: the device operations on the CPU (" + backend.name() + " matmul), " + (capacity >> 20)
                + " MiB capacity";
    }

    @Override
    public DeviceMemory memory() {
        return new DeviceMemory(capacity - used.get(), capacity);
    }

    /** Bytes allocated now, over all contexts. */
    public long usedBytes() {
        return used.get();
    }

    /** Graph replays so far. */
    public long graphLaunches() {
        return graphLaunches.get();
    }

    public Transfers transfers() {
        return new Transfers(uploads.get(), uploadBytes.get(), downloads.get(), downloadBytes.get());
    }

    @Override
    public boolean supports(GgmlType type) {
        return backend.supports(type);
    }

    @Override
    public DeviceContext open() {
        return new Context();
    }

    /** A host "device" buffer: native memory; {@code root} is the allocation it belongs to. */
    private record Buffer(MemorySegment seg, Buffer root) implements DeviceBuffer {
        @Override
        public long byteSize() {
            return seg.byteSize();
        }

        @Override
        public DeviceBuffer slice(long offset, long bytes) {
            return new Buffer(seg.asSlice(offset, bytes), root == null ? this : root);
        }
    }

    /** A recorded graph: the ops, replayed in order. */
    private static final class HostGraph implements DeviceGraph {
        final DeviceContext owner;
        Runnable[] ops;

        HostGraph(DeviceContext owner, Runnable[] ops) {
            this.owner = owner;
            this.ops = ops;
        }

        @Override
        public void close() {
            ops = null;
        }
    }

    private static MemorySegment seg(DeviceBuffer b) {
        if (!(b instanceof Buffer hb)) {
            throw new IllegalArgumentException("not a host device buffer: " + b);
        }
        return hb.seg;
    }

    private final class Context implements DeviceContext {
        private final Map<Buffer, Arena> allocations = new IdentityHashMap<>();
        private float[][] f = {new float[0], new float[0], new float[0]}; // scratch slots, see floats()
        private float[] ropeCos = new float[0]; // rope's angle table for one position
        private float[] ropeSin = new float[0];
        private boolean closed;

        private float[] floats(int slot, DeviceBuffer b, long offsetFloats, long n) {
            if (f[slot].length < n) {
                f[slot] = new float[(int) n];
            }
            MemorySegment.copy(seg(b), JAVA_FLOAT, offsetFloats * 4, f[slot], 0, (int) n);
            return f[slot];
        }

        private static void store(float[] src, DeviceBuffer b, long offsetFloats, long n) {
            MemorySegment.copy(src, 0, seg(b), JAVA_FLOAT, offsetFloats * 4, (int) n);
        }

        private java.util.List<Runnable> recording;

        /** Runs an op now, or records it while a graph is being recorded. */
        private void exec(Runnable op) {
            checkOpen();
            if (recording != null) {
                recording.add(op);
            } else {
                op.run();
            }
        }

        private void notRecording(String what) {
            if (recording != null) {
                throw new IllegalStateException(what + " while recording a graph");
            }
        }

        @Override
        public void beginGraph() {
            notRecording("beginGraph");
            recording = new java.util.ArrayList<>();
        }

        @Override
        public DeviceGraph endGraph() {
            if (recording == null) {
                throw new IllegalStateException("endGraph without beginGraph");
            }
            Runnable[] ops = recording.toArray(Runnable[]::new);
            recording = null;
            return new HostGraph(this, ops);
        }

        @Override
        public void launch(DeviceGraph graph) {
            checkOpen();
            notRecording("launch");
            if (!(graph instanceof HostGraph g) || g.owner != this || g.ops == null) {
                throw new IllegalArgumentException("not a live graph of this context: " + graph);
            }
            graphLaunches.incrementAndGet();
            for (Runnable op : g.ops) {
                op.run();
            }
        }

        private void checkOpen() {
            if (closed) {
                throw new IllegalStateException("device context is closed");
            }
        }

        @Override
        public Accelerator accelerator() {
            return HostAccelerator.this;
        }

        @Override
        public DeviceBuffer alloc(long bytes, String what) {
            checkOpen();
            long now = used.addAndGet(bytes);
            if (now > capacity) {
                used.addAndGet(-bytes);
                throw DeviceOutOfMemoryException.allocation("host device", what, bytes, capacity - (now - bytes), null);
            }
            Arena arena = Arena.ofShared();
            Buffer b = new Buffer(arena.allocate(Math.max(1, bytes), 256).asSlice(0, bytes), null);
            allocations.put(b, arena);
            return b;
        }

        @Override
        public void free(DeviceBuffer buffer) {
            Arena a = buffer instanceof Buffer b ? allocations.remove(b) : null;
            if (a == null) {
                throw new IllegalArgumentException("not an allocation of this context: " + buffer);
            }
            used.addAndGet(-buffer.byteSize());
            a.close();
        }

        @Override
        public void upload(DeviceBuffer dst, MemorySegment src, long bytes) {
            checkOpen();
            notRecording("upload");
            MemorySegment.copy(src, 0, seg(dst), 0, bytes);
            uploads.incrementAndGet();
            uploadBytes.addAndGet(bytes);
        }

        @Override
        public void download(MemorySegment dst, DeviceBuffer src, long bytes) {
            checkOpen();
            notRecording("download");
            MemorySegment.copy(seg(src), 0, dst, 0, bytes);
            downloads.incrementAndGet();
            downloadBytes.addAndGet(bytes);
        }

        @Override
        public void memset(DeviceBuffer dst, int byteValue, long bytes) {
            seg(dst).asSlice(0, bytes).fill((byte) byteValue);
        }

        @Override
        public void synchronize() {
            checkOpen();
        }

        @Override
        public void matmul(GgmlType type, DeviceBuffer w, long rows, long cols, long rowBytes, long nTokens,
                DeviceBuffer x, long xStride, DeviceBuffer y, long yStride) {
            exec(() -> {
                checkOpen();
                if (!backend.supports(type)) {
                    throw new IllegalArgumentException("type " + type + ": the " + backend.name() + " backend has no kernel");
                }
                if (nTokens == 1) {
                    backend.matvec(type, seg(w), rowBytes, (int) rows, (int) cols, seg(x), seg(y));
                } else {
                    backend.matmat(type, seg(w), rowBytes, (int) rows, (int) cols, (int) nTokens, seg(x), xStride, seg(y),
                            yStride);
                }
            });
        }

        @Override
        public void rmsNorm(long nTokens, long dim, DeviceBuffer x, DeviceBuffer weight, float eps, DeviceBuffer y) {
            exec(() -> {
                float[] w = floats(0, weight, 0, dim);
                float[] out = f[2].length >= dim ? f[2] : (f[2] = new float[(int) dim]);
                for (long t = 0; t < nTokens; t++) {
                    float[] in = floats(1, x, t * dim, dim);
                    CpuMath.rmsNorm(out, 0, in, 0, w, (int) dim, eps);
                    store(out, y, t * dim, dim);
                }
            });
        }

        @Override
        public void add(long n, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) {
            exec(() -> {
                float[] fa = floats(0, a, 0, n);
                float[] fb = floats(1, b, 0, n);
                for (int i = 0; i < n; i++) {
                    fa[i] = fa[i] + fb[i];
                }
                store(fa, y, 0, n);
            });
        }

        @Override
        public void addBias(long nTokens, long dim, DeviceBuffer x, DeviceBuffer bias) {
            exec(() -> {
                float[] b = floats(0, bias, 0, dim);
                for (long t = 0; t < nTokens; t++) {
                    float[] v = floats(1, x, t * dim, dim);
                    for (int i = 0; i < dim; i++) {
                        v[i] += b[i];
                    }
                    store(v, x, t * dim, dim);
                }
            });
        }

        @Override
        public void swiglu(long n, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer y) {
            exec(() -> {
                float[] g = floats(0, gate, 0, n);
                float[] u = floats(1, up, 0, n);
                CpuMath.swiglu(g, 0, u, 0, g, 0, (int) n);
                store(g, y, 0, n);
            });
        }

        @Override
        public void scaleAdd(long n, float s, DeviceBuffer x, boolean accumulate, DeviceBuffer y) {
            exec(() -> {
                float[] fx = floats(0, x, 0, n);
                float[] fy = accumulate ? floats(1, y, 0, n) : null;
                for (int i = 0; i < n; i++) {
                    fx[i] = accumulate ? fy[i] + fx[i] * s : fx[i] * s;
                }
                store(fx, y, 0, n);
            });
        }

        @Override
        public void geglu(long n, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer y) {
            exec(() -> {
                float[] g = floats(0, gate, 0, n);
                float[] u = floats(1, up, 0, n);
                CpuMath.geglu(g, 0, u, 0, g, 0, (int) n);
                store(g, y, 0, n);
            });
        }

        @Override
        public void softCap(long n, float cap, DeviceBuffer x, DeviceBuffer y) {
            exec(() -> {
                float[] v = floats(0, x, 0, n);
                CpuMath.softCap(v, 0, (int) n, cap);
                store(v, y, 0, n);
            });
        }

        @Override
        public void rope(boolean neox, long nTokens, long nHeads, long headDim, long nRot, DeviceBuffer pos0,
                float freqBase, float freqScale, float extFactor, float attnFactor, float corrLo, float corrHi,
                DeviceBuffer freqFactors, DeviceBuffer x) {
            exec(() -> {
                int p0 = seg(pos0).get(JAVA_INT, 0);
                int half = (int) nRot / 2;
                float[] ff = freqFactors == null ? null : floats(0, freqFactors, 0, half).clone();
                float[] corr = {corrLo, corrHi};
                if (ropeCos.length < half) {
                    ropeCos = new float[half];
                    ropeSin = new float[half];
                }
                float[] cos = ropeCos;
                float[] sin = ropeSin;
                long row = nHeads * headDim;
                float[] v = floats(1, x, 0, nTokens * row);
                float thetaScale = CpuMath.ropeThetaScale(freqBase, (int) nRot);
                for (int t = 0; t < nTokens; t++) {
                    // the CPU path's angle table for the token's position, then its rotation
                    CpuMath.ropeAngles(p0 + t, half, thetaScale, freqScale, ff, extFactor, corr, attnFactor, cos, sin,
                            0);
                    CpuMath.rope(v, (int) (t * row), (int) nHeads, (int) headDim, (int) nRot, neox, cos, sin, 0);
                }
                store(v, x, 0, nTokens * row);
            });
        }

        @Override
        public void attention(GgmlType kvType, long nTokens, DeviceBuffer pos0, long nCtx, long nHead, long nHeadKv,
                long headDim, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer kCache,
                DeviceBuffer vCache, float scale, float softCap, int window, DeviceBuffer out) {
            exec(() -> {
                int p0 = seg(pos0).get(JAVA_INT, 0);
                if (p0 < 0 || p0 + nTokens > nCtx) {
                    throw new IllegalArgumentException("attention: positions " + p0 + " + " + nTokens + " exceed n_ctx " + nCtx);
                }
                boolean f16 = switch (kvType) {
                    case F16 -> true;
                    case F32 -> false;
                    default -> throw new IllegalArgumentException("kv_type " + kvType + ": F16 or F32 only");
                };
                int kvDim = (int) (nHeadKv * headDim);
                int qDim = (int) (nHead * headDim);
                float[] fk = floats(1, k, 0, nTokens * kvDim);
                float[] fv = floats(2, v, 0, nTokens * kvDim);
                for (int t = 0; t < nTokens; t++) {
                    CpuMath.storeKv(fk, t * kvDim, fv, t * kvDim, p0 + t, kvDim, f16, seg(kCache), seg(vCache));
                }
                // the CPU path's attention kernel, all heads, on the buffers themselves
                backend.attention(f16, (int) nTokens, p0, (int) nHead, (int) nHeadKv, (int) headDim, seg(q), qDim,
                        seg(kCache), seg(vCache), kvDim, scale, softCap, window, 0, (int) nHead, seg(out), qDim);
            });
        }

        @Override
        public void argmax(long n, DeviceBuffer x, DeviceBuffer out) {
            exec(() -> {
                float[] v = floats(0, x, 0, n);
                int best = 0;
                for (int i = 1; i < n; i++) {
                    if (v[i] > v[best]) {
                        best = i;
                    }
                }
                seg(out).set(JAVA_INT, 0, best);
            });
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            for (var e : allocations.entrySet()) {
                used.addAndGet(-e.getKey().byteSize());
                e.getValue().close();
            }
            allocations.clear();
        }
    }
}
