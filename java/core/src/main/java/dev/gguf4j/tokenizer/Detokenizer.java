package dev.gguf4j.tokenizer;

import dev.gguf4j.tokenizer.Tokenizer.Model;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Token ids back to bytes, as llama.cpp c392e50 renders them: each token's piece
 * ({@code llama_token_to_piece(special = true)}, rendered once at load: SentencePiece's U+2581 back to spaces, byte
 * tokens to their byte, the byte-level alphabet back to bytes) and {@code llama_detokenize} over a sequence (the
 * leading space removed, special tokens dropped unless asked for, {@code clean_spaces}).
 */
final class Detokenizer {
    /** SentencePiece's space, U+2581, in UTF-8. */
    static final byte[] SPACE_ESCAPE = {(byte) 0xE2, (byte) 0x96, (byte) 0x81}; // U+2581

    private final Vocabulary vocab;
    private final SpecialTokens special;
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;
    private final byte[][] pieces;

    Detokenizer(Model model, Vocabulary vocab, SpecialTokens special, boolean addSpacePrefix, boolean cleanSpaces) {
        this.vocab = vocab;
        this.special = special;
        this.addSpacePrefix = addSpacePrefix;
        this.cleanSpaces = cleanSpaces;
        int n = vocab.size();
        this.pieces = new byte[n][];
        for (int i = 0; i < n; i++) {
            pieces[i] = renderPiece(model, vocab, i);
        }
    }

    /** A token's piece (shared: not to be modified); empty for control and unknown tokens unless renderSpecial. */
    byte[] pieceRef(int id, boolean renderSpecial) {
        vocab.checkId(id);
        if (!renderSpecial && vocab.has(id, Vocabulary.ATTR_SPECIAL)) {
            return new byte[0];
        }
        return pieces[id];
    }

    /** llama.cpp's {@code llama_detokenize}; see {@link Tokenizer#decodeBytes}. */
    byte[] decode(int[] ids, boolean removeSpecial, boolean renderSpecial) {
        int from = 0;
        int to = ids.length;
        boolean removeSpace = addSpacePrefix;
        if (removeSpecial && special.addBos() && to > 0 && ids[0] == special.bos()) {
            removeSpace = false;
            from = 1;
        }
        if (removeSpecial && special.addEos() && to > from && ids[to - 1] == special.eos()) {
            to--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(16, (to - from) * 4));
        for (int i = from; i < to; i++) {
            int id = vocab.checkId(ids[i]);
            if (renderSpecial || !vocab.has(id, Vocabulary.ATTR_SPECIAL)) {
                byte[] p = pieces[id];
                int skip = removeSpace && p.length > 0 && p[0] == ' ' ? 1 : 0;
                out.write(p, skip, p.length - skip);
            }
            removeSpace = false;
        }
        byte[] b = out.toByteArray();
        if (cleanSpaces) {
            int n = cleanUpSpaces(b, b.length);
            b = Arrays.copyOf(b, n);
        }
        return b;
    }

    /** llama.cpp's three clean-up passes over detokenized text, in place; returns the new length. */
    static int cleanUpSpaces(byte[] t, int total) {
        // 1: " ?", " !", " .", " ," lose the space
        int total1 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            t[total++] = x;
        }
        // 2: " ' " becomes "'"
        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < total2 && t[i - 1] == ' ' && t[i + 1] == ' ') {
                total--;
                t[++i] = 0;
            }
            t[total++] = x;
        }
        // 3: " 's", " 'm", " 're", " 've" lose the space
        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            t[total++] = x;
        }
        return total;
    }

    /** The piece {@code llama_token_to_piece(special = true)} gives for one token. */
    private static byte[] renderPiece(Model model, Vocabulary vocab, int id) {
        int attr = vocab.attrs(id);
        byte[] utf8 = vocab.utf8(id);
        if ((attr & (Vocabulary.ATTR_SPECIAL | Vocabulary.ATTR_USER_DEFINED)) != 0) {
            return utf8;
        }
        if (model == Model.SPM || model == Model.WPM) {
            if ((attr & Vocabulary.ATTR_NORMAL) != 0) {
                return unescapeSpaces(utf8);
            }
            if ((attr & Vocabulary.ATTR_BYTE) != 0) {
                return new byte[] {(byte) parseByteToken(vocab.text(id))};
            }
            return new byte[0];
        }
        if ((attr & Vocabulary.ATTR_NORMAL) != 0) {
            return byteLevelDecode(vocab.text(id));
        }
        return new byte[0];
    }

    /** {@code strtol(text.substr(3, 2), 16)} as llama.cpp reads {@code <0xXX>}. */
    private static int parseByteToken(String t) {
        int v = 0;
        for (int i = 3; i < Math.min(5, t.length()); i++) {
            int d = Character.digit(t.charAt(i), 16);
            if (d < 0) {
                break;
            }
            v = v * 16 + d;
        }
        return v & 0xFF;
    }

    /** SentencePiece's U+2581 in UTF-8 to a space. */
    private static byte[] unescapeSpaces(byte[] s) {
        // runs once per token of the vocabulary at load: no stream, and no copy for a token without the escape
        int n = s.length;
        int escapes = 0;
        for (int i = 0; i + 2 < n; i++) {
            if (s[i] == SPACE_ESCAPE[0] && s[i + 1] == SPACE_ESCAPE[1] && s[i + 2] == SPACE_ESCAPE[2]) {
                escapes++;
                i += 2;
            }
        }
        if (escapes == 0) {
            return s;
        }
        byte[] out = new byte[n - 2 * escapes];
        int o = 0;
        for (int i = 0; i < n; i++) {
            if (i + 2 < n && s[i] == SPACE_ESCAPE[0] && s[i + 1] == SPACE_ESCAPE[1] && s[i + 2] == SPACE_ESCAPE[2]) {
                out[o++] = ' ';
                i += 2;
            } else {
                out[o++] = s[i];
            }
        }
        return out;
    }

    /** llama.cpp's {@code llama_decode_text}: byte-level alphabet back to bytes. */
    private static byte[] byteLevelDecode(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte x : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    sb.append(String.format("%02x", x & 0xFF));
                }
                sb.append(text).append(']');
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
