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
 * {@code d}/{@code dmin} and every sub-block's integer scale/min level) by ggml's search with an importance matrix
 * on the row's <em>current</em>, already compensated values, the error weighted by GPTQ's per-column cost
 * {@code 1 / U[j][j]^2}; when each later sub-block begins, its levels are chosen again ({@code d}/{@code dmin}
 * fixed, within {@link #RESUB} levels) for the values as compensated by then; then column by column the code is the
 * nearest for that fixed scale, and the rounding error {@code e = (w_j - q_j) / U[j][j]} is spread onto the columns
 * not yet quantized, {@code w_k -= e * U[j][k]}, with {@code U} the upper Cholesky factor of
 * {@code (H + damp * mean(diag H) * I)^-1} ({@link #factor}). The bytes are ggml's layouts, so the blocks decode with
 * ggml's dequantizer. Nothing here is ggml's code. The whole row runs in libgguf4j ({@code g4j_gptq_row}: the
 * search, the loop in {@code gptq_impl.h}, the packing); the Java loop below computes the same bytes and is used
 * where the native library is not loaded.
 */
public final class Gptq {
    /** Dampening of H, as a fraction of its mean diagonal (GPTQ's percdamp default is 0.01; 0.05 measured better on kjv7m). */
    public static final double DAMP = 0.05;
    /** Sub-block levels re-chosen when each sub-block begins: this many levels each side of the block's choice. */
    static final int RESUB = 2;

    private Gptq() {
    }

    /**
     * The factor of the identity ({@code U = I}), for {@link #codec}: no error is spread and every column weighs
     * the same, so each block gets ggml's scale search and then its sub-block levels re-chosen. The right
     * objective for a matrix whose rows are used as they are (token_embd: an embedding is a row, its error is the
     * row's own squared error), and what a tensor without calibration activations gets.
     */
    public static final float[] IDENTITY = new float[0];

    /** Whether GPTQ has a quantizer for {@code type}. */
    public static boolean covers(GgmlType type) {
        return BetterSearch.covers(type);
    }

    /**
     * The upper Cholesky factor {@code U} with {@code U^T U = (H + damp * mean(diag H) * I)^-1}, where {@code H}
     * is {@code gram} (symmetric, row-major; a column whose input was always zero gets diagonal 1), packed by rows
     * as {@link #packedIndex} (row {@code i} holds {@code U[i][i .. n)}). Null when H is zero or not positive
     * definite.
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
        float[] u = new float[Math.toIntExact(packedSize(n))];
        for (int i = 0; i < n; i++) {
            int o = (int) packedIndex(n, i, i);
            for (int j = i; j < n; j++) {
                u[o + j - i] = (float) li[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        return u;
    }

    /** Entries of an n x n upper triangle packed by rows. */
    public static long packedSize(int n) {
        return (long) n * (n + 1) / 2;
    }

    /** Where (i, j), i <= j, is in an n x n upper triangle packed by rows: row i holds columns i .. n-1. */
    public static long packedIndex(int n, int i, int j) {
        return (long) i * n - (long) i * (i - 1) / 2 + (j - i);
    }

    /** The n of an n x n upper triangle packed in {@code size} entries, or -1 if none has that size. */
    public static int packedOrder(long size) {
        long n = (long) Math.floor((Math.sqrt(8.0 * size + 1) - 1) / 2);
        for (long m = Math.max(0, n - 1); m <= n + 1; m++) {
            if (m * (m + 1) / 2 == size) {
                return (int) m;
            }
        }
        return -1;
    }

    /** In-place lower Cholesky factor of the symmetric {@code a} (upper triangle left as it was); false if not PD. */
    static boolean cholesky(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            int oj = j * n;
            double s = a[oj + j];
            for (int k = 0; k < j; k++) {
                s -= a[oj + k] * a[oj + k];
            }
            if (!(s > 0)) {
                return false;
            }
            double d = Math.sqrt(s);
            a[oj + j] = d;
            // rows i > j, four at a time: each row's sum runs over k in order, as one row at a time would (the
            // same bits), but the four chains are independent and share the loads of row j
            int i = j + 1;
            for (; i + 4 <= n; i += 4) {
                int o0 = i * n;
                int o1 = o0 + n;
                int o2 = o1 + n;
                int o3 = o2 + n;
                double t0 = a[o0 + j];
                double t1 = a[o1 + j];
                double t2 = a[o2 + j];
                double t3 = a[o3 + j];
                for (int k = 0; k < j; k++) {
                    double v = a[oj + k];
                    t0 -= a[o0 + k] * v;
                    t1 -= a[o1 + k] * v;
                    t2 -= a[o2 + k] * v;
                    t3 -= a[o3 + k] * v;
                }
                a[o0 + j] = t0 / d;
                a[o1 + j] = t1 / d;
                a[o2 + j] = t2 / d;
                a[o3 + j] = t3 / d;
            }
            for (; i < n; i++) {
                int oi = i * n;
                double t = a[oi + j];
                for (int k = 0; k < j; k++) {
                    t -= a[oi + k] * a[oj + k];
                }
                a[oi + j] = t / d;
            }
        }
        return true;
    }

    /** The inverse of the lower triangle of {@code l} (row-major), as a new lower-triangular matrix. */
    static double[] invertLower(double[] l, int n) {
        // row i of X = L^-1: (e_i - sum_{k<i} L[i][k] * X[k]) / L[i][i], X[k] nonzero in columns 0..k; the rows k
        // are taken four at a time where all four reach (each element still subtracts them in order of k)
        double[] x = new double[n * n];
        for (int i = 0; i < n; i++) {
            int oi = i * n;
            x[oi + i] = 1;
            int k = 0;
            for (; k + 4 <= i; k += 4) {
                double c0 = l[oi + k];
                double c1 = l[oi + k + 1];
                double c2 = l[oi + k + 2];
                double c3 = l[oi + k + 3];
                int o0 = k * n;
                int o1 = o0 + n;
                int o2 = o1 + n;
                int o3 = o2 + n;
                // columns 0..k: all four rows; then k+1 (rows k+1..k+3), k+2 (k+2, k+3), k+3 (k+3)
                for (int j = 0; j <= k; j++) {
                    double v = x[oi + j];
                    if (c0 != 0) {
                        v -= c0 * x[o0 + j];
                    }
                    if (c1 != 0) {
                        v -= c1 * x[o1 + j];
                    }
                    if (c2 != 0) {
                        v -= c2 * x[o2 + j];
                    }
                    if (c3 != 0) {
                        v -= c3 * x[o3 + j];
                    }
                    x[oi + j] = v;
                }
                for (int j = k + 1; j <= k + 3; j++) {
                    double v = x[oi + j];
                    if (c1 != 0 && j <= k + 1) {
                        v -= c1 * x[o1 + j];
                    }
                    if (c2 != 0 && j <= k + 2) {
                        v -= c2 * x[o2 + j];
                    }
                    if (c3 != 0) {
                        v -= c3 * x[o3 + j];
                    }
                    x[oi + j] = v;
                }
            }
            for (; k < i; k++) {
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
     * ({@link #factor} of the weight's Gram matrix, packed); decoding is ggml's.
     */
    public static TypeCodec codec(GgmlType type, float[] u, int n) {
        return codec(type, u, n, true);
    }

    /** As {@link #codec(GgmlType, float[], int)}; {@code nativeLoop} false: the column loop in Java (same bytes). */
    static TypeCodec codec(GgmlType type, float[] u, int n, boolean nativeLoop) {
        return new GptqCodec((BetterSearch.SearchCodec) BetterSearch.codec(type), u, n,
                nativeLoop && dev.gguf4j.backend.CpuBackend.isAvailable());
    }

    /** One thread's native buffers for {@code g4j_gptq_row}; null where the native library is not loaded. */
    private static final ThreadLocal<NativeBlock> NATIVE = ThreadLocal.withInitial(
            () -> dev.gguf4j.backend.CpuBackend.isAvailable() ? new NativeBlock() : null);

    private static final class NativeBlock {
        final dev.gguf4j.internal.NativeCpu lib = dev.gguf4j.backend.CpuBackend.get().library();
        final int isa = lib.isa();
        final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofAuto();
        MemorySegment row = arena.allocate(0);
        MemorySegment out = arena.allocate(0);

        MemorySegment row(int n) {
            if (row.byteSize() < n * 4L) {
                row = arena.allocate(n * 4L, 64);
            }
            return row;
        }

        MemorySegment out(long bytes) {
            if (out.byteSize() < bytes) {
                out = arena.allocate(bytes, 64);
            }
            return out.asSlice(0, bytes);
        }
    }

    static final class GptqCodec implements TypeCodec {
        final BetterSearch.SearchCodec search;
        final BlockCodec chooser;
        final BetterSearch.Format f;
        final float[] u; // packed by rows
        final int[] rowStart; // where U[j][j] is in u
        final int n;
        final float[] obs; // 1 / U[j][j]^2

        /** u in native memory for g4j_gptq_block (NULL for {@link #IDENTITY}), or null: the Java loop. */
        final MemorySegment nativeU;
        /** u is {@link #IDENTITY}: nothing to spread. */
        final boolean identity;

        GptqCodec(BetterSearch.SearchCodec search, float[] u, int n, boolean nativeLoop) {
            this.search = search;
            this.chooser = search.ref; // ggml's scale search: as good here as BetterSearch's, and faster
            this.f = search.f;
            this.u = u;
            this.n = n;
            identity = u == IDENTITY;
            if (!identity && u.length != packedSize(n)) {
                throw new IllegalArgumentException("GPTQ factor of " + u.length + " entries is not for rows of " + n);
            }
            obs = new float[n];
            rowStart = new int[n];
            for (int j = 0; j < n; j++) {
                rowStart[j] = (int) packedIndex(n, j, j);
                float d = identity ? 1 : u[rowStart[j]];
                obs[j] = 1 / (d * d);
            }
            if (nativeLoop && identity) {
                nativeU = MemorySegment.NULL;
            } else if (nativeLoop) {
                nativeU = java.lang.foreign.Arena.ofAuto().allocate(u.length * 4L, 64);
                MemorySegment.copy(u, 0, nativeU, ValueLayout.JAVA_FLOAT, 0, u.length);
            } else {
                nativeU = null;
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
            if (nativeU != null) { // the whole row in libgguf4j
                long bytes = type().bytesFor(n);
                NativeBlock nb = NATIVE.get();
                MemorySegment w = nb.row(n);
                MemorySegment.copy(src, srcOffset, w, ValueLayout.JAVA_FLOAT, 0, n);
                MemorySegment out = dst.isNative() ? dst.asSlice(dstOffset, bytes) : nb.out(bytes);
                nb.lib.gptqRow(nb.isa, type(), n, nativeU, w, f.sub(), f.codeLo(), f.codeHi(), f.levelLo(),
                        f.levelHi(), f.hasMin() ? f.minHi() : 0, RESUB, out);
                if (!dst.isNative()) {
                    MemorySegment.copy(out, 0, dst, dstOffset, bytes);
                }
                return;
            }
            byte[] out = new byte[(int) type().bytesFor(n)];
            quantizeRow(src, srcOffset, importance, out);
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dstOffset, out.length);
        }

        /** GPTQ on one row {@code x[xo .. xo + n)} into {@code out} (the row's blocks). */
        void quantizeRow(float[] x, int xo, float[] importance, byte[] out) {
            int QK = BetterSearch.QK_K;
            float[] w = new float[n];
            System.arraycopy(x, xo, w, 0, n);
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
                    cur[i] = w[base + i];
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
                    float wv = w[col];
                    int q = sj != 0 ? clamp(nearestInt((wv + mj) * (1 / sj)), f.codeLo(), f.codeHi()) : 0;
                    k.q[i] = q;
                    if (!identity) {
                        float deq = sj * q - mj;
                        int ro = rowStart[col] - col; // u[ro + c] = U[col][c]
                        float e = (wv - deq) / u[ro + col];
                        spread(w, col + 1, n, e, u, ro);
                    }
                }
                search.packCodes(k);
                System.arraycopy(k.cand, 0, out, b * chooser.blockBytes, chooser.blockBytes);
            }
        }

        /** w[c] -= e * u[uo + c] for c in [from, to): a loop of its own, so that it is compiled to vector code. */
        private static void spread(float[] w, int from, int to, float e, float[] u, int uo) {
            for (int c = from; c < to; c++) {
                w[c] -= e * u[uo + c];
            }
        }

        /** Re-chooses sub-block {@code j}'s levels (d, dmin fixed) for the current values starting at {@code col}. */
        private void resub(float[] w, int col, int j, BetterSearch.Work k, float[] S, float[] M) {
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
                        float wv = w[col + i];
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
