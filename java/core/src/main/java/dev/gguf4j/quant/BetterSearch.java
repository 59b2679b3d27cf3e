package dev.gguf4j.quant;

import static dev.gguf4j.quant.GgmlFloats.fromHalf;
import static dev.gguf4j.quant.GgmlFloats.nearestInt;
import static dev.gguf4j.quant.GgmlFloats.putHalf;
import static dev.gguf4j.quant.GgmlFloats.toHalf;
import static dev.gguf4j.quant.QuantMath.clamp;

import dev.gguf4j.types.GgmlType;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * An opt-in quantizer that writes the <em>same</em> k-quant block layouts as ggml (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)
 * but chooses their scales, mins and codes by a wider search that minimises the weighted squared error of the
 * dequantized block, so that the files still load in every ggml-based program. It is not ggml's reference
 * search and its bytes differ from llama-quantize's by design; {@link Codecs} stays the reference.
 *
 * <p>Per super-block of 256:
 * <ol>
 *   <li>each sub-block's continuous scale (and min) is searched over {@code steps + 1} candidate inverse scales
 *       spanning nmax +- {@link #RANGE} (13 to 25 per type, both signs for Q6_K; ggml tries 16 to 37 over about
 *       nmax +- 1), each followed by the closed-form weighted least-squares scale and min for its codes, and the
 *       best is iterated codes &lt;-&gt; scale (at most {@link #FIXED_POINT} times);</li>
 *   <li>the super-block scale {@code d} (and {@code dmin}) is searched jointly with the sub-blocks' integer
 *       6-bit (4-bit for Q2_K, 8-bit for Q6_K) scale and min levels: for each start, every sub-block picks,
 *       among the levels next to its target, the (scale, min) pair whose <em>dequantized</em> values give the
 *       least error with codes re-rounded for those values; then {@code d}/{@code dmin} are refitted by least
 *       squares for the chosen levels and codes, rounded to fp16, and the levels chosen again, a few times;</li>
 *   <li>the block ggml's reference quantizer gives is computed as well, and whichever of the two dequantizes
 *       with the smaller weighted error is kept, so no block is ever worse than the reference's.</li>
 * </ol>
 * The error weights are {@link #weights}: 1 for Q4_K, Q5_K and Q6_K (plain squared error) and ggml's
 * {@code sqrt(sigma2 + x^2)} for Q2_K and Q3_K (each gave the lower KL divergence on the kjv7m model), times the
 * importance matrix's column weight when there is one. Everything is plain Java; nothing here is ggml's code.
 */
public final class BetterSearch {
    /** The candidate inverse scales of step 1 span nmax +- RANGE (ggml's: about nmax - 1 .. nmax + 1). */
    static final float RANGE = 2.0f;
    /** At most this many codes <-> scale iterations in step 1 (more changed nothing on kjv7m). */
    static final int FIXED_POINT = 3;
    /** At most this many least-squares refits of d/dmin per start in step 2. */
    static final int REFITS = 4;
    /** Starts of step 2: d (and dmin) = the largest target scale (min) over the top level, over these. */
    static final float[] STARTS = {1.0f, 0.96f, 0.92f};

    private static final Map<GgmlType, SearchCodec> CODECS = new EnumMap<>(GgmlType.class);

    static {
        for (GgmlType t : new GgmlType[] {GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            CODECS.put(t, new SearchCodec((BlockCodec) Codecs.of(t), Format.of(t)));
        }
    }

    private BetterSearch() {
    }

    /** Whether the search has its own quantizer for {@code type} (otherwise {@link #codec} is the reference one). */
    public static boolean covers(GgmlType type) {
        return CODECS.containsKey(type);
    }

    /**
     * The codec that quantizes {@code type} with this search (dequantization is ggml's); for a type it does not
     * cover, the reference codec of {@link Codecs#of}.
     */
    public static TypeCodec codec(GgmlType type) {
        SearchCodec c = CODECS.get(type);
        return c != null ? c : Codecs.of(type);
    }

    // ------------------------------------------------------------------------------------------------ formats

    /** The facts of one k-quant layout the search needs. */
    record Format(GgmlType type, int sub, int codeLo, int codeHi, boolean hasMin, int levelLo, int levelHi,
            int minHi, int steps, int sides, int starts, int levelRadius, boolean plainMse) {
        // steps, sides, starts: the search's effort (tuned on kjv7m: more gained < 0.2% error);
        // levelRadius: levels tried each side of the nearest one in step 2;
        // plainMse: error weights 1 (* imatrix) rather than sqrt(sigma2 + x^2) (* imatrix), which gave the lower
        // KL divergence on kjv7m for 4 bits and up, the higher for Q2_K and Q3_K
        static Format of(GgmlType t) {
            return switch (t) {
                // x = d*sc*q - dmin*m, sc and m 4-bit, q 0..3, 16 sub-blocks of 16
                case Q2_K -> new Format(t, 16, 0, 3, true, 0, 15, 15, 16, 1, 1, 2, false);
                // x = d*sc*q, sc 6-bit signed -32..31, q -4..3
                case Q3_K -> new Format(t, 16, -4, 3, false, -32, 31, 0, 16, 1, 1, 1, false);
                // x = d*sc*q - dmin*m, sc and m 6-bit, 8 sub-blocks of 32
                case Q4_K -> new Format(t, 32, 0, 15, true, 0, 63, 63, 24, 1, 1, 1, true);
                case Q5_K -> new Format(t, 32, 0, 31, true, 0, 63, 63, 24, 1, 1, 1, true);
                // x = d*sc*q, sc int8, q -32..31
                case Q6_K -> new Format(t, 16, -32, 31, false, -128, 127, 0, 12, 2, 1, 1, true);
                default -> throw new IllegalArgumentException(t.ggmlName());
            };
        }

        int subBlocks() {
            return QK_K / sub;
        }
    }

    static final int QK_K = 256;

    /** Per-thread work arrays. */
    static final class Work {
        private static final ThreadLocal<Work> LOCAL = ThreadLocal.withInitial(Work::new);
        final float[] w = new float[QK_K];
        final float[] dec = new float[QK_K];
        final float[] target = new float[QK_K / 16];
        final float[] targetMin = new float[QK_K / 16];
        final int[] ls = new int[QK_K / 16];
        final int[] lm = new int[QK_K / 16];
        final int[] bestLs = new int[QK_K / 16];
        final int[] bestLm = new int[QK_K / 16];
        final int[] q = new int[QK_K];
        final byte[] cand = new byte[256];
        final byte[] levels = new byte[QK_K];
        /** The super-block scale and min scale step 2 chose. */
        float d;
        float dmin;

        static Work get() {
            return LOCAL.get();
        }
    }

    /**
     * The error weights of a super-block: {@code qw * sqrt(sigma2 + x^2)} with importance weights (ggml's
     * {@code _impl} weighting, sigma2 = 2 * mean square of the super-block), {@code sqrt(sigma2 + x^2)} without.
     */
    static void weights(Format f, float[] x, int xo, float[] qw, int qwo, float[] w) {
        if (f.plainMse) {
            for (int i = 0; i < QK_K; i++) {
                w[i] = qw != null ? qw[qwo + i] : 1;
            }
            return;
        }
        float sumX2 = 0;
        for (int i = 0; i < QK_K; i++) {
            sumX2 += x[xo + i] * x[xo + i];
        }
        float sigma2 = 2 * sumX2 / QK_K;
        for (int i = 0; i < QK_K; i++) {
            float xi = x[xo + i];
            float m = (float) Math.sqrt(sigma2 + xi * xi);
            w[i] = qw != null ? qw[qwo + i] * m : m;
        }
    }

    /** Weighted squared error of the decoded block {@code dec} against {@code x}. */
    static double error(float[] x, int xo, float[] dec, float[] w) {
        double e = 0;
        for (int i = 0; i < QK_K; i++) {
            double d = dec[i] - x[xo + i];
            e += w[i] * d * d;
        }
        return e;
    }

    // ------------------------------------------------------------------------------------------------ the codec

    static final class SearchCodec extends BlockCodec {
        final BlockCodec ref;
        final Format f;

        SearchCodec(BlockCodec ref, Format f) {
            super(ref.type);
            this.ref = ref;
            this.f = f;
        }

        @Override
        void decodeBlock(byte[] q, int qo, float[] y, int yo) {
            ref.decodeBlock(q, qo, y, yo);
        }

        @Override
        void encodeRow(float[] x, int xo, int n, float[] qw, byte[] y, Scratch s) {
            ref.encodeRow(x, xo, n, qw, y, s);
            Work k = Work.get();
            for (int b = 0; b < n / QK_K; b++) {
                int xb = xo + b * QK_K;
                int yb = b * blockBytes;
                weights(f, x, xb, qw, b * QK_K, k.w);
                ref.decodeBlock(y, yb, k.dec, 0);
                double refErr = error(x, xb, k.dec, k.w);
                if (!Double.isFinite(refErr) || refErr == 0) {
                    continue; // the reference is exact (or the input is odd): keep ggml's bytes
                }
                if (!searchBlock(x, xb, k)) {
                    continue;
                }
                ref.decodeBlock(k.cand, 0, k.dec, 0);
                double err = error(x, xb, k.dec, k.w);
                if (err < refErr) {
                    System.arraycopy(k.cand, 0, y, yb, blockBytes);
                }
            }
        }

        /** Searches one super-block into {@code k.cand}; false if it found nothing to offer. */
        boolean searchBlock(float[] x, int xo, Work k) {
            int ns = f.subBlocks();
            for (int j = 0; j < ns; j++) {
                if (f.hasMin) {
                    fitAsym(x, xo + j * f.sub, k.w, j * f.sub, f.sub, f.codeHi, k, j);
                } else {
                    fitSym(x, xo + j * f.sub, k.w, j * f.sub, f.sub, f.codeLo, f.codeHi, k, j);
                }
            }
            boolean ok = f.hasMin ? chooseLevelsAsym(x, xo, k) : chooseLevelsSym(x, xo, k);
            if (!ok) {
                return false;
            }
            pack(x, xo, k);
            return true;
        }

        // ---- step 1: continuous per-sub-block fits

        /** x ~ s*q - m, q in [0, nmax], m >= 0: best (s, m) into k.target[j], k.targetMin[j]. */
        void fitAsym(float[] x, int xo, float[] w, int wo, int n, int nmax, Work k, int j) {
            int steps = f.steps;
            float min = x[xo];
            float max = x[xo];
            float sw = 0;
            float sx = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                min = Math.min(min, xi);
                max = Math.max(max, xi);
                sw += w[wo + i];
                sx += w[wo + i] * xi;
            }
            if (min > 0) {
                min = 0;
            }
            if (max == min) {
                k.target[j] = 0;
                k.targetMin[j] = -min;
                return;
            }
            double sx2 = 0;
            for (int i = 0; i < n; i++) {
                sx2 += (double) w[wo + i] * x[xo + i] * x[xo + i];
            }
            double bestErr = Double.POSITIVE_INFINITY;
            float bestS = (max - min) / nmax;
            float bestC = min;
            for (int is = 0; is <= steps; is++) {
                float iscale = (nmax - RANGE + 2 * RANGE * is / steps) / (max - min);
                if (iscale <= 0) {
                    continue;
                }
                float sq = 0;
                float sq2 = 0;
                float sxq = 0;
                for (int i = 0; i < n; i++) {
                    float xi = x[xo + i];
                    int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
                    float wi = w[wo + i];
                    sq += wi * l;
                    sq2 += wi * l * l;
                    sxq += wi * l * xi;
                }
                double[] sc = lsq(sw, sx, sq, sq2, sxq);
                if (sc == null) {
                    continue;
                }
                // the error of these codes with their least-squares (s, c): the residual is orthogonal to them
                double e = sx2 - sc[0] * sxq - sc[1] * sx;
                if (e < bestErr) {
                    bestErr = e;
                    bestS = (float) sc[0];
                    bestC = (float) sc[1];
                }
            }
            if (bestS > 0) {
                bestErr = asymErr(x, xo, w, wo, n, nmax, bestS, bestC);
            }
            // codes <-> (scale, min) to a fixed point
            for (int it = 0; it < FIXED_POINT && bestS > 0; it++) {
                float inv = 1 / bestS;
                float sq = 0;
                float sq2 = 0;
                float sxq = 0;
                for (int i = 0; i < n; i++) {
                    float xi = x[xo + i];
                    int l = clamp(nearestInt((xi - bestC) * inv), 0, nmax);
                    float wi = w[wo + i];
                    sq += wi * l;
                    sq2 += wi * l * l;
                    sxq += wi * l * xi;
                }
                double[] sc = lsq(sw, sx, sq, sq2, sxq);
                if (sc == null) {
                    break;
                }
                double e = asymErr(x, xo, w, wo, n, nmax, (float) sc[0], (float) sc[1]);
                if (!(e < bestErr)) {
                    break;
                }
                bestErr = e;
                bestS = (float) sc[0];
                bestC = (float) sc[1];
            }
            k.target[j] = bestS;
            k.targetMin[j] = -bestC;
        }

        /** Weighted least squares x ~ s*q + c with c <= 0; null when degenerate. */
        private static double[] lsq(float sw, float sx, float sq, float sq2, float sxq) {
            double det = (double) sw * sq2 - (double) sq * sq;
            if (det <= 0) {
                return null;
            }
            double s = ((double) sw * sxq - (double) sx * sq) / det;
            double c = ((double) sq2 * sx - (double) sq * sxq) / det;
            if (c > 0) {
                c = 0;
                s = sq2 > 0 ? sxq / (double) sq2 : 0;
            }
            if (!(s > 0)) {
                return null;
            }
            return new double[] {s, c};
        }

        /** Error of x ~ s*q + c with q rounded for (s, c). */
        private static double asymErr(float[] x, int xo, float[] w, int wo, int n, int nmax, float s, float c) {
            float inv = 1 / s;
            double e = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                int l = clamp(nearestInt((xi - c) * inv), 0, nmax);
                float d = s * l + c - xi;
                e += w[wo + i] * d * d;
            }
            return e;
        }

        /** x ~ s*q, q in [lo, hi], s signed: best s into k.target[j]. */
        void fitSym(float[] x, int xo, float[] w, int wo, int n, int lo, int hi, Work k, int j) {
            int steps = f.steps;
            float amax = 0;
            float max = 0;
            for (int i = 0; i < n; i++) {
                float ax = Math.abs(x[xo + i]);
                if (ax > amax) {
                    amax = ax;
                    max = x[xo + i];
                }
            }
            if (amax < QuantMath.GROUP_MAX_EPS) {
                k.target[j] = 0;
                return;
            }
            double sx2 = 0;
            for (int i = 0; i < n; i++) {
                sx2 += (double) w[wo + i] * x[xo + i] * x[xo + i];
            }
            double bestErr = Double.POSITIVE_INFINITY;
            float bestS = 0;
            for (int side = 0; side < f.sides; side++) {
                // the largest element on the long side (lo, as ggml) or on the short side (hi)
                float nmax = side == 0 ? -lo : hi;
                float sign = side == 0 ? -1 : 1;
                for (int is = 0; is <= steps; is++) {
                    float iscale = sign * (nmax - RANGE + 2 * RANGE * is / steps) / max;
                    float sxq = 0;
                    float sq2 = 0;
                    for (int i = 0; i < n; i++) {
                        float xi = x[xo + i];
                        int l = clamp(nearestInt(iscale * xi), lo, hi);
                        float wi = w[wo + i];
                        sxq += wi * xi * l;
                        sq2 += wi * l * l;
                    }
                    if (sq2 <= 0) {
                        continue;
                    }
                    float s = sxq / sq2;
                    if (s == 0) {
                        continue;
                    }
                    double e = sx2 - (double) sxq * sxq / sq2;
                    if (e < bestErr) {
                        bestErr = e;
                        bestS = s;
                    }
                }
            }
            if (bestS != 0) {
                bestErr = symErr(x, xo, w, wo, n, lo, hi, bestS);
            }
            for (int it = 0; it < FIXED_POINT && bestS != 0; it++) {
                float inv = 1 / bestS;
                float sxq = 0;
                float sq2 = 0;
                for (int i = 0; i < n; i++) {
                    float xi = x[xo + i];
                    int l = clamp(nearestInt(xi * inv), lo, hi);
                    float wi = w[wo + i];
                    sxq += wi * xi * l;
                    sq2 += wi * l * l;
                }
                if (sq2 <= 0) {
                    break;
                }
                float s = sxq / sq2;
                double e = s != 0 ? symErr(x, xo, w, wo, n, lo, hi, s) : Double.POSITIVE_INFINITY;
                if (!(e < bestErr)) {
                    break;
                }
                bestErr = e;
                bestS = s;
            }
            k.target[j] = bestS;
        }

        private static double symErr(float[] x, int xo, float[] w, int wo, int n, int lo, int hi, float s) {
            float inv = 1 / s;
            double e = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                int l = clamp(nearestInt(xi * inv), lo, hi);
                float d = s * l - xi;
                e += w[wo + i] * d * d;
            }
            return e;
        }

        // ---- step 2: super-block scale(s) and integer levels, jointly

        /** Starts for d (and dmin) as fractions of the largest target over the top level. */
        private static float half(double v) {
            return fromHalf(toHalf((float) v));
        }

        /** Error of sub-block j with scale S = d*ls, min M = dmin*lm and codes rounded for them. */
        private double subErrAsym(float[] x, int xo, float[] w, int j, float S, float M) {
            int n = f.sub;
            int o = j * n;
            double e = 0;
            if (S == 0) {
                for (int i = 0; i < n; i++) {
                    float d = -M - x[xo + o + i];
                    e += w[o + i] * d * d;
                }
                return e;
            }
            float inv = 1 / S;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + o + i];
                int l = clamp(nearestInt((xi + M) * inv), 0, f.codeHi);
                float d = S * l - M - xi;
                e += w[o + i] * d * d;
            }
            return e;
        }

        /** For (d, dmin): each sub-block's best levels next to its targets into k.ls/k.lm; returns the error. */
        private double levelsAsym(float[] x, int xo, Work k, float d, float dmin) {
            double total = 0;
            int r = f.levelRadius;
            for (int j = 0; j < f.subBlocks(); j++) {
                float ts = d > 0 ? k.target[j] / d : 0;
                float tm = dmin > 0 ? k.targetMin[j] / dmin : 0;
                int rs = nearestInt(ts);
                int rm = nearestInt(tm);
                double best = Double.POSITIVE_INFINITY;
                int bs = 0;
                int bm = 0;
                for (int ls = Math.max(f.levelLo, rs - r); ls <= Math.min(f.levelHi, rs + r); ls++) {
                    for (int lm = Math.max(0, rm - r); lm <= Math.min(f.minHi, rm + r); lm++) {
                        double e = subErrAsym(x, xo, k.w, j, d * ls, dmin * lm);
                        if (e < best) {
                            best = e;
                            bs = ls;
                            bm = lm;
                        }
                    }
                }
                if (best == Double.POSITIVE_INFINITY) { // targets out of range: clamp
                    bs = clamp(rs, f.levelLo, f.levelHi);
                    bm = clamp(rm, 0, f.minHi);
                    best = subErrAsym(x, xo, k.w, j, d * bs, dmin * bm);
                }
                k.ls[j] = bs;
                k.lm[j] = bm;
                total += best;
            }
            return total;
        }

        boolean chooseLevelsAsym(float[] x, int xo, Work k) {
            int ns = f.subBlocks();
            float maxS = 0;
            float maxM = 0;
            for (int j = 0; j < ns; j++) {
                maxS = Math.max(maxS, k.target[j]);
                maxM = Math.max(maxM, k.targetMin[j]);
            }
            if (!(maxS > 0)) {
                return false;
            }
            double bestErr = Double.POSITIVE_INFINITY;
            float bestD = 0;
            float bestDmin = 0;
            for (int st = 0; st < f.starts; st++) {
                float start = STARTS[st];
                float d = half(maxS / (f.levelHi * start));
                float dmin = maxM > 0 ? half(maxM / (f.minHi * start)) : 0;
                for (int it = 0; it <= REFITS; it++) {
                    if (!(d > 0) || !Float.isFinite(d) || !Float.isFinite(dmin) || dmin < 0) {
                        break;
                    }
                    double e = levelsAsym(x, xo, k, d, dmin);
                    if (e < bestErr) {
                        bestErr = e;
                        bestD = d;
                        bestDmin = dmin;
                        System.arraycopy(k.ls, 0, k.bestLs, 0, ns);
                        System.arraycopy(k.lm, 0, k.bestLm, 0, ns);
                    } else if (it > 0) {
                        break;
                    }
                    // least-squares d, dmin for these levels and codes: x ~ d*(ls*q) - dmin*lm
                    double saa = 0;
                    double sab = 0;
                    double sbb = 0;
                    double sax = 0;
                    double sbx = 0;
                    for (int j = 0; j < ns; j++) {
                        float S = d * k.ls[j];
                        float M = dmin * k.lm[j];
                        float inv = S != 0 ? 1 / S : 0;
                        for (int i = 0; i < f.sub; i++) {
                            int o = j * f.sub + i;
                            float xi = x[xo + o];
                            int l = S != 0 ? clamp(nearestInt((xi + M) * inv), 0, f.codeHi) : 0;
                            double a = (double) k.ls[j] * l;
                            double b = k.lm[j];
                            double wi = k.w[o];
                            saa += wi * a * a;
                            sab += wi * a * b;
                            sbb += wi * b * b;
                            sax += wi * a * xi;
                            sbx += wi * b * xi;
                        }
                    }
                    double det = saa * sbb - sab * sab;
                    float nd;
                    float ndmin;
                    if (sbb > 0 && det > 1e-12 * saa * sbb) {
                        nd = half((sax * sbb - sab * sbx) / det);
                        ndmin = half((sax * sab - saa * sbx) / det);
                    } else if (saa > 0) {
                        nd = half(sax / saa);
                        ndmin = dmin;
                    } else {
                        break;
                    }
                    if (nd == d && ndmin == dmin) {
                        break;
                    }
                    d = nd;
                    dmin = ndmin;
                }
            }
            if (bestErr == Double.POSITIVE_INFINITY) {
                return false;
            }
            k.d = bestD;
            k.dmin = bestDmin;
            return true;
        }

        private double subErrSym(float[] x, int xo, float[] w, int j, float S) {
            int n = f.sub;
            int o = j * n;
            double e = 0;
            if (S == 0) {
                for (int i = 0; i < n; i++) {
                    float d = x[xo + o + i];
                    e += w[o + i] * d * d;
                }
                return e;
            }
            float inv = 1 / S;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + o + i];
                int l = clamp(nearestInt(xi * inv), f.codeLo, f.codeHi);
                float d = S * l - xi;
                e += w[o + i] * d * d;
            }
            return e;
        }

        private double levelsSym(float[] x, int xo, Work k, float d) {
            double total = 0;
            for (int j = 0; j < f.subBlocks(); j++) {
                int rs = nearestInt(k.target[j] / d);
                double best = Double.POSITIVE_INFINITY;
                int bs = 0;
                int r = f.levelRadius;
                for (int ls = Math.max(f.levelLo, rs - r); ls <= Math.min(f.levelHi, rs + r); ls++) {
                    double e = subErrSym(x, xo, k.w, j, d * ls);
                    if (e < best) {
                        best = e;
                        bs = ls;
                    }
                }
                if (best == Double.POSITIVE_INFINITY) {
                    bs = clamp(rs, f.levelLo, f.levelHi);
                    best = subErrSym(x, xo, k.w, j, d * bs);
                }
                k.ls[j] = bs;
                total += best;
            }
            return total;
        }

        boolean chooseLevelsSym(float[] x, int xo, Work k) {
            int ns = f.subBlocks();
            float amax = 0;
            float max = 0;
            for (int j = 0; j < ns; j++) {
                if (Math.abs(k.target[j]) > amax) {
                    amax = Math.abs(k.target[j]);
                    max = k.target[j];
                }
            }
            if (!(amax > 0)) {
                return false;
            }
            double bestErr = Double.POSITIVE_INFINITY;
            float bestD = 0;
            {
                float top = f.levelLo; // the largest scale at the long end of the levels, as ggml
                for (int st = 0; st < f.starts; st++) {
                float start = STARTS[st];
                    float d = half(max / (top * start));
                    for (int it = 0; it <= REFITS; it++) {
                        if (d == 0 || !Float.isFinite(d)) {
                            break;
                        }
                        double e = levelsSym(x, xo, k, d);
                        if (e < bestErr) {
                            bestErr = e;
                            bestD = d;
                            System.arraycopy(k.ls, 0, k.bestLs, 0, ns);
                        } else if (it > 0) {
                            break;
                        }
                        double saa = 0;
                        double sax = 0;
                        for (int j = 0; j < ns; j++) {
                            float S = d * k.ls[j];
                            if (S == 0) {
                                continue;
                            }
                            float inv = 1 / S;
                            for (int i = 0; i < f.sub; i++) {
                                int o = j * f.sub + i;
                                float xi = x[xo + o];
                                int l = clamp(nearestInt(xi * inv), f.codeLo, f.codeHi);
                                double a = (double) k.ls[j] * l;
                                saa += k.w[o] * a * a;
                                sax += k.w[o] * a * xi;
                            }
                        }
                        if (!(saa > 0)) {
                            break;
                        }
                        float nd = half(sax / saa);
                        if (nd == d) {
                            break;
                        }
                        d = nd;
                    }
                }
            }
            if (bestErr == Double.POSITIVE_INFINITY) {
                return false;
            }
            k.d = bestD;
            k.dmin = 0;
            return true;
        }

        // ---- step 3: codes for the chosen values, packed in ggml's layout

        void pack(float[] x, int xo, Work k) {
            int ns = f.subBlocks();
            float d = k.d;
            float dmin = k.dmin;
            for (int j = 0; j < ns; j++) {
                float S = d * k.bestLs[j];
                float M = f.hasMin ? dmin * k.bestLm[j] : 0;
                float inv = S != 0 ? 1 / S : 0;
                for (int i = 0; i < f.sub; i++) {
                    int o = j * f.sub + i;
                    k.q[o] = S != 0 ? clamp(nearestInt((x[xo + o] + M) * inv), f.codeLo, f.codeHi) : 0;
                }
            }
            packCodes(k);
        }

        /** Packs {@code k.d}, {@code k.dmin}, {@code k.bestLs}, {@code k.bestLm} and the codes {@code k.q} into {@code k.cand}. */
        void packCodes(Work k) {
            float d = k.d;
            float dmin = k.dmin;
            byte[] y = k.cand;
            Arrays.fill(y, 0, blockBytes, (byte) 0);
            switch (f.type) {
                case Q2_K -> {
                    for (int j = 0; j < 16; j++) {
                        y[j] = (byte) (k.bestLs[j] | k.bestLm[j] << 4);
                    }
                    byte[] L = k.levels;
                    for (int i = 0; i < QK_K; i++) {
                        L[i] = (byte) k.q[i];
                    }
                    KQuantCodecs.pack2Bit(L, y, 16);
                    putHalf(y, 80, d);
                    putHalf(y, 82, dmin);
                }
                case Q3_K -> {
                    for (int j = 0; j < 16; j++) {
                        QuantMath.putScaleQ3K(y, 96, j, k.bestLs[j] + 32);
                    }
                    putHalf(y, 108, d);
                    byte[] L = k.levels;
                    int m = 0;
                    int hm = 1;
                    for (int i = 0; i < QK_K; i++) {
                        int l = k.q[i] + 4;
                        if (l > 3) {
                            y[m] |= (byte) hm;
                            l -= 4;
                        }
                        L[i] = (byte) l;
                        if (++m == QK_K / 8) {
                            m = 0;
                            hm <<= 1;
                        }
                    }
                    KQuantCodecs.pack2Bit(L, y, 32);
                }
                case Q4_K, Q5_K -> {
                    boolean five = f.type == GgmlType.Q5_K;
                    putHalf(y, 0, d);
                    putHalf(y, 2, dmin);
                    for (int j = 0; j < 8; j++) {
                        QuantMath.putScaleMinK4(y, 4, j, k.bestLs[j], k.bestLm[j]);
                    }
                    int qs = five ? 48 : 16;
                    int m1 = 1;
                    int m2 = 2;
                    for (int n = 0; n < QK_K; n += 64) {
                        for (int l = 0; l < 32; l++) {
                            int l1 = k.q[n + l];
                            int l2 = k.q[n + l + 32];
                            if (five) {
                                if (l1 > 15) {
                                    l1 -= 16;
                                    y[16 + l] |= (byte) m1;
                                }
                                if (l2 > 15) {
                                    l2 -= 16;
                                    y[16 + l] |= (byte) m2;
                                }
                            }
                            y[qs + n / 2 + l] = (byte) (l1 | l2 << 4);
                        }
                        m1 <<= 2;
                        m2 <<= 2;
                    }
                }
                case Q6_K -> {
                    putHalf(y, 208, d);
                    for (int j = 0; j < 16; j++) {
                        y[192 + j] = (byte) k.bestLs[j];
                    }
                    for (int j = 0; j < QK_K; j += 128) {
                        int ql = j / 2;
                        int qh = 128 + j / 4;
                        for (int l = 0; l < 32; ++l) {
                            int l1 = k.q[j + l] + 32;
                            int l2 = k.q[j + l + 32] + 32;
                            int l3 = k.q[j + l + 64] + 32;
                            int l4 = k.q[j + l + 96] + 32;
                            y[ql + l] = (byte) ((l1 & 0xF) | (l3 & 0xF) << 4);
                            y[ql + l + 32] = (byte) ((l2 & 0xF) | (l4 & 0xF) << 4);
                            y[qh + l] = (byte) (l1 >> 4 | (l2 >> 4) << 2 | (l3 >> 4) << 4 | (l4 >> 4) << 6);
                        }
                    }
                }
                default -> throw new AssertionError(f.type);
            }
        }
    }
}
