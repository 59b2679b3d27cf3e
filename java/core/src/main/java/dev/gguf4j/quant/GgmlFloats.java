package dev.gguf4j.quant;

/**
 * ggml's scalar conversions and C float idioms, bit-for-bit as ggml's generic (no F16C, no -march) x86-64 build
 * computes them. Every quantizer and dequantizer in this package goes through these; nothing else converts.
 */
final class GgmlFloats {
    private GgmlFloats() {
    }

    /**
     * {@code GGML_FP32_TO_FP16}: round to nearest even; overflow to infinity; every NaN becomes the quiet NaN
     * {@code 0x7E00} with the input's sign (ggml drops the payload).
     */
    static short toHalf(float f) {
        if (f != f) {
            return (short) ((Float.floatToRawIntBits(f) >>> 16 & 0x8000) | 0x7E00);
        }
        return Float.floatToFloat16(f); // RNE, same as ggml for every non-NaN float (FloatFormatsTest)
    }

    /**
     * {@code GGML_FP16_TO_FP32}: exact widening; a NaN keeps its sign and payload and comes out quiet (bit 22 set),
     * as ggml's multiply by 2^-112 leaves it.
     */
    static float fromHalf(int h) {
        float f = Float.float16ToFloat((short) h);
        if (f != f) {
            return Float.intBitsToFloat((h & 0x8000) << 16 | 0x7FC00000 | (h & 0x3FF) << 13);
        }
        return f;
    }

    /** {@code ggml_compute_fp32_to_bf16}: round to nearest even; a NaN keeps its top bits and is made quiet. */
    static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7FFF + ((u >>> 16) & 1))) >>> 16);
    }

    /** {@code ggml_compute_bf16_to_fp32}: the 16 bits become the top half of the float. */
    static float fromBf16(int h) {
        return Float.intBitsToFloat(h << 16);
    }

    /**
     * ggml's {@code nearest_int}: adds 1.5*2^23 and reads the low mantissa bits, i.e. round half to even for
     * |x| up to 2^22. Outside that range (including NaN and infinities) the result is the same garbage-but-
     * deterministic integer the C code yields: for any NaN made by arithmetic it is its payload, 0 for the
     * default NaN; for +-Inf it is -4194304.
     */
    static int nearestInt(float f) {
        return (Float.floatToRawIntBits(f + 12582912.0f) & 0x007FFFFF) - 0x00400000;
    }

    /**
     * C's conversion of a float to a 32-bit int as x86-64 {@code cvttss2si} does it: truncation toward zero,
     * and the "integer indefinite" value {@code 0x80000000} for NaN and anything outside the int range. A
     * conversion to {@code int8_t}/{@code uint8_t} is this followed by keeping the low byte (what gcc emits).
     */
    static int truncToInt(float f) {
        return f >= -2147483648.0f && f < 2147483648.0f ? (int) f : Integer.MIN_VALUE;
    }

    /** C's {@code roundf}: halfway cases away from zero; NaN and infinities pass through. */
    static float roundf(float x) {
        if (!(Math.abs(x) < 8388608.0f)) {
            return x; // already integral, infinite or NaN
        }
        // |x| + 0.5 is exact in double for every float below 2^23, so floor gives roundf's magnitude
        float r = (float) Math.floor(Math.abs((double) x) + 0.5);
        return Math.copySign(r, x);
    }

    /** C's {@code MAX(a, b)} macro on floats: {@code a > b ? a : b} (so a NaN {@code b} wins, a NaN {@code a} loses). */
    static float cmax(float a, float b) {
        return a > b ? a : b;
    }

    static int u8(byte[] b, int i) {
        return b[i] & 0xFF;
    }

    static int le16(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
    }

    static int le32(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }

    static void putLe16(byte[] b, int i, int v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >>> 8);
    }

    static void putLe32(byte[] b, int i, int v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >>> 8);
        b[i + 2] = (byte) (v >>> 16);
        b[i + 3] = (byte) (v >>> 24);
    }

    static float halfAt(byte[] b, int i) {
        return fromHalf(le16(b, i));
    }

    static void putHalf(byte[] b, int i, float f) {
        putLe16(b, i, toHalf(f));
    }
}
