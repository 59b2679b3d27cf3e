package dev.gguf4j.backend;

/**
 * The forward pass's element-wise operations as ggml's CPU backend computes them (rms_norm, RoPE, SwiGLU,
 * attention over an F16 or F32 KV cache), on float arrays. One definition shared by the CPU forward pass and the
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

    /** g[i] = silu(g[i]) * u[i]. */
    public static void swiglu(float[] g, int gOff, float[] u, int uOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            float x = g[gOff + i];
            out[outOff + i] = x / (1.0f + (float) Math.exp(-x)) * u[uOff + i];
        }
    }

    /** ggml's theta_scale = powf(base, -2.0f/n_rot). */
    public static float ropeThetaScale(float freqBase, int nRot) {
        return (float) Math.pow(freqBase, -2.0f / nRot);
    }

    /**
     * Rotates the first {@code nRot} dimensions of each of {@code heads} heads at {@code off}: adjacent pairs
     * (llama) or (i, i + nRot/2) (NEOX). theta starts at pos * freqScale and is multiplied by thetaScale per pair;
     * divided by freqFactors[i] when those are given.
     */
    public static void rope(float[] vec, int off, int heads, int headDim, int nRot, boolean neox, int pos,
            float thetaScale, float freqScale, float[] freqFactors) {
        int half = nRot / 2;
        for (int h = 0; h < heads; h++) {
            int o = off + h * headDim;
            float theta = pos * freqScale;
            for (int i = 0; i < half; i++, theta *= thetaScale) {
                float t = freqFactors == null ? theta : theta / freqFactors[i];
                float cos = (float) Math.cos(t);
                float sin = (float) Math.sin(t);
                int a = neox ? o + i : o + 2 * i;
                int b = neox ? o + i + half : o + 2 * i + 1;
                float x0 = vec[a];
                float x1 = vec[b];
                vec[a] = x0 * cos - x1 * sin;
                vec[b] = x0 * sin + x1 * cos;
            }
        }
    }

    /** Stores k and v (kvDim floats) at {@code pos} of an F16 (k16/v16) or F32 (k32/v32) cache. */
    public static void storeKv(float[] k, int kOff, float[] v, int vOff, int pos, int kvDim, short[] k16,
            short[] v16, float[] k32, float[] v32) {
        int base = pos * kvDim;
        if (k16 != null) {
            for (int i = 0; i < kvDim; i++) {
                k16[base + i] = Float.floatToFloat16(k[kOff + i]);
                v16[base + i] = Float.floatToFloat16(v[vOff + i]);
            }
        } else {
            System.arraycopy(k, kOff, k32, base, kvDim);
            System.arraycopy(v, vOff, v32, base, kvDim);
        }
    }

    /**
     * Attention of one token at {@code pos} over the cache [0, pos], as ggml computes it with an F16 cache: q is
     * rounded to f16 for K.q (F16 x F16 dot, F32 sums), softmax in F32 with a double sum, probabilities rounded
     * to f16 for the V product. The cache is F16 (k16/v16 non-null) or F32 (k32/v32), [pos][kvHeads][headDim].
     * {@code q} [heads * headDim] is modified; the result goes to {@code out}; {@code att} holds pos + 1 floats.
     */
    public static void attend(int pos, float[] q, int qOff, float[] out, int outOff, int heads, int kvHeads,
            int headDim, float scale, short[] k16, short[] v16, float[] k32, float[] v32, float[] att) {
        int kvDim = kvHeads * headDim;
        int groups = heads / kvHeads;
        boolean f16 = k16 != null;
        for (int h = 0; h < heads; h++) {
            int qo = qOff + h * headDim;
            int kvOff = (h / groups) * headDim;
            if (f16) {
                for (int i = 0; i < headDim; i++) {
                    q[qo + i] = Float.float16ToFloat(Float.floatToFloat16(q[qo + i]));
                }
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
                float s = 0;
                int base = t * kvDim + kvOff;
                if (f16) {
                    for (int i = 0; i < headDim; i++) {
                        s += q[qo + i] * Float.float16ToFloat(k16[base + i]);
                    }
                } else {
                    for (int i = 0; i < headDim; i++) {
                        s += q[qo + i] * k32[base + i];
                    }
                }
                s *= scale;
                att[t] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int t = 0; t <= pos; t++) {
                att[t] = (float) Math.exp(att[t] - max);
                sum += att[t];
            }
            float inv = (float) (1.0 / sum);
            for (int t = 0; t <= pos; t++) {
                att[t] *= inv;
                if (f16) {
                    att[t] = Float.float16ToFloat(Float.floatToFloat16(att[t]));
                }
            }
            int oo = outOff + h * headDim;
            for (int i = 0; i < headDim; i++) {
                float acc = 0;
                if (f16) {
                    for (int t = 0; t <= pos; t++) {
                        acc += att[t] * Float.float16ToFloat(v16[t * kvDim + kvOff + i]);
                    }
                } else {
                    for (int t = 0; t <= pos; t++) {
                        acc += att[t] * v32[t * kvDim + kvOff + i];
                    }
                }
                out[oo + i] = acc;
            }
        }
    }
}
