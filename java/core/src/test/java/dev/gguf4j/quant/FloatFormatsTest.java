package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The scalar conversions against straight ports of ggml's generic bit-twiddling code
 * ({@code ggml_compute_fp32_to_fp16}, {@code ggml_compute_fp16_to_fp32}, {@code ggml_compute_fp32_to_bf16}) and
 * C's {@code roundf}/{@code nearest_int}/x86 conversion semantics. (fp32 to fp16 was also checked over all 2^32
 * inputs once; here every 61st bit pattern plus the edges.)
 */
class FloatFormatsTest {

    /** ggml_compute_fp32_to_fp16, transcribed. */
    static int ggmlToHalf(float f) {
        float base = (Math.abs(f) * 0x1.0p+112f) * 0x1.0p-110f;
        int w = Float.floatToRawIntBits(f);
        int shl1 = w + w;
        int sign = w & 0x80000000;
        int bias = shl1 & 0xFF000000;
        if (Integer.compareUnsigned(bias, 0x71000000) < 0) {
            bias = 0x71000000;
        }
        base = Float.intBitsToFloat((bias >>> 1) + 0x07800000) + base;
        int bits = Float.floatToRawIntBits(base);
        int nonsign = ((bits >>> 13) & 0x7C00) + (bits & 0x0FFF);
        return ((sign >>> 16) | (Integer.compareUnsigned(shl1, 0xFF000000) > 0 ? 0x7E00 : nonsign)) & 0xFFFF;
    }

    /** ggml_compute_fp16_to_fp32, transcribed, with x86's quieting of a NaN operand made explicit. */
    static int ggmlFromHalf(int h) {
        int w = h << 16;
        int sign = w & 0x80000000;
        int twoW = w + w;
        int normalized = Float.floatToRawIntBits(Float.intBitsToFloat((twoW >>> 4) + (0xE0 << 23)) * 0x1.0p-112f);
        if ((normalized & 0x7F800000) == 0x7F800000 && (normalized & 0x7FFFFF) != 0) {
            normalized |= 0x400000; // mulss returns a signalling NaN operand quieted
        }
        int denormalized = Float.floatToRawIntBits(Float.intBitsToFloat((twoW >>> 17) | (126 << 23)) - 0.5f);
        return sign | (Integer.compareUnsigned(twoW, 1 << 27) < 0 ? denormalized : normalized);
    }

    @Test
    void halfToFloatAllValues() {
        for (int h = 0; h < 0x10000; h++) {
            assertEquals(ggmlFromHalf(h), Float.floatToRawIntBits(GgmlFloats.fromHalf(h)), Integer.toHexString(h));
            assertEquals(ggmlFromHalf(h), Float.floatToRawIntBits(GgmlFloats.fromHalf((short) h)),
                    "sign-extended " + Integer.toHexString(h));
        }
    }

    @Test
    void floatToHalf() {
        for (long u = 0; u <= 0xFFFFFFFFL; u += 61) {
            float f = Float.intBitsToFloat((int) u);
            int expected = ggmlToHalf(f);
            int actual = GgmlFloats.toHalf(f) & 0xFFFF;
            if (expected != actual) {
                assertEquals(expected, actual, Long.toHexString(u));
            }
        }
        int[] edges = {0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFFFFFFF,
            0x477FEFFF, 0x477FF000, 0x477FF001, 0x33000000, 0x33000001, 0x387FC000, 0x38800000, 0x00000001};
        for (int u : edges) {
            float f = Float.intBitsToFloat(u);
            assertEquals(ggmlToHalf(f), GgmlFloats.toHalf(f) & 0xFFFF, Integer.toHexString(u));
        }
        assertEquals(0x7E00, GgmlFloats.toHalf(Float.intBitsToFloat(0x7F812345)) & 0xFFFF);
        assertEquals(0xFE00, GgmlFloats.toHalf(Float.intBitsToFloat(0xFFC00000)) & 0xFFFF);
        assertEquals(0x7C00, GgmlFloats.toHalf(65520f) & 0xFFFF); // rounds to infinity
        assertEquals(0x7BFF, GgmlFloats.toHalf(65519.996f) & 0xFFFF);
    }

    @Test
    void bf16() {
        for (long u = 0; u <= 0xFFFFFFFFL; u += 4099) {
            int w = (int) u;
            float f = Float.intBitsToFloat(w);
            int expected = (w & 0x7FFFFFFF) > 0x7F800000 ? (w >>> 16) | 64 : (w + 0x7FFF + ((w >>> 16) & 1)) >>> 16;
            assertEquals(expected & 0xFFFF, GgmlFloats.toBf16(f) & 0xFFFF, Integer.toHexString(w));
        }
        assertEquals(0x3F80, GgmlFloats.toBf16(1.0f) & 0xFFFF);
        assertEquals(0x7FC1, GgmlFloats.toBf16(Float.intBitsToFloat(0x7F810000)) & 0xFFFF); // made quiet
        assertEquals(0x3F81, GgmlFloats.toBf16(Float.intBitsToFloat(0x3F80C000)) & 0xFFFF); // tie to odd -> up
        assertEquals(0x3F80, GgmlFloats.toBf16(Float.intBitsToFloat(0x3F808000)) & 0xFFFF); // tie to even
        assertEquals(Float.intBitsToFloat(0xBF800000), GgmlFloats.fromBf16((short) 0xBF80));
    }

    @Test
    void nearestIntIsGgmls() {
        assertEquals(0, GgmlFloats.nearestInt(0.5f));   // ties to even
        assertEquals(2, GgmlFloats.nearestInt(1.5f));
        assertEquals(2, GgmlFloats.nearestInt(2.5f));
        assertEquals(-2, GgmlFloats.nearestInt(-2.5f));
        assertEquals(4194303, GgmlFloats.nearestInt(4194303f));
        assertEquals(0, GgmlFloats.nearestInt(Float.NaN));
        assertEquals(-4194304, GgmlFloats.nearestInt(Float.POSITIVE_INFINITY));
        assertEquals(-4194304, GgmlFloats.nearestInt(Float.NEGATIVE_INFINITY));
        assertEquals(0x12345, GgmlFloats.nearestInt(Float.intBitsToFloat(0xFFC12345)));
    }

    @Test
    void cConversions() {
        assertEquals(1.0f, GgmlFloats.roundf(0.5f));
        assertEquals(-1.0f, GgmlFloats.roundf(-0.5f));
        assertEquals(0.0f, GgmlFloats.roundf(0.49999997f));
        assertEquals(3.0f, GgmlFloats.roundf(2.5f));
        assertEquals(-0.0f, GgmlFloats.roundf(-0.2f));
        assertEquals(8388609f, GgmlFloats.roundf(8388609f));
        assertEquals(Integer.MIN_VALUE, GgmlFloats.truncToInt(Float.NaN));
        assertEquals(Integer.MIN_VALUE, GgmlFloats.truncToInt(3e9f));
        assertEquals(Integer.MIN_VALUE, GgmlFloats.truncToInt(-3e9f));
        assertEquals(Integer.MIN_VALUE, GgmlFloats.truncToInt(Float.NEGATIVE_INFINITY));
        assertEquals(-7, GgmlFloats.truncToInt(-7.9f));
        assertEquals(2147483520, GgmlFloats.truncToInt(2147483520f));
        assertEquals(0.0f, GgmlFloats.cmax(Float.NaN, 0.0f));
        assertEquals(Float.NaN, GgmlFloats.cmax(0.0f, Float.NaN));
    }

    /** The branch-free IQ4_NL level search against ggml's best_index_int8 (checked over all 2^32 floats once). */
    @Test
    void iq4nlIndexIsBestIndexInt8() {
        for (long u = 0; u <= 0xFFFFFFFFL; u += 997) {
            float x = Float.intBitsToFloat((int) u);
            int expected = QuantMath.bestIndexInt8(QuantMath.IQ4NL_VALUES, x);
            if (expected != QuantMath.iq4nlIndex(x)) {
                assertEquals(expected, QuantMath.iq4nlIndex(x), Float.toString(x));
            }
        }
        for (int k = 1; k < 16; k++) {
            float t = QuantMath.IQ4NL_THRESHOLDS[k];
            float below = t;
            float above = t;
            for (int i = 0; i < 5000; i++) {
                assertEquals(QuantMath.bestIndexInt8(QuantMath.IQ4NL_VALUES, below), QuantMath.iq4nlIndex(below));
                assertEquals(QuantMath.bestIndexInt8(QuantMath.IQ4NL_VALUES, above), QuantMath.iq4nlIndex(above));
                below = Math.nextDown(below);
                above = Math.nextUp(above);
            }
            assertEquals(k, QuantMath.iq4nlIndex(t));
            assertEquals(k - 1, QuantMath.iq4nlIndex(Math.nextDown(t)));
        }
        assertEquals(15, QuantMath.iq4nlIndex(Float.NaN));
        assertEquals(15, QuantMath.iq4nlIndex(Float.intBitsToFloat(0xFFC12345)));
        assertEquals(0, QuantMath.iq4nlIndex(Float.NEGATIVE_INFINITY));
        assertEquals(15, QuantMath.iq4nlIndex(Float.POSITIVE_INFINITY));
        assertEquals(QuantMath.iq4nlIndex(0.0f), QuantMath.iq4nlIndex(-0.0f));
    }
}
