package dev.gguf4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** UTF-8 helpers with llama.cpp's rules for invalid input. */
final class Utf8 {
    static final int REPLACEMENT = 0xFFFD;

    private Utf8() {
    }

    /**
     * The sequence length announced by a lead byte, from its high nibble (0x0-0xB: 1, 0xC-0xD: 2, 0xE: 3,
     * 0xF: 4). Continuation bytes count as 1, as in llama.cpp's {@code unicode_len_utf8}.
     */
    static int sequenceLength(byte b) {
        int hi = (b & 0xFF) >>> 4;
        return hi < 0xC ? 1 : hi < 0xE ? 2 : hi == 0xE ? 3 : 4;
    }

    /**
     * Decodes {@code len} bytes at {@code off} into code points. A byte that does not start a well-formed
     * sequence (lead byte with its continuation bytes inside the range) gives U+FFFD and decoding resumes at
     * the next byte, as llama.cpp's {@code unicode_cpts_from_utf8} does. Overlong forms and encoded
     * surrogates are accepted as llama.cpp accepts them; values above U+10FFFF (which llama.cpp cannot
     * re-encode) become U+FFFD.
     */
    static int[] decode(byte[] s, int off, int len) {
        int[] out = new int[len];
        int n = 0;
        int end = off + len;
        int i = off;
        while (i < end) {
            int b0 = s[i] & 0xFF;
            int cp;
            int size;
            if ((b0 & 0x80) == 0) {
                cp = b0;
                size = 1;
            } else if ((b0 & 0x40) == 0) {
                cp = -1;
                size = 1;
            } else if ((b0 & 0x20) == 0) {
                size = 2;
                cp = cont(s, i, 1, end) ? ((b0 & 0x1F) << 6) | (s[i + 1] & 0x3F) : -1;
            } else if ((b0 & 0x10) == 0) {
                size = 3;
                cp = cont(s, i, 2, end)
                        ? ((b0 & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F)
                        : -1;
            } else if ((b0 & 0x08) == 0) {
                size = 4;
                cp = cont(s, i, 3, end)
                        ? ((b0 & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F)
                        : -1;
            } else {
                cp = -1;
                size = 1;
            }
            if (cp < 0) {
                out[n++] = REPLACEMENT;
                i += 1;
            } else {
                out[n++] = cp > UnicodeFlags.MAX_CODE_POINT ? REPLACEMENT : cp;
                i += size;
            }
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    private static boolean cont(byte[] s, int i, int count, int end) {
        if (i + count >= end) {
            return false;
        }
        for (int k = 1; k <= count; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        return true;
    }

    /** Appends the UTF-8 encoding of {@code cp} (0..0x10FFFF, surrogates encoded as three bytes). */
    static int encode(int cp, byte[] dst, int pos) {
        if (cp < 0x80) {
            dst[pos] = (byte) cp;
            return 1;
        }
        if (cp < 0x800) {
            dst[pos] = (byte) (0xC0 | (cp >> 6));
            dst[pos + 1] = (byte) (0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000) {
            dst[pos] = (byte) (0xE0 | (cp >> 12));
            dst[pos + 1] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            dst[pos + 2] = (byte) (0x80 | (cp & 0x3F));
            return 3;
        }
        dst[pos] = (byte) (0xF0 | (cp >> 18));
        dst[pos + 1] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        dst[pos + 2] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        dst[pos + 3] = (byte) (0x80 | (cp & 0x3F));
        return 4;
    }

    /** UTF-8 bytes of a Java string; unpaired surrogates become U+FFFD (Java's encoder would write '?'). */
    static byte[] bytes(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return bytesSlow(s);
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytesSlow(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            sb.appendCodePoint(Character.isSurrogate((char) cp) && cp < 0x10000 ? REPLACEMENT : cp);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A string whose chars are the given bytes (ISO-8859-1): a cheap, exact hash key for a byte sequence. */
    static String key(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.ISO_8859_1);
    }

    static String key(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
