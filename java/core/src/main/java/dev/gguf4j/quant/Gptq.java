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
 * {@code d}/{@code dmin} and every sub-block's integer scale/min level, by ggml's search with an importance
 * matrix (libgguf4j's {@code g4j_quantize_rows}, byte-identical to {@link Codecs}' Java one) on the row's
 * <em>current</em>, already
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

    /**
     * One thread's buffers for ggml's block search in libgguf4j (the per-super-block scale choice, on 256
     * values with their weights); null where the native library is not loaded (the Java search gives the same
     * bytes, slower).
     */
    private static final ThreadLocal<NativeBlock> NATIVE = ThreadLocal.withInitial(
            () -> dev.gguf4j.backend.CpuBackend.isAvailable() ? new NativeBlock() : null);

    private static final class NativeBlock {
        final dev.gguf4j.internal.NativeCpu lib = dev.gguf4j.backend.CpuBackend.get().library();
        final int isa = lib.isa();
        final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofAuto();
        final MemorySegment x = arena.allocate(BetterSearch.QK_K * 4L, 64);
        final MemorySegment w = arena.allocate(BetterSearch.QK_K * 4L, 64);
        final MemorySegment y = arena.allocate(256, 64);
        final MemorySegment ls = arena.allocate(16 * 4L, 64);
        final MemorySegment lm = arena.allocate(16 * 4L, 64);
        final MemorySegment q = arena.allocate(BetterSearch.QK_K * 4L, 64);
        MemorySegment row = arena.allocate(0);

        MemorySegment row(int n) {
            if (row.byteSize() < n * 4L) {
                row = arena.allocate(n * 4L, 64);
            }
            return row;
        }

        void encode(GgmlType type, float[] values, float[] weights, byte[] out) {
            MemorySegment.copy(values, 0, x, ValueLayout.JAVA_FLOAT, 0, BetterSearch.QK_K);
            MemorySegment.copy(weights, 0, w, ValueLayout.JAVA_FLOAT, 0, BetterSearch.QK_K);
            lib.quantizeRows(isa, GgmlType.F32, x, BetterSearch.QK_K * 4L, type, y, 1, BetterSearch.QK_K, w);
            MemorySegment.copy(y, ValueLayout.JAVA_BYTE, 0, out, 0, out.length);
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
            byte[] out = new byte[(int) type().bytesFor(n)];
            quantizeRow(src, srcOffset, importance, out);
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dstOffset, out.length);
        }

        /** GPTQ on one row {@code x[xo .. xo + n)} into {@code out} (the row's blocks). */
        void quantizeRow(float[] x, int xo, float[] importance, byte[] out) {
            if (nativeU != null) {
                quantizeRowNative(x, xo, out);
                return;
            }
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
                NativeBlock nb = NATIVE.get();
                if (nb != null) {
                    nb.encode(type(), cur, qw, block);
                } else {
                    chooser.encodeRow(cur, 0, QK, qw, block, s);
                }
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

        /** {@link #quantizeRow} with the column loop of each block in libgguf4j ({@code g4j_gptq_block}). */
        private void quantizeRowNative(float[] x, int xo, byte[] out) {
            int QK = BetterSearch.QK_K;
            NativeBlock nb = NATIVE.get();
            MemorySegment w = nb.row(n);
            MemorySegment.copy(x, xo, w, ValueLayout.JAVA_FLOAT, 0, n);
            float[] cur = new float[QK];
            float[] qw = new float[QK];
            byte[] block = new byte[chooser.blockBytes];
            BetterSearch.Work k = new BetterSearch.Work();
            int ns = f.subBlocks();
            for (int b = 0; b < n / QK; b++) {
                int base = b * QK;
                MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, base * 4L, cur, 0, QK);
                System.arraycopy(obs, base, qw, 0, QK);
                nb.encode(type(), cur, qw, block);
                levels(block, k);
                MemorySegment.copy(k.bestLs, 0, nb.ls, ValueLayout.JAVA_INT, 0, ns);
                MemorySegment.copy(k.bestLm, 0, nb.lm, ValueLayout.JAVA_INT, 0, ns);
                nb.lib.gptqBlock(nb.isa, n, base, nativeU, w, f.sub(), f.codeLo(), f.codeHi(), f.levelLo(),
                        f.levelHi(), f.hasMin() ? f.minHi() : 0, RESUB, k.d, f.hasMin() ? k.dmin : 0, nb.ls, nb.lm,
                        nb.q);
                MemorySegment.copy(nb.ls, ValueLayout.JAVA_INT, 0, k.bestLs, 0, ns);
                MemorySegment.copy(nb.lm, ValueLayout.JAVA_INT, 0, k.bestLm, 0, ns);
                MemorySegment.copy(nb.q, ValueLayout.JAVA_INT, 0, k.q, 0, QK);
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
