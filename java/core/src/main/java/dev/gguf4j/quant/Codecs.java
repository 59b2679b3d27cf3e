package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The codec of each ggml type: one table, one entry per supported type.
 *
 * <h2>What is supported</h2>
 * <ul>
 *   <li>Dequantize and quantize: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,
 *       IQ4_NL, IQ4_XS.</li>
 *   <li>Dequantize only: Q8_K ({@link TypeCodec#canQuantize()} is false and {@code quantize} throws
 *       {@link UnsupportedTypeException}; ggml_quantize_chunk has no Q8_K either).</li>
 *   <li>Not supported yet ({@link #of} throws {@link UnsupportedTypeException}): Q8_1 (ggml has no
 *       {@code to_float} for it), IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M, TQ1_0, TQ2_0, MXFP4 and
 *       the integer/F64 types.</li>
 * </ul>
 *
 * <h2>Exactness</h2>
 * Dequantization is bit-identical to ggml's {@code to_float}; quantization is byte-identical to
 * {@code ggml_quantize_chunk} (llama.cpp c392e50) for one row: {@code quantize_row_*_ref} when
 * {@code importance} is null, the importance-weighted {@code quantize_*} otherwise (Q8_0, F16 and BF16 ignore
 * the weights; IQ4_NL/IQ4_XS use the same search with x^2 weights when there are none), as ggml computes them
 * with plain IEEE single precision (no FMA contraction; what a build without {@code -march} does on x86-64).
 *
 * <h2>NaN, infinities and other odd input</h2>
 * Nothing here throws or loops on any float input: every search is a fixed number of passes. What comes out is
 * exactly what ggml's reference code yields on x86-64, where C leaves a float-to-integer conversion undefined
 * taken as x86's {@code cvttss2si} result (0x80000000, whose low byte is 0):
 * <ul>
 *   <li>F16: NaN becomes {@code 0x7E00} with the sign of the input (payload dropped), overflow rounds to
 *       infinity; BF16: a NaN keeps its top 16 bits and is made quiet; F32 is copied bit for bit.</li>
 *   <li>Decoding an F16 NaN (a scale, or an F16 element) gives a quiet float NaN with the same sign and payload.
 *       A block whose f16 scale is infinite or NaN decodes to infinities/NaNs as IEEE arithmetic dictates.</li>
 *   <li>Block types: a block containing NaN or infinity produces, in general, a NaN or infinite f16 scale
 *       (so the whole block decodes to NaN/Inf, or to 0 and NaN) and arbitrary but deterministic levels; values
 *       of other blocks are unaffected, except where ggml itself mixes them: the importance-weighted Q4_0,
 *       Q4_1, Q5_0 and Q5_1 use the mean square of the whole row, the weighted k-quants and IQ4 that of the
 *       super-block, so one non-finite element there poisons the weights of the row (legacy) or super-block.</li>
 *   <li>All-zero blocks encode as scale 0 (the block decodes to zeros of either sign); denormal inputs are
 *       ordinary IEEE values (no flush to zero), and very small blocks (max |x| below 1e-15 for the types with
 *       ggml's GROUP_MAX_EPS test) encode as zero.</li>
 * </ul>
 * {@code QuantEdgeCaseTest} pins these down, and {@code GgmlCrossCheckTest} compares such rows with what
 * libggml-base produced.
 */
public final class Codecs {
    private static final Map<GgmlType, TypeCodec> CODECS = new EnumMap<>(GgmlType.class);

    static {
        register(new PlainCodecs.F32Codec());
        register(new PlainCodecs.F16Codec());
        register(new PlainCodecs.BF16Codec());
        register(new LegacyCodecs.Symmetric(GgmlType.Q4_0, 4));
        register(new LegacyCodecs.WithMin(GgmlType.Q4_1, 4));
        register(new LegacyCodecs.Symmetric(GgmlType.Q5_0, 5));
        register(new LegacyCodecs.WithMin(GgmlType.Q5_1, 5));
        register(new LegacyCodecs.Q8_0());
        register(new KQuantCodecs.Q2_K());
        register(new KQuantCodecs.Q3_K());
        register(new KQuantCodecs.Q45_K(GgmlType.Q4_K));
        register(new KQuantCodecs.Q45_K(GgmlType.Q5_K));
        register(new KQuantCodecs.Q6_K());
        register(new KQuantCodecs.Q8_K());
        register(new Iq4Codecs.Iq4Codec(GgmlType.IQ4_NL));
        register(new Iq4Codecs.Iq4Codec(GgmlType.IQ4_XS));
    }

    private Codecs() {
    }

    private static void register(TypeCodec c) {
        CODECS.put(c.type(), c);
    }

    /** The codec of {@code type}; throws {@link UnsupportedTypeException} for a type not supported yet. */
    public static TypeCodec of(GgmlType type) {
        TypeCodec c = CODECS.get(type);
        if (c == null) {
            throw new UnsupportedTypeException(type, "conversion to and from F32");
        }
        return c;
    }

    /** Whether {@link #of} has a codec (at least dequantization) for {@code type}. */
    public static boolean supports(GgmlType type) {
        return CODECS.containsKey(type);
    }

    /** Whether {@code type} can be both dequantized and quantized. */
    public static boolean supportsQuantize(GgmlType type) {
        TypeCodec c = CODECS.get(type);
        return c != null && c.canQuantize();
    }
}
