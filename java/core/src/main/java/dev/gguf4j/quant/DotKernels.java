package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;

/**
 * The plain-Java reference of ggml's CPU matrix-vector product ({@code ggml_mul_mat} with one column): what
 * llama.cpp c392e50's ggml-cpu computes for a row of weights of a given type times an F32 activation vector.
 *
 * <h2>Two steps, as ggml does them</h2>
 * <ol>
 *   <li>The activations are converted to the weight type's {@code vec_dot_type} with ggml-cpu's
 *       {@code from_float} ({@link ActivationQuantizer}): F32 stays F32; F16 → F16; BF16 → BF16; Q4_0, Q5_0,
 *       Q8_0, IQ4_NL → Q8_0; Q4_1, Q5_1 → Q8_1; Q2_K..Q6_K, IQ4_XS → Q8_K. This step is byte-identical to an
 *       x86-64 AVX2 build (notably: Q8_0/Q8_1 round ties to even, as the SIMD {@code quantize_row_q8_0} does,
 *       not away from zero as the reference {@code quantize_row_q8_0_ref}).</li>
 *   <li>Each row is dotted with the converted vector as ggml's generic (scalar) {@code vec_dot} does: integer
 *       sums per block, then float scaling and accumulation in ggml's operand order, in plain IEEE single
 *       precision (double for the F32/F16/BF16 sums, as ggml's {@code ggml_float}). The result is bit-identical
 *       to ggml-cpu built without SIMD and without FMA contraction (checked against llama.cpp c392e50 built for
 *       plain x86-64). ggml's AVX2/AVX-512 kernels compute the same exact per-block integer sums but add the float
 *       terms in another order (and with FMA), so against them agreement is to within float-reordering error,
 *       about 3e-7 of {@code sum |w_i x_i|} at worst in DotKernelsVsGgmlTest.</li>
 * </ol>
 * (With more than one activation column ggml routes some types through llamafile's {@code tinyBLAS} instead of
 * {@code vec_dot}, and a model loaded into ggml-cpu's repacking buffer runs Q4_0 through its interleaved
 * {@code gemv} kernels: other summation orders again, with the same activation conversion.)
 * Per type (what is multiplied; the float formula per block; see each kernel's javadoc):
 * <ul>
 *   <li>F32: {@code (double) (w*x)} summed in double. F16, BF16: exact products of the widened values summed in
 *       double.</li>
 *   <li>Q4_0: {@code sumf += (sumi * d_w) * d_x}. Q5_0: {@code sumf += (d_w * d_x) * sumi}. Q8_0:
 *       {@code sumf += sumi * (d_w * d_x)}. IQ4_NL: {@code sumf += (d_x * d_w) * sumi}.</li>
 *   <li>Q4_1, Q5_1: {@code sumf += (d_w * d_x) * sumi + m_w * s_x}.</li>
 *   <li>Q2_K: per super-block {@code sumf += dall * isum - dmin * summs}.</li>
 *   <li>Q3_K, Q6_K: eight integer lanes per super-block, {@code sums[l] += d * aux32[l]}, summed at the end;
 *       Q4_K, Q5_K the same plus {@code sumf -= dmin * sumi} per super-block.</li>
 *   <li>IQ4_XS: {@code sumf += (d4d8 * (ls - 32)) * sumi} per sub-block of 32.</li>
 * </ul>
 *
 * <p>Thread-safe; work arrays are per thread, so after warm-up nothing is allocated per call.
 * ({@link QuantizedActivation}s given to {@link #dotPrepared} belong to the caller.)
 */
public final class DotKernels {
    private static final ThreadLocal<DotKernel.Work> WORK = ThreadLocal.withInitial(DotKernel.Work::new);
    private static final Set<GgmlType> SUPPORTED = Collections.unmodifiableSet(TypeTraits.types().stream()
            .filter(t -> TypeTraits.of(t).dot() != null)
            .collect(java.util.stream.Collectors.toCollection(() -> java.util.EnumSet.noneOf(GgmlType.class))));

    private DotKernels() {
    }

    /** The weight types with a kernel: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS. */
    public static Set<GgmlType> supportedTypes() {
        return SUPPORTED;
    }

    /** Whether there is a kernel for weights of {@code type}. */
    public static boolean supports(GgmlType type) {
        return SUPPORTED.contains(type);
    }

    /** The activation converter of weights of {@code type} (ggml-cpu's {@code vec_dot_type}'s from_float). */
    public static ActivationQuantizer activationQuantizer(GgmlType type) {
        return kernel(type).activation();
    }

    /**
     * dot(row of {@code n} weights of {@code type} at byte {@code rowOffset} of {@code row}, {@code x[0..n)}):
     * converts x to the {@code vec_dot_type} (per-thread buffer), then {@link #dotPrepared}. For many rows with
     * the same x, convert once and call dotPrepared, or use {@link #matvec}.
     */
    public static float dot(GgmlType type, MemorySegment row, long rowOffset, float[] x, int n) {
        DotKernel k = kernel(type);
        DotKernel.Work w = WORK.get();
        k.activation().quantize(x, 0, n, w.activation);
        return k.dot(row, rowOffset, w.activation, w);
    }

    /**
     * dot(row of {@code x.size()} weights of {@code type} at byte {@code rowOffset} of {@code row}, {@code x}),
     * {@code x} having been converted by {@link #activationQuantizer activationQuantizer(type)}.
     *
     * @throws IllegalArgumentException if {@code x} holds another type than the weights' {@code vec_dot_type}
     */
    public static float dotPrepared(GgmlType type, MemorySegment row, long rowOffset, QuantizedActivation x) {
        DotKernel k = kernel(type);
        check(k, x);
        return k.dot(row, rowOffset, x, WORK.get());
    }

    /**
     * {@code y[yOffset + r] = dot(row r, x[0..cols))} for {@code rows} rows of {@code cols} weights, the first at
     * byte {@code offset} of {@code w} and the others {@code rowBytes} apart: x is converted once, as in ggml.
     */
    public static void matvec(GgmlType type, MemorySegment w, long offset, long rowBytes, int rows, float[] x,
            int cols, float[] y, int yOffset) {
        DotKernel k = kernel(type);
        Objects.checkFromIndexSize(yOffset, rows, y.length);
        DotKernel.Work work = WORK.get();
        QuantizedActivation xq = work.activation;
        k.activation().quantize(x, 0, cols, xq);
        for (int r = 0; r < rows; r++) {
            y[yOffset + r] = k.dot(w, offset + r * rowBytes, xq, work);
        }
    }

    /**
     * {@code y[yOffset + r] = dot(row r, xq)} for {@code rows} rows, the first at byte {@code offset} of {@code w}
     * and the others {@code rowBytes} apart, {@code xq} converted once by the caller.
     */
    public static void matvecPrepared(GgmlType type, MemorySegment w, long offset, long rowBytes, int rows,
            QuantizedActivation xq, float[] y, int yOffset) {
        DotKernel k = kernel(type);
        check(k, xq);
        Objects.checkFromIndexSize(yOffset, rows, y.length);
        DotKernel.Work work = WORK.get();
        for (int r = 0; r < rows; r++) {
            y[yOffset + r] = k.dot(w, offset + r * rowBytes, xq, work);
        }
    }

    private static void check(DotKernel k, QuantizedActivation x) {
        if (x.type() != k.activation().type()) {
            throw new IllegalArgumentException(k.type() + " weights take " + k.activation().type()
                    + " activations, not " + x.type());
        }
        if (x.size() % k.type().blockSize() != 0) {
            throw new IllegalArgumentException(x.size() + " elements are not a whole number of "
                    + k.type().ggmlName() + " blocks of " + k.type().blockSize());
        }
    }

    private static DotKernel kernel(GgmlType type) {
        TypeTraits.Row r = TypeTraits.of(type);
        DotKernel k = r == null ? null : r.dot();
        if (k == null) {
            throw new UnsupportedTypeException(type, "dot products");
        }
        return k;
    }
}
