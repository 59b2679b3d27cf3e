package dev.gguf4j.tokenizer;

/**
 * GPT-2's byte-level alphabet: every byte maps to one printable code point. Printable Latin-1 bytes
 * ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves; the other 68 bytes map, in byte order, to U+0100,
 * U+0101, ... so that for instance the space byte becomes 'Ġ' (U+0120).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a code point of the byte-level alphabet stands for, or -1. */
    static int byteOf(int cp) {
        return cp >= 0 && cp < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[cp] : -1;
    }
}
