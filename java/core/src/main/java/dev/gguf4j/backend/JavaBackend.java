package dev.gguf4j.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.gguf4j.quant.Codecs;
import dev.gguf4j.quant.TypeCodec;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The plain-Java reference backend: dequantize a row with {@link Codecs}, then a float dot product in order.
 * Slow and simple; the oracle for the native kernels and the fallback when no native library loads.
 */
public final class JavaBackend implements Backend {
    public static final JavaBackend INSTANCE = new JavaBackend();

    private JavaBackend() {
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public String description() {
        return "java: plain-Java reference kernels";
    }

    @Override
    public boolean supports(GgmlType type) {
        return Codecs.supports(type);
    }

    @Override
    public float dot(GgmlType type, MemorySegment row, MemorySegment x, int n) {
        TypeCodec codec = Codecs.of(type);
        float[] w = new float[n];
        codec.dequantize(row, 0, w, 0, n);
        float sum = 0;
        for (int i = 0; i < n; i++) {
            sum += w[i] * x.getAtIndex(JAVA_FLOAT, i);
        }
        return sum;
    }

    @Override
    public void matvec(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, MemorySegment x,
            MemorySegment y) {
        for (int r = 0; r < rows; r++) {
            y.setAtIndex(JAVA_FLOAT, r, dot(type, w.asSlice(r * rowBytes), x, cols));
        }
    }
}
