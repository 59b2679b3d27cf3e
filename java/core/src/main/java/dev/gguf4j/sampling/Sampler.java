package dev.gguf4j.sampling;

import dev.gguf4j.grammar.GrammarMatcher;
import dev.gguf4j.grammar.TokenVocabulary;
import dev.gguf4j.tokenizer.Tokenizer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * llama.cpp's default sampler chain over one logits vector (see {@link SamplingParams}), step by step as
 * llama-sampling.cpp does it. Keeps the recent-token window for penalties; one per sequence, not thread-safe.
 */
public final class Sampler {
    private final SamplingParams p;
    private final SplittableRandom random;
    private final ArrayDeque<Integer> recent = new ArrayDeque<>();
    private final Map<Integer, Integer> counts = new HashMap<>();
    private final int window;
    private final GrammarMatcher grammar; // null: unconstrained

    // candidates: ids and logits, then probabilities
    private int[] ids = new int[0];
    private float[] logit = new float[0];
    private float[] prob = new float[0];
    private int size;
    private boolean sorted;

    /** A sampler without a grammar ({@code params.grammar()} must be null: a grammar needs the vocabulary). */
    public Sampler(SamplingParams params, int contextLength) {
        this(params, contextLength, (TokenVocabulary) null);
    }

    /** A sampler; a grammar in {@code params} is applied over {@code tokenizer}'s vocabulary. */
    public Sampler(SamplingParams params, int contextLength, Tokenizer tokenizer) {
        this(params, contextLength, params.grammar() == null ? null : TokenVocabulary.of(tokenizer));
    }

    /** A sampler; a grammar in {@code params} is applied over {@code vocabulary}. */
    public Sampler(SamplingParams params, int contextLength, TokenVocabulary vocabulary) {
        this.p = params;
        this.random = new SplittableRandom(params.seed());
        this.window = params.penaltyLastN() == -1 ? contextLength : params.penaltyLastN();
        if (params.grammar() != null && vocabulary == null) {
            throw new IllegalArgumentException("a grammar needs the vocabulary: use Sampler(params, contextLength,"
                    + " tokenizer)");
        }
        this.grammar = params.grammar() == null ? null : new GrammarMatcher(params.grammar(), vocabulary);
    }

    /** The grammar's state for this sequence, or null without a grammar. */
    public GrammarMatcher grammar() {
        return grammar;
    }

    /**
     * Records a generated token: for the penalties ({@link #accept}) and, with a grammar, advances the grammar
     * (the token must be one the grammar allows, as {@link #sample} returns).
     */
    public void acceptSampled(int token) {
        accept(token);
        if (grammar != null) {
            grammar.accept(token);
        }
    }

    /** Records a token (prompt or generated) for the penalties. */
    public void accept(int token) {
        if (window <= 0) {
            return;
        }
        recent.addLast(token);
        counts.merge(token, 1, Integer::sum);
        if (recent.size() > window) {
            int old = recent.removeFirst();
            counts.computeIfPresent(old, (k, v) -> v == 1 ? null : v - 1);
        }
    }

    /**
     * Whether {@link #sample} is the plain argmax of the logits (temperature 0, no logit bias, no penalties): then
     * the caller may compute the argmax elsewhere (on the GPU) and skip the logits.
     */
    public boolean isPlainArgmax() {
        return grammar == null && p.temperature() <= 0 && p.logitBias().isEmpty() && (window == 0
                || (p.repeatPenalty() == 1.0f && p.frequencyPenalty() == 0f && p.presencePenalty() == 0f));
    }

    /**
     * Picks the next token from {@code logits} (not modified). With a grammar, the token picked is one the grammar
     * allows: the chain's pick is checked, and only if it is refused the chain runs again over the allowed tokens.
     */
    public int sample(float[] logits) {
        if (grammar == null) {
            return sample(logits, null);
        }
        int t = sample(logits, null);
        if (grammar.isAllowed(t)) {
            return t;
        }
        if (!grammar.hasCachedAllowed() && (p.temperature() <= 0 || p.topK() > 0)) {
            int r = sampleFromTopAllowed(logits);
            if (r >= 0) {
                return r;
            }
        }
        return sample(logits, grammar.allowedTokens());
    }

    /** The candidates: every token with its logit plus its logit bias. */
    private void fill(float[] logits) {
        int n = logits.length;
        if (ids.length != n) {
            ids = new int[n];
            logit = new float[n];
            prob = new float[n];
        }
        for (int i = 0; i < n; i++) {
            ids[i] = i;
            logit[i] = logits[i];
        }
        size = n;
        sorted = false;
        p.logitBias().forEach((id, bias) -> {
            if (id >= 0 && id < n) {
                logit[id] += bias;
            }
        });
    }

    /** The chain over the tokens {@code allowed} lets through (every token if null). */
    private int sample(float[] logits, long[] allowed) {
        fill(logits);
        int n = logits.length;
        if (allowed != null) {
            int kept = 0;
            for (int i = 0; i < n; i++) {
                if ((i >>> 6) < allowed.length && (allowed[i >>> 6] & (1L << i)) != 0) {
                    ids[kept] = i;
                    logit[kept] = logit[i];
                    kept++;
                }
            }
            if (kept == 0) {
                throw new IllegalStateException("the grammar allows no token here");
            }
            size = kept;
        }
        penalties();
        if (p.temperature() <= 0) {
            return argmax();
        }
        return chainFromTopK(p.topK() <= 0 ? n : p.topK());
    }

    /**
     * The grammar's fallback without computing the whole allowed set (a new grammar state would walk the whole
     * vocabulary): greedy takes the best allowed token, and top-k the k best allowed ones, found among the best
     * candidates by checking them one by one; the same result as filtering every token first, because top-k (or
     * the argmax) is all the chain keeps of the rest. Returns -1 when too few of the best candidates are allowed
     * (then the caller filters everything).
     */
    private int sampleFromTopAllowed(float[] logits) {
        fill(logits);
        int n = logits.length;
        penalties();
        int k = p.temperature() <= 0 ? 1 : Math.min(p.topK(), n);
        int m = Math.min(n, Math.max(64, 4 * k));
        topK(m); // the m best, sorted
        int kept = 0;
        for (int i = 0; i < size && kept < k; i++) {
            if (grammar.isAllowed(ids[i])) {
                ids[kept] = ids[i];
                logit[kept] = logit[i];
                kept++;
            }
        }
        if (kept < k && m < n) {
            return -1;
        }
        if (kept == 0) {
            throw new IllegalStateException("the grammar allows no token here");
        }
        size = kept;
        if (p.temperature() <= 0) {
            return ids[0];
        }
        return chainFromTopK(k);
    }

    /** The chain from top-k on: top-k, typical-p, top-p, min-p, temperature, then the draw. */
    private int chainFromTopK(int k) {
        topK(k);
        typical(p.typicalP());
        topP(p.topP());
        minP(p.minP());
        for (int i = 0; i < size; i++) {
            logit[i] /= p.temperature();
        }
        softmax();
        double r = random.nextDouble();
        double cum = 0;
        for (int i = 0; i < size; i++) {
            cum += prob[i];
            if (r < cum) {
                return ids[i];
            }
        }
        return ids[size - 1];
    }

    private int argmax() {
        int best = 0;
        for (int i = 1; i < size; i++) {
            if (logit[i] > logit[best]) {
                best = i;
            }
        }
        return ids[best];
    }

    private void penalties() {
        if (window == 0 || (p.repeatPenalty() == 1.0f && p.frequencyPenalty() == 0f && p.presencePenalty() == 0f)) {
            return;
        }
        for (int i = 0; i < size; i++) {
            Integer c = counts.get(ids[i]);
            if (c == null) {
                continue;
            }
            logit[i] = logit[i] <= 0 ? logit[i] * p.repeatPenalty() : logit[i] / p.repeatPenalty();
            logit[i] -= c * p.frequencyPenalty() + (c > 0 ? 1 : 0) * p.presencePenalty();
        }
    }

    /**
     * Sorts the candidates by logit, largest first, ties in their current order (what a stable sort by
     * {@link Float#compare} gives). Primitive keys, no boxing or comparator: a cold JVM runs this in the
     * interpreter for the first tokens, where sorting 32000 boxed indices cost about half a second per token.
     */
    private void sortDescending() {
        if (sorted) {
            return;
        }
        long[] keys = new long[size];
        for (int i = 0; i < size; i++) {
            keys[i] = rankKey(logit[i], i);
        }
        Arrays.sort(keys);
        int[] ni = new int[size];
        float[] nl = new float[size];
        for (int i = 0; i < size; i++) {
            int at = (int) keys[i];
            ni[i] = ids[at];
            nl[i] = logit[at];
        }
        System.arraycopy(ni, 0, ids, 0, size);
        System.arraycopy(nl, 0, logit, 0, size);
        sorted = true;
    }

    /**
     * A long whose signed order is: larger logit first ({@link Float#compare}'s order, NaN above +inf, -0 below +0),
     * then smaller position.
     */
    private static long rankKey(float logit, int position) {
        int f = Float.floatToIntBits(logit);
        int ascending = f ^ ((f >> 31) & 0x7fffffff);
        return ((long) ~ascending << 32) | (position & 0xffffffffL);
    }

    /**
     * Keeps the {@code k} largest, sorted as {@link #sortDescending} would sort them: one pass that keeps the best
     * {@code k} keys in a sorted array (most candidates fail the first comparison), then the survivors in order.
     */
    private void topK(int k) {
        k = Math.max(1, Math.min(k, size));
        if (sorted || k * 8 > size) {
            sortDescending();
            size = k;
            return;
        }
        long[] best = new long[k];
        int have = 0;
        for (int i = 0; i < size; i++) {
            long key = rankKey(logit[i], i);
            if (have == k && key >= best[k - 1]) {
                continue;
            }
            int j = have < k ? have++ : k - 1;
            while (j > 0 && best[j - 1] > key) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = key;
        }
        int[] ni = new int[k];
        float[] nl = new float[k];
        for (int i = 0; i < k; i++) {
            int at = (int) best[i];
            ni[i] = ids[at];
            nl[i] = logit[at];
        }
        System.arraycopy(ni, 0, ids, 0, k);
        System.arraycopy(nl, 0, logit, 0, k);
        size = k;
        sorted = true;
    }

    /** Sorted softmax: prob[i] = exp(logit[i] - max) / sum, as llama_sampler_softmax_impl. */
    private void softmax() {
        sortDescending();
        float max = logit[0];
        float sum = 0;
        for (int i = 0; i < size; i++) {
            prob[i] = (float) Math.exp(logit[i] - max);
            sum += prob[i];
        }
        for (int i = 0; i < size; i++) {
            prob[i] /= sum;
        }
    }

    private void typical(float tp) {
        if (tp >= 1.0f) {
            return;
        }
        softmax();
        float entropy = 0;
        for (int i = 0; i < size; i++) {
            entropy += -prob[i] * (float) Math.log(prob[i]);
        }
        Integer[] order = new Integer[size];
        float[] shifted = new float[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
            shifted[i] = Math.abs(-(float) Math.log(prob[i]) - entropy);
        }
        Arrays.sort(order, (a, b) -> Float.compare(shifted[a], shifted[b]));
        float cum = 0;
        int last = size;
        for (int i = 0; i < size; i++) {
            cum += prob[order[i]];
            if (cum > tp && i >= 0) {
                last = i + 1;
                break;
            }
        }
        int[] ni = new int[last];
        float[] nl = new float[last];
        float[] np = new float[last];
        for (int i = 0; i < last; i++) {
            ni[i] = ids[order[i]];
            nl[i] = logit[order[i]];
            np[i] = prob[order[i]];
        }
        System.arraycopy(ni, 0, ids, 0, last);
        System.arraycopy(nl, 0, logit, 0, last);
        System.arraycopy(np, 0, prob, 0, last);
        size = last;
        sorted = false;
    }

    private void topP(float tp) {
        if (tp >= 1.0f) {
            return;
        }
        softmax();
        float cum = 0;
        int last = size;
        for (int i = 0; i < size; i++) {
            cum += prob[i];
            if (cum >= tp) {
                last = i + 1;
                break;
            }
        }
        size = last;
    }

    private void minP(float mp) {
        if (mp <= 0 || size == 0) {
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, logit[i]);
        }
        float min = max + (float) Math.log(mp);
        int kept = 0;
        for (int i = 0; i < size; i++) {
            if (logit[i] >= min) {
                ids[kept] = ids[i];
                logit[kept] = logit[i];
                kept++;
            }
        }
        size = Math.max(1, kept);
    }
}
