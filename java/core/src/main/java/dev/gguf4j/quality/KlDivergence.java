package dev.gguf4j.quality;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.Perplexity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * KL divergence of a model from a base model, as llama-perplexity c392e50 computes it ({@code --kl-divergence}):
 * over the scored positions of a {@link BaseLogits} file (the base's quantized log-probabilities), per position
 * KLD = sum over tokens with base log p > -16 of p_base (log p_base - log p), the top token of each compared, and
 * Δp = p(next token) - p_base(next token); plus both perplexities. The arithmetic follows llama-perplexity's
 * (float where it uses float), so the figures agree with it to the order of float additions.
 *
 * <p>{@link #saveBase} makes the base file (llama-perplexity {@code --kl-divergence-base FILE} without
 * {@code --kl-divergence}); {@link #compute} compares a model with it.
 */
public final class KlDivergence {
    private KlDivergence() {
    }

    /** A value with its standard uncertainty. */
    public record Estimate(double value, double uncertainty) {
    }

    /** Called after each chunk with the statistics so far (on the computing thread). */
    public interface ChunkListener {
        void chunkDone(int chunk, int chunks, Stats soFar, double seconds);
    }

    /**
     * Runs {@code llama} over {@code tokens} (tokenized with BOS) as {@link Perplexity#compute} does and saves the
     * base file {@code out} alongside; returns the perplexity.
     */
    public static Perplexity.Result saveBase(Llama llama, int[] tokens, int nCtx, int maxChunks, Path out,
            Perplexity.ChunkListener listener) throws IOException {
        int nChunk = Perplexity.chunks(tokens.length, nCtx, maxChunks, "perplexity");
        try (BaseLogits.Writer w = new BaseLogits.Writer(out, nCtx, llama.config().vocab(), nChunk, tokens)) {
            Perplexity.Result r = Perplexity.compute(llama, tokens, nCtx, nChunk, (c, n, ppl, logits, s) -> {
                try {
                    w.chunk(c, logits);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                if (listener != null) {
                    listener.chunkDone(c, n, ppl, logits, s);
                }
            }, null);
            return r;
        } catch (UncheckedIOException e) {
            throw new Gguf4jException(out + ": cannot write: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Compares {@code llama} with the base file {@code base} (llama-perplexity's or {@link #saveBase}'s): runs its
     * tokens chunk by chunk and accumulates the statistics. A file made for another vocabulary is refused naming
     * both files; {@code modelName} names the model in that message.
     */
    public static Stats compute(Llama llama, String modelName, BaseLogits.Reader base, ChunkListener listener)
            throws IOException {
        checkCompatible(llama, modelName, base);
        int nCtx = base.contextLength();
        int nVocab = base.vocabulary();
        int nChunk = base.chunks();
        int[] tokens = base.tokens();
        int first = nCtx / 2;
        int scored = BaseLogits.scoredPerChunk(nCtx);
        int rl = BaseLogits.recordLength(nVocab);
        short[] recs = new short[scored * rl];
        Stats st = new Stats(scored * nChunk);
        long[] t0 = {System.nanoTime()};
        try {
            Perplexity.evaluate(llama, tokens, nCtx, nChunk, null, (c, logits) -> {
                try {
                    base.nextChunk(recs);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                Stats.Position[] ps = new Stats.Position[scored];
                java.util.stream.IntStream.range(0, scored).parallel().forEach(i -> ps[i] = Stats.position(
                        logits[first + i], nVocab, recs, i * rl, tokens[c * nCtx + first + i + 1]));
                for (Stats.Position p : ps) {
                    st.add(p);
                }
                if (listener != null) {
                    long now = System.nanoTime();
                    listener.chunkDone(c, nChunk, st, (now - t0[0]) / 1e9);
                    t0[0] = now;
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        st.finish();
        return st;
    }

    /** Refuses a base file this model cannot be compared with: another vocabulary, or token ids outside it. */
    public static void checkCompatible(Llama llama, String modelName, BaseLogits.Reader base) {
        int vocab = llama.config().vocab();
        if (base.vocabulary() != vocab) {
            throw new Gguf4jException(base.file() + ": base logits of a model with a vocabulary of " + base.vocabulary()
                    + " tokens; " + modelName + " has " + vocab + ": the base file was made with another model");
        }
        int[] t = base.tokens();
        for (int i = 0; i < t.length; i++) {
            if (t[i] < 0 || t[i] >= vocab) {
                throw new Gguf4jException(base.file() + ": token " + i + " is id " + t[i] + ", outside " + modelName
                        + "'s vocabulary [0, " + vocab + "): the base file was made with another model");
            }
        }
    }

    /** llama-perplexity's float nearest-rank interpolation between sorted values. */
    static float percentile(float[] sorted, float fraction) {
        if (fraction <= 0) {
            return sorted[0];
        }
        if (fraction >= 1) {
            return sorted[sorted.length - 1];
        }
        float p = fraction * (sorted.length - 1);
        int ip = (int) p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.min(ip + 1, sorted.length - 1)];
    }

    /** The accumulated statistics (llama-perplexity's kl_divergence_result plus the per-position values). */
    public static final class Stats {
        private double sumNll;
        private double sumNll2;
        private double sumNllBase;
        private double sumNllBase2;
        private double sumNllNllBase;
        private double sumKld;
        private double sumKld2;
        private double sumPDiff;
        private double sumPDiff2;
        private double sumPDiff4;
        private float maxPDiff;
        private long sameTop;
        private int count;
        private final float[] kld;
        private final float[] pDiff;
        private boolean sorted;

        Stats(int capacity) {
            kld = new float[capacity];
            pDiff = new float[capacity];
        }

        /** One position's figures (computed in parallel, then accumulated in order: the same sums every run). */
        record Position(float nll, float nllBase, double kld, boolean sameTop, float pDiff) {
        }

        /** One position: the model's logits against the base record at {@code rec[off ..]}, as llama-perplexity. */
        static Position position(float[] logits, int nVocab, short[] rec, int off, int tok) {
            float maxLogit = logits[0];
            int imax = 0;
            for (int i = 1; i < nVocab; i++) {
                if (logits[i] > maxLogit) {
                    maxLogit = logits[i];
                    imax = i;
                }
            }
            double sumExp = 0;
            for (int i = 0; i < nVocab; i++) {
                sumExp += (float) Math.exp(logits[i] - maxLogit);
            }
            float logSumExp = (float) Math.log(sumExp);
            float scale = Float.intBitsToFloat((rec[off] & 0xffff) | (rec[off + 1] << 16));
            float minLogProb = Float.intBitsToFloat((rec[off + 2] & 0xffff) | (rec[off + 3] << 16));
            int q = off + 4;
            float nll = maxLogit + logSumExp - logits[tok];
            float nllBase = -(scale * (rec[q + tok] & 0xffff) + minLogProb);
            maxLogit += logSumExp;
            double sum = 0;
            int imaxBase = -1;
            float pLogBaseMax = 0;
            for (int i = 0; i < nVocab; i++) {
                float pLogBase = scale * (rec[q + i] & 0xffff) + minLogProb;
                if (i == 0 || pLogBase > pLogBaseMax) {
                    pLogBaseMax = pLogBase;
                    imaxBase = i;
                }
                if (pLogBase > -16.0f) {
                    float pBase = (float) Math.exp(pLogBase);
                    sum += pBase * (pLogBase - logits[i] + maxLogit);
                }
            }
            float pBase = (float) Math.exp(-nllBase);
            float p = (float) Math.exp(-nll);
            return new Position(nll, nllBase, sum, imax == imaxBase, p - pBase);
        }

        void add(Position x) {
            float nll = x.nll();
            float nllBase = x.nllBase();
            sumNll += nll;
            sumNll2 += nll * nll;
            sumNllBase += nllBase;
            sumNllBase2 += nllBase * nllBase;
            sumNllNllBase += nll * nllBase;
            double sum = x.kld();
            sumKld += sum;
            sumKld2 += sum * sum;
            if (x.sameTop()) {
                sameTop++;
            }
            float pd = x.pDiff();
            sumPDiff += pd;
            double pd2 = pd * pd;
            sumPDiff2 += pd2;
            sumPDiff4 += pd2 * pd2;
            maxPDiff = Math.max(maxPDiff, Math.abs(pd));
            kld[count] = (float) sum;
            pDiff[count] = pd;
            count++;
        }

        void finish() {
            Arrays.sort(kld, 0, count);
            Arrays.sort(pDiff, 0, count);
            sorted = true;
        }

        /** Positions compared. */
        public int count() {
            return count;
        }

        private Estimate mean(double sum, double sum2) {
            if (count < 1) {
                return new Estimate(0, 0);
            }
            double f = sum / count;
            double df = sum2 / count - f * f;
            df = df > 0 && count > 10 ? Math.sqrt(df / (count - 1)) : 0;
            return new Estimate(f, df);
        }

        private double covariance() {
            if (count < 10) {
                return 0;
            }
            return (sumNllNllBase / count - (sumNll / count) * (sumNllBase / count)) / (count - 1);
        }

        /** Mean ln PPL of the model (its negative log-likelihood per token). */
        public Estimate logPpl() {
            return mean(sumNll, sumNll2);
        }

        /** Mean ln PPL of the base, from the file's quantized log-probabilities. */
        public Estimate logPplBase() {
            return mean(sumNllBase, sumNllBase2);
        }

        private static Estimate exp(Estimate log) {
            double v = Math.exp(log.value());
            return new Estimate(v, v * log.uncertainty());
        }

        public Estimate ppl() {
            return exp(logPpl());
        }

        public Estimate pplBase() {
            return exp(logPplBase());
        }

        /** Correlation of the model's and the base's per-token ln PPL. */
        public double logPplCorrelation() {
            return covariance() / (logPpl().uncertainty() * logPplBase().uncertainty());
        }

        /** ln(PPL(Q)/PPL(base)). */
        public Estimate logPplRatio() {
            Estimate a = logPpl();
            Estimate b = logPplBase();
            return new Estimate(a.value() - b.value(), Math.sqrt(a.uncertainty() * a.uncertainty()
                    + b.uncertainty() * b.uncertainty() - 2.0 * covariance()));
        }

        public Estimate pplRatio() {
            return exp(logPplRatio());
        }

        /** PPL(Q) - PPL(base). */
        public Estimate pplDifference() {
            Estimate a = ppl();
            Estimate b = pplBase();
            double cov = a.value() * b.value() * covariance();
            return new Estimate(a.value() - b.value(), Math.sqrt(a.uncertainty() * a.uncertainty()
                    + b.uncertainty() * b.uncertainty() - 2.0 * cov));
        }

        /** Mean KL divergence from the base, per position. */
        public Estimate meanKld() {
            return mean(sumKld, sumKld2);
        }

        /** Fraction of positions whose most likely token is the base's. */
        public Estimate sameTop() {
            double p = (double) sameTop / count;
            return new Estimate(p, Math.sqrt(p * (1 - p) / (count - 1)));
        }

        /** Mean Δp (probability of the next token, model minus base). */
        public Estimate meanPDiff() {
            return mean(sumPDiff, sumPDiff2);
        }

        /** RMS of Δp. */
        public Estimate rmsPDiff() {
            Estimate mse = mean(sumPDiff2, sumPDiff4);
            double rms = Math.sqrt(mse.value());
            return new Estimate(rms, 0.5 / rms * mse.uncertainty());
        }

        /** The largest |Δp|. */
        public float maxAbsPDiff() {
            return maxPDiff;
        }

        private void requireSorted() {
            if (!sorted) {
                throw new IllegalStateException("percentiles are known once every chunk is done");
            }
        }

        /** The KLD at {@code fraction} of the sorted per-position values (llama-perplexity's interpolation). */
        public float kldPercentile(float fraction) {
            requireSorted();
            return percentile(Arrays.copyOf(kld, count), fraction);
        }

        public float kldMedian() {
            requireSorted();
            return median(kld);
        }

        public float pDiffPercentile(float fraction) {
            requireSorted();
            return percentile(Arrays.copyOf(pDiff, count), fraction);
        }

        public float pDiffMedian() {
            requireSorted();
            return median(pDiff);
        }

        private float median(float[] v) {
            return count % 2 == 0 ? 0.5f * (v[count / 2] + v[count / 2 - 1]) : v[count / 2];
        }
    }
}
