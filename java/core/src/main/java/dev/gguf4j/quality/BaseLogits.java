package dev.gguf4j.quality;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.PartialFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A base model's log-probabilities in llama-perplexity c392e50's {@code --kl-divergence-base} file format, so
 * files are interchangeable with llama.cpp's: {@code "_logits_"}, {@code uint32 n_ctx}, {@code int32 n_vocab},
 * {@code int32 n_chunk}, {@code int32 tokens[n_chunk * n_ctx]} (the text's tokens, BOS first, as tokenized; not
 * the per-chunk BOS replacement), then per chunk, for each scored position {@code n_ctx/2 .. n_ctx-2}, a record
 * of {@code nv = 2 * ((n_vocab + 1) / 2) + 4} uint16: {@code float scale, float min_log_prob} in the first four,
 * then each token's log-probability quantized as {@code round((logit - min) / scale)} (0 below
 * {@code min = max(min logit, max logit - 16)}), so {@code log p = scale * q + min_log_prob}. Little-endian.
 */
public final class BaseLogits {
    static final byte[] MAGIC = "_logits_".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 8 + 4 + 4 + 4;

    private BaseLogits() {
    }

    /** uint16 per scored position: the vocabulary rounded up to even, plus the two floats. */
    public static int recordLength(int nVocab) {
        return 2 * ((nVocab + 1) / 2) + 4;
    }

    /** Positions scored per chunk: {@code n_ctx/2 .. n_ctx-2}. */
    public static int scoredPerChunk(int nCtx) {
        return nCtx - 1 - nCtx / 2;
    }

    /**
     * llama-perplexity's log_softmax that saves: fills {@code rec} ({@link #recordLength} uint16) from
     * {@code logits} and returns the negative log-likelihood of {@code token} (in float, as it does).
     */
    static float quantize(float[] logits, int nVocab, short[] rec, int token) {
        float max = logits[0];
        float min = logits[0];
        for (int i = 1; i < nVocab; i++) {
            max = Math.max(max, logits[i]);
            min = Math.min(min, logits[i]);
        }
        min = Math.max(min, max - 16);
        double sum = 0;
        for (int i = 0; i < nVocab; i++) {
            sum += (float) Math.exp(logits[i] - max);
        }
        float logSumExp = (float) Math.log(sum);
        float minLogProb = min - max - logSumExp;
        float scale = (max - min) / 65535.0f;
        int sb = Float.floatToRawIntBits(scale);
        int mb = Float.floatToRawIntBits(minLogProb);
        rec[0] = (short) sb;
        rec[1] = (short) (sb >>> 16);
        rec[2] = (short) mb;
        rec[3] = (short) (mb >>> 16);
        if (scale != 0) {
            float inv = 1 / scale;
            for (int i = 0; i < nVocab; i++) {
                rec[4 + i] = logits[i] > min ? (short) (int) Math.rint(inv * (logits[i] - min)) : 0;
            }
        } else {
            java.util.Arrays.fill(rec, 4, 4 + nVocab, (short) 0);
        }
        return max + logSumExp - logits[token];
    }

    /** Writes a base file chunk by chunk; the file appears (renamed from a temporary) only when all are written. */
    public static final class Writer implements AutoCloseable {
        private final Path out;
        private final Path partial;
        private final FileChannel ch;
        private final int nCtx;
        private final int nVocab;
        private final int nChunk;
        private final int[] tokens;
        private final short[] rec;
        private final ByteBuffer buf;
        private int written;
        private boolean done;

        /** Starts {@code out} for {@code nChunk} chunks of {@code nCtx} of {@code tokens} (at least nChunk x nCtx). */
        public Writer(Path out, int nCtx, int nVocab, int nChunk, int[] tokens) throws IOException {
            this.out = out;
            this.nCtx = nCtx;
            this.nVocab = nVocab;
            this.nChunk = nChunk;
            this.tokens = tokens;
            this.rec = new short[recordLength(nVocab)];
            this.buf = ByteBuffer.allocate(rec.length * 2 * scoredPerChunk(nCtx)).order(ByteOrder.LITTLE_ENDIAN);
            this.partial = PartialFile.create(out);
            this.ch = FileChannel.open(partial, StandardOpenOption.WRITE);
            ByteBuffer h = ByteBuffer.allocate(HEADER + 4 * nChunk * nCtx).order(ByteOrder.LITTLE_ENDIAN);
            h.put(MAGIC).putInt(nCtx).putInt(nVocab).putInt(nChunk);
            for (int i = 0; i < nChunk * nCtx; i++) {
                h.putInt(tokens[i]);
            }
            writeFully(h.flip());
        }

        /**
         * Saves chunk {@code chunk}'s log-probabilities ({@code logits[i]}: position i); chunks come in order,
         * and the last one completes the file.
         */
        public void chunk(int chunk, float[][] logits) throws IOException {
            if (chunk != written) {
                throw new IllegalStateException("chunk " + chunk + " after " + written);
            }
            buf.clear();
            int first = nCtx / 2;
            for (int i = first; i < nCtx - 1; i++) {
                quantize(logits[i], nVocab, rec, tokens[chunk * nCtx + i + 1]);
                for (short s : rec) {
                    buf.putShort(s);
                }
            }
            writeFully(buf.flip());
            written++;
            if (written == nChunk) {
                ch.close();
                PartialFile.commit(partial, out);
                done = true;
            }
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }

        /** Closes; a file not complete is deleted (no partial output). */
        @Override
        public void close() throws IOException {
            if (!done) {
                ch.close();
                Files.deleteIfExists(partial);
            }
        }
    }

    /** A base file opened for reading: header and tokens read and checked, chunks read one at a time. */
    public static final class Reader implements AutoCloseable {
        private final Path file;
        private final FileChannel ch;
        private final int nCtx;
        private final int nVocab;
        private final int nChunk;
        private final int[] tokens;
        private final ByteBuffer buf;
        private int next;

        /** Opens {@code file}; a file that is not a base-logits file, or is cut short, is a one-line error. */
        public Reader(Path file) throws IOException {
            this.file = file;
            try {
                ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw new Gguf4jException(file + ": base logits file does not exist");
            }
            try {
                long size = ch.size();
                ByteBuffer h = read(HEADER, "header");
                byte[] magic = new byte[8];
                h.get(magic);
                if (!java.util.Arrays.equals(magic, MAGIC)) {
                    throw new Gguf4jException(file + ": not a base logits file (llama-perplexity"
                            + " --kl-divergence-base): it does not start with \"_logits_\"");
                }
                nCtx = h.getInt();
                nVocab = h.getInt();
                nChunk = h.getInt();
                if (nCtx < 2 || nVocab < 1 || nChunk < 1) {
                    throw new Gguf4jException(file + ": bad header: n_ctx " + Integer.toUnsignedString(nCtx)
                            + " (>= 2), n_vocab " + nVocab + " (>= 1), n_chunk " + nChunk + " (>= 1)");
                }
                long want = HEADER + 4L * nChunk * nCtx + 2L * recordLength(nVocab) * scoredPerChunk(nCtx) * nChunk;
                if (size != want) {
                    throw new Gguf4jException(file + ": " + size + " bytes, but n_ctx " + nCtx + ", n_vocab " + nVocab
                            + " and n_chunk " + nChunk + " make " + want + (size < want ? " (truncated?)" : ""));
                }
                ByteBuffer t = read(4 * nChunk * nCtx, "tokens");
                tokens = new int[nChunk * nCtx];
                t.asIntBuffer().get(tokens);
                buf = ByteBuffer.allocate(2 * recordLength(nVocab) * scoredPerChunk(nCtx)).order(ByteOrder.LITTLE_ENDIAN);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        }

        private ByteBuffer read(int n, String what) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw new Gguf4jException(file + ": the file ends in the " + what + " (truncated?)");
                }
            }
            return b.flip();
        }

        public Path file() {
            return file;
        }

        public int contextLength() {
            return nCtx;
        }

        public int vocabulary() {
            return nVocab;
        }

        public int chunks() {
            return nChunk;
        }

        /** The evaluation tokens, {@code chunks() * contextLength()} of them (a copy). */
        public int[] tokens() {
            return tokens.clone();
        }

        /**
         * The next chunk's records into {@code out} ({@link #scoredPerChunk} x {@link #recordLength} uint16);
         * chunks come in order.
         */
        public void nextChunk(short[] out) throws IOException {
            if (next >= nChunk) {
                throw new IllegalStateException("all " + nChunk + " chunks read");
            }
            buf.clear();
            while (buf.hasRemaining()) {
                if (ch.read(buf) < 0) {
                    throw new Gguf4jException(file + ": the file ends in chunk " + next + " (truncated?)");
                }
            }
            buf.flip().asShortBuffer().get(out);
            next++;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
