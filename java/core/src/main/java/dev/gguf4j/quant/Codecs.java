package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;

/**
 * The codec of each ggml type (the {@code codec} column of {@link TypeTraits}, the one per-type table).
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
 * Dequantization is bit-identical to ggml's {@code to_float} ({@code dequantize_row_q8_K} for Q8_K);
 * quantization is byte-identical to {@code ggml_quantize_chunk} (llama.cpp c392e50) for one row:
 * {@code quantize_row_*_ref} when {@code importance} is null, the importance-weighted {@code quantize_*}
 * otherwise (Q8_0, F16 and BF16 ignore the weights; IQ4_NL and IQ4_XS use {@code quantize_iq4_nl/xs}, i.e. the
 * {@code ntry = 7} search, in both cases, as ggml_quantize_chunk does), computed as ggml computes them in plain
 * IEEE single precision with no FMA contraction (what a build without {@code -march} does on x86-64), with
 * ggml's fp16 table initialised as in every program that has called {@code ggml_init()}.
 *
 * <p>Codecs are stateless and thread-safe; work arrays are per thread, so quantizing allocates nothing after
 * warm-up.
 *
 * <h2>NaN, infinities and other odd input</h2>
 * No input makes any method here throw (other than for bad arguments) or loop: every search has a fixed
 * number of passes. What comes out is what ggml's reference code yields for the same input on x86-64, where C
 * leaves a float-to-integer conversion undefined taken as x86's {@code cvttss2si} result ({@code 0x80000000},
 * low byte 0). That ggml output is garbage-in-garbage-out, not a NaN-propagation contract; what holds is:
 * <ul>
 *   <li>F32 is copied bit for bit. F16: a NaN becomes {@code 0x7E00} with the input's sign (payload dropped),
 *       overflow rounds to infinity, everything else rounds to nearest even. BF16: round to nearest even; a
 *       NaN keeps its top 16 bits and is made quiet. Decoding an F16 NaN (an element or a block scale) gives
 *       a quiet float NaN with the same sign and payload.</li>
 *   <li>A NaN or infinity only disturbs the unit ggml derives a scale from: the element (F16, BF16), the
 *       block of 32 (Q4_0, Q4_1, Q5_0, Q5_1 without weights, Q8_0, IQ4_NL) or the super-block of 256 (Q2_K to
 *       Q6_K, IQ4_XS). The weighted Q4_0, Q4_1, Q5_0 and Q5_1 weigh by the mean square of the whole row, so
 *       there the whole row is disturbed (Q4_0/Q5_0 then decode to NaN throughout). Inside the disturbed unit
 *       the decoded values may be NaN, infinite, zero or finite nonsense, depending on the type: ggml's
 *       comparisons skip NaN when picking a maximum, so a NaN may even come back as a finite value.</li>
 *   <li>All-zero rows (either sign, any weights) decode to zeros. Rows so small that their scales underflow f16
 *       (denormals, 1e-20; the k-quants and IQ4 also treat max |x| &lt; 1e-15 as zero outright) decode to
 *       zeros, except that, as in ggml, a weighted Q2_K, Q4_K or Q5_K super-block of denormals gets NaN
 *       scales. BF16 keeps denormals (no flush to zero).</li>
 *   <li>One limit on the bit-exactness: where two <em>different</em> NaNs meet in one operation (say a NaN
 *       with a payload and a negative NaN in the same sum), IEEE 754 does not say which propagates; x86 takes
 *       the first operand and compilers (gcc, and HotSpot's C2, C1 and interpreter) order operands as they
 *       like, so the sign and payload of the result, and what nearest_int makes of it, may then differ from a
 *       given ggml build. Rows whose NaNs are all one and the same value matched ggml in every case tested.</li>
 * </ul>
 * QuantEdgeCaseTest pins these down; GgmlCrossCheckTest compares such rows with what libggml-base produced.
 */
public final class Codecs {
    private Codecs() {
    }

    /** The codec of {@code type}; throws {@link UnsupportedTypeException} for a type not supported yet. */
    public static TypeCodec of(GgmlType type) {
        TypeTraits.Row r = TypeTraits.of(type);
        if (r == null) {
            throw new UnsupportedTypeException(type, "conversion to and from F32");
        }
        return r.codec();
    }

    /** Whether {@link #of} has a codec (at least dequantization) for {@code type}. */
    public static boolean supports(GgmlType type) {
        return TypeTraits.of(type) != null;
    }

    /** Whether {@code type} can be both dequantized and quantized. */
    public static boolean supportsQuantize(GgmlType type) {
        TypeTraits.Row r = TypeTraits.of(type);
        return r != null && r.codec().canQuantize();
    }
}
