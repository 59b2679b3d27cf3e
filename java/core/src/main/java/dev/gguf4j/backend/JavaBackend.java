package dev.gguf4j.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.gguf4j.quant.ActivationQuantizer;
import dev.gguf4j.quant.DotKernels;
import dev.gguf4j.quant.QuantizedActivation;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The plain-Java reference backend: computes what ggml's CPU {@code ggml_mul_mat} computes, with
 * {@link DotKernels}: x is converted to the weight type's {@code vec_dot_type} exactly as ggml-cpu's
 * {@code from_float} does on x86-64 (Q8_0, Q8_1, Q8_K, F16, BF16 or F32), then each row is dotted with it as
 * ggml's generic {@code vec_dot} does. Slow and simple; the oracle for the native kernels and the fallback when no
 * native library loads. Allocation-free per call after warm-up (per-thread buffers).
 */
public final class JavaBackend implements Backend {
    public static final JavaBackend INSTANCE = new JavaBackend();

    /** Per-thread copy of x and its conversion. */
    private static final class Buffers {
        float[] x = new float[0];
        final QuantizedActivation xq = new QuantizedActivation();

        float[] x(MemorySegment src, int n) {
            if (x.length < n) {
                x = new float[n];
            }
            MemorySegment.copy(src, JAVA_FLOAT, 0, x, 0, n);
            return x;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

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

    /** F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS. */
    @Override
    public boolean supports(GgmlType type) {
        return DotKernels.supports(type);
    }

    @Override
    public float dot(GgmlType type, MemorySegment row, MemorySegment x, int n) {
        Buffers b = BUFFERS.get();
        DotKernels.activationQuantizer(type).quantize(b.x(x, n), 0, n, b.xq);
        return DotKernels.dotPrepared(type, row, 0, b.xq);
    }

    @Override
    public void matvec(GgmlType type, MemorySegment w, long rowBytes, int rows, int cols, MemorySegment x,
            MemorySegment y) {
        Buffers b = BUFFERS.get();
        ActivationQuantizer aq = DotKernels.activationQuantizer(type);
        aq.quantize(b.x(x, cols), 0, cols, b.xq);
        for (int r = 0; r < rows; r++) {
            y.setAtIndex(JAVA_FLOAT, r, DotKernels.dotPrepared(type, w, r * rowBytes, b.xq));
        }
    }
}
