package dev.gguf4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * llama.cpp's {@code tokenizer_st_partition}: finds the special tokens (control, user-defined and unknown) in raw
 * text before the text is encoded, longest token (in UTF-8 bytes) first, ties in id order, honouring their
 * lstrip / rstrip attributes (read from the {@link Vocabulary} when splitting).
 */
final class SpecialTokenSplitter {
    private final Vocabulary vocab;
    private final int[] order;
    private final byte[][] bytes;
    private final boolean anyUserDefined;

    /** The special tokens of {@code vocab} as its attributes are now (after {@link SpecialTokens#read}). */
    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        int n = vocab.size();
        List<Integer> special = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (vocab.has(i, Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_USER_DEFINED | Vocabulary.ATTR_UNKNOWN)) {
                special.add(i);
            }
        }
        special.sort(Comparator.comparingInt((Integer i) -> -vocab.utf8(i).length).thenComparingInt(i -> i));
        this.order = special.stream().mapToInt(Integer::intValue).toArray();
        this.bytes = new byte[order.length][];
        boolean userDefined = false;
        for (int k = 0; k < order.length; k++) {
            bytes[k] = vocab.utf8(order[k]);
            userDefined |= vocab.has(order[k], Vocabulary.ATTR_USER_DEFINED);
        }
        this.anyUserDefined = userDefined;
    }

    /** The special tokens in matching order (shared: not to be modified). */
    int[] order() {
        return order;
    }

    /**
     * Splits the text around occurrences of special tokens, longest token first. Returns triples (token id, -, -)
     * or (-1, offset, length).
     *
     * @param parseSpecial match control and unknown tokens too (user-defined ones are matched either way)
     */
    IntList split(byte[] text, boolean parseSpecial) {
        IntList frags = new IntList(12);
        if (text.length == 0) {
            return frags;
        }
        frags.add(-1);
        frags.add(0);
        frags.add(text.length);
        if (!parseSpecial && !anyUserDefined) {
            return frags;
        }
        for (int k = 0; k < order.length; k++) {
            int id = order[k];
            int attr = vocab.attrs(id);
            if (!parseSpecial && (attr & Vocabulary.ATTR_SPECIAL) != 0) {
                continue;
            }
            byte[] pat = bytes[k];
            IntList next = null;
            for (int f = 0; f < frags.size(); f += 3) {
                int tok = frags.get(f);
                int pos = frags.get(f + 1);
                int end = pos + frags.get(f + 2);
                int m = tok >= 0 ? -1 : indexOf(text, pat, pos, end);
                if (m < 0) {
                    if (next != null) {
                        next.add(tok);
                        next.add(frags.get(f + 1));
                        next.add(frags.get(f + 2));
                    }
                    continue;
                }
                if (next == null) {
                    next = new IntList(frags.size() + 12);
                    for (int g = 0; g < f; g++) {
                        next.add(frags.get(g));
                    }
                }
                while (m >= 0) {
                    int leftEnd = m;
                    if ((attr & Vocabulary.ATTR_LSTRIP) != 0) {
                        while (leftEnd > pos && isSpace(text[leftEnd - 1])) {
                            leftEnd--;
                        }
                    }
                    if (leftEnd > pos) {
                        next.add(-1);
                        next.add(pos);
                        next.add(leftEnd - pos);
                    }
                    next.add(id);
                    next.add(0);
                    next.add(0);
                    pos = m + pat.length;
                    if (pos >= end) {
                        break;
                    }
                    if ((attr & Vocabulary.ATTR_RSTRIP) != 0) {
                        while (pos < end && isSpace(text[pos])) {
                            pos++;
                        }
                    }
                    m = indexOf(text, pat, pos, end);
                    if (m < 0 && pos < end) {
                        next.add(-1);
                        next.add(pos);
                        next.add(end - pos);
                    }
                }
            }
            if (next != null) {
                frags = next;
            }
        }
        return frags;
    }

    /** C's isspace in the "C" locale. */
    private static boolean isSpace(byte b) {
        return b == ' ' || (b >= 0x09 && b <= 0x0D);
    }

    private static int indexOf(byte[] s, byte[] p, int from, int end) {
        int last = end - p.length;
        byte first = p[0];
        outer:
        for (int i = from; i <= last; i++) {
            if (s[i] != first) {
                continue;
            }
            for (int j = 1; j < p.length; j++) {
                if (s[i + j] != p[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
