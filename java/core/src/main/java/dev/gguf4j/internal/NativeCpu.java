package dev.gguf4j.internal;

import static dev.gguf4j.internal.bindings.GgufNative.*;

import dev.gguf4j.Gguf4j;
import dev.gguf4j.Settings;
import dev.gguf4j.internal.bindings.GgufNative;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hand-written facade over libgguf4j's generated bindings ({@link GgufNative}): the only class that calls
 * them. Statuses become {@link NativeException}s carrying {@code g4j_last_error()}.
 */
public final class NativeCpu {
    private static final Map<Integer, String> STATUS_NAMES = new LinkedHashMap<>();
    private static final Map<Long, String> FEATURE_NAMES = new LinkedHashMap<>();

    static {
        STATUS_NAMES.put(G4J_OK(), "G4J_OK");
        STATUS_NAMES.put(G4J_E_INVALID_ARGUMENT(), "G4J_E_INVALID_ARGUMENT");
        STATUS_NAMES.put(G4J_E_UNSUPPORTED_TYPE(), "G4J_E_UNSUPPORTED_TYPE");
        STATUS_NAMES.put(G4J_E_UNSUPPORTED_ISA(), "G4J_E_UNSUPPORTED_ISA");
        STATUS_NAMES.put(G4J_E_INTERNAL(), "G4J_E_INTERNAL");
        STATUS_NAMES.put(G4J_E_NO_DEVICE(), "G4J_E_NO_DEVICE");
        STATUS_NAMES.put(G4J_E_DEVICE(), "G4J_E_DEVICE");
        STATUS_NAMES.put(G4J_E_OUT_OF_MEMORY(), "G4J_E_OUT_OF_MEMORY");
        FEATURE_NAMES.put((long) G4J_CPU_SSE42(), "SSE4.2");
        FEATURE_NAMES.put((long) G4J_CPU_AVX(), "AVX");
        FEATURE_NAMES.put((long) G4J_CPU_AVX2(), "AVX2");
        FEATURE_NAMES.put((long) G4J_CPU_FMA(), "FMA");
        FEATURE_NAMES.put((long) G4J_CPU_F16C(), "F16C");
        FEATURE_NAMES.put((long) G4J_CPU_AVX512F(), "AVX512F");
        FEATURE_NAMES.put((long) G4J_CPU_AVX512BW(), "AVX512BW");
        FEATURE_NAMES.put((long) G4J_CPU_AVX512DQ(), "AVX512DQ");
        FEATURE_NAMES.put((long) G4J_CPU_AVX512VL(), "AVX512VL");
        FEATURE_NAMES.put((long) G4J_CPU_AVX512VNNI(), "AVX512_VNNI");
        FEATURE_NAMES.put((long) G4J_CPU_AVX512BF16(), "AVX512_BF16");
        FEATURE_NAMES.put((long) G4J_CPU_AVXVNNI(), "AVX_VNNI");
    }

    private final NativeLoader.Loaded loaded;
    private final int defaultIsa;
    private final ThreadLocal<MemorySegment> scratch = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(ValueLayout.JAVA_LONG, 2));

    private NativeCpu(NativeLoader.Loaded loaded, int defaultIsa) {
        this.loaded = loaded;
        this.defaultIsa = defaultIsa;
    }

    /** Loads libgguf4j as {@code settings} say and checks its ABI version; throws if it cannot. */
    public static NativeCpu load(Settings settings) {
        NativeLoader.Loaded loaded = NativeLoader.load("gguf4j", settings.nativeLibrary(), Settings.NATIVE_PATH,
                settings.cacheDir(), Gguf4j.version());
        int abi;
        try {
            abi = g4j_abi_version();
        } catch (RuntimeException | LinkageError e) {
            throw new NativeLibraryUnusableException(loaded.path() + " does not export g4j_abi_version: not a gguf4j library? ("
                    + e + ")", e);
        }
        if (abi != G4J_ABI_VERSION()) {
            throw new NativeLibraryUnusableException(loaded.path() + " has ABI version " + Integer.toUnsignedString(abi)
                    + ", but these bindings were generated for ABI " + G4J_ABI_VERSION()
                    + ": use the gguf4j-native jar of the same gguf4j version (" + Gguf4j.version() + ")");
        }
        int isa = settings.isa().nativeId();
        if (isa != Settings.IsaChoice.AUTO.nativeId() && g4j_isa_available(isa) == 0) {
            throw new NativeLibraryUnusableException(Settings.ISA + "=" + settings.isa().name().toLowerCase(java.util.Locale.ROOT)
                    + " is not supported by this CPU (features: " + String.join(" ", featureNames(g4j_cpu_features()))
                    + ")");
        }
        return new NativeCpu(loaded, isa);
    }

    public NativeLoader.Loaded loaded() {
        return loaded;
    }

    public String version() {
        return g4j_version().getString(0);
    }

    public int abiVersion() {
        return g4j_abi_version();
    }

    /** Names of the CPU features the library detected, e.g. [AVX, AVX2, FMA, F16C]. */
    public List<String> cpuFeatures() {
        return featureNames(g4j_cpu_features());
    }

    private static List<String> featureNames(long bits) {
        List<String> names = new ArrayList<>();
        FEATURE_NAMES.forEach((bit, name) -> {
            if ((bits & bit) != 0) {
                names.add(name);
            }
        });
        return names;
    }

    /** The kernel variant calls use: the forced one, or the best the CPU runs. */
    public int isa() {
        return defaultIsa == G4J_ISA_AUTO() ? g4j_isa_selected() : defaultIsa;
    }

    public String isaName(int isa) {
        return g4j_isa_name(isa).getString(0);
    }

    public boolean isaAvailable(int isa) {
        return g4j_isa_available(isa) != 0;
    }

    /** Variant ids from scalar up (G4J_ISA_SCALAR .. G4J_ISA_COUNT-1). */
    public int isaCount() {
        return G4J_ISA_COUNT();
    }

    /** {elements per block, bytes per block} of a ggml type id, from the C structs' sizeof. */
    public long[] typeLayout(int typeId) {
        MemorySegment s = scratch.get();
        check("g4j_type_layout", g4j_type_layout(typeId, s, s.asSlice(8)));
        return new long[] {s.get(ValueLayout.JAVA_LONG, 0), s.get(ValueLayout.JAVA_LONG, 8)};
    }

    /**
     * The type the F32 activations are converted to before a dot product with weights of {@code type} (ggml's
     * vec_dot_type: F32, F16, BF16, Q8_0, Q8_1 or Q8_K).
     */
    public GgmlType vecDotType(GgmlType type) {
        MemorySegment s = scratch.get();
        check("g4j_vec_dot_type", g4j_vec_dot_type(type.id(), s));
        int id = s.get(ValueLayout.JAVA_INT, 0);
        return GgmlType.byId(id).orElseThrow(() -> new IllegalStateException("unknown vec_dot_type id " + id));
    }

    /**
     * {@link #vecDotType}, or null when this library has no dot-product kernel for {@code type} (the library's own
     * answer, {@code G4J_E_UNSUPPORTED_TYPE}): which weight types it supports is asked here, not listed in Java.
     */
    public GgmlType vecDotTypeIfSupported(GgmlType type) {
        MemorySegment s = scratch.get();
        int status = g4j_vec_dot_type(type.id(), s);
        if (status == G4J_E_UNSUPPORTED_TYPE()) {
            return null;
        }
        check("g4j_vec_dot_type", status);
        int id = s.get(ValueLayout.JAVA_INT, 0);
        return GgmlType.byId(id).orElseThrow(() -> new IllegalStateException("unknown vec_dot_type id " + id));
    }

    /**
     * Converts n F32 activations {@code x} to {@link #vecDotType(GgmlType)} of {@code type} into {@code out}
     * ({@code vecDotType(type).bytesFor(n)} bytes), exactly as {@link #vecDot} and {@link #matvec} do first.
     */
    public void quantizeActivations(GgmlType type, long n, MemorySegment x, MemorySegment out) {
        check("g4j_quantize_activations", g4j_quantize_activations(type.id(), n, x, out, out.byteSize()));
    }

    /**
     * dot(row x of n elements of {@code type}, n floats y) with variant {@code isa}: y is first converted to the
     * type's vec_dot_type, as ggml's mul_mat does (see {@link #quantizeActivations}).
     */
    public float vecDot(int isa, GgmlType type, long n, MemorySegment x, MemorySegment y) {
        MemorySegment out = scratch.get();
        check("g4j_vec_dot", g4j_vec_dot(isa, type.id(), n, x, y, out));
        return out.get(ValueLayout.JAVA_FLOAT, 0);
    }

    /**
     * Causal attention of heads [h0, h1) over a KV cache, optionally soft-capped and within a sliding window (see
     * g4j_attention in gguf4j.h).
     */
    public void attention(int isa, boolean f16Cache, long nQ, long pos0, long nHead, long nHeadKv, long headDim,
            MemorySegment q, long qStride, MemorySegment k, MemorySegment v, long kvStride, float scale,
            float softCap, long window, long h0, long h1, MemorySegment out, long outStride) {
        check("g4j_attention", g4j_attention(isa, f16Cache ? GgmlType.F16.id() : GgmlType.F32.id(), nQ, pos0, nHead,
                nHeadKv, headDim, q, qStride, k, v, kvStride, scale, softCap, window, h0, h1, out, outStride));
    }

    /**
     * Rows [wRow0, wRow0 + rows) of W times activations already converted by {@link #quantizeActivations}, into
     * output rows [yRow0, yRow0 + rows) (see g4j_matmat_converted).
     */
    public void matmatConverted(int isa, GgmlType type, long wRow0, long yRow0, long rows, long cols, MemorySegment w,
            long rowBytes, long nx, MemorySegment act, long actStride, MemorySegment y, long yStride) {
        check("g4j_matmat_converted", g4j_matmat_converted(isa, type.id(), wRow0, yRow0, rows, cols, w, rowBytes, nx,
                act, actStride, y, yStride));
    }

    /**
     * Bytes of the r8 copy (rows interleaved by 8) of a {@code type} matrix (see g4j_r8_bytes), or -1 for a type
     * without that layout (it has Q4_0, Q8_0, Q4_K, Q5_K and Q6_K) or invalid dimensions.
     */
    public long r8Bytes(GgmlType type, long rows, long cols) {
        return g4j_r8_bytes(type.id(), rows, cols);
    }

    /** Writes the r8 copy of {@code rows} x {@code cols} weights of {@code type} into {@code out} (see g4j_repack_r8). */
    public void repackR8(GgmlType type, long rows, long cols, MemorySegment w, long rowBytes, MemorySegment out) {
        check("g4j_repack_r8", g4j_repack_r8(type.id(), rows, cols, w, rowBytes, out, out.byteSize()));
    }

    /**
     * Rows [wRow0, wRow0 + rows) of an r8 copy of a {@code totalRows}-row matrix times {@code nx} activation vectors
     * converted to Q8_0, into output rows [yRow0, yRow0 + rows) (see g4j_matmat_r8).
     */
    public void matmatR8(int isa, GgmlType type, long totalRows, long cols, MemorySegment packed, long wRow0,
            long yRow0, long rows, long nx, MemorySegment act, long actStride, MemorySegment y, long yStride) {
        check("g4j_matmat_r8", g4j_matmat_r8(isa, type.id(), totalRows, cols, packed, wRow0, yRow0, rows, nx, act,
                actStride, y, yStride));
    }

    /** Y = W X over a batch of {@code nx} activation vectors (see g4j_matmat). */
    public void matmat(int isa, GgmlType type, long rows, long cols, MemorySegment w, long rowBytes, long nx,
            MemorySegment x, long xStride, MemorySegment y, long yStride) {
        check("g4j_matmat", g4j_matmat(isa, type.id(), rows, cols, w, rowBytes, nx, x, xStride, y, yStride));
    }

    public void matvec(int isa, GgmlType type, long rows, long cols, MemorySegment w, long rowBytes, MemorySegment x,
            MemorySegment y) {
        check("g4j_matvec", g4j_matvec(isa, type.id(), rows, cols, w, rowBytes, x, y));
    }

    /**
     * Whether {@link #quantizeRows} has a native quantizer for {@code dst} from {@code src} (asked of the library: a
     * call with no rows answers G4J_E_UNSUPPORTED_TYPE for the others).
     */
    public boolean canQuantizeRows(GgmlType src, GgmlType dst) {
        return g4j_quantize_rows(G4J_ISA_AUTO(), src.id(), MemorySegment.NULL, 0, dst.id(), MemorySegment.NULL, 0, 256,
                MemorySegment.NULL, MemorySegment.NULL) == G4J_OK();
    }

    /**
     * ggml_quantize_chunk for {@code rows} rows of {@code nPerRow} elements of {@code srcType} (F32, F16 or BF16)
     * at {@code src}, {@code srcRowBytes} apart, into {@code dst} (see g4j_quantize_rows); {@code imatrix} is
     * {@link MemorySegment#NULL} or {@code nPerRow} floats. Returns -1, or the index (row * nPerRow + column) of
     * the first non-finite element, where it stopped.
     */
    public long quantizeRows(int isa, GgmlType srcType, MemorySegment src, long srcRowBytes, GgmlType dstType,
            MemorySegment dst, long rows, long nPerRow, MemorySegment imatrix) {
        MemorySegment bad = scratch.get();
        int status = g4j_quantize_rows(isa, srcType.id(), src, srcRowBytes, dstType.id(), dst, rows, nPerRow, imatrix,
                bad);
        long at = bad.get(ValueLayout.JAVA_LONG, 0);
        if (status == G4J_E_INVALID_ARGUMENT() && at >= 0) {
            return at;
        }
        check("g4j_quantize_rows", status);
        return -1;
    }

    /**
     * GPTQ's column loop over the super-block of 256 columns at {@code col0} of a row {@code w} of {@code n} floats,
     * with the packed factor {@code u} (see g4j_gptq_block): updates {@code w}, the levels {@code ls}/{@code lm}
     * (ints), writes the 256 codes to {@code q} (ints).
     */
    public void gptqBlock(int isa, long n, long col0, MemorySegment u, MemorySegment w, int sub, int codeLo,
            int codeHi, int levelLo, int levelHi, int minHi, int resub, float d, float dmin, MemorySegment ls,
            MemorySegment lm, MemorySegment q) {
        check("g4j_gptq_block", g4j_gptq_block(isa, n, col0, u, w, sub, codeLo, codeHi, levelLo, levelHi, minHi,
                resub, d, dmin, ls, lm, q));
    }

    /**
     * GPTQ on one row of {@code n} floats {@code w} (consumed) to {@code type} with the packed factor {@code u}
     * (NULL: the identity) and the type's format, into {@code dst} (see g4j_gptq_row).
     */
    public void gptqRow(int isa, GgmlType type, long n, MemorySegment u, MemorySegment w, int sub, int codeLo,
            int codeHi, int levelLo, int levelHi, int minHi, int resub, MemorySegment dst) {
        check("g4j_gptq_row", g4j_gptq_row(isa, type.id(), n, u, w, sub, codeLo, codeHi, levelLo, levelHi, minHi,
                resub, dst));
    }

    /**
     * Memory read bandwidth in GB/s with each of {@code threadCounts} threads: the median of up to {@code reps}
     * passes over one buffer of {@code bytes}, no new pass once {@code maxSeconds} are spent (see g4j_read_bandwidth).
     */
    public double[] readBandwidth(long bytes, int reps, double maxSeconds, int... threadCounts) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment counts = arena.allocateFrom(ValueLayout.JAVA_INT, threadCounts);
            MemorySegment out = arena.allocate(ValueLayout.JAVA_DOUBLE, threadCounts.length);
            check("g4j_read_bandwidth", g4j_read_bandwidth(bytes, reps, maxSeconds, threadCounts.length, counts, out));
            return out.toArray(ValueLayout.JAVA_DOUBLE);
        }
    }

    private static void check(String function, int status) {
        if (status != G4J_OK()) {
            String message = g4j_last_error().getString(0);
            throw new NativeException(function, status, STATUS_NAMES.getOrDefault(status, "status " + status), message);
        }
    }
}
