package dev.gguf4j.quant;

import static dev.gguf4j.quant.GgmlFloats.nearestInt;
import static dev.gguf4j.quant.GgmlFloats.putLe16;
import static dev.gguf4j.quant.GgmlFloats.putLe32;

import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;
import java.util.Objects;

/**
 * ggml-cpu's conversion of the F32 activations to a weight type's {@code vec_dot_type}
 * ({@code type_traits_cpu[vec_dot_type].from_float}), which {@code ggml_compute_forward_mul_mat} applies to
 * {@code src1} once before it calls {@code vec_dot} on every weight row. Byte-identical to what llama.cpp c392e50
 * built for x86-64 with AVX2 (or AVX-512: the same code is chosen) computes:
 *
 * <ul>
 *   <li>{@link #F32}: no conversion (F32 weights take F32 activations).</li>
 *   <li>{@link #F16}: {@code ggml_fp32_to_fp16_row}, round to nearest even (it lives in libggml-base, built
 *       without {@code -march}, so NaN becomes {@code 0x7E00} with its sign).</li>
 *   <li>{@link #BF16}: {@code ggml_fp32_to_bf16_row}, round to nearest even, NaN kept and made quiet (also
 *       libggml-base; an {@code __AVX512BF16__} build of libggml-base would flush denormals instead).</li>
 *   <li>{@link #Q8_0}, {@link #Q8_1}: <b>not</b> {@code quantize_row_q8_0_ref}/{@code _q8_1_ref} but ggml-cpu's
 *       SIMD {@code quantize_row_q8_0}/{@code _q8_1} (the {@code __AVX2__ || __AVX__} branch): per block of
 *       32, {@code max} is the maximum of |x| taken as the SIMD code takes it (8 lanes, then a fixed tree of
 *       {@code maxps}, which matters only for NaN); {@code d = max / 127}, stored with F16C's {@code vcvtps2ph}
 *       (round to nearest even; a NaN keeps its top payload bits); {@code id = max != 0 ? 127 / max : 0}
 *       (not {@code 1/d}); each level is {@code x * id} rounded by {@code _mm256_round_ps(_MM_ROUND_NEAREST)},
 *       i.e. <em>ties to even</em> (the reference uses {@code roundf}, ties away from zero), converted with
 *       {@code cvtps2dq} (NaN and out-of-range give {@code INT_MIN}) and saturated to int8 by the
 *       {@code packs} instructions. Q8_1 adds {@code s = fp16(d * sum)}, the sum taken over the 32-bit
 *       integers before saturation.</li>
 *   <li>{@link #Q8_K}: {@code quantize_row_q8_K}, which on x86 is {@code quantize_row_q8_K_ref} (only wasm has a
 *       SIMD version at this commit): per super-block of 256, {@code max} is the first element of largest
 *       |x|, {@code iscale = -127 / max}, levels {@code min(127, nearest_int(iscale * x))} (ggml's
 *       {@code nearest_int}: ties to even), {@code bsums} the sums of 16 levels, {@code d = 1 / iscale} as f32.
 *       For an all-zero super-block ggml writes {@code d = 0} and zero levels but leaves {@code bsums}
 *       unwritten (whatever the work buffer held; they are only ever multiplied by {@code d = 0}); here they
 *       are zero.</li>
 * </ul>
 * Thread-safe (stateless); all state is in the {@link QuantizedActivation} written to.
 */
public enum ActivationQuantizer {
    F32(GgmlType.F32) {
        @Override
        void convert(float[] x, int xo, QuantizedActivation out) {
            int n = out.n;
            System.arraycopy(x, xo, out.values, 0, n);
            byte[] raw = out.raw;
            for (int i = 0; i < n; i++) {
                putLe32(raw, 4 * i, Float.floatToRawIntBits(x[xo + i]));
            }
        }
    },
    F16(GgmlType.F16) {
        @Override
        void convert(float[] x, int xo, QuantizedActivation out) {
            for (int i = 0; i < out.n; i++) {
                short h = GgmlFloats.toHalf(x[xo + i]);
                putLe16(out.raw, 2 * i, h);
                out.values[i] = GgmlFloats.fromHalf(h);
            }
        }
    },
    BF16(GgmlType.BF16) {
        @Override
        void convert(float[] x, int xo, QuantizedActivation out) {
            for (int i = 0; i < out.n; i++) {
                short h = GgmlFloats.toBf16(x[xo + i]);
                putLe16(out.raw, 2 * i, h);
                out.values[i] = GgmlFloats.fromBf16(h & 0xFFFF);
            }
        }
    },
    Q8_0(GgmlType.Q8_0) {
        @Override
        void convert(float[] x, int xo, QuantizedActivation out) {
            quantizeQ8Simd(x, xo, out, false);
        }
    },
    Q8_1(GgmlType.Q8_1) {
        @Override
        void convert(float[] x, int xo, QuantizedActivation out) {
            quantizeQ8Simd(x, xo, out, true);
        }
    },
    Q8_K(GgmlType.Q8_K) {
        @Override
        void convert(float[] x, int xo, QuantizedActivation out) {
            quantizeQ8K(x, xo, out);
        }
    };

    private final GgmlType type;

    ActivationQuantizer(GgmlType type) {
        this.type = type;
    }

    /** The type it converts to. */
    public GgmlType type() {
        return type;
    }

    /** ggml-cpu's {@code type_traits_cpu[weightType].vec_dot_type} ({@link TypeTraits#vecDotType}), as its converter. */
    public static ActivationQuantizer forWeights(GgmlType weightType) {
        GgmlType v = TypeTraits.vecDotType(weightType);
        if (v == null) {
            throw new UnsupportedTypeException(weightType, "dot products");
        }
        for (ActivationQuantizer a : values()) {
            if (a.type == v) {
                return a;
            }
        }
        throw new IllegalStateException("no activation converter for " + v);
    }

    /**
     * Converts {@code x[xo .. xo+n)} into {@code out} (resized as needed), as ggml-cpu's {@code from_float} does.
     *
     * @throws IllegalArgumentException if {@code n} is not a whole number of blocks of {@link #type()}
     */
    public void quantize(float[] x, int xo, int n, QuantizedActivation out) {
        Objects.checkFromIndexSize(xo, n, x.length);
        out.reset(type, n);
        convert(x, xo, out);
    }

    /** {@link #quantize(float[], int, int, QuantizedActivation)} into a new {@link QuantizedActivation}. */
    public QuantizedActivation quantize(float[] x, int xo, int n) {
        QuantizedActivation out = new QuantizedActivation();
        quantize(x, xo, n, out);
        return out;
    }

    abstract void convert(float[] x, int xo, QuantizedActivation out);

    // ----------------------------------------------------------------------------------------- Q8_0, Q8_1

    /** x86 {@code maxps}/{@code maxss}: the first operand if it is greater, else the second (NaN: the second). */
    private static float maxps(float a, float b) {
        return a > b ? a : b;
    }

    /** {@code _mm256_andnot_ps(-0.0f, v)}: clears the sign bit only, NaN payload kept. */
    private static float absBits(float v) {
        return Float.intBitsToFloat(Float.floatToRawIntBits(v) & 0x7FFFFFFF);
    }

    /**
     * {@code _cvtss_sh(f, 0)} (F16C {@code vcvtps2ph}, round to nearest even), which ggml-cpu's
     * {@code GGML_FP32_TO_FP16} is in an F16C build: like {@link GgmlFloats#toHalf} except that a NaN keeps the
     * top 10 bits of its payload (and is made quiet).
     */
    static short toHalfF16c(float f) {
        if (f != f) {
            int b = Float.floatToRawIntBits(f);
            return (short) ((b >>> 16 & 0x8000) | 0x7E00 | (b >>> 13 & 0x3FF));
        }
        return Float.floatToFloat16(f);
    }

    /**
     * {@code _mm256_round_ps(v, _MM_ROUND_NEAREST)} then {@code _mm256_cvtps_epi32}: round half to even; NaN and
     * anything outside the int range becomes {@code INT_MIN} (the "integer indefinite" value).
     */
    private static int roundToIntSimd(float v) {
        double r = Math.rint(v);
        return r >= -2147483648.0 && r < 2147483648.0 ? (int) r : Integer.MIN_VALUE;
    }

    /** ggml-cpu's AVX2 {@code quantize_row_q8_0} ({@code withSum == false}) or {@code quantize_row_q8_1}. */
    static void quantizeQ8Simd(float[] x, int xo, QuantizedActivation out, boolean withSum) {
        int bb = withSum ? 36 : 34;
        int qsAt = withSum ? 4 : 2;
        byte[] raw = out.raw;
        byte[] qs = out.qs;
        for (int ib = 0; ib < out.n / 32; ib++) {
            int o = xo + 32 * ib;
            // max over 4 loads of 8 lanes, then extract-high/low, movehl and movehdup reductions
            float m0 = lane(x, o);
            float m1 = lane(x, o + 1);
            float m2 = lane(x, o + 2);
            float m3 = lane(x, o + 3);
            float m4 = lane(x, o + 4);
            float m5 = lane(x, o + 5);
            float m6 = lane(x, o + 6);
            float m7 = lane(x, o + 7);
            float q0 = maxps(m4, m0);
            float q1 = maxps(m5, m1);
            float q2 = maxps(m6, m2);
            float q3 = maxps(m7, m3);
            float max = maxps(maxps(q0, q2), maxps(q1, q3));

            float d = max / 127.f;
            short dh = toHalfF16c(d);
            float id = max != 0.0f ? 127.f / max : 0.0f;
            int yb = ib * bb;
            putLe16(raw, yb, dh);
            out.d[ib] = GgmlFloats.fromHalf(dh);
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int v = roundToIntSimd(x[o + j] * id);
                sum += v;
                byte q = (byte) Math.max(-128, Math.min(127, v)); // packs_epi32 then packs_epi16
                qs[32 * ib + j] = q;
                raw[yb + qsAt + j] = q;
            }
            if (withSum) {
                short sh = toHalfF16c(d * sum);
                putLe16(raw, yb + 2, sh);
                out.s[ib] = GgmlFloats.fromHalf(sh);
            }
        }
    }

    /** Lane {@code o} of the running {@code _mm256_max_ps(maxAbs, |v_k|)} over the 4 vectors of a block. */
    private static float lane(float[] x, int o) {
        float m = absBits(x[o]);
        m = maxps(m, absBits(x[o + 8]));
        m = maxps(m, absBits(x[o + 16]));
        return maxps(m, absBits(x[o + 24]));
    }

    // ------------------------------------------------------------------------------------------------ Q8_K

    /** {@code quantize_row_q8_K_ref} (plain IEEE float, libggml-base). */
    static void quantizeQ8K(float[] x, int xo, QuantizedActivation out) {
        byte[] raw = out.raw;
        byte[] qs = out.qs;
        for (int ib = 0; ib < out.n / 256; ib++) {
            int o = xo + 256 * ib;
            int yb = ib * 292;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; ++j) {
                float ax = absBits(x[o + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[o + j];
                }
            }
            if (amax == 0) {
                out.d[ib] = 0;
                putLe32(raw, yb, 0);
                for (int j = 0; j < 256; ++j) {
                    qs[256 * ib + j] = 0;
                    raw[yb + 4 + j] = 0;
                }
                for (int j = 0; j < 16; ++j) {
                    out.bsums[16 * ib + j] = 0;
                    putLe16(raw, yb + 260 + 2 * j, 0);
                }
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < 256; ++j) {
                byte q = (byte) Math.min(127, nearestInt(iscale * x[o + j]));
                qs[256 * ib + j] = q;
                raw[yb + 4 + j] = q;
            }
            for (int j = 0; j < 16; ++j) {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) {
                    sum += qs[256 * ib + 16 * j + ii];
                }
                out.bsums[16 * ib + j] = (short) sum;
                putLe16(raw, yb + 260 + 2 * j, sum);
            }
            float d = 1 / iscale;
            out.d[ib] = d;
            putLe32(raw, yb, Float.floatToRawIntBits(d));
        }
    }
}
