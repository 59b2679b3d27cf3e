package dev.gguf4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Top-k and the sorted softmax keep llama.cpp's order of candidates (largest logit first) with ties in token
 * order, as a stable sort by {@link Float#compare} gives. Checked against that sort written out plainly, on
 * vocabularies with many ties, signed zeros and infinities.
 */
class SamplerOrderTest {
    /** The token {@link Sampler#sample} must pick: stable sort, first k, /temp, softmax, one draw. */
    static int reference(float[] logits, int topK, float temp, long seed) {
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int k = topK <= 0 ? n : Math.max(1, Math.min(topK, n));
        float[] l = new float[k];
        for (int i = 0; i < k; i++) {
            l[i] = logits[order[i]] / temp;
        }
        float max = l[0];
        float sum = 0;
        float[] prob = new float[k];
        for (int i = 0; i < k; i++) {
            prob[i] = (float) Math.exp(l[i] - max);
            sum += prob[i];
        }
        for (int i = 0; i < k; i++) {
            prob[i] /= sum;
        }
        double r = new SplittableRandom(seed).nextDouble();
        double cum = 0;
        for (int i = 0; i < k; i++) {
            cum += prob[i];
            if (r < cum) {
                return order[i];
            }
        }
        return order[k - 1];
    }

    @Test
    void topKAndSortMatchAStableSortOfTheLogits() {
        SplittableRandom rnd = new SplittableRandom(7);
        int checked = 0;
        for (int n : new int[] {1, 2, 3, 17, 40, 41, 300, 32000}) {
            for (int round = 0; round < 6; round++) {
                float[] logits = new float[n];
                for (int i = 0; i < n; i++) {
                    logits[i] = switch (round) {
                        case 0 -> (float) rnd.nextGaussian() * 3;
                        case 1, 2 -> Math.round(rnd.nextGaussian() * 2) / 2f; // many ties
                        case 3 -> rnd.nextInt(4) == 0 ? -0.0f : (rnd.nextBoolean() ? 0.0f : 1e-3f);
                        case 4 -> i % 9 == 0 ? Float.NEGATIVE_INFINITY : (float) rnd.nextGaussian();
                        default -> 1.0f; // all equal
                    };
                }
                for (int k : new int[] {0, 1, 2, 5, 40, n / 2, n, n + 3}) {
                    for (long seed = 0; seed < 6; seed++) {
                        SamplingParams p = SamplingParams.DEFAULTS.withTemperature(0.8f).withTopK(k).withTopP(1f)
                                .withMinP(0f).withRepeatPenalty(1f).withSeed(seed);
                        int got = new Sampler(p, 64).sample(logits.clone());
                        assertEquals(reference(logits, k, 0.8f, seed), got,
                                "n " + n + " round " + round + " top-k " + k + " seed " + seed);
                        checked++;
                    }
                }
            }
        }
        assertEquals(8 * 6 * 8 * 6, checked);
    }
}
