package dev.gguf4j.quant;

import static dev.gguf4j.quant.GgmlFloats.halfAt;
import static dev.gguf4j.quant.GgmlFloats.nearestInt;
import static dev.gguf4j.quant.QuantMath.clamp;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers") adapted to the k-quant block layouts: the error of the matrix product on calibration
 * activations, {@code ||(W - Q) X^T||^2}, is what is minimised, not each block's own squared error. Its input is
 * the Gram matrix {@code H = X^T X} of the calibration inputs of one weight ({@code n x n}, {@code n} its row
 * length) and the row's values; rows are independent (every row shares {@code H}).
 *
 * <p>Per row, columns in order: when a super-block of 256 begins, its scales are chosen (the super-block scale
 * {@code d}/{@code dmin} and every sub-block's integer scale/min level, by ggml's search ({@link Codecs}; or
 * {@link BetterSearch}'s with {@code -Dgguf4j.gptq.chooser=better}) on the row's <em>current</em>, already
 * compensated values, the error weighted by GPTQ's per-column cost {@code 1 / U[j][j]^2}); when each later
 * sub-block begins, its levels are chosen again ({@code d}/{@code dmin} fixed, within {@link #RESUB} levels) for
 * the values as compensated by then; then column by column the code is the nearest for that fixed scale, and the rounding
 * error {@code e = (w_j - q_j) / U[j][j]} is spread onto the columns not yet quantized, {@code w_k -= e * U[j][k]},
 * with {@code U} the upper Cholesky factor of {@code (H + damp * mean(diag H) * I)^-1} ({@link #factor}). The bytes
 * are ggml's layouts, so the blocks decode with ggml's dequantizer. Nothing here is ggml's code.
 */
public final class Gptq {
    /** Dampening of H, as a fraction of its mean diagonal (GPTQ's percdamp default is 0.01; 0.05 measured better on kjv7m). */
    public static final double DAMP = 0.05;
    /** Sub-block levels re-chosen when each sub-block begins: this many levels each side of the block's choice. */
    static final int RESUB = 2;

    private Gptq() {
    }

    /** Whether GPTQ has a quantizer for {@code type}. */
    public static boolean covers(GgmlType type) {
        return BetterSearch.covers(type);
    }

    /**
     * The upper Cholesky factor {@code U} (row-major, {@code n * n}, zero below the diagonal) with
     * {@code U^T U = (H + damp * mean(diag H) * I)^-1}, where {@code H} is {@code gram} (symmetric, row-major; a
     * column whose input was always zero gets diagonal 1). Null when H is zero or not positive definite.
     */
    public static float[] factor(double[] gram, int n, double damp) {
        double[] h = gram.clone();
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += h[i * n + i];
        }
        mean /= n;
        if (!(mean > 0) || !Double.isFinite(mean)) {
            return null;
        }
        for (int i = 0; i < n; i++) {
            if (h[i * n + i] == 0) {
                h[i * n + i] = mean; // a dead input: any value quantizes it; keep the matrix well conditioned
            }
            h[i * n + i] += damp * mean;
        }
        // With J the order reversal: J H J = L L^T (lower Cholesky) gives H = V V^T with V = J L J upper, so
        // H^-1 = U^T U with U = V^-1 = J L^-1 J upper, and U is the upper Cholesky factor of H^-1 (one
        // factorisation and one triangular inverse; no explicit H^-1)
        double[] r = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                r[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        if (!cholesky(r, n)) {
            return null;
        }
        double[] li = invertLower(r, n);
        float[] u = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                u[i * n + j] = (float) li[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        return u;
    }

    /** In-place lower Cholesky factor of the symmetric {@code a} (upper triangle left as it was); false if not PD. */
    static boolean cholesky(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            double s = a[j * n + j];
            for (int k = 0; k < j; k++) {
                s -= a[j * n + k] * a[j * n + k];
            }
            if (!(s > 0)) {
                return false;
            }
            double d = Math.sqrt(s);
            a[j * n + j] = d;
            for (int i = j + 1; i < n; i++) {
                double t = a[i * n + j];
                for (int k = 0; k < j; k++) {
                    t -= a[i * n + k] * a[j * n + k];
                }
                a[i * n + j] = t / d;
            }
        }
        return true;
    }

    /** The inverse of the lower triangle of {@code l} (row-major), as a new lower-triangular matrix. */
    static double[] invertLower(double[] l, int n) {
        // row i of X = L^-1: (e_i - sum_{k<i} L[i][k] * X[k]) / L[i][i], X[k] nonzero in columns 0..k
        double[] x = new double[n * n];
        for (int i = 0; i < n; i++) {
            int oi = i * n;
            x[oi + i] = 1;
            for (int k = 0; k < i; k++) {
                double c = l[oi + k];
                if (c == 0) {
                    continue;
                }
                int ok = k * n;
                for (int j = 0; j <= k; j++) {
                    x[oi + j] -= c * x[ok + j];
                }
            }
            double d = 1 / l[oi + i];
            for (int j = 0; j <= i; j++) {
                x[oi + j] *= d;
            }
        }
        return x;
    }

    /**
     * A codec that quantizes rows of {@code n} values to {@code type} with GPTQ for the factor {@code u}
     * ({@link #factor} of the weight's Gram matrix); decoding is ggml's.
     */
    public static TypeCodec codec(GgmlType type, float[] u, int n) {
        return new GptqCodec((BetterSearch.SearchCodec) BetterSearch.codec(type), u, n);
    }

    static final class GptqCodec implements TypeCodec {
        final BetterSearch.SearchCodec search;
        final BlockCodec chooser;
        final BetterSearch.Format f;
        final float[] u;
        final int n;
        final float[] obs; // 1 / U[j][j]^2

        GptqCodec(BetterSearch.SearchCodec search, float[] u, int n) {
            this.search = search;
            this.chooser = search.ref; // ggml's scale search: as good here as BetterSearch's, and faster
            this.f = search.f;
            this.u = u;
            this.n = n;
            obs = new float[n];
            for (int j = 0; j < n; j++) {
                float d = u[j * n + j];
                obs[j] = 1 / (d * d);
            }
        }

        @Override
        public GgmlType type() {
            return search.type();
        }

        @Override
        public void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int count) {
            search.dequantize(src, srcOffset, dst, dstOffset, count);
        }

        @Override
        public boolean canQuantize() {
            return true;
        }

        @Override
        public void quantize(float[] src, int srcOffset, int count, float[] importance, MemorySegment dst,
                long dstOffset) {
            if (count != n) {
                throw new IllegalArgumentException("GPTQ factor is for rows of " + n + ", got " + count);
            }
            byte[] out = new byte[(int) type().bytesFor(n)];
            quantizeRow(src, srcOffset, importance, out);
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dstOffset, out.length);
        }

        /** GPTQ on one row {@code x[xo .. xo + n)} into {@code out} (the row's blocks). */
        void quantizeRow(float[] x, int xo, float[] importance, byte[] out) {
            int QK = BetterSearch.QK_K;
            double[] w = new double[n];
            for (int i = 0; i < n; i++) {
                w[i] = x[xo + i];
            }
            float[] cur = new float[QK];
            float[] qw = new float[QK];
            byte[] block = new byte[chooser.blockBytes];
            BetterSearch.Work k = new BetterSearch.Work();
            Scratch s = Scratch.get();
            int ns = f.subBlocks();
            float[] S = new float[ns];
            float[] M = new float[ns];
            for (int b = 0; b < n / QK; b++) {
                int base = b * QK;
                for (int i = 0; i < QK; i++) {
                    cur[i] = (float) w[base + i];
                    qw[i] = obs[base + i]; // 1 / U_jj^2 (the imatrix as a factor too measured the same)
                }
                chooser.encodeRow(cur, 0, QK, qw, block, s);
                levels(block, k);
                for (int j = 0; j < ns; j++) {
                    S[j] = k.d * k.bestLs[j];
                    M[j] = f.hasMin() ? k.dmin * k.bestLm[j] : 0;
                }
                for (int i = 0; i < QK; i++) {
                    int col = base + i;
                    int j = i / f.sub();
                    if (RESUB > 0 && i % f.sub() == 0 && i > 0) {
                        resub(w, col, j, k, S, M);
                    }
                    float sj = S[j];
                    float mj = M[j];
                    float wv = (float) w[col];
                    int q = sj != 0 ? clamp(nearestInt((wv + mj) * (1 / sj)), f.codeLo(), f.codeHi()) : 0;
                    k.q[i] = q;
                    float deq = sj * q - mj;
                    double e = (w[col] - deq) / u[col * n + col];
                    int ro = col * n;
                    for (int c = col + 1; c < n; c++) {
                        w[c] -= e * u[ro + c];
                    }
                }
                search.packCodes(k);
                System.arraycopy(k.cand, 0, out, b * chooser.blockBytes, chooser.blockBytes);
            }
        }

        /** Re-chooses sub-block {@code j}'s levels (d, dmin fixed) for the current values starting at {@code col}. */
        private void resub(double[] w, int col, int j, BetterSearch.Work k, float[] S, float[] M) {
            int r = RESUB;
            double best = Double.POSITIVE_INFINITY;
            int bs = k.bestLs[j];
            int bm = k.bestLm[j];
            int ls0 = bs;
            int lm0 = bm;
            for (int ls = Math.max(f.levelLo(), ls0 - r); ls <= Math.min(f.levelHi(), ls0 + r); ls++) {
                int mlo = f.hasMin() ? Math.max(0, lm0 - r) : 0;
                int mhi = f.hasMin() ? Math.min(f.minHi(), lm0 + r) : 0;
                for (int lm = mlo; lm <= mhi; lm++) {
                    float sj = k.d * ls;
                    float mj = f.hasMin() ? k.dmin * lm : 0;
                    double e = 0;
                    for (int i = 0; i < f.sub(); i++) {
                        float wv = (float) w[col + i];
                        int q = sj != 0 ? clamp(nearestInt((wv + mj) * (1 / sj)), f.codeLo(), f.codeHi()) : 0;
                        double d = sj * q - mj - wv;
                        e += obs[col + i] * d * d;
                    }
                    if (e < best) {
                        best = e;
                        bs = ls;
                        bm = lm;
                    }
                }
            }
            k.bestLs[j] = bs;
            k.bestLm[j] = bm;
            S[j] = k.d * bs;
            M[j] = f.hasMin() ? k.dmin * bm : 0;
        }

        /** Reads d, dmin and the sub-block levels of a block of this type into {@code k}. */
        void levels(byte[] y, BetterSearch.Work k) {
            switch (f.type()) {
                case Q2_K -> {
                    k.d = halfAt(y, 80);
                    k.dmin = halfAt(y, 82);
                    for (int j = 0; j < 16; j++) {
                        k.bestLs[j] = y[j] & 0xF;
                        k.bestLm[j] = (y[j] & 0xFF) >> 4;
                    }
                }
                case Q3_K -> {
                    k.d = halfAt(y, 108);
                    k.dmin = 0;
                    for (int j = 0; j < 16; j++) {
                        k.bestLs[j] = QuantMath.scaleQ3K(y, 96, j);
                    }
                }
                case Q4_K, Q5_K -> {
                    k.d = halfAt(y, 0);
                    k.dmin = halfAt(y, 2);
                    for (int j = 0; j < 8; j++) {
                        k.bestLs[j] = QuantMath.scaleK4(j, y, 4);
                        k.bestLm[j] = QuantMath.minK4(j, y, 4);
                    }
                }
                case Q6_K -> {
                    k.d = halfAt(y, 208);
                    k.dmin = 0;
                    for (int j = 0; j < 16; j++) {
                        k.bestLs[j] = y[192 + j];
                    }
                }
                default -> throw new AssertionError(f.type());
            }
        }
    }
}
