package dev.gguf4j.llama;

import dev.gguf4j.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The log-probability of one generated token, and of the {@code topLogprobs} most likely tokens at its position
 * (their own {@code topLogprobs} empty), as OpenAI's {@code logprobs.content[]} reports them.
 *
 * <p>The distribution is the model's, before sampling: the log-softmax of the raw logits over the whole
 * vocabulary, computed in double, as llama-server c392e50 reports {@code n_probs} / {@code logprobs} by default
 * ({@code post_sampling_probs} false: no temperature, penalties, logit bias, top-k/p or grammar applied). The
 * alternatives are sorted by log-probability, largest first (the lower id first among equals).
 *
 * @param id          the token id
 * @param token       the token's text (the bytes as UTF-8, an incomplete trailing sequence cut, as llama-server
 *                    does; empty for control tokens)
 * @param bytes       the token's bytes (may be part of a UTF-8 sequence)
 * @param logprob     natural log of the token's probability
 * @param topLogprobs the most likely tokens at this position, at most the number asked for
 */
public record TokenLogprob(int id, String token, byte[] bytes, double logprob, List<TokenLogprob> topLogprobs) {
    /** The most alternatives a request may ask for (OpenAI's limit for {@code top_logprobs}). */
    public static final int MAX_TOP = 20;

    public TokenLogprob {
        topLogprobs = List.copyOf(topLogprobs);
    }

    /**
     * The entry of {@code token} sampled from {@code logits}, with the {@code top} most likely tokens: one pass for
     * the log-sum-exp (in double) and one for the top-k selection.
     */
    static TokenLogprob of(float[] logits, int token, int top, Tokenizer tokenizer) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double logZ = max + Math.log(sum);
        List<TokenLogprob> alts = new ArrayList<>(top);
        if (top > 0) {
            int k = Math.min(top, n);
            int[] best = new int[k]; // ids, best first
            int have = 0;
            for (int i = 0; i < n; i++) {
                float v = logits[i];
                if (have == k && !(v > logits[best[k - 1]])) {
                    continue;
                }
                int j = have < k ? have++ : k - 1;
                while (j > 0 && v > logits[best[j - 1]]) {
                    best[j] = best[j - 1];
                    j--;
                }
                best[j] = i;
            }
            for (int i = 0; i < k; i++) {
                alts.add(entry(tokenizer, best[i], logits[best[i]] - logZ, List.of()));
            }
        }
        return entry(tokenizer, token, logits[token] - logZ, alts);
    }

    private static TokenLogprob entry(Tokenizer tokenizer, int id, double logprob, List<TokenLogprob> top) {
        byte[] b = tokenizer.tokenBytes(id);
        return new TokenLogprob(id, validUtf8Prefix(b), b, logprob, top);
    }

    /** The bytes as text, cut before an incomplete or invalid sequence (llama-server's validate_utf8 cut). */
    static String validUtf8Prefix(byte[] b) {
        for (int len = b.length; len >= 0; len--) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, 0, len)).toString();
            } catch (CharacterCodingException e) {
                // shorter
            }
        }
        return "";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenLogprob t && t.id == id && t.token.equals(token) && java.util.Arrays.equals(t.bytes,
                bytes) && Double.compare(t.logprob, logprob) == 0 && t.topLogprobs.equals(topLogprobs);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(id, token, java.util.Arrays.hashCode(bytes), logprob, topLogprobs);
    }

    /** OpenAI's JSON for one {@code logprobs.content[]} entry (the alternatives without their own list). */
    public StringBuilder appendJson(StringBuilder sb) {
        appendEntry(sb);
        sb.append(",\"top_logprobs\":[");
        for (int i = 0; i < topLogprobs.size(); i++) {
            topLogprobs.get(i).appendEntry(sb.append(i == 0 ? "" : ",")).append('}');
        }
        return sb.append("]}");
    }

    private StringBuilder appendEntry(StringBuilder sb) {
        dev.gguf4j.internal.JsonText.quote(sb.append("{\"token\":"), token).append(",\"logprob\":")
                .append(jsonNumber(logprob)).append(",\"bytes\":[");
        for (int i = 0; i < bytes.length; i++) {
            sb.append(i == 0 ? "" : ",").append(bytes[i] & 0xff);
        }
        return sb.append(']');
    }

    /** A JSON number: -inf (a probability that underflowed) as -9999, OpenAI's floor, never a non-number. */
    static String jsonNumber(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "-9999.0";
    }

    /** OpenAI's {@code "logprobs":{"content":[...]}} value for a list of entries. */
    public static StringBuilder appendContent(StringBuilder sb, List<TokenLogprob> entries) {
        if (entries == null) {
            return sb.append("null");
        }
        sb.append("{\"content\":[");
        for (int i = 0; i < entries.size(); i++) {
            entries.get(i).appendJson(sb.append(i == 0 ? "" : ","));
        }
        return sb.append("]}");
    }
}
