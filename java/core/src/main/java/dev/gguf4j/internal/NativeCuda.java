package dev.gguf4j.internal;

import static dev.gguf4j.internal.bindings.GgufCudaNative.*;

import dev.gguf4j.Gguf4j;
import dev.gguf4j.Settings;
import dev.gguf4j.internal.bindings.g4j_cuda_device_info;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Facade over libgguf4j_cuda's generated bindings: loading, ABI check, device discovery, and {@link Context}, one
 * {@code g4j_cuda_ctx} with its memory and operations. Device pointers are plain {@code long} addresses here;
 * every failure status becomes a {@link NativeException} carrying {@code g4j_cuda_last_error()}.
 */
public final class NativeCuda {
    /** One GPU as the driver reports it. */
    public record Device(int index, String name, long totalMemory, long freeMemory, int computeMajor, int computeMinor,
            int multiprocessors) {
        @Override
        public String toString() {
            return String.format("#%d %s (sm_%d%d, %d SMs, %d MiB, %d MiB free)", index, name, computeMajor,
                    computeMinor, multiprocessors, totalMemory >> 20, freeMemory >> 20);
        }
    }

    private final NativeLoader.Loaded loaded;
    private final List<Device> devices;

    private NativeCuda(NativeLoader.Loaded loaded, List<Device> devices) {
        this.loaded = loaded;
        this.devices = devices;
    }

    /** Loads libgguf4j_cuda and lists the devices; throws if the library or a usable device is missing. */
    public static NativeCuda load(Settings settings) {
        NativeLoader.Loaded loaded = NativeLoader.load("gguf4j_cuda", settings.cudaLibrary(), Settings.CUDA_PATH,
                settings.cacheDir(), Gguf4j.version());
        int abi = g4j_cuda_abi_version();
        if (abi != G4J_CUDA_ABI_VERSION()) {
            throw new NativeLibraryUnusableException(loaded.path() + " has CUDA ABI version " + abi + ", these bindings expect "
                    + G4J_CUDA_ABI_VERSION());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            int st = g4j_cuda_device_count(count);
            if (st != 0) {
                int driver = g4j_cuda_driver_version();
                throw new NativeLibraryException(g4j_cuda_last_error().getString(0) + " (driver CUDA version: "
                        + (driver == 0 ? "no driver" : driver / 1000 + "." + driver % 1000 / 10) + "; " + loaded + ")");
            }
            List<Device> devices = new ArrayList<>();
            MemorySegment info = g4j_cuda_device_info.allocate(arena);
            for (int d = 0; d < count.get(ValueLayout.JAVA_INT, 0); d++) {
                if (g4j_cuda_device_info_get(d, info) != 0) {
                    throw new NativeLibraryException("CUDA device " + d + ": " + g4j_cuda_last_error().getString(0));
                }
                devices.add(new Device(d, g4j_cuda_device_info.name(info).getString(0),
                        g4j_cuda_device_info.total_memory_bytes(info), g4j_cuda_device_info.free_memory_bytes(info),
                        g4j_cuda_device_info.compute_major(info), g4j_cuda_device_info.compute_minor(info),
                        g4j_cuda_device_info.multiprocessors(info)));
            }
            return new NativeCuda(loaded, List.copyOf(devices));
        }
    }

    public NativeLoader.Loaded loaded() {
        return loaded;
    }

    public List<Device> devices() {
        return devices;
    }

    /** Whether {@code g4j_cuda_matmul} takes weights of ggml type id {@code type} (the library's type table). */
    public boolean matmulSupports(int type) {
        return g4j_cuda_matmul_supports(type) != 0;
    }

    public int runtimeVersion() {
        return g4j_cuda_runtime_version();
    }

    /** Free and total memory of {@code device} now ({@code g4j_cuda_device_info_get}). */
    public long[] memory(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = g4j_cuda_device_info.allocate(arena);
            check("g4j_cuda_device_info_get", g4j_cuda_device_info_get(device, info));
            return new long[] {g4j_cuda_device_info.free_memory_bytes(info), g4j_cuda_device_info.total_memory_bytes(info)};
        }
    }

    /** A new context on {@code device}. */
    public Context open(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check("g4j_cuda_ctx_create", g4j_cuda_ctx_create(device, out));
            return new Context(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** Status codes of gguf4j.h. */
    public static final int OK = 0;
    public static final int E_OUT_OF_MEMORY = 7;
    private static final Map<Integer, String> STATUS_NAMES = Map.of(1, "G4J_E_INVALID_ARGUMENT", 2,
            "G4J_E_UNSUPPORTED_TYPE", 3, "G4J_E_UNSUPPORTED_ISA", 4, "G4J_E_INTERNAL", 5, "G4J_E_NO_DEVICE", 6,
            "G4J_E_DEVICE", 7, "G4J_E_OUT_OF_MEMORY");

    static void check(String function, int status) {
        if (status != OK) {
            String message = g4j_cuda_last_error().getString(0);
            throw new NativeException(function, status, STATUS_NAMES.getOrDefault(status, "status " + status), message);
        }
    }

    private static MemorySegment ptr(long address) {
        return address == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address);
    }

    /**
     * One {@code g4j_cuda_ctx}: a device, a stream, scratch, and the memory allocated through it (all freed by
     * {@link #close()}). Not thread-safe. Arguments are device addresses unless they are host segments.
     */
    public static final class Context implements AutoCloseable {
        private final Arena arena = Arena.ofShared(); // a session may be closed by another thread
        private final MemorySegment longs = arena.allocate(ValueLayout.JAVA_LONG, 2);
        private final MemorySegment addr = arena.allocate(ValueLayout.ADDRESS);
        private MemorySegment ctx;

        private Context(MemorySegment ctx) {
            this.ctx = ctx;
        }

        private MemorySegment ctx() {
            if (ctx == null) {
                throw new IllegalStateException("CUDA context is closed");
            }
            return ctx;
        }

        /** {free, total} bytes. */
        public long[] memInfo() {
            check("g4j_cuda_mem_info", g4j_cuda_mem_info(ctx(), longs, longs.asSlice(8)));
            return new long[] {longs.get(ValueLayout.JAVA_LONG, 0), longs.get(ValueLayout.JAVA_LONG, 8)};
        }

        /** Device address of {@code bytes} new bytes; a NativeException with status E_OUT_OF_MEMORY if they do not fit. */
        public long alloc(long bytes) {
            check("g4j_cuda_alloc", g4j_cuda_alloc(ctx(), bytes, addr));
            return addr.get(ValueLayout.ADDRESS, 0).address();
        }

        public void free(long dev) {
            check("g4j_cuda_free", g4j_cuda_free(ctx(), ptr(dev)));
        }

        public void upload(long dst, MemorySegment hostSrc, long bytes) {
            check("g4j_cuda_upload", g4j_cuda_upload(ctx(), ptr(dst), hostSrc, bytes));
        }

        public void download(MemorySegment hostDst, long src, long bytes) {
            check("g4j_cuda_download", g4j_cuda_download(ctx(), hostDst, ptr(src), bytes));
        }

        public void memset(long dst, int value, long bytes) {
            check("g4j_cuda_memset", g4j_cuda_memset(ctx(), ptr(dst), value, bytes));
        }

        public void synchronize() {
            check("g4j_cuda_synchronize", g4j_cuda_synchronize(ctx()));
        }

        public void matmul(int type, long w, long rows, long cols, long rowBytes, long nTokens, long x, long xStride,
                long y, long yStride) {
            check("g4j_cuda_matmul", g4j_cuda_matmul(ctx(), type, ptr(w), rows, cols, rowBytes, nTokens, ptr(x),
                    xStride, ptr(y), yStride));
        }

        public void rmsNorm(long nTokens, long dim, long x, long weight, float eps, long y) {
            check("g4j_cuda_rms_norm", g4j_cuda_rms_norm(ctx(), nTokens, dim, ptr(x), ptr(weight), eps, ptr(y)));
        }

        public void add(long n, long a, long b, long y) {
            check("g4j_cuda_add", g4j_cuda_add(ctx(), n, ptr(a), ptr(b), ptr(y)));
        }

        public void addBias(long nTokens, long dim, long x, long bias) {
            check("g4j_cuda_add_bias", g4j_cuda_add_bias(ctx(), nTokens, dim, ptr(x), ptr(bias)));
        }

        public void scaleAdd(long n, float s, long x, boolean accumulate, long y) {
            check("g4j_cuda_scale_add", g4j_cuda_scale_add(ctx(), n, s, ptr(x), accumulate ? 1 : 0, ptr(y)));
        }

        public void swiglu(long n, long gate, long up, long y) {
            check("g4j_cuda_swiglu", g4j_cuda_swiglu(ctx(), n, ptr(gate), ptr(up), ptr(y)));
        }

        public void geglu(long n, long gate, long up, long y) {
            check("g4j_cuda_geglu", g4j_cuda_geglu(ctx(), n, ptr(gate), ptr(up), ptr(y)));
        }

        public void softCap(long n, float cap, long x, long y) {
            check("g4j_cuda_soft_cap", g4j_cuda_soft_cap(ctx(), n, cap, ptr(x), ptr(y)));
        }

        public void rope(boolean neox, long nTokens, long nHeads, long headDim, long nRot, long pos0, float freqBase,
                float freqScale, float extFactor, float attnFactor, float corrLo, float corrHi, long freqFactors,
                long x) {
            check("g4j_cuda_rope", g4j_cuda_rope(ctx(), neox ? 1 : 0, nTokens, nHeads, headDim, nRot, ptr(pos0),
                    freqBase, freqScale, extFactor, attnFactor, corrLo, corrHi, ptr(freqFactors), ptr(x)));
        }

        public void attention(int kvType, long nTokens, long pos0, long nCtx, long nHead, long nHeadKv, long headDim,
                long q, long k, long v, long kCache, long vCache, float scale, float softCap, int window, long out) {
            check("g4j_cuda_attention", g4j_cuda_attention(ctx(), kvType, nTokens, ptr(pos0), nCtx, nHead, nHeadKv,
                    headDim, ptr(q), ptr(k), ptr(v), ptr(kCache), ptr(vCache), scale, softCap, window, ptr(out)));
        }

        public void argmax(long n, long x, long out) {
            check("g4j_cuda_argmax", g4j_cuda_argmax(ctx(), n, ptr(x), ptr(out)));
        }

        /** Starts capturing a graph: ops enqueued until {@link #endGraph()} are recorded, not run. */
        public void beginGraph() {
            check("g4j_cuda_graph_begin", g4j_cuda_graph_begin(ctx()));
        }

        /** The captured graph's handle. */
        public MemorySegment endGraph() {
            check("g4j_cuda_graph_end", g4j_cuda_graph_end(ctx(), addr));
            return addr.get(ValueLayout.ADDRESS, 0);
        }

        public void launchGraph(MemorySegment graph) {
            check("g4j_cuda_graph_launch", g4j_cuda_graph_launch(ctx(), graph));
        }

        public void destroyGraph(MemorySegment graph) {
            if (ctx != null) { // a destroyed context took its graphs with it
                g4j_cuda_graph_destroy(ctx, graph);
            }
        }

        /** Frees the context and everything allocated through it. */
        @Override
        public void close() {
            if (ctx != null) {
                g4j_cuda_ctx_destroy(ctx);
                ctx = null;
                arena.close();
            }
        }
    }
}
