package dev.gguf4j.backend;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A compute backend: the native CPU library, the CUDA library, or the plain-Java reference. Callers get one
 * from {@link Backends#select()} and don't care which it is.
 *
 * <p>Weights are addressed as memory segments (slices of a mapped GGUF file); activations are F32 in native
 * segments. Implementations are thread-safe.
 */
public interface Backend {

    /** "cpu", "cuda" or "java". */
    String name();

    /** One line for logs and {@code gguf4j --version}: what runs, and where it was loaded from. */
    String description();

    /** Whether {@link #dot} and {@link #matvec} take weights of this type. */
    boolean supports(GgmlType type);

    /** dot(row of n elements of {@code type}, n F32 values of {@code x}). */
    float dot(GgmlType type, MemorySegment row, MemorySegment x, int n);

    /** y[r] = dot(row r of w, x) for {@code rows} rows of {@code cols} elements, {@code rowBytes} apart. */
    void matvec(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, MemorySegment x, MemorySegment y);

    /**
     * Y = W X for a batch: {@code n} activation vectors of {@code cols} floats in {@code x}, {@code xStride} floats
     * apart; results, {@code rows} floats each, to {@code y}, {@code yStride} floats apart. Each element equals
     * {@link #matvec}'s. The default runs matvec per vector; backends override it to reuse weights across the batch.
     */
    default void matmat(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, int n, MemorySegment x,
            long xStride, MemorySegment y, long yStride) {
        for (int j = 0; j < n; j++) {
            matvec(type, w, rowBytes, rows, cols, x.asSlice(j * xStride * 4), y.asSlice(j * yStride * 4));
        }
    }

    /**
     * The element type this backend's kernels convert F32 activations to before multiplying them with weights of
     * {@code type} (ggml's vec_dot_type: Q8_0, Q8_K, F16, ...), or null if its kernels take plain floats and
     * {@link #convertActivations} / {@link #matmatConverted} are not available.
     */
    default GgmlType activationType(GgmlType type) {
        return null;
    }

    /** Converts {@code cols} floats of {@code x} for weights of {@code type} into {@code out} (see activationType). */
    default void convertActivations(GgmlType type, int cols, MemorySegment x, MemorySegment out) {
        throw new UnsupportedOperationException(name() + " backend takes plain F32 activations");
    }

    /**
     * {@link #matmat} over activations already converted by {@link #convertActivations}, {@code actStrideBytes}
     * apart, for rows [wRow0, wRow0 + rows) of {@code w} into output rows [yRow0, yRow0 + rows) of each of the
     * {@code n} vectors of {@code y} ({@code yStride} floats apart): lets a batch be converted once and shared by
     * the threads that each take a slice of the rows, without slicing segments per call. Each element equals
     * {@link #matvec}'s.
     */
    default void matmatConverted(GgmlType type, MemorySegment w, long wRow0, long rowBytes, int rows, int cols, int n,
            MemorySegment act, long actStrideBytes, MemorySegment y, long yRow0, long yStride) {
        throw new UnsupportedOperationException(name() + " backend takes plain F32 activations");
    }

    /**
     * The copy a backend makes at load of a CPU matrix weight ({@code LlamaOptions.withRepack}, on by default):
     * the one table of which type gets which copy is {@link #repackKind}.
     */
    enum Repack {
        /** None: matrix products read the weights where they are (the mapped file, or memory read without mmap). */
        NONE,
        /**
         * The file's bytes, unchanged, in memory of the model's own on transparent huge pages
         * ({@code MemoryLock.allocateForStreaming}), made only when the weights are a file mapping: every matrix
         * product (batches and generation) then reads the copy, and the mapping's pages are advised away
         * (MADV_DONTNEED), so the copy replaces them rather than adding to them. On 4 KiB page-cache pages the
         * hardware prefetchers stop at every page boundary (docs/benchmarks.md, huge pages).
         */
        COPY,
        /**
         * A layout of the backend's own ({@link #repack}, {@link #matmatRepacked}) that every matrix product reads
         * instead of the weights, made as COPY is over a file mapping (whose pages are then released); weights
         * read without mmap, or locked, keep their memory and get the copy on top.
         */
        INTERLEAVED;

        /**
         * Whether a matrix given this copy over a file mapping still needs its file pages, so that the copy is
         * memory on top of them: only where the same bytes are also read as rows from the file
         * ({@code rowsAlsoGathered}: a tied output, whose rows are the token embeddings). LlamaModel.repack
         * releases the other pages, and ModelFit counts only these copies.
         */
        public boolean keepsFilePages(boolean rowsAlsoGathered) {
            return this != NONE && rowsAlsoGathered;
        }

        /**
         * Memory a copy of {@code copyBytes} made over a file mapping of a matrix of {@code fileBytes} adds to the
         * resident set: all of it where the file pages stay ({@link #keepsFilePages}), else what it holds beyond
         * the pages it replaces (an interleaved layout's unpacked scales, the padding rows of its last group).
         */
        public long extraOverMapping(long copyBytes, long fileBytes, boolean rowsAlsoGathered) {
            return keepsFilePages(rowsAlsoGathered) ? copyBytes : Math.max(0, copyBytes - fileBytes);
        }
    }

    /** Which copy this backend makes at load of a matrix of {@code type} (see {@link Repack}); NONE by default. */
    default Repack repackKind(GgmlType type) {
        return Repack.NONE;
    }

    /**
     * Whether products over this backend's copy of {@code type} give the bits the file's layout gives: true for
     * COPY and NONE (the default); the native CPU backend's interleaved k-quants compute their own arithmetic
     * (docs/determinism.md).
     */
    default boolean repackKeepsBits(GgmlType type) {
        return repackKind(type) != Repack.INTERLEAVED;
    }

    /**
     * Bytes of this backend's copy ({@link #repackKind}) of a {@code rows} x {@code cols} matrix of {@code type},
     * or -1 if it makes none for the type (the default). COPY: the matrix's own bytes; INTERLEAVED: the backend's
     * layout (the native CPU backend's r8 for Q4_0, Q8_0, Q4_K, Q5_K and Q6_K: rows interleaved by 8, gguf4j.h).
     */
    default long repackedBytes(GgmlType type, int rows, int cols) {
        return repackKind(type) == Repack.COPY ? rows * type.bytesFor(cols) : -1;
    }

    /**
     * This machine's memory read bandwidth in GB/s (1e9 bytes/s) with each of {@code threads} threads: the median
     * of up to {@code reps} passes over one buffer of {@code bytes}, no new pass once {@code maxSeconds} are spent;
     * NaNs where the backend cannot measure it (the Java backend).
     */
    default double[] readBandwidth(long bytes, int reps, double maxSeconds, int... threads) {
        double[] none = new double[threads.length];
        java.util.Arrays.fill(none, Double.NaN);
        return none;
    }

    /** Writes the copy ({@link #repackKind}) of {@code rows} x {@code cols} weights {@code w} into {@code out} (see repackedBytes). */
    default void repack(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, MemorySegment out) {
        if (repackKind(type) != Repack.COPY) {
            throw new UnsupportedOperationException(name() + " backend has no repacked layout for " + type);
        }
        MemorySegment.copy(w, 0, out, 0, rows * rowBytes);
    }

    /**
     * {@link #matmatConverted} over an interleaved copy ({@link Repack#INTERLEAVED}) of a {@code totalRows}-row
     * matrix: rows [wRow0, wRow0 + rows) times the {@code n} converted vectors of {@code act} into output rows
     * [yRow0, yRow0 + rows) of y ({@code yStride} floats apart). Each element equals matmatConverted's on the
     * original rows, whatever n.
     */
    default void matmatRepacked(GgmlType type, MemorySegment packed, int totalRows, long wRow0, int rows, int cols,
            int n, MemorySegment act, long actStrideBytes, MemorySegment y, long yRow0, long yStride) {
        throw new UnsupportedOperationException(name() + " backend has no repacked layout for " + type);
    }

    /**
     * Causal self-attention over a KV cache for the heads [h0, h1) of {@code nQ} query tokens at positions
     * {@code pos0 .. pos0 + nQ - 1} (callers split the heads across threads). {@code k} and {@code v} hold the
     * cache's positions {@code 0 .. pos0 + nQ - 1}, {@code kvStride} elements apart, of {@code nHeadKv} heads of
     * {@code headDim} elements, as binary16 ({@code f16Cache}) or F32; query head h reads KV head
     * {@code h / (nHead / nHeadKv)}. {@code q} and {@code out} are F32 [nQ][nHead][headDim], {@code qStride} and
     * {@code outStride} floats apart per token. As ggml computes it: with an F16 cache, q is rounded to binary16
     * before K.q and the softmax probabilities before the V product; exponentials summed in double. This default is
     * the plain-Java reference (libgguf4j's g4j_attention has the same contract). {@code softCap} &gt; 0 caps each
     * Q.K dot product d as softCap * tanh(d * (1 / softCap)) before the scale (gemma2); {@code window} &gt; 0 lets
     * the query at position p see positions (p - window, p] only (ggml's sliding-window mask); 0: neither.
     */
    default void attention(boolean f16Cache, int nQ, int pos0, int nHead, int nHeadKv, int headDim, MemorySegment q,
            long qStride, MemorySegment k, MemorySegment v, long kvStride, float scale, float softCap, int window,
            int h0, int h1, MemorySegment out, long outStride) {
        int group = nHead / nHeadKv;
        float[] qr = new float[headDim];
        float[] s = new float[pos0 + nQ];
        for (int h = h0; h < h1; h++) {
            long kvOff = (long) (h / group) * headDim;
            for (int j = 0; j < nQ; j++) {
                int n = pos0 + j + 1;
                int t0 = window > 0 && n > window ? n - window : 0;
                long qOff = j * qStride + (long) h * headDim;
                for (int i = 0; i < headDim; i++) {
                    float x = q.getAtIndex(ValueLayout.JAVA_FLOAT, qOff + i);
                    qr[i] = f16Cache ? Float.float16ToFloat(Float.floatToFloat16(x)) : x;
                }
                for (int t = t0; t < n; t++) {
                    long base = t * kvStride + kvOff;
                    float dot = 0;
                    for (int i = 0; i < headDim; i++) {
                        dot += qr[i] * cacheAt(k, f16Cache, base + i);
                    }
                    if (softCap > 0) {
                        dot = (float) Math.tanh(dot * (1.0f / softCap)) * softCap;
                    }
                    s[t] = dot * scale;
                }
                CpuMath.softmax(s, t0, n, true);
                for (int t = t0; t < n; t++) {
                    if (f16Cache) {
                        s[t] = Float.float16ToFloat(Float.floatToFloat16(s[t]));
                    }
                }
                long oOff = j * outStride + (long) h * headDim;
                for (int i = 0; i < headDim; i++) {
                    float acc = 0;
                    for (int t = t0; t < n; t++) {
                        acc += s[t] * cacheAt(v, f16Cache, t * kvStride + kvOff + i);
                    }
                    out.setAtIndex(ValueLayout.JAVA_FLOAT, oOff + i, acc);
                }
            }
        }
    }

    private static float cacheAt(MemorySegment c, boolean f16, long i) {
        return f16 ? Float.float16ToFloat(c.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i))
                : c.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
    }
}
