package dev.gguf4j.sampling;

import dev.gguf4j.grammar.Grammar;
import java.util.Map;

/**
 * Sampling settings with llama.cpp's defaults (common_params_sampling at c392e50). The chain, in llama.cpp's
 * default order: logit bias, penalties (repeat/frequency/presence over the last {@code penaltyLastN} tokens),
 * top-k, typical-p, top-p, min-p, temperature, then a draw from a seeded generator. {@code temperature <= 0}
 * is greedy. An optional {@link Grammar} (llama.cpp's {@code --grammar}, {@code --json-schema}) constrains the
 * tokens to those that continue a sentence of the grammar: the sampled token is checked first and, only if the
 * grammar rejects it, the logits are filtered to the allowed tokens and the chain runs again (llama.cpp's
 * {@code common_sampler_sample}); greedy then picks the highest-logit allowed token.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float typicalP,
        int penaltyLastN, float repeatPenalty, float frequencyPenalty, float presencePenalty,
        Map<Integer, Float> logitBias, long seed, Grammar grammar) {

    /** llama.cpp's defaults; the seed is fixed (0xFFFFFFFF means random in llama.cpp; here use {@link #withSeed}). */
    public static final SamplingParams DEFAULTS = new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 1.0f, 0f, 0f,
            Map.of(), 0xFFFFFFFFL, null);

    /** The settings without a grammar (the constructor before grammars were added). */
    public SamplingParams(float temperature, int topK, float topP, float minP, float typicalP, int penaltyLastN,
            float repeatPenalty, float frequencyPenalty, float presencePenalty, Map<Integer, Float> logitBias,
            long seed) {
        this(temperature, topK, topP, minP, typicalP, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty,
                logitBias, seed, null);
    }

    public SamplingParams {
        // !(x >= lo && x <= hi) rather than (x < lo || x > hi): NaN fails every comparison and must be refused too
        if (!(topP >= 0 && topP <= 1) || !(minP >= 0 && minP <= 1) || !(typicalP >= 0 && typicalP <= 1)) {
            throw new IllegalArgumentException("top-p, min-p and typical-p must lie in [0, 1]: " + topP + ", " + minP
                    + ", " + typicalP);
        }
        if (!Float.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number (<= 0 is greedy), got "
                    + temperature);
        }
        if (!(repeatPenalty > 0) || !Float.isFinite(repeatPenalty) || !Float.isFinite(frequencyPenalty)
                || !Float.isFinite(presencePenalty)) {
            throw new IllegalArgumentException("repeat penalty must be finite and > 0 (1 = off), frequency and presence"
                    + " penalties finite: " + repeatPenalty + ", " + frequencyPenalty + ", " + presencePenalty);
        }
        if (penaltyLastN < -1) {
            throw new IllegalArgumentException("penaltyLastN must be >= -1 (-1 = context size), got " + penaltyLastN);
        }
        logitBias = Map.copyOf(logitBias);
    }

    public static SamplingParams greedy() {
        return DEFAULTS.withTemperature(0);
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topK, topP, minP, typicalP, penaltyLastN, repeatPenalty, frequencyPenalty,
                presencePenalty, logitBias, seed, grammar);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, minP, typicalP, penaltyLastN, repeatPenalty, frequencyPenalty,
                presencePenalty, logitBias, seed, grammar);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, topK, p, minP, typicalP, penaltyLastN, repeatPenalty, frequencyPenalty,
                presencePenalty, logitBias, seed, grammar);
    }

    public SamplingParams withMinP(float p) {
        return new SamplingParams(temperature, topK, topP, p, typicalP, penaltyLastN, repeatPenalty, frequencyPenalty,
                presencePenalty, logitBias, seed, grammar);
    }

    public SamplingParams withTypicalP(float p) {
        return new SamplingParams(temperature, topK, topP, minP, p, penaltyLastN, repeatPenalty, frequencyPenalty,
                presencePenalty, logitBias, seed, grammar);
    }

    public SamplingParams withRepeatPenalty(float r) {
        return new SamplingParams(temperature, topK, topP, minP, typicalP, penaltyLastN, r, frequencyPenalty,
                presencePenalty, logitBias, seed, grammar);
    }

    public SamplingParams withPenalties(int lastN, float repeat, float frequency, float presence) {
        return new SamplingParams(temperature, topK, topP, minP, typicalP, lastN, repeat, frequency, presence,
                logitBias, seed, grammar);
    }

    public SamplingParams withLogitBias(Map<Integer, Float> bias) {
        return new SamplingParams(temperature, topK, topP, minP, typicalP, penaltyLastN, repeatPenalty,
                frequencyPenalty, presencePenalty, bias, seed, grammar);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, minP, typicalP, penaltyLastN, repeatPenalty,
                frequencyPenalty, presencePenalty, logitBias, s, grammar);
    }

    /** Constrains the output to {@code g} (null: no constraint). */
    public SamplingParams withGrammar(Grammar g) {
        return new SamplingParams(temperature, topK, topP, minP, typicalP, penaltyLastN, repeatPenalty,
                frequencyPenalty, presencePenalty, logitBias, seed, g);
    }
}
