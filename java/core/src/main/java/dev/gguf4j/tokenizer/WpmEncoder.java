package dev.gguf4j.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * WordPiece ({@code tokenizer.ggml.model = "bert"}), as llama.cpp c392e50's {@code llm_tokenizer_wpm_session}
 * (src/llama-vocab.cpp): the text is split into words on whitespace, each code point mapped to the first code point
 * of its NFD form and lower-cased (Unicode's simple mapping), control characters, U+0000 and U+FFFD dropped;
 * punctuation, ASCII symbols and CJK ideographs are words of their own. Each word, prefixed with U+2581 (the
 * converter writes word-initial pieces with it and continuation pieces without "##"), is covered greedily by the
 * longest vocabulary entries from the left; a word with a piece that matches nothing becomes the unknown token.
 */
final class WpmEncoder {
    private static final byte[] PHANTOM_SPACE = {(byte) 0xE2, (byte) 0x96, (byte) 0x81};

    private final Map<String, Integer> idByUtf8;
    private final int maxTokenLength; // in UTF-8 bytes
    private final int unk;

    WpmEncoder(Map<String, Integer> idByUtf8, int maxTokenLength, int unk) {
        this.idByUtf8 = idByUtf8;
        this.maxTokenLength = maxTokenLength;
        this.unk = unk;
    }

    void encode(byte[] utf8, int off, int len, IntList out) {
        for (byte[] word : words(new String(utf8, off, len, java.nio.charset.StandardCharsets.UTF_8))) {
            int n = word.length + PHANTOM_SPACE.length;
            byte[] w = new byte[n];
            System.arraycopy(PHANTOM_SPACE, 0, w, 0, PHANTOM_SPACE.length);
            System.arraycopy(word, 0, w, PHANTOM_SPACE.length, word.length);
            int before = out.size();
            for (int i = 0; i < n; i++) {
                boolean match = false;
                for (int j = Math.min(n, i + maxTokenLength + 1); j > i; j--) {
                    Integer id = idByUtf8.get(Utf8.key(w, i, j - i));
                    if (id != null) {
                        out.add(id);
                        match = true;
                        i = j - 1;
                        break;
                    }
                }
                if (!match) { // discard the word's pieces
                    out.truncate(before);
                    break;
                }
            }
            if (out.size() == before) {
                if (unk < 0) {
                    throw new dev.gguf4j.Gguf4jException("the WordPiece tokenizer has no unknown token for a word"
                            + " it cannot cover");
                }
                out.add(unk);
            }
        }
    }

    /** llama.cpp's {@code preprocess}: the words of {@code text}, as UTF-8, never empty. */
    static List<byte[]> words(String text) {
        List<byte[]> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp0 = text.codePointAt(i);
            i += Character.charCount(cp0);
            int cp = nfdFirst(cp0);
            if (UnicodeFlags.isWhitespace(cp)) {
                flush(cur, words);
                continue;
            }
            int cat = UnicodeFlags.category(cp);
            if (cp == 0 || cp == 0xFFFD || cat == UnicodeFlags.CONTROL) {
                continue;
            }
            int lower = Character.toLowerCase(cp);
            if (cat == UnicodeFlags.PUNCTUATION || (cp < 0x7F && cat == UnicodeFlags.SYMBOL) || isChinese(cp)) {
                flush(cur, words);
                cur.appendCodePoint(lower);
                flush(cur, words);
            } else {
                cur.appendCodePoint(lower);
            }
        }
        flush(cur, words);
        return words;
    }

    private static void flush(StringBuilder cur, List<byte[]> words) {
        if (!cur.isEmpty()) {
            words.add(cur.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            cur.setLength(0);
        }
    }

    /** The first code point of {@code cp}'s canonical decomposition (llama.cpp's unicode_cpts_normalize_nfd table). */
    static int nfdFirst(int cp) {
        if (cp < 0xC0 || Character.isSurrogate((char) cp) && cp < 0x10000) {
            return cp;
        }
        String s = new String(Character.toChars(cp));
        return Normalizer.isNormalized(s, Normalizer.Form.NFD) ? cp
                : Normalizer.normalize(s, Normalizer.Form.NFD).codePointAt(0);
    }

    /** The CJK ranges of llama.cpp's is_chinese_char (which follows Hugging Face's, 0x2B920 included). */
    private static boolean isChinese(int cp) {
        return (cp >= 0x04E00 && cp <= 0x09FFF) || (cp >= 0x03400 && cp <= 0x04DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0x0F900 && cp <= 0x0FAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
