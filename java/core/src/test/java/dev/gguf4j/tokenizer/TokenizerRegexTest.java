package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * llama.cpp does not run the GPT-2 and LLaMA-3 pre-tokenizer regexes through a regex engine: it has hand-written
 * splitters for them ({@code unicode_regex_split_custom_gpt2/llama3}). Here they are ordinary Java regexes over
 * the category view (see {@link SplitRegex}). This test re-states the hand-written splitters' rules as a plain
 * state machine and checks that the regexes split random text the same way, character class by character class
 * (contractions in both cases, letters, digits in other scripts, Unicode whitespace, CR/LF runs, marks, symbols,
 * supplementary characters, code points new in Unicode 16).
 */
class TokenizerRegexTest {
    private static final int[] ALPHABET = {
        ' ', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x3000, 0x2028, 0x1680, 'a', 'Z', 'x', 0xE9, 0x4E2D,
        '1', '2', 0x663, 0xBD, '\'', '\'', 's', 'S', 't', 'T', 'r', 'R', 'e', 'E', 'v', 'l', 'L', 'd', 'D', 'm', 'M',
        '.', '!', '?', '_', '$', '~', '-', 0x1F600, 0x301, 0x200B, 0x1C89, 0x10400, 0x1D7CE, 0, 0x1F, 0x7F, 0xFFFD,
        0x212A, 0x130,
    };

    @Test
    void gpt2RegexMatchesHandWrittenSplitter() {
        PreTokenizer pre = PreTokenizer.forName("gpt-2");
        Random r = new Random(42);
        for (int n = 0; n < 30000; n++) {
            int[] cps = random(r, r.nextInt(24));
            assertArrayEquals(referenceGpt2(cps), pre.split(cps), () -> describe(cps));
        }
    }

    @Test
    void llama3RegexMatchesHandWrittenSplitter() {
        PreTokenizer pre = PreTokenizer.forName("llama-bpe");
        Random r = new Random(43);
        for (int n = 0; n < 30000; n++) {
            int[] cps = random(r, r.nextInt(24));
            assertArrayEquals(referenceLlama3(cps), pre.split(cps), () -> describe(cps));
        }
    }

    @Test
    void endAnchorMeansEndOfSegment() {
        // deepseek-llm's "\s+$"
        PreTokenizer pre = PreTokenizer.forName("deepseek-llm");
        assertEquals(List.of("a", "  ", "\n"), words(pre, "a  \n"));
        assertEquals(List.of("ab", "  "), words(pre, "ab  "));
        // ECMAScript '$' is the end of input; Java's '$' would also match before a final line terminator
        SplitRegex r = SplitRegex.compile("a$");
        IntList ends = new IntList();
        ends.add(2);
        IntList out = new IntList();
        r.split("a\n", null, null, ends, out);
        assertArrayEquals(new int[] {2}, out.toArray());
    }

    @Test
    void categoryViewQuirks() {
        // falcon's first regex lists '~' explicitly ('~' is not in the collapsed \p{S})
        assertEquals(List.of("a", "~~", "b"), words(PreTokenizer.forName("falcon"), "a~~b"));
        // non-ASCII whitespace is only \s: " ?\p{L}+" does not take it, and a lone one is left between matches
        assertEquals(List.of("a", "\u00A0", "\u00A0", "b"), words(PreTokenizer.forName("gpt-2"), "a\u00A0\u00A0b"));
        // a class with '[' inside is literal in ECMAScript (chameleon's punctuation class)
        assertEquals(List.of("x", "[", "y"), words(PreTokenizer.forName("chameleon"), "x[y"));
    }

    private static List<String> words(PreTokenizer pre, String s) {
        int[] cps = s.codePoints().toArray();
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int end : pre.split(cps)) {
            out.add(new String(cps, start, end - start));
            start = end;
        }
        return out;
    }

    private static int[] random(Random r, int len) {
        int[] cps = new int[len];
        for (int i = 0; i < len; i++) {
            cps[i] = ALPHABET[r.nextInt(ALPHABET.length)];
        }
        return cps;
    }

    private static String describe(int[] cps) {
        StringBuilder sb = new StringBuilder();
        for (int cp : cps) {
            sb.append(String.format("U+%04X ", cp));
        }
        return sb.toString();
    }

    // ---- the hand-written splitters' rules, restated (positions outside the text have no properties)

    private record Text(int[] cps) {
        boolean in(int i) {
            return i >= 0 && i < cps.length;
        }

        int at(int i) {
            return in(i) ? cps[i] : -1;
        }

        boolean letter(int i) {
            return in(i) && !UnicodeFlags.isWhitespace(cps[i]) && UnicodeFlags.category(cps[i]) == UnicodeFlags.LETTER;
        }

        boolean digit(int i) {
            return in(i) && !UnicodeFlags.isWhitespace(cps[i]) && UnicodeFlags.category(cps[i]) == UnicodeFlags.NUMBER;
        }

        boolean space(int i) {
            return in(i) && UnicodeFlags.isWhitespace(cps[i]);
        }

        /** Neither whitespace, letter nor number (and inside the text). */
        boolean other(int i) {
            return in(i) && !space(i) && !letter(i) && !digit(i);
        }

        int spaceRun(int i) {
            int k = 0;
            while (space(i + k)) {
                k++;
            }
            return k;
        }
    }

    private static int lower(int c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }

    /** Length of a contraction at i ('s 't 'm 'd 're 've 'll), 0 if none. */
    private static int contraction(Text t, int i, boolean ignoreCase) {
        if (t.at(i) != '\'' || !t.in(i + 1)) {
            return 0;
        }
        int a = ignoreCase ? lower(t.at(i + 1)) : t.at(i + 1);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return 2;
        }
        if (t.in(i + 2)) {
            int b = ignoreCase ? lower(t.at(i + 2)) : t.at(i + 2);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return 3;
            }
        }
        return 0;
    }

    static int[] referenceGpt2(int[] cps) {
        Text t = new Text(cps);
        List<Integer> ends = new ArrayList<>();
        int pos = 0;
        while (pos < cps.length) {
            int c = contraction(t, pos, false);
            int p = t.at(pos) == ' ' ? pos + 1 : pos; // optional leading space
            if (c > 0) {
                pos += c;
            } else if (t.letter(p)) {
                pos = p;
                while (t.letter(pos)) {
                    pos++;
                }
            } else if (t.digit(p)) {
                pos = p;
                while (t.digit(pos)) {
                    pos++;
                }
            } else if (t.other(p)) {
                pos = p;
                while (t.other(pos)) {
                    pos++;
                }
            } else {
                int ws = t.spaceRun(pos);
                if (ws > 1 && t.in(pos + ws)) {
                    pos += ws - 1; // \s+(?!\S): leave the last space for the next word
                } else if (ws > 0) {
                    pos += ws;
                } else {
                    pos++;
                }
            }
            ends.add(pos);
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] referenceLlama3(int[] cps) {
        Text t = new Text(cps);
        List<Integer> ends = new ArrayList<>();
        int pos = 0;
        while (pos < cps.length) {
            int cp = t.at(pos);
            int c = contraction(t, pos, true);
            if (c > 0) {
                pos += c;
                ends.add(pos);
                continue;
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (cp != '\r' && cp != '\n' && !t.digit(pos) && (t.letter(pos) || t.letter(pos + 1))) {
                pos++;
                while (t.letter(pos)) {
                    pos++;
                }
                ends.add(pos);
                continue;
            }
            // \p{N}{1,3}
            if (t.digit(pos)) {
                int start = pos;
                while (t.digit(pos) && pos - start < 3) {
                    pos++;
                }
                ends.add(pos);
                continue;
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            int p = cp == ' ' ? pos + 1 : pos;
            if (t.other(p)) {
                pos = p;
                while (t.other(pos)) {
                    pos++;
                }
                while (t.at(pos) == '\r' || t.at(pos) == '\n') {
                    pos++;
                }
                ends.add(pos);
                continue;
            }
            int ws = t.spaceRun(pos);
            int lastNewline = -1;
            for (int k = 0; k < ws; k++) {
                if (t.at(pos + k) == '\r' || t.at(pos + k) == '\n') {
                    lastNewline = pos + k;
                }
            }
            if (lastNewline >= 0) {
                pos = lastNewline + 1; // \s*[\r\n]+
            } else if (ws > 1 && t.in(pos + ws)) {
                pos += ws - 1; // \s+(?!\S)
            } else if (ws > 0) {
                pos += ws; // \s+
            } else {
                pos++;
            }
            ends.add(pos);
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }
}
