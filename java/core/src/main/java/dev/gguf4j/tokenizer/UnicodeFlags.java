package dev.gguf4j.tokenizer;

/**
 * Code point classification as llama.cpp (c392e50) sees it: one general category group per code point
 * (letter, number, mark, punctuation, symbol, separator, control, undefined) plus the Unicode White_Space
 * property.
 *
 * <p>The categories come from {@link Character#getType(int)}. Java 25 implements Unicode 16.0, while
 * llama.cpp's tables were generated from Unicode 15.1, so code points first assigned in Unicode 16.0 are
 * reported as {@link #UNDEFINED} here, exactly as llama.cpp classifies them. (This list was checked against
 * llama.cpp's {@code unicode-data.cpp}: with it, all 0x110000 code points agree.)
 */
final class UnicodeFlags {
    static final int UNDEFINED = 0;
    static final int NUMBER = 1;
    static final int LETTER = 2;
    static final int SEPARATOR = 3;
    static final int MARK = 4;
    static final int PUNCTUATION = 5;
    static final int SYMBOL = 6;
    static final int CONTROL = 7;

    static final int MAX_CODE_POINT = 0x10FFFF;

    /** Inclusive ranges of code points new in Unicode 16.0 (unassigned in the tables llama.cpp uses). */
    private static final int[] UNICODE_16_ADDITIONS = {
        0x0897, 0x0897, 0x1B4E, 0x1B4F, 0x1B7F, 0x1B7F, 0x1C89, 0x1C8A, 0x2427, 0x2429, 0x31E4, 0x31E5,
        0xA7CB, 0xA7CD, 0xA7DA, 0xA7DC, 0x105C0, 0x105F3, 0x10D40, 0x10D65, 0x10D69, 0x10D85, 0x10D8E, 0x10D8F,
        0x10EC2, 0x10EC4, 0x10EFC, 0x10EFC, 0x11380, 0x11389, 0x1138B, 0x1138B, 0x1138E, 0x1138E, 0x11390,
        0x113B5, 0x113B7, 0x113C0, 0x113C2, 0x113C2, 0x113C5, 0x113C5, 0x113C7, 0x113CA, 0x113CC, 0x113D5,
        0x113D7, 0x113D8, 0x113E1, 0x113E2, 0x116D0, 0x116E3, 0x11BC0, 0x11BE1, 0x11BF0, 0x11BF9, 0x11F5A,
        0x11F5A, 0x13460, 0x143FA, 0x16100, 0x16139, 0x16D40, 0x16D79, 0x18CFF, 0x18CFF, 0x1CC00, 0x1CCF9,
        0x1CD00, 0x1CEB3, 0x1E5D0, 0x1E5FA, 0x1E5FF, 0x1E5FF, 0x1F8B2, 0x1F8BB, 0x1F8C0, 0x1F8C1, 0x1FA89,
        0x1FA89, 0x1FA8F, 0x1FA8F, 0x1FABE, 0x1FABE, 0x1FAC6, 0x1FAC6, 0x1FADC, 0x1FADC, 0x1FADF, 0x1FADF,
        0x1FAE9, 0x1FAE9, 0x1FBCB, 0x1FBEF,
    };

    /** Categories of the 0x0000..0xFFFF range, precomputed (64 KiB). */
    private static final byte[] BMP = new byte[0x10000];

    static {
        for (int cp = 0; cp < 0x10000; cp++) {
            BMP[cp] = (byte) compute(cp);
        }
    }

    private UnicodeFlags() {
    }

    /** The category group of {@code cp}; {@link #UNDEFINED} outside 0..0x10FFFF. */
    static int category(int cp) {
        if (cp >= 0 && cp < 0x10000) {
            return BMP[cp];
        }
        return compute(cp);
    }

    /** The Unicode White_Space property (25 code points), which is llama.cpp's whitespace set. */
    static boolean isWhitespace(int cp) {
        if (cp < 0x80) {
            return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
        }
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028
                || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    private static int compute(int cp) {
        if (cp < 0 || cp > MAX_CODE_POINT) {
            return UNDEFINED;
        }
        int group = switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                    Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                    Character.OTHER_SYMBOL -> SYMBOL;
            default -> UNDEFINED;
        };
        if (group != UNDEFINED && isUnicode16Addition(cp)) {
            return UNDEFINED;
        }
        return group;
    }

    private static boolean isUnicode16Addition(int cp) {
        int lo = 0;
        int hi = UNICODE_16_ADDITIONS.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < UNICODE_16_ADDITIONS[2 * mid]) {
                hi = mid - 1;
            } else if (cp > UNICODE_16_ADDITIONS[2 * mid + 1]) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }
}
