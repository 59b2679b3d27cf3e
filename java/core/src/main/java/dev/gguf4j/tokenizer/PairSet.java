package dev.gguf4j.tokenizer;

import java.util.Arrays;

/** The set of (code point, next code point) pairs that occur inside a set of strings; open addressing, no boxing. */
final class PairSet {
    private static final long EMPTY = -1;

    private final long[] slots;
    private final int mask;

    private PairSet(long[] slots) {
        this.slots = slots;
        this.mask = slots.length - 1;
    }

    static PairSet of(String[] texts) {
        int pairs = 0;
        for (String t : texts) {
            pairs += Math.max(0, t.length() - 1);
        }
        int cap = Integer.highestOneBit(Math.max(16, pairs * 2 + 1)) << 1;
        long[] slots = new long[cap];
        Arrays.fill(slots, EMPTY);
        PairSet set = new PairSet(slots);
        for (String t : texts) {
            int prev = -1;
            for (int i = 0; i < t.length(); ) {
                int cp = t.codePointAt(i);
                i += Character.charCount(cp);
                if (prev >= 0) {
                    set.add(key(prev, cp));
                }
                prev = cp;
            }
        }
        return set;
    }

    private static long key(int a, int b) {
        return ((long) a << 21) | b;
    }

    private static int hash(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }

    private void add(long k) {
        int i = hash(k) & mask;
        while (slots[i] != EMPTY) {
            if (slots[i] == k) {
                return;
            }
            i = (i + 1) & mask;
        }
        slots[i] = k;
    }

    boolean contains(int a, int b) {
        long k = key(a, b);
        int i = hash(k) & mask;
        while (true) {
            long s = slots[i];
            if (s == k) {
                return true;
            }
            if (s == EMPTY) {
                return false;
            }
            i = (i + 1) & mask;
        }
    }
}
