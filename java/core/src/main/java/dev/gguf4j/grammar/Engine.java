package dev.gguf4j.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;

/**
 * The grammar run over UTF-8 bytes, as llama-grammar.cpp runs it over code points: a state is a set of pushdown
 * stacks whose tops are character elements (an empty stack means the grammar may end here), plus a partial UTF-8
 * sequence (llama.cpp's {@code llama_partial_utf8}: a character whose bytes are split across tokens). Stacks are
 * hash-consed (a stack is a node: element position and the stack under it) and states are interned, so that a
 * byte's transition from a state is computed once and cached: after the first visits the grammar runs like a
 * lazily built DFA over bytes. Not thread-safe; one per matcher.
 */
final class Engine {
    private static final int EMPTY = 0; // the empty stack's id

    private final Grammar g;
    // stack nodes: top element position and the id of the stack under it
    private int[] stackPos = new int[64];
    private int[] stackParent = new int[64];
    private int stackCount = 1;
    private final HashMap<Long, Integer> stackIds = new HashMap<>();
    /** Per stack id: the stacks it expands to (tops at character elements, or empty); null until computed. */
    private int[][] expanded = new int[64][];

    private HashMap<Key, State> states = new HashMap<>();
    private final List<State> stateList = new ArrayList<>();
    private State initial;
    /** States interned before the caches are dropped (memory bound: each state may hold 256 transitions). */
    static final int MAX_STATES = 20_000;

    Engine(Grammar g) {
        this.g = g;
        stackPos[0] = -1;
        stackParent[0] = -1;
        // the start rule's alternatives, as llama_grammar_init_impl
        IntSet out = new IntSet();
        int p = g.ruleStart[g.root];
        while (true) {
            int s = isEndOfSequence(p) ? EMPTY : push(EMPTY, p);
            expand(s, out);
            while (!isEndOfSequence(p)) {
                p++;
            }
            if (g.type[p] == Grammar.ALT) {
                p++;
            } else {
                break;
            }
        }
        initial = intern(out.sorted(), 0, 0);
    }

    State initial() {
        if (initial.dropped) {
            initial = reintern(initial);
        }
        return initial;
    }

    /** A state: sorted stack ids and a partial UTF-8 sequence (its value so far and the bytes still to come). */
    static final class State {
        final int[] stacks;
        final int partialValue;
        final int partialRemain;
        /** The grammar may end here: an empty stack and no partial character. */
        final boolean canEnd;
        State[] next; // by byte; DEAD_MARK for "no transition"
        long[] allowed; // token mask, cached by GrammarMatcher
        byte live; // 0 unknown, 1 some token or EOG continues, 2 none
        boolean dropped;

        State(int[] stacks, int partialValue, int partialRemain) {
            this.stacks = stacks;
            this.partialValue = partialValue;
            this.partialRemain = partialRemain;
            this.canEnd = partialRemain == 0 && stacks.length > 0 && stacks[0] == EMPTY;
        }
    }

    private static final State DEAD_MARK = new State(new int[0], 0, 0);

    private record Key(int[] stacks, int value, int remain) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.value == value && k.remain == remain && Arrays.equals(k.stacks, stacks);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(stacks) * 31 + value * 7 + remain;
        }
    }

    private State intern(int[] stacks, int value, int remain) {
        Key k = new Key(stacks, value, remain);
        State s = states.get(k);
        if (s == null) {
            s = new State(stacks, value, remain);
            states.put(k, s);
            stateList.add(s);
        }
        return s;
    }

    /** A state from before the caches were dropped, interned again. */
    State reintern(State s) {
        return intern(s.stacks, s.partialValue, s.partialRemain);
    }

    /** Drops every cached transition and token mask when too many states have been interned. */
    void trim() {
        if (stateList.size() <= MAX_STATES) {
            return;
        }
        for (State s : stateList) {
            s.next = null;
            s.allowed = null;
            s.dropped = true;
        }
        stateList.clear();
        states = new HashMap<>();
    }

    /** Drops every cached token mask (their memory is bounded separately from the transitions'). */
    void dropMasks() {
        for (State s : stateList) {
            s.allowed = null;
        }
    }

    int stateCount() {
        return stateList.size();
    }

    /** The state after byte {@code b} (0..255), or null if no sentence of the grammar continues so. */
    State step(State s, int b) {
        State[] next = s.next;
        if (next == null) {
            next = s.next = new State[256];
        }
        State t = next[b];
        if (t == null) {
            t = computeStep(s, b);
            next[b] = t == null ? DEAD_MARK : t;
            return t;
        }
        return t == DEAD_MARK ? null : t;
    }

    /**
     * One byte. UTF-8 is checked as Unicode's table of well-formed byte sequences has it (no overlong forms, no
     * surrogates, nothing past U+10FFFF), so that every partial character can still be completed; the partial
     * value keeps the sequence's length in its top bits.
     */
    private State computeStep(State s, int b) {
        if (s.partialRemain == 0) {
            if (b < 0x80) {
                return b == 0 ? null : acceptCodePoint(s.stacks, b);
            }
            int n;
            int v;
            if (b >= 0xC2 && b <= 0xDF) {
                n = 1;
                v = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                n = 2;
                v = b & 0x0F;
            } else if (b >= 0xF0 && b <= 0xF4) {
                n = 3;
                v = b & 0x07;
            } else {
                return null; // a continuation byte first, C0/C1 (overlong), or past U+10FFFF
            }
            return partial(s.stacks, v, n, n + 1);
        }
        if ((b & 0xC0) != 0x80) {
            return null;
        }
        int length = s.partialValue >>> 24;
        int v = s.partialValue & 0xFFFFFF;
        if (s.partialRemain == length - 1) { // the second byte: its range depends on the first
            if (length == 3 && ((v == 0 && b < 0xA0) || (v == 0xD && b > 0x9F))) {
                return null; // overlong, or a surrogate
            }
            if (length == 4 && ((v == 0 && b < 0x90) || (v == 4 && b > 0x8F))) {
                return null; // overlong, or past U+10FFFF
            }
        }
        v = (v << 6) | (b & 0x3F);
        int n = s.partialRemain - 1;
        if (n == 0) {
            return acceptCodePoint(s.stacks, v);
        }
        return partial(s.stacks, v, n, length);
    }

    /** The stacks whose tops some completion of the partial character could match (llama_grammar_match_partial_char). */
    private State partial(int[] stacks, int v, int n, int length) {
        int low = v << (n * 6);
        int high = low | ((1 << (n * 6)) - 1);
        if (low == 0) {
            if (n == 2) {
                low = 1 << 11;
            } else if (n == 3) {
                low = 1 << 16;
            }
        }
        int[] kept = new int[stacks.length];
        int k = 0;
        for (int id : stacks) {
            if (id != EMPTY && matchesRange(stackPos[id], low, high)) {
                kept[k++] = id;
            }
        }
        return k == 0 ? null : intern(Arrays.copyOf(kept, k), v | (length << 24), n);
    }

    private boolean matchesRange(int pos, int low, int high) {
        int[] type = g.type;
        int[] value = g.value;
        boolean positive = type[pos] == Grammar.CHAR || type[pos] == Grammar.CHAR_ANY;
        do {
            if (type[pos + 1] == Grammar.CHAR_RNG_UPPER) {
                if (value[pos] <= high && low <= value[pos + 1]) {
                    return positive;
                }
                pos += 2;
            } else if (type[pos] == Grammar.CHAR_ANY) {
                return true;
            } else {
                if (low <= value[pos] && value[pos] <= high) {
                    return positive;
                }
                pos++;
            }
        } while (type[pos] == Grammar.CHAR_ALT);
        return !positive;
    }

    private boolean matchesChar(int pos, int c) {
        int[] type = g.type;
        int[] value = g.value;
        boolean positive = type[pos] == Grammar.CHAR || type[pos] == Grammar.CHAR_ANY;
        boolean found = false;
        do {
            if (type[pos + 1] == Grammar.CHAR_RNG_UPPER) {
                found |= value[pos] <= c && c <= value[pos + 1];
                pos += 2;
            } else if (type[pos] == Grammar.CHAR_ANY) {
                found = true;
                pos++;
            } else {
                found |= value[pos] == c;
                pos++;
            }
        } while (type[pos] == Grammar.CHAR_ALT);
        return found == positive;
    }

    private State acceptCodePoint(int[] stacks, int c) {
        IntSet out = null;
        for (int id : stacks) {
            if (id == EMPTY) {
                continue;
            }
            int top = stackPos[id];
            if (matchesChar(top, c)) {
                int after = g.charEnd[top];
                int base = stackParent[id];
                if (!isEndOfSequence(after)) {
                    base = push(base, after);
                }
                if (out == null) {
                    out = new IntSet();
                }
                for (int e : expanded(base)) {
                    out.add(e);
                }
            }
        }
        return out == null ? null : intern(out.sorted(), 0, 0);
    }

    private boolean isEndOfSequence(int p) {
        int t = g.type[p];
        return t == Grammar.END || t == Grammar.ALT;
    }

    private int push(int parent, int pos) {
        long key = ((long) pos << 32) | (parent & 0xffffffffL);
        Integer id = stackIds.get(key);
        if (id != null) {
            return id;
        }
        int n = stackCount++;
        if (n == stackPos.length) {
            stackPos = Arrays.copyOf(stackPos, n * 2);
            stackParent = Arrays.copyOf(stackParent, n * 2);
            expanded = Arrays.copyOf(expanded, n * 2);
        }
        stackPos[n] = pos;
        stackParent[n] = parent;
        stackIds.put(key, n);
        return n;
    }

    /** llama_grammar_advance_stack, cached per stack: the stacks whose tops are characters (or empty). */
    private int[] expanded(int id) {
        int[] e = expanded[id];
        if (e == null) {
            IntSet out = new IntSet();
            expand(id, out);
            e = out.sorted();
            expanded[id] = e;
        }
        return e;
    }

    private void expand(int id, IntSet out) {
        if (id == EMPTY) {
            out.add(EMPTY);
            return;
        }
        int[] cached = expanded[id];
        if (cached != null) {
            for (int x : cached) {
                out.add(x);
            }
            return;
        }
        int pos = stackPos[id];
        int t = g.type[pos];
        if (t == Grammar.RULE_REF) {
            int sub = g.ruleStart[g.value[pos]];
            IntSet mine = new IntSet();
            while (true) {
                int s = stackParent[id];
                if (!isEndOfSequence(pos + 1)) {
                    s = push(s, pos + 1);
                }
                if (!isEndOfSequence(sub)) {
                    s = push(s, sub);
                }
                expand(s, mine);
                while (!isEndOfSequence(sub)) {
                    sub++;
                }
                if (g.type[sub] == Grammar.ALT) {
                    sub++;
                } else {
                    break;
                }
            }
            int[] e = mine.sorted();
            expanded[id] = e;
            for (int x : e) {
                out.add(x);
            }
        } else {
            out.add(id); // a character element on top
        }
    }

    /** A small insertion-ordered set of ints. */
    static final class IntSet {
        private int[] a = new int[8];
        private int n;

        void add(int x) {
            for (int i = 0; i < n; i++) {
                if (a[i] == x) {
                    return;
                }
            }
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = x;
        }

        int[] sorted() {
            int[] r = Arrays.copyOf(a, n);
            Arrays.sort(r);
            return r;
        }
    }
}
