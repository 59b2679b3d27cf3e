package dev.gguf4j.llama;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.engine.MatmulObserver;

/**
 * Perplexity of a text as llama-perplexity computes it: the text is tokenized with BOS, cut into chunks of
 * {@code nCtx} tokens (the first token of each chunk replaced by BOS when the model adds one), each chunk
 * evaluated from an empty cache, and only the second half of each chunk scored (every position from
 * {@code nCtx/2} predicts the next token). PPL = exp(mean negative log-likelihood).
 */
public final class Perplexity {
    /** llama.cpp's default micro-batch (n_ubatch): a chunk is evaluated in steps of at most this many tokens. */
    public static final int UBATCH = 512;

    private Perplexity() {
    }

    /** The result: perplexity, its standard error as llama-perplexity prints it, and how much was scored. */
    public record Result(double ppl, double error, int chunks, int scoredTokens) {
    }

    /** Called after each chunk (on the computing thread). */
    public interface ChunkListener {
        /**
         * Chunk {@code chunk} (0-based) of {@code chunks} is done; {@code pplSoFar} is the perplexity over the
         * chunks so far; {@code logits[i]} are the logits at position {@code i} of the chunk (valid during the
         * call), {@code seconds} the time the chunk took.
         */
        void chunkDone(int chunk, int chunks, double pplSoFar, float[][] logits, double seconds);
    }

    /** Scores {@code tokens} (already tokenized with BOS) in chunks of {@code nCtx}; {@code maxChunks} < 0 = all. */
    public static Result compute(Llama llama, int[] tokens, int nCtx, int maxChunks) {
        return compute(llama, tokens, nCtx, maxChunks, null, null);
    }

    /**
     * {@link #compute(Llama, int[], int, int)} with {@code listener} told of each chunk (null: none) and
     * {@code observer} shown every matmul's input (null: none; llama-imatrix's collection).
     */
    public static Result compute(Llama llama, int[] tokens, int nCtx, int maxChunks, ChunkListener listener,
            MatmulObserver observer) {
        int nChunk = chunks(tokens.length, nCtx, maxChunks, "perplexity");
        int first = nCtx / 2;
        double[] nll = new double[2];
        long[] t0 = {System.nanoTime()};
        evaluate(llama, tokens, nCtx, nChunk, observer, (c, logits) -> {
            for (int i = first; i < nCtx - 1; i++) {
                double v = -logSoftmax(logits[i], tokens[c * nCtx + i + 1]);
                nll[0] += v;
                nll[1] += v * v;
            }
            if (listener != null) {
                long now = System.nanoTime();
                listener.chunkDone(c, nChunk, Math.exp(nll[0] / ((c + 1) * (nCtx - 1 - first))), logits,
                        (now - t0[0]) / 1e9);
                t0[0] = now;
            }
        });
        int count = nChunk * (nCtx - 1 - first);
        double mean = nll[0] / count;
        double var = nll[1] / count - mean * mean;
        double err = var > 0 ? Math.sqrt(var / (count - 1)) : 0;
        double ppl = Math.exp(mean);
        return new Result(ppl, err * ppl, nChunk, count);
    }

    /** Receives each chunk's logits from {@link #evaluate}. */
    public interface ChunkLogits {
        /** {@code logits[i]}: the logits at position {@code i} of chunk {@code chunk} (valid during the call). */
        void accept(int chunk, float[][] logits);
    }

    /**
     * Evaluates chunks [0, nChunk) of {@code tokens} as llama-perplexity does: chunk {@code c} is
     * {@code tokens[c * nCtx ..)} with its first token replaced by BOS when the model adds one, run from an empty
     * cache in steps of {@link #UBATCH} tokens, every position's logits handed to {@code consumer}; on the CPU,
     * {@code observer} (null: none) shown every matmul's input.
     */
    public static void evaluate(Llama llama, int[] tokens, int nCtx, int nChunk, MatmulObserver observer,
            ChunkLogits consumer) {
        if ((long) nChunk * nCtx > tokens.length) {
            throw new IllegalArgumentException(nChunk + " chunks of " + nCtx + " need more than " + tokens.length
                    + " tokens");
        }
        boolean addBos = llama.tokenizer().addBos();
        try (LlamaSession s = new LlamaSession(llama.model(), llama.backend(), nCtx, llama.threads(), LlamaSession.KvType.F16)) {
            s.observeMatmuls(observer);
            float[][] logits = new float[nCtx][];
            for (int c = 0; c < nChunk; c++) {
                int start = c * nCtx;
                s.reset();
                for (int b = 0; b < nCtx; b += UBATCH) {
                    int[] ub = java.util.Arrays.copyOfRange(tokens, start + b, start + Math.min(nCtx, b + UBATCH));
                    if (b == 0 && addBos) {
                        ub[0] = llama.tokenizer().bos();
                    }
                    float[][] l = s.forwardBatch(ub, true);
                    System.arraycopy(l, 0, logits, b, l.length);
                }
                consumer.accept(c, logits);
            }
        }
    }

    /**
     * The number of chunks of {@code nCtx} in {@code nTokens} tokens, at most {@code maxChunks} (< 0: all); as
     * llama-perplexity and llama-imatrix, at least 2 x nCtx tokens are needed, else a one-line error naming
     * {@code tool}.
     */
    public static int chunks(int nTokens, int nCtx, int maxChunks, String tool) {
        if (nTokens < 2 * nCtx) {
            throw new Gguf4jException(tool + " with a context of " + nCtx + " needs at least " + 2 * nCtx
                    + " tokens; the text has " + nTokens + " (use a longer text or a smaller -c)");
        }
        int nChunk = nTokens / nCtx;
        return maxChunks >= 0 ? Math.min(nChunk, maxChunks) : nChunk;
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
