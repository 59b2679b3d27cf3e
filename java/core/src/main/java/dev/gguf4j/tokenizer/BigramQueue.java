package dev.gguf4j.tokenizer;

import java.util.Arrays;

/**
 * The priority queue both merge loops share (llama.cpp's llm_bigram_bpe / llm_bigram_spm queues): candidate
 * merges of two adjacent symbols, popped by the smallest key, ties by the smaller left index. BPE pushes the
 * merge rank; SPM pushes the negated score (highest score first). Entries are never removed: a popped entry
 * whose symbols changed since it was pushed is stale, which the caller detects through {@link #length}.
 * Reused per word: {@link #clear()} keeps the arrays.
 */
final class BigramQueue {
    private float[] key = new float[16];
    private int[] left = new int[16];
    private int[] right = new int[16];
    private int[] length = new int[16];
    private int[] heap = new int[16];
    private int size;
    private int count;

    void clear() {
        size = 0;
        count = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Adds the merge of symbols {@code l} and {@code r}, whose combined length is {@code len}. */
    void push(float k, int l, int r, int len) {
        if (count == key.length) {
            int cap = count * 2;
            key = Arrays.copyOf(key, cap);
            left = Arrays.copyOf(left, cap);
            right = Arrays.copyOf(right, cap);
            length = Arrays.copyOf(length, cap);
        }
        int e = count++;
        key[e] = k;
        left[e] = l;
        right[e] = r;
        length[e] = len;
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!before(e, heap[p])) {
                break;
            }
            heap[i] = heap[p];
            i = p;
        }
        heap[i] = e;
    }

    /** Removes the best entry and returns its handle for {@link #left}, {@link #right}, {@link #length}. */
    int pop() {
        int top = heap[0];
        int last = heap[--size];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && before(heap[c + 1], heap[c])) {
                c++;
            }
            if (!before(heap[c], last)) {
                break;
            }
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = last;
        return top;
    }

    int left(int e) {
        return left[e];
    }

    int right(int e) {
        return right[e];
    }

    int length(int e) {
        return length[e];
    }

    private boolean before(int a, int b) {
        return key[a] < key[b] || (key[a] == key[b] && left[a] < left[b]);
    }
}
