package dev.gguf4j.gguf;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file. {@code shape} is in ggml order: {@code shape[0]} is the row length (the fastest
 * varying dimension). {@code offset} is relative to the start of the data section; {@code data} is a
 * zero-copy slice of the mapped file, valid until the file is closed.
 */
public record GgufTensor(String name, GgmlType type, long[] shape, long offset, long byteSize, MemorySegment data) {

    public GgufTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int dims() {
        return shape.length;
    }

    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Elements per row ({@code shape[0]}). */
    public long rowLength() {
        return shape[0];
    }

    /** Number of rows (product of the other dimensions). */
    public long rows() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    public long rowBytes() {
        return type.bytesFor(shape[0]);
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && t.name.equals(name) && t.type == type && Arrays.equals(t.shape, shape)
                && t.offset == offset && t.byteSize == byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString() + " @" + offset;
    }
}
