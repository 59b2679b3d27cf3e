package dev.gguf4j.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The forward pass's element-wise operations as ggml's CPU backend computes them (rms_norm, RoPE, SwiGLU, KV
 * cache stores; attention is {@link Backend#attention}), on float arrays. One definition shared by the CPU forward pass and the
 * {@link HostAccelerator}, so a layer run through the device interface on the host gives the CPU path's bits.
 */
public final class CpuMath {
    private CpuMath() {
    }

    /** out = (x * 1/sqrt(mean(x^2) + eps)) * weight, in ggml_rms_norm's and ggml_mul's float operations. */
    public static void rmsNorm(float[] out, int outOff, float[] in, int inOff, float[] weight, int n, float eps) {
        double ss = 0; // ggml: float squares summed in ggml_float (double)
        for (int i = 0; i < n; i++) {
            float v = in[inOff + i];
            ss += v * v;
        }
        float mean = (float) (ss / n);
        float s = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = in[inOff + i] * s * weight[i];
        }
    }

    /**
     * out = ((x - mean) * 1/sqrt(var + eps)) * weight + bias, in ggml_norm's (c392e50 ggml_compute_forward_norm_f32:
     * the sum and the sum of squared deviations in double, mean and variance rounded to float), ggml_mul's and
     * ggml_add's float operations. {@code in} may be {@code out}.
     */
    public static void layerNorm(float[] out, int outOff, float[] in, int inOff, float[] weight, float[] bias, int n,
            float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += in[inOff + i];
        }
        float mean = (float) (sum / n);
        double sum2 = 0;
        for (int i = 0; i < n; i++) {
            float v = in[inOff + i] - mean;
            out[outOff + i] = v;
            sum2 += v * v;
        }
        float variance = (float) (sum2 / n);
        float scale = 1.0f / (float) Math.sqrt(variance + eps);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = out[outOff + i] * scale * weight[i] + bias[i];
        }
    }

    /**
     * out[i] = silu(g[i]) * u[i]: ggml_silu then ggml_mul, silu(x) = x / (1 + e) with e = {@link #expf}(0 - x), as
     * ggml_vec_silu_f32 computes it in the 8-float vectors of an AVX2 build (c392e50: ggml_v_silu). ggml computes
     * the last {@code width % 8} elements of a row with libm's expf instead; FFN widths are multiples of 8, so no
     * element of a SwiGLU FFN is in such a tail.
     */
    public static void swiglu(float[] g, int gOff, float[] u, int uOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            float x = g[gOff + i];
            out[outOff + i] = x / (1.0f + expf(0.0f - x)) * u[uOff + i];
        }
    }

    /**
     * ggml's vector exp, one lane of it in scalar float operations, bit for bit: ggml_v_expf of the AVX2+FMA build
     * (ggml-cpu.c, c392e50; "adapted from arm limited optimized routine", maximum error 1.45358 + 0.5 ulp), which
     * ggml's soft_max and silu use. x = n ln2 + b with n = round(x / ln2) (by the 1.5 * 2^23 shift) and b reduced
     * in two FMA steps (ln2 split in a high and a low part), then 2^n (1 + p(b)) with p a degree-5 polynomial
     * evaluated as (c5 b + c4) u + (c3 b + c2), times u, plus c1 b (u = b^2), and the result k p + k, k = 2^n made
     * in the exponent bits; for |n| > 126 the scale is split in two factors so that 2^n neither overflows nor
     * underflows early, and beyond |n| > 192 the result is inf or 0. Every operation below is one IEEE float
     * operation (Math.fma is the fused multiply-add the AVX2 code uses), so the lanes' bits are reproduced.
     */
    public static float expf(float x) {
        final float shift = 0x1.8p23f;
        float z = Math.fma(x, 0x1.715476p+0f, shift);
        float n = z - shift;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        int e = Float.floatToRawIntBits(z) << 23;
        float k = Float.intBitsToFloat(e + Float.floatToRawIntBits(1.0f));
        float u = b * b;
        float j = Math.fma(Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u, 0x1.ffffecp-1f * b);
        float an = Math.abs(n);
        if (!(an > 126.0f)) {
            return Math.fma(k, j, k);
        }
        int g = n <= 0.0f ? 0x82000000 : 0;
        float s1 = Float.intBitsToFloat(g + 0x7f000000);
        if (an > 192.0f) {
            return s1 * s1;
        }
        float s2 = Float.intBitsToFloat(e - g);
        return Math.fma(s2, j, s2) * s1;
    }

    /**
     * ggml's soft_max of one row's scores {@code s[from, to)} in place (c392e50 ggml_compute_forward_soft_max_f32
     * with ggml_vec_soft_max_f32 of an AVX2 build): the maximum; e = {@link #expf}(s - max) in 8-float vectors
     * whose lanes are the row's columns 0-7, 8-15, ..., each vector's sum ((e0 + e4) + (e2 + e6)) + ((e1 + e5) +
     * (e3 + e7)) in float added to a double; then every e times the float of 1 / sum. Masked columns are exact
     * zeros in those sums: those before {@code from} and, when {@code maskedToVector} (attention: ggml's KV cache
     * view is a multiple of 32 columns, the ones after the query's position masked), those after {@code to} up to
     * the vector's end. Without it (a row of exactly {@code to} columns: MoE routing) the last {@code to % 8}
     * columns are ggml's scalar tail, libm's expf, here the float of the double exp, each added to the sum alone.
     */
    public static void softmax(float[] s, int from, int to, boolean maskedToVector) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = from; t < to; t++) {
            max = Math.max(max, s[t]);
        }
        double sum = 0;
        int vectors = maskedToVector ? (to + 7) & ~7 : to & ~7;
        for (int v = from & ~7; v < vectors; v += 8) {
            float e0 = lane(s, v, from, to, max);
            float e1 = lane(s, v + 1, from, to, max);
            float e2 = lane(s, v + 2, from, to, max);
            float e3 = lane(s, v + 3, from, to, max);
            float e4 = lane(s, v + 4, from, to, max);
            float e5 = lane(s, v + 5, from, to, max);
            float e6 = lane(s, v + 6, from, to, max);
            float e7 = lane(s, v + 7, from, to, max);
            sum += ((e0 + e4) + (e2 + e6)) + ((e1 + e5) + (e3 + e7));
        }
        for (int t = Math.max(vectors, from); t < to; t++) {
            float e = (float) Math.exp(s[t] - max);
            s[t] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int t = from; t < to; t++) {
            s[t] *= inv;
        }
    }

    private static float lane(float[] s, int t, int from, int to, float max) {
        if (t < from || t >= to) {
            return 0.0f;
        }
        float e = expf(s[t] - max);
        s[t] = e;
        return e;
    }

    /**
     * out[i] = gelu(g[i]) * u[i] (llama.cpp's LLM_FFN_GELU + LLM_FFN_PAR: ggml_gelu, then ggml_mul), GELU as
     * {@link #gelu} computes it.
     */
    public static void geglu(float[] g, int gOff, float[] u, int uOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            out[outOff + i] = gelu(g[gOff + i]) * u[uOff + i];
        }
    }

    /**
     * ggml's CPU GELU (ggml_vec_gelu_f32 with GGML_GELU_FP16, c392e50): 0 for x &lt;= -10, x for x &gt;= 10, else
     * the F16 table entry at fp16(x) (round to nearest even), widened. The table holds, for every binary16 h,
     * fp16(0.5f * f * (1 + tanhf(S * f * (1 + A * f * f)))) with f = h's value, evaluated in float.
     */
    public static float gelu(float x) {
        if (x <= -10.0f) {
            return 0.0f;
        }
        if (x >= 10.0f) {
            return x;
        }
        return Float.float16ToFloat(GeluTable.TABLE[Float.floatToFloat16(x) & 0xffff]);
    }

    /** ggml_table_gelu_f16, filled as ggml_cpu_init fills it (on first use). */
    private static final class GeluTable {
        static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;
        static final float GELU_COEF_A = 0.044715f;
        static final short[] TABLE = new short[1 << 16];

        static {
            for (int h = 0; h < TABLE.length; h++) {
                float f = Float.float16ToFloat((short) h);
                float t = (float) Math.tanh(SQRT_2_OVER_PI * f * (1.0f + GELU_COEF_A * f * f));
                TABLE[h] = Float.floatToFloat16(0.5f * f * (1.0f + t));
            }
        }
    }

    /** x[i] = tanh(x[i] * (1 / cap)) * cap (ggml_scale by 1/cap, ggml_tanh, ggml_scale by cap: gemma2's soft-cap). */
    public static void softCap(float[] x, int off, int n, float cap) {
        float inv = 1.0f / cap;
        for (int i = off; i < off + n; i++) {
            x[i] = (float) Math.tanh(x[i] * inv) * cap;
        }
    }

    /** ggml's theta_scale = powf(base, -2.0f/n_rot). */
    public static float ropeThetaScale(float freqBase, int nRot) {
        return (float) Math.pow(freqBase, -2.0f / nRot);
    }

    /**
     * The cos and sin of each rotated pair's angle at position {@code pos}, into {@code cos}/{@code sin} from
     * {@code off}: as ggml's rope cache, theta starts at pos and is multiplied by thetaScale per pair; the angle is
     * freqScale * (theta / freqFactors[i]) (freqFactors: Llama-3's rope_freqs, or null for 1).
     */
    public static void ropeAngles(int pos, int half, float thetaScale, float freqScale, float[] freqFactors,
            float[] cos, float[] sin, int off) {
        ropeAngles(pos, half, thetaScale, freqScale, freqFactors, 0.0f, null, 1.0f, cos, sin, off);
    }

    /**
     * {@link #ropeAngles(int, int, float, float, float[], float[], float[], int)} with YaRN and an attention
     * factor, as ggml's rope_yarn: theta_extrap = theta / ff[i], theta_interp = freqScale * theta_extrap; when
     * {@code extFactor} != 0, mix = ramp(i) * extFactor with ramp(i) = 1 - clamp((i - lo) / max(0.001, hi - lo),
     * 0, 1) ({@code corrDims} = {lo, hi}, {@link #ropeYarnCorrDims}), the angle theta_interp * (1 - mix) +
     * theta_extrap * mix and the magnitude mscale * (1 + 0.1 * logf(1 / freqScale)); cos and sin are multiplied by
     * the magnitude ({@code mscale}: the context's attn_factor). With extFactor 0 and mscale 1 this is the plain
     * angle, bit for bit.
     */
    public static void ropeAngles(int pos, int half, float thetaScale, float freqScale, float[] freqFactors,
            float extFactor, float[] corrDims, float mscale, float[] cos, float[] sin, int off) {
        float theta = pos;
        float yarnScale = extFactor != 0.0f ? mscale * (1.0f + 0.1f * (float) Math.log(1.0f / freqScale)) : mscale;
        for (int i = 0; i < half; i++, theta *= thetaScale) {
            float extrap = freqFactors == null ? theta : theta / freqFactors[i];
            float t = freqScale * extrap;
            float m = mscale;
            if (extFactor != 0.0f) {
                float y = (i - corrDims[0]) / Math.max(0.001f, corrDims[1] - corrDims[0]);
                float mix = (1 - Math.min(1.0f, Math.max(0.0f, y))) * extFactor;
                // as an FMA, as GCC contracts ggml's theta_interp * (1 - mix) + theta_extrap * mix on FMA builds
                // (the all-F32 llama-yarn golden agrees to 5.1e-7 of the range this way, 5.4e-7 without)
                t = Math.fma(t, 1 - mix, extrap * mix);
                m = yarnScale;
            }
            cos[off + i] = (float) Math.cos(t) * m;
            sin[off + i] = (float) Math.sin(t) * m;
        }
    }

    /**
     * ggml_rope_yarn_corr_dims: {lo, hi} = {max(0, floorf(d(betaFast))), min(nRot - 1, ceilf(d(betaSlow)))} with
     * d(b) = nRot * logf(nCtxOrig / (b * 2 pi)) / (2 * logf(base)), in float.
     */
    public static float[] ropeYarnCorrDims(int nRot, int nCtxOrig, float base, float betaFast, float betaSlow) {
        return new float[] {Math.max(0.0f, (float) Math.floor(yarnCorrDim(nRot, nCtxOrig, betaFast, base))),
            Math.min(nRot - 1, (float) Math.ceil(yarnCorrDim(nRot, nCtxOrig, betaSlow, base)))};
    }

    private static float yarnCorrDim(int nRot, int nCtxOrig, float beta, float base) {
        float lg = (float) Math.log(nCtxOrig / (beta * 2 * (float) Math.PI));
        return nRot * lg / (2 * (float) Math.log(base));
    }

    /**
     * Rotates the first {@code nRot} dimensions of each of {@code heads} heads at {@code off} by the angles in
     * {@code cos}/{@code sin} from {@code tableOff} (see {@link #ropeAngles}): adjacent pairs (llama) or
     * (i, i + nRot/2) (NEOX).
     */
    public static void rope(float[] vec, int off, int heads, int headDim, int nRot, boolean neox, float[] cos,
            float[] sin, int tableOff) {
        int half = nRot / 2;
        for (int h = 0; h < heads; h++) {
            int o = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[tableOff + i];
                float s = sin[tableOff + i];
                int a = neox ? o + i : o + 2 * i;
                int b = neox ? o + i + half : o + 2 * i + 1;
                float x0 = vec[a];
                float x1 = vec[b];
                vec[a] = x0 * c - x1 * s;
                vec[b] = x0 * s + x1 * c;
            }
        }
    }

    /** {@link #rope(float[], int, int, int, int, boolean, float[], float[], int)} at one position. */
    public static void rope(float[] vec, int off, int heads, int headDim, int nRot, boolean neox, int pos,
            float thetaScale, float freqScale, float[] freqFactors) {
        float[] cos = new float[nRot / 2];
        float[] sin = new float[nRot / 2];
        ropeAngles(pos, nRot / 2, thetaScale, freqScale, freqFactors, cos, sin, 0);
        rope(vec, off, heads, headDim, nRot, neox, cos, sin, 0);
    }

    /**
     * Stores k and v (kvDim floats) at {@code pos} of a cache [ctx][kvDim] in {@code kc}/{@code vc}: binary16 bits
     * (nearest-even, as ggml's F16 cache) when {@code f16}, else F32.
     */
    public static void storeKv(float[] k, float[] v, int pos, int kvDim, boolean f16, MemorySegment kc,
            MemorySegment vc) {
        storeKv(k, 0, v, 0, pos, kvDim, f16, kc, vc);
    }

    /** As above, k and v read from {@code kOff} and {@code vOff}. */
    public static void storeKv(float[] k, int kOff, float[] v, int vOff, int pos, int kvDim, boolean f16,
            MemorySegment kc, MemorySegment vc) {
        long base = (long) pos * kvDim;
        if (f16) {
            for (int i = 0; i < kvDim; i++) {
                kc.setAtIndex(ValueLayout.JAVA_SHORT, base + i, Float.floatToFloat16(k[kOff + i]));
                vc.setAtIndex(ValueLayout.JAVA_SHORT, base + i, Float.floatToFloat16(v[vOff + i]));
            }
        } else {
            MemorySegment.copy(k, kOff, kc, ValueLayout.JAVA_FLOAT, base * 4, kvDim);
            MemorySegment.copy(v, vOff, vc, ValueLayout.JAVA_FLOAT, base * 4, kvDim);
        }
    }
}
