package dev.gguf4j.backend;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

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
}
