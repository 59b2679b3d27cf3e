package dev.gguf4j.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * SentencePiece-style BPE over UTF-8 text (llama.cpp's {@code llm_tokenizer_spm_session}): start from one
 * symbol per UTF-8 character, repeatedly merge the adjacent pair whose concatenation is the vocabulary entry
 * with the highest score (ties: leftmost first), and emit each final symbol as its token, or as byte tokens
 * ({@code <0xXX>}) when it is not in the vocabulary.
 */
final class SpmEncoder {
    private final Map<String, Integer> idByUtf8;
    private final float[] scores;
    private final int[] byteTokens;
    private final PairSet pairs;

    /**
     * @param tokenTexts every vocabulary text; the code point pairs occurring in them tell where the text can be
     *     cut into independent pieces (see {@link #encode})
     */
    SpmEncoder(Map<String, Integer> idByUtf8, float[] scores, int[] byteTokens, String[] tokenTexts) {
        this.idByUtf8 = idByUtf8;
        this.scores = scores;
        this.byteTokens = byteTokens;
        this.pairs = PairSet.of(tokenTexts);
    }

    /**
     * Tokenizes already escaped text (spaces replaced by U+2581) and appends the ids to {@code out}.
     *
     * <p>llama.cpp merges over the whole text at once. Here the text is first cut between adjacent characters
     * that occur next to each other in no vocabulary entry: no merge can ever join them (every merged symbol is a
     * vocabulary entry), and merges on either side of such a cut do not affect each other, so tokenizing the
     * pieces separately gives the same tokens while keeping the merge queue small.
     */
    void encode(byte[] text, IntList out) {
        int n = 0;
        int[] start = new int[16];
        int[] len = new int[16];
        for (int off = 0; off < text.length; ) {
            int l = Math.min(Utf8.sequenceLength(text[off]), text.length - off);
            if (n == start.length) {
                start = Arrays.copyOf(start, n * 2);
                len = Arrays.copyOf(len, n * 2);
            }
            start[n] = off;
            len[n] = l;
            n++;
            off += l;
        }
        if (n == 0) {
            return;
        }
        Scratch w = new Scratch();
        int from = 0;
        int prevCode = symbolCode(text, start[0], len[0]);
        for (int i = 1; i < n; i++) {
            int code = symbolCode(text, start[i], len[i]);
            if (prevCode < 0 || code < 0 || !pairs.contains(prevCode, code)) {
                merge(text, start, len, from, i, w, out);
                from = i;
            }
            prevCode = code;
        }
        merge(text, start, len, from, n, w, out);
    }

    /** The code point of a well-formed UTF-8 symbol, else -1 (such a symbol is in no vocabulary entry). */
    private static int symbolCode(byte[] s, int off, int len) {
        int b0 = s[off] & 0xFF;
        if (len == 1) {
            return b0 < 0x80 ? b0 : -1;
        }
        if (len != Utf8.sequenceLength(s[off])) {
            return -1;
        }
        int cp = len == 2 ? b0 & 0x1F : len == 3 ? b0 & 0x0F : b0 & 0x07;
        for (int k = 1; k < len; k++) {
            int b = s[off + k] & 0xFF;
            if ((b & 0xC0) != 0x80) {
                return -1;
            }
            cp = (cp << 6) | (b & 0x3F);
        }
        int min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > UnicodeFlags.MAX_CODE_POINT || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return -1;
        }
        return cp;
    }

    /** llama.cpp's merge loop over symbols {@code [from, to)}. */
    private void merge(byte[] text, int[] start, int[] len, int from, int to, Scratch w, IntList out) {
        int n = to - from;
        w.reset(n);
        int[] prev = w.prev;
        int[] next = w.next;
        int[] sl = w.len;
        int[] ss = w.start;
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            sl[i] = len[from + i];
            ss[i] = start[from + i];
        }
        BigramQueue heap = w.heap;
        for (int i = 1; i < n; i++) {
            tryAdd(text, ss, sl, i - 1, i, heap);
        }
        while (!heap.isEmpty()) {
            int b = heap.pop();
            int left = heap.left(b);
            int right = heap.right(b);
            if (sl[left] == 0 || sl[right] == 0 || sl[left] + sl[right] != heap.length(b)) {
                continue; // stale: one side was merged since
            }
            sl[left] += sl[right];
            sl[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                tryAdd(text, ss, sl, prev[left], left, heap);
            }
            if (next[left] >= 0) {
                tryAdd(text, ss, sl, left, next[left], heap);
            }
        }
        for (int i = 0; i != -1; i = next[i]) {
            Integer id = idByUtf8.get(Utf8.key(text, ss[i], sl[i]));
            if (id != null) {
                out.add(id);
            } else {
                for (int j = 0; j < sl[i]; j++) {
                    out.add(byteToken(text[ss[i] + j]));
                }
            }
        }
    }

    /** Per-call scratch arrays, reused across pieces. */
    private static final class Scratch {
        int[] prev = new int[16];
        int[] next = new int[16];
        int[] len = new int[16];
        int[] start = new int[16];
        final BigramQueue heap = new BigramQueue();

        void reset(int n) {
            if (prev.length < n) {
                int cap = Math.max(n, prev.length * 2);
                prev = new int[cap];
                next = new int[cap];
                len = new int[cap];
                start = new int[cap];
            }
            heap.clear();
        }
    }

    private int byteToken(byte b) {
        int id = byteTokens[b & 0xFF];
        if (id < 0) {
            throw new dev.gguf4j.Gguf4jException(String.format(
                    "SPM vocabulary has no byte token <0x%02X> for byte fallback", b & 0xFF));
        }
        return id;
    }

    private void tryAdd(byte[] text, int[] start, int[] len, int left, int right, BigramQueue heap) {
        int size = len[left] + len[right];
        Integer id = idByUtf8.get(Utf8.key(text, start[left], size));
        if (id == null) {
            return;
        }
        heap.push(-scores[id], left, right, size); // highest score first
    }
}
