package dev.gguf4j.grammar;

import java.util.Arrays;

/**
 * A grammar applied to one generated sequence over a vocabulary: which tokens may come next, and accepting the
 * chosen one. A token is allowed when its piece continues a sentence of the grammar (its bytes may end inside a
 * UTF-8 character that a later token completes, as llama.cpp's partial-UTF-8 state allows) and the state it leads
 * to can go on (some token, or end-of-generation, is allowed there): the matcher never leads into a state with
 * nothing to choose. End-of-generation tokens are allowed only where the grammar may end; control tokens (empty
 * pieces) never. Once the grammar is complete (nothing but its end), only end-of-generation tokens are allowed.
 *
 * <p>Cost: the allowed set of a state is found by one walk of the vocabulary's byte trie with cached byte
 * transitions and is then cached per state, so a state seen before costs a lookup; {@link #isAllowed} walks one
 * token. Not thread-safe: one matcher per sequence.
 */
public final class GrammarMatcher {
    private final Grammar grammar;
    private final TokenVocabulary vocab;
    private final Engine engine;
    private final int words;
    private Engine.State state;
    private boolean ended;
    private int masks;
    /** Token masks cached before they are all dropped (4 KB each for a 32000-token vocabulary). */
    private static final int MAX_MASKS = 2048;

    public GrammarMatcher(Grammar grammar, TokenVocabulary vocab) {
        this.grammar = grammar;
        this.vocab = vocab;
        this.engine = new Engine(grammar);
        this.words = (vocab.size() + 63) >>> 6;
        this.state = engine.initial();
    }

    public Grammar grammar() {
        return grammar;
    }

    /** Whether the text so far is a whole sentence of the grammar (end-of-generation is allowed now). */
    public boolean canEnd() {
        return !ended && state.canEnd;
    }

    /** Whether an end-of-generation token has been accepted. */
    public boolean isEnded() {
        return ended;
    }

    /** Whether {@code token} may come next. */
    public boolean isAllowed(int token) {
        if (ended) {
            return false;
        }
        if (vocab.isEog(token)) {
            return state.canEnd;
        }
        Engine.State s = walk(state, vocab.piece(token));
        return s != null && live(s);
    }

    /** Whether {@link #allowedTokens} is known for the current state (then it costs a lookup). */
    public boolean hasCachedAllowed() {
        return ended || state.allowed != null;
    }

    /**
     * The tokens that may come next, as a bit set: bit {@code t % 64} of word {@code t / 64}. The array is shared
     * with the matcher's cache: do not modify it.
     */
    public long[] allowedTokens() {
        if (ended) {
            return new long[words];
        }
        Engine.State s = state;
        if (s.allowed == null) {
            if (masks >= MAX_MASKS) {
                engine.dropMasks();
                masks = 0;
            }
            long[] mask = new long[words];
            collect(s, 0, mask);
            if (s.canEnd) {
                for (int t = 0; t < vocab.size(); t++) {
                    if (vocab.isEog(t)) {
                        mask[t >>> 6] |= 1L << t;
                    }
                }
            }
            s.allowed = mask;
            masks++;
        }
        return s.allowed;
    }

    /** Accepts {@code token} as the next one; throws if it is not allowed. */
    public void accept(int token) {
        if (ended) {
            throw new IllegalStateException("the grammar has ended: no token may follow end-of-generation");
        }
        if (vocab.isEog(token)) {
            if (!state.canEnd) {
                throw new IllegalStateException("end-of-generation token " + token + " where the grammar cannot end");
            }
            ended = true;
            return;
        }
        Engine.State s = walk(state, vocab.piece(token));
        if (s == null || vocab.piece(token).length == 0) {
            throw new IllegalStateException("token " + token + " does not continue the grammar");
        }
        state = s;
        if (engine.stateCount() > Engine.MAX_STATES) {
            engine.trim();
            state = engine.reintern(state);
            masks = 0;
        }
    }

    /** Accepts a string (its UTF-8 bytes) as if generated; false (and no change) if the grammar does not allow it. */
    public boolean acceptString(String text) {
        Engine.State s = walk(state, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (s == null || ended) {
            return false;
        }
        state = s;
        return true;
    }

    private Engine.State walk(Engine.State s, byte[] bytes) {
        if (bytes.length == 0) {
            return null;
        }
        for (byte b : bytes) {
            s = engine.step(s, b & 0xff);
            if (s == null) {
                return null;
            }
        }
        return s;
    }

    /** Some token (or end-of-generation) is allowed in {@code s}. */
    private boolean live(Engine.State s) {
        if (s.live == 0) {
            s.live = (s.canEnd && vocab.hasEog()) || any(s, 0) ? (byte) 1 : (byte) 2;
        }
        return s.live == 1;
    }

    private boolean any(Engine.State s, int node) {
        TokenVocabulary v = vocab;
        for (int e = v.edgeStart[node], end = v.edgeStart[node + 1]; e < end; e++) {
            Engine.State t = engine.step(s, v.edgeByte[e] & 0xff);
            if (t == null) {
                continue;
            }
            int child = v.edgeChild[e];
            if (v.tokenStart[child] < v.tokenStart[child + 1] || any(t, child)) {
                return true;
            }
        }
        return false;
    }

    private void collect(Engine.State s, int node, long[] mask) {
        TokenVocabulary v = vocab;
        for (int e = v.edgeStart[node], end = v.edgeStart[node + 1]; e < end; e++) {
            Engine.State t = engine.step(s, v.edgeByte[e] & 0xff);
            if (t == null) {
                continue;
            }
            int child = v.edgeChild[e];
            int from = v.tokenStart[child];
            int to = v.tokenStart[child + 1];
            if (from < to && live(t)) {
                for (int i = from; i < to; i++) {
                    int tok = v.tokens[i];
                    mask[tok >>> 6] |= 1L << tok;
                }
            }
            if (v.edgeStart[child] < v.edgeStart[child + 1]) {
                collect(t, child, mask);
            }
        }
    }

    /** How many tokens {@link #allowedTokens} allows. */
    public int allowedCount() {
        int n = 0;
        for (long w : allowedTokens()) {
            n += Long.bitCount(w);
        }
        return n;
    }

    @Override
    public String toString() {
        return "GrammarMatcher[" + Arrays.toString(state.stacks) + (ended ? ", ended" : "") + "]";
    }
}
