package dev.gguf4j.tokenizer;

import java.util.Arrays;

/** A growable int array. */
final class IntList {
    private int[] a;
    private int n;

    IntList() {
        this(16);
    }

    IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    void add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, a.length * 2);
        }
        a[n++] = v;
    }

    int get(int i) {
        return a[i];
    }

    int size() {
        return n;
    }

    void clear() {
        n = 0;
    }

    /** Keeps the first {@code size} values. */
    void truncate(int size) {
        n = size;
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}
