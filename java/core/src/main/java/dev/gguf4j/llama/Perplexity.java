package dev.gguf4j.llama;

import dev.gguf4j.Gguf4jException;

/**
 * Perplexity of a text as llama-perplexity computes it: the text is tokenized with BOS, cut into chunks of
 * {@code nCtx} tokens (the first token of each chunk replaced by BOS when the model adds one), each chunk
 * evaluated from an empty cache, and only the second half of each chunk scored (every position from
 * {@code nCtx/2} predicts the next token). PPL = exp(mean negative log-likelihood).
 */
public final class Perplexity {
    private Perplexity() {
    }

    /** The result: perplexity, its standard error as llama-perplexity prints it, and how much was scored. */
    public record Result(double ppl, double error, int chunks, int scoredTokens) {
    }

    /** Scores {@code tokens} (already tokenized with BOS) in chunks of {@code nCtx}; {@code maxChunks} < 0 = all. */
    public static Result compute(Llama llama, int[] tokens, int nCtx, int maxChunks) {
        if (tokens.length < 2 * nCtx) {
            throw new Gguf4jException("perplexity with a context of " + nCtx + " needs at least " + 2 * nCtx
                    + " tokens; the text has " + tokens.length);
        }
        int nChunk = tokens.length / nCtx;
        if (maxChunks >= 0) {
            nChunk = Math.min(nChunk, maxChunks);
        }
        int first = nCtx / 2;
        boolean addBos = llama.tokenizer().addBos();
        double nll = 0;
        double nll2 = 0;
        int count = 0;
        try (LlamaSession s = new LlamaSession(llama.model(), llama.backend(), nCtx, llama.threads(), LlamaSession.KvType.F16)) {
            int[] chunk = new int[nCtx];
            for (int c = 0; c < nChunk; c++) {
                int start = c * nCtx;
                System.arraycopy(tokens, start, chunk, 0, nCtx);
                if (addBos) {
                    chunk[0] = llama.tokenizer().bos();
                }
                s.reset();
                float[][] logits = s.forwardBatch(chunk, true);
                for (int i = first; i < nCtx - 1; i++) {
                    double v = -logSoftmax(logits[i], tokens[start + i + 1]);
                    nll += v;
                    nll2 += v * v;
                }
                count += nCtx - 1 - first;
            }
        }
        double mean = nll / count;
        double var = nll2 / count - mean * mean;
        double err = var > 0 ? Math.sqrt(var / (count - 1)) : 0;
        double ppl = Math.exp(mean);
        return new Result(ppl, err * ppl, nChunk, count);
    }

    /** llama-perplexity's log_softmax: logit - max - log(sum exp(logit_i - max)), the sum in double. */
    static double logSoftmax(float[] logits, int token) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += (float) Math.exp(l - max);
        }
        return logits[token] - max - Math.log(sum);
    }
}
