package dev.gguf4j.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a stream of token ids into text, emitting only complete UTF-8 characters: a character whose bytes are
 * split across tokens (byte-fallback tokens in SPM, partial byte sequences in byte-level BPE) is held back until
 * its last byte arrives. Malformed bytes become U+FFFD as soon as they are known to be malformed.
 *
 * <p>The text is the concatenation of the tokens' pieces ({@link Tokenizer#tokenBytes(int, boolean)}), which is
 * what llama.cpp's examples print while generating: no leading-space removal and no {@code clean_spaces}
 * clean-up (use {@link Tokenizer#decode(int[])} for those). Not thread-safe: one decoder per stream.
 */
public final class Decoder {
    private final Tokenizer tokenizer;
    private final boolean renderSpecial;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private byte[] pending = new byte[0];

    Decoder(Tokenizer tokenizer, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
    }

    /** Adds one token; returns the text it completes (possibly empty). */
    public String next(int id) {
        return feed(tokenizer.pieceRef(id, renderSpecial));
    }

    /** Adds several tokens; returns the text they complete. */
    public String next(int... ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(next(id));
        }
        return sb.toString();
    }

    /** Adds raw bytes; returns the text they complete. */
    public String feed(byte[] bytes) {
        if (bytes.length == 0) {
            return "";
        }
        byte[] all = pending.length == 0 ? bytes : concat(pending, bytes);
        ByteBuffer in = ByteBuffer.wrap(all);
        CharBuffer out = CharBuffer.allocate(all.length + 1);
        utf8.decode(in, out, false);
        pending = in.hasRemaining() ? Arrays.copyOfRange(all, in.position(), all.length) : new byte[0];
        out.flip();
        return out.toString();
    }

    /** Ends the stream: returns held-back bytes (an incomplete character, as U+FFFD) and resets the decoder. */
    public String finish() {
        ByteBuffer in = ByteBuffer.wrap(pending);
        CharBuffer out = CharBuffer.allocate(pending.length + 2);
        utf8.decode(in, out, true);
        utf8.flush(out);
        utf8.reset();
        pending = new byte[0];
        out.flip();
        return out.toString();
    }

    /** How many bytes of an incomplete character are held back. */
    public int pendingBytes() {
        return pending.length;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
