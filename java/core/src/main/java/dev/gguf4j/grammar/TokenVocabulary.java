package dev.gguf4j.grammar;

import dev.gguf4j.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A vocabulary as the grammar sees it: each token's piece, the bytes it adds to the output text (what the
 * streaming decoder prints; empty for control tokens, which a grammar never allows), which tokens end the
 * generation (EOG: allowed only where the grammar may end), and a byte trie of the pieces so that the tokens
 * allowed in a state are found by one walk that shares each common prefix. Immutable and thread-safe.
 */
public final class TokenVocabulary {
    private final byte[][] pieces;
    private final boolean[] eog;
    private final boolean hasEog;
    // the trie in compressed rows: node n's edges are edgeByte/edgeChild[edgeStart[n] .. edgeStart[n + 1]),
    // the tokens whose piece ends at node n are tokens[tokenStart[n] .. tokenStart[n + 1])
    final int[] edgeStart;
    final byte[] edgeByte;
    final int[] edgeChild;
    final int[] tokenStart;
    final int[] tokens;

    private static final Map<Tokenizer, TokenVocabulary> CACHE = new WeakHashMap<>();

    /** The vocabulary of a tokenizer (built once per tokenizer and kept while the tokenizer lives). */
    public static TokenVocabulary of(Tokenizer t) {
        synchronized (CACHE) {
            TokenVocabulary v = CACHE.get(t);
            if (v == null) {
                int n = t.vocabSize();
                byte[][] pieces = new byte[n][];
                boolean[] eog = new boolean[n];
                for (int i = 0; i < n; i++) {
                    pieces[i] = t.tokenBytes(i);
                    eog[i] = t.isEog(i);
                }
                v = new TokenVocabulary(pieces, eog);
                CACHE.put(t, v);
            }
            return v;
        }
    }

    /**
     * A vocabulary from explicit pieces. {@code eog[i]} marks end-of-generation tokens (their pieces are ignored);
     * a token with an empty piece is never allowed.
     */
    public TokenVocabulary(byte[][] pieces, boolean[] eog) {
        if (pieces.length != eog.length) {
            throw new IllegalArgumentException("pieces and eog differ in length: " + pieces.length + ", " + eog.length);
        }
        this.pieces = pieces.clone();
        this.eog = eog.clone();
        boolean any = false;
        for (boolean b : eog) {
            any |= b;
        }
        this.hasEog = any;
        // build the trie from the pieces in sorted order: each piece shares its longest common prefix with the
        // previous one, so a stack of the previous piece's nodes gives every parent without hashing
        Integer[] order = new Integer[pieces.length];
        int usable = 0;
        for (int id = 0; id < pieces.length; id++) {
            if (!eog[id] && pieces[id].length > 0) {
                order[usable++] = id;
            }
        }
        Arrays.sort(order, 0, usable, (x, y) -> Arrays.compareUnsigned(pieces[x], pieces[y]));
        int[] endNode = new int[pieces.length];
        Arrays.fill(endNode, -1);
        int nodes = 1;
        int[] parentOf = new int[1024];
        byte[] byteOf = new byte[1024];
        int[] path = new int[16]; // path[d] = node at depth d of the previous piece (path[0] = root)
        byte[] prev = new byte[0];
        for (int k = 0; k < usable; k++) {
            int id = order[k];
            byte[] p = pieces[id];
            int common = 0;
            int max = Math.min(prev.length, p.length);
            while (common < max && prev[common] == p[common]) {
                common++;
            }
            if (path.length <= p.length) {
                path = Arrays.copyOf(path, p.length * 2 + 1);
            }
            for (int d = common; d < p.length; d++) {
                int c = nodes++;
                if (c >= parentOf.length) {
                    parentOf = Arrays.copyOf(parentOf, c * 2);
                    byteOf = Arrays.copyOf(byteOf, c * 2);
                }
                parentOf[c] = path[d];
                byteOf[c] = p[d];
                path[d + 1] = c;
            }
            endNode[id] = path[p.length];
            prev = p;
        }
        edgeStart = new int[nodes + 1];
        for (int c = 1; c < nodes; c++) {
            edgeStart[parentOf[c] + 1]++;
        }
        for (int i = 0; i < nodes; i++) {
            edgeStart[i + 1] += edgeStart[i];
        }
        edgeByte = new byte[Math.max(0, nodes - 1)];
        edgeChild = new int[Math.max(0, nodes - 1)];
        int[] fill = Arrays.copyOf(edgeStart, nodes);
        for (int c = 1; c < nodes; c++) {
            int at = fill[parentOf[c]]++;
            edgeByte[at] = byteOf[c];
            edgeChild[at] = c;
        }
        tokenStart = new int[nodes + 1];
        int counted = 0;
        for (int id = 0; id < pieces.length; id++) {
            if (endNode[id] >= 0) {
                tokenStart[endNode[id] + 1]++;
                counted++;
            }
        }
        for (int i = 0; i < nodes; i++) {
            tokenStart[i + 1] += tokenStart[i];
        }
        tokens = new int[counted];
        int[] tfill = Arrays.copyOf(tokenStart, nodes);
        for (int id = 0; id < pieces.length; id++) {
            if (endNode[id] >= 0) {
                tokens[tfill[endNode[id]]++] = id;
            }
        }
    }

    public int size() {
        return pieces.length;
    }

    /** The bytes token {@code id} adds to the output (not a copy: do not modify). */
    byte[] piece(int id) {
        return pieces[id];
    }

    public boolean isEog(int id) {
        return eog[id];
    }

    boolean hasEog() {
        return hasEog;
    }

    int trieNodes() {
        return edgeStart.length - 1;
    }
}
