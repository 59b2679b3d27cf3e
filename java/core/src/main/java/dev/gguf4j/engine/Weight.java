package dev.gguf4j.engine;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows} rows of {@code cols} elements, zero-copy over the mapped file (or, after
 * {@link LlamaModel#repack}, over the CPU backend's copy of the same bytes on huge pages); {@code repacked} is null,
 * or the CPU backend's copy of it laid out for matrix-vector products (made at load, see {@link LlamaModel#repack}),
 * which generation reads instead of {@code data}.
 */
public record Weight(String name, GgmlType type, int rows, int cols, long rowBytes, MemorySegment data,
        MemorySegment repacked) {

    static Weight of(String source, GgufTensor t, int cols, int rows) {
        if (t.dims() > 2 || t.rowLength() != cols || t.dim(1) != rows) {
            throw new GgufFormatException(source, "tensor '" + t.name() + "'", "shape " + t.shapeString()
                    + " does not match the expected [" + cols + ", " + rows + "]");
        }
        return new Weight(t.name(), t.type(), rows, cols, t.rowBytes(), t.data(), null);
    }

    /**
     * A stacked 3-D tensor [experts][rows][cols] as one weight of rows x experts rows (the experts' rows one after
     * the other, as ggml lays them out); {@link #slice} gives one expert.
     */
    static Weight stacked(String source, GgufTensor t, int cols, int rows, int experts) {
        if (t.dims() != 3 || t.rowLength() != cols || t.dim(1) != rows || t.dim(2) != experts) {
            throw new GgufFormatException(source, "tensor '" + t.name() + "'", "shape " + t.shapeString()
                    + " does not match the expected [" + cols + ", " + rows + ", " + experts + "]");
        }
        return new Weight(t.name(), t.type(), rows * experts, cols, t.rowBytes(), t.data(), null);
    }

    /** Rows [row0, row0 + n) as a weight of their own: a view of the same bytes, no copy (fused parts, experts). */
    Weight slice(String label, int row0, int n) {
        return new Weight(name + label, type, n, cols, rowBytes, data.asSlice(row0 * rowBytes, n * rowBytes), null);
    }

    /** The same matrix over {@code copy}, the same bytes elsewhere (the CPU backend's huge-page copy). */
    Weight withData(MemorySegment copy) {
        return new Weight(name, type, rows, cols, rowBytes, copy, repacked);
    }

    Weight withRepacked(MemorySegment copy) {
        return new Weight(name, type, rows, cols, rowBytes, data, copy);
    }
}
