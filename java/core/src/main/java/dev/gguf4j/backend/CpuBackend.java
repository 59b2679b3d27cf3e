package dev.gguf4j.backend;

import dev.gguf4j.Settings;
import dev.gguf4j.internal.NativeCpu;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * The native CPU backend (libgguf4j: scalar reference, AVX2 and AVX-512 kernels chosen at load).
 * {@link #isAvailable()} / {@link #unavailabilityCause()} say whether it loaded, and if not, why.
 */
public final class CpuBackend implements Backend {
    private static final class Holder {
        static final CpuBackend INSTANCE;
        static final Throwable CAUSE;

        static {
            CpuBackend b = null;
            Throwable cause = null;
            try {
                b = new CpuBackend(NativeCpu.load(Settings.fromSystemProperties()));
            } catch (RuntimeException | LinkageError e) {
                cause = e;
            }
            INSTANCE = b;
            CAUSE = cause;
        }
    }

    private final NativeCpu lib;
    /** The kernel variant every call of this instance uses (an {@code enum g4j_isa} id, never AUTO). */
    private final int isa;
    /**
     * Per weight type (by ordinal): the type libgguf4j converts the F32 activations to before its dot products
     * (ggml's vec_dot_type: F32, F16, BF16, Q8_0, Q8_1 or Q8_K), null where it has no kernel for the type. Asked of
     * the library once ({@code g4j_vec_dot_type}): the library says which types it supports.
     */
    private final GgmlType[] vecDotTypes;

    private CpuBackend(NativeCpu lib) {
        this(lib, lib.isa());
    }

    private CpuBackend(NativeCpu lib, int isa) {
        this.lib = lib;
        this.isa = isa;
        GgmlType[] types = GgmlType.values();
        this.vecDotTypes = new GgmlType[types.length];
        for (GgmlType t : types) {
            vecDotTypes[t.ordinal()] = lib.vecDotTypeIfSupported(t);
        }
    }

    /** Whether libgguf4j loaded (it is loaded once per JVM, on first use). */
    public static boolean isAvailable() {
        return Holder.INSTANCE != null;
    }

    /** Why libgguf4j did not load, if it did not. */
    public static Optional<Throwable> unavailabilityCause() {
        return Optional.ofNullable(Holder.CAUSE);
    }

    /** The backend, or a {@link BackendUnavailableException} with the cause. */
    public static CpuBackend get() {
        if (Holder.INSTANCE == null) {
            throw new BackendUnavailableException("native CPU backend unavailable: " + Holder.CAUSE.getMessage(),
                    Holder.CAUSE);
        }
        return Holder.INSTANCE;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "cpu: libgguf4j " + lib.version() + ", " + lib.isaName(isa) + " kernels, from " + lib.loaded();
    }

    /** CPU features the library detected. */
    public List<String> cpuFeatures() {
        return lib.cpuFeatures();
    }

    /** The kernel variant in use ("scalar", "avx2", "avx512", "avx512vnni"). */
    public String kernelVariant() {
        return lib.isaName(isa);
    }

    /** The kernel variants this CPU runs, from the scalar reference up ("scalar", "avx2", ...). */
    public List<String> kernelVariants() {
        List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < lib.isaCount(); i++) {
            if (lib.isaAvailable(i)) {
                names.add(lib.isaName(i));
            }
        }
        return names;
    }

    /**
     * The same library with every call on the named kernel variant (one of {@link #kernelVariants()}): what
     * {@code -Dgguf4j.isa} does for the whole JVM, for one backend instance. Variants agree to within float
     * summation order; each is deterministic on its own (see docs/determinism.md).
     *
     * @throws IllegalArgumentException naming the variant and the ones this CPU runs, if it is not one of them
     */
    public CpuBackend withKernelVariant(String name) {
        for (int i = 0; i < lib.isaCount(); i++) {
            if (lib.isaName(i).equalsIgnoreCase(name) && lib.isaAvailable(i)) {
                return new CpuBackend(lib, i);
            }
        }
        throw new IllegalArgumentException("kernel variant '" + name + "' is not one this CPU runs "
                + kernelVariants());
    }

    /** Low-level access for tests and benchmarks of individual variants. */
    public NativeCpu library() {
        return lib;
    }

    @Override
    public boolean supports(GgmlType type) {
        return vecDotTypes[type.ordinal()] != null;
    }

    @Override
    public float dot(GgmlType type, MemorySegment row, MemorySegment x, int n) {
        return lib.vecDot(isa, type, n, row, x);
    }

    @Override
    public void matvec(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, MemorySegment x,
            MemorySegment y) {
        lib.matvec(isa, type, rows, cols, w, rowBytes, x, y);
    }

    @Override
    public void matmat(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, int n, MemorySegment x,
            long xStride, MemorySegment y, long yStride) {
        lib.matmat(isa, type, rows, cols, w, rowBytes, n, x, xStride, y, yStride);
    }

    @Override
    public GgmlType activationType(GgmlType type) {
        return vecDotTypes[type.ordinal()];
    }

    @Override
    public void convertActivations(GgmlType type, int cols, MemorySegment x, MemorySegment out) {
        lib.quantizeActivations(type, cols, x, out);
    }

    @Override
    public void matmatConverted(GgmlType type, MemorySegment w, long wRow0, long rowBytes, int rows, int cols, int n,
            MemorySegment act, long actStrideBytes, MemorySegment y, long yRow0, long yStride) {
        lib.matmatConverted(isa, type, wRow0, yRow0, rows, cols, w, rowBytes, n, act, actStrideBytes, y, yStride);
    }

    /**
     * Q4_0, Q8_0, Q4_K, Q5_K and Q6_K: their r8 layout, rows interleaved by 8 (gguf4j.h; ik_llama.cpp repacks these
     * types likewise, llama.cpp c392e50 Q4_0); every other type: a copy of the file's bytes on huge pages (as
     * ik_llama.cpp's -rtr reads its weights into memory). Every product, batches and generation, reads the copy.
     */
    @Override
    public Repack repackKind(GgmlType type) {
        return switch (type) {
            case Q4_0, Q8_0, Q4_K, Q5_K, Q6_K -> Repack.INTERLEAVED;
            default -> Repack.COPY;
        };
    }

    /**
     * Q4_0 and Q8_0's copies change where the bytes are, not a bit; the k-quants' compute one exact integer per
     * row, column and super-block, not ggml's vec_dot lanes (gguf4j.h, g4j_matmat_r8).
     */
    @Override
    public boolean repackKeepsBits(GgmlType type) {
        return switch (type) {
            case Q4_K, Q5_K, Q6_K -> false;
            default -> true;
        };
    }

    @Override
    public long repackedBytes(GgmlType type, int rows, int cols) {
        return repackKind(type) == Repack.INTERLEAVED ? lib.r8Bytes(type, rows, cols)
                : Backend.super.repackedBytes(type, rows, cols);
    }

    @Override
    public double[] readBandwidth(long bytes, int reps, double maxSeconds, int... threads) {
        return lib.readBandwidth(bytes, reps, maxSeconds, threads);
    }

    @Override
    public void repack(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, MemorySegment out) {
        if (repackKind(type) != Repack.INTERLEAVED) {
            Backend.super.repack(type, w, rowBytes, rows, cols, out);
        } else {
            lib.repackR8(type, rows, cols, w, rowBytes, out);
        }
    }

    @Override
    public void matmatRepacked(GgmlType type, MemorySegment packed, int totalRows, long wRow0, int rows, int cols,
            int n, MemorySegment act, long actStrideBytes, MemorySegment y, long yRow0, long yStride) {
        if (repackKind(type) != Repack.INTERLEAVED) {
            Backend.super.matmatRepacked(type, packed, totalRows, wRow0, rows, cols, n, act, actStrideBytes, y, yRow0,
                    yStride);
        }
        lib.matmatR8(isa, type, totalRows, cols, packed, wRow0, yRow0, rows, n, act, actStrideBytes, y, yStride);
    }

    @Override
    public void attention(boolean f16Cache, int nQ, int pos0, int nHead, int nHeadKv, int headDim, MemorySegment q,
            long qStride, MemorySegment k, MemorySegment v, long kvStride, float scale, float softCap, int window,
            int h0, int h1, MemorySegment out, long outStride) {
        lib.attention(isa, f16Cache, nQ, pos0, nHead, nHeadKv, headDim, q, qStride, k, v, kvStride, scale, softCap,
                window, h0, h1, out, outStride);
    }
}
