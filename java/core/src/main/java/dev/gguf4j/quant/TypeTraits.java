package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The per-type facts of the Java side in one table, one row per type, as ggml keeps {@code type_traits} (ggml.c:
 * to_float, from_float_ref) and {@code type_traits_cpu} (ggml-cpu.c: vec_dot, vec_dot_type) at llama.cpp c392e50:
 * the codec ({@link Codecs}: dequantize, quantize), the reference dot kernel of weights of the type
 * ({@link DotKernels}) and its {@code vec_dot_type}, the type the activations are converted to
 * ({@link ActivationQuantizer#forWeights}). Block sizes and bytes are {@link GgmlType}'s; which types the native
 * library has kernels for is asked of the library ({@code g4j_vec_dot_type}, held to this table by
 * NativeKernelTest).
 *
 * <p>A type with no row is not supported in Java; a row without a dot kernel (Q8_K: only an activation format) is
 * dequantize-only.
 */
public final class TypeTraits {
    /** One type's facts; {@code dot} and {@code vecDotType} are null for a type weights cannot have. */
    public record Row(GgmlType type, TypeCodec codec, DotKernel dot, GgmlType vecDotType) {
    }

    private static final Map<GgmlType, Row> ROWS = new EnumMap<>(GgmlType.class);
    /** Filled before each row's kernel is made: a kernel's constructor asks for its vec_dot_type. */
    private static final Map<GgmlType, GgmlType> VEC_DOT = new EnumMap<>(GgmlType.class);

    static {
        //  type               vec_dot_type      codec                                        reference dot kernel
        row(GgmlType.F32,    GgmlType.F32,  new PlainCodecs.F32Codec(),                 PlainDotKernels.F32::new);
        row(GgmlType.F16,    GgmlType.F16,  new PlainCodecs.F16Codec(),                 () -> new PlainDotKernels.Half(GgmlType.F16));
        row(GgmlType.BF16,   GgmlType.BF16, new PlainCodecs.BF16Codec(),                () -> new PlainDotKernels.Half(GgmlType.BF16));
        row(GgmlType.Q4_0,   GgmlType.Q8_0, new LegacyCodecs.Symmetric(GgmlType.Q4_0, 4), BlockDotKernels.Q4_0::new);
        row(GgmlType.Q4_1,   GgmlType.Q8_1, new LegacyCodecs.WithMin(GgmlType.Q4_1, 4),   BlockDotKernels.Q4_1::new);
        row(GgmlType.Q5_0,   GgmlType.Q8_0, new LegacyCodecs.Symmetric(GgmlType.Q5_0, 5), BlockDotKernels.Q5_0::new);
        row(GgmlType.Q5_1,   GgmlType.Q8_1, new LegacyCodecs.WithMin(GgmlType.Q5_1, 5),   BlockDotKernels.Q5_1::new);
        row(GgmlType.Q8_0,   GgmlType.Q8_0, new LegacyCodecs.Q8_0(),                    BlockDotKernels.Q8_0::new);
        row(GgmlType.Q2_K,   GgmlType.Q8_K, new KQuantCodecs.Q2_K(),                    KQuantDotKernels.Q2_K::new);
        row(GgmlType.Q3_K,   GgmlType.Q8_K, new KQuantCodecs.Q3_K(),                    KQuantDotKernels.Q3_K::new);
        row(GgmlType.Q4_K,   GgmlType.Q8_K, new KQuantCodecs.Q45_K(GgmlType.Q4_K),      () -> new KQuantDotKernels.Q45_K(GgmlType.Q4_K));
        row(GgmlType.Q5_K,   GgmlType.Q8_K, new KQuantCodecs.Q45_K(GgmlType.Q5_K),      () -> new KQuantDotKernels.Q45_K(GgmlType.Q5_K));
        row(GgmlType.Q6_K,   GgmlType.Q8_K, new KQuantCodecs.Q6_K(),                    KQuantDotKernels.Q6_K::new);
        row(GgmlType.Q8_K,   null,          new KQuantCodecs.Q8_K(),                    null);
        row(GgmlType.IQ4_NL, GgmlType.Q8_0, new Iq4Codecs.Iq4Codec(GgmlType.IQ4_NL),    BlockDotKernels.IQ4_NL::new);
        row(GgmlType.IQ4_XS, GgmlType.Q8_K, new Iq4Codecs.Iq4Codec(GgmlType.IQ4_XS),    KQuantDotKernels.IQ4_XS::new);
    }

    private TypeTraits() {
    }

    private static void row(GgmlType type, GgmlType vecDotType, TypeCodec codec, Supplier<DotKernel> dot) {
        if (vecDotType != null) {
            VEC_DOT.put(type, vecDotType);
        }
        ROWS.put(type, new Row(type, codec, dot == null ? null : dot.get(), vecDotType));
    }

    /** The row of {@code type}, or null when Java does not support the type. */
    public static Row of(GgmlType type) {
        return ROWS.get(type);
    }

    /** ggml-cpu's {@code vec_dot_type} of weights of {@code type}, or null when there is no dot product for them. */
    public static GgmlType vecDotType(GgmlType type) {
        return VEC_DOT.get(type);
    }

    /** The types with a row. */
    public static Set<GgmlType> types() {
        return Collections.unmodifiableSet(ROWS.keySet());
    }
}
