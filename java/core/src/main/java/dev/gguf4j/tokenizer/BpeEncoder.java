package dev.gguf4j.tokenizer;

import java.util.Map;

/**
 * Byte-level BPE (llama.cpp's {@code llm_tokenizer_bpe_session}): split the text with the pre-tokenizer,
 * write each word's UTF-8 bytes in GPT-2's byte-level alphabet, then repeatedly merge the adjacent pair with
 * the lowest merge rank (ties: leftmost first). With {@code ignoreMerges}, a word that is itself a token is
 * emitted whole.
 */
final class BpeEncoder {
    private final Map<String, Integer> idByText;
    private final Map<String, Integer> ranks;
    private final PreTokenizer pre;
    private final boolean ignoreMerges;

    BpeEncoder(Map<String, Integer> idByText, Map<String, Integer> ranks, PreTokenizer pre, boolean ignoreMerges) {
        this.idByText = idByText;
        this.ranks = ranks;
        this.pre = pre;
        this.ignoreMerges = ignoreMerges;
    }

    /** Tokenizes {@code len} bytes of raw UTF-8 text at {@code off}, appending ids to {@code out}. */
    void encode(byte[] text, int off, int len, IntList out) {
        int[] cps = Utf8.decode(text, off, len);
        int[] ends = pre.split(cps);
        byte[] buf = new byte[4];
        StringBuilder word = new StringBuilder(64);
        Work w = new Work();
        int start = 0;
        for (int end : ends) {
            word.setLength(0);
            for (int i = start; i < end; i++) {
                int n = Utf8.encode(cps[i], buf, 0);
                for (int k = 0; k < n; k++) {
                    word.append(ByteLevel.charOf(buf[k]));
                }
            }
            start = end;
            encodeWord(word.toString(), w, out);
        }
    }

    private void encodeWord(String word, Work w, IntList out) {
        int n = word.length();
        if (n == 0) {
            return;
        }
        if (ignoreMerges) {
            Integer id = idByText.get(word);
            if (id != null) {
                out.add(id);
                return;
            }
        }
        w.reset(n);
        for (int i = 1; i < n; i++) {
            addBigram(word, w, i - 1, i);
        }
        while (!w.queue.isEmpty()) {
            int b = w.queue.pop();
            int left = w.queue.left(b);
            int right = w.queue.right(b);
            if (w.len[left] == 0 || w.len[right] == 0 || w.len[left] + w.len[right] != w.queue.length(b)) {
                continue; // stale
            }
            w.len[left] += w.len[right];
            w.len[right] = 0;
            w.next[left] = w.next[right];
            if (w.next[right] >= 0) {
                w.prev[w.next[right]] = left;
            }
            if (w.prev[left] >= 0) {
                addBigram(word, w, w.prev[left], left);
            }
            if (w.next[left] >= 0) {
                addBigram(word, w, left, w.next[left]);
            }
        }
        for (int i = 0; i != -1; i = w.next[i]) {
            String sym = word.substring(i, i + w.len[i]);
            Integer id = idByText.get(sym);
            if (id != null) {
                out.add(id);
            } else {
                // llama.cpp looks up each UTF-8 byte of the symbol as a one-byte token; only ASCII can match
                for (int k = 0; k < sym.length(); k++) {
                    char c = sym.charAt(k);
                    if (c < 0x80) {
                        Integer b = idByText.get(String.valueOf(c));
                        if (b != null) {
                            out.add(b);
                        }
                    }
                }
            }
        }
    }

    private void addBigram(String word, Work w, int left, int right) {
        // symbols never contain ' ' (the byte-level alphabet has none), so "left right" is the merge's text
        int l = w.len[left];
        int r = w.len[right];
        String key = word.substring(left, left + l) + ' ' + word.substring(right, right + r);
        Integer rank = ranks.get(key);
        if (rank != null) {
            w.queue.push(rank, left, right, l + r); // ranks < 2^24 are exact as float
        }
    }

    /** Per-word scratch: symbol chain (symbol i starts at char i) and a min-heap of bigrams by rank. */
    private static final class Work {
        int[] len = new int[16];
        int[] prev = new int[16];
        int[] next = new int[16];
        final BigramQueue queue = new BigramQueue();

        void reset(int n) {
            if (len.length < n) {
                len = new int[n];
                prev = new int[n];
                next = new int[n];
            }
            for (int i = 0; i < n; i++) {
                len[i] = 1;
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
            queue.clear();
        }
    }
}
