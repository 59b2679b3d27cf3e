package dev.gguf4j.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.sampling.Sampler;
import dev.gguf4j.sampling.SamplingParams;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The matcher over a small vocabulary against an oracle written from the grammar's finite language: a token is
 * allowed exactly when the text so far plus its piece is a prefix of a sentence (every byte is also a token
 * here, so a prefix can always go on), end-of-generation exactly when the text is a sentence.
 */
class GrammarMatcherTest {
    static final String GRAMMAR = "root ::= \"ab\" [12]{1,2} \"日本\" | \"c\"";
    static final List<String> SENTENCES = List.of("ab1日本", "ab2日本", "ab11日本", "ab12日本", "ab21日本", "ab22日本",
            "c");

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Pieces: whole words, pieces that split 日 and 本 inside their UTF-8 bytes, every single byte, EOG, a control. */
    static final List<byte[]> PIECES = new ArrayList<>();
    static final int EOG;
    static final int CONTROL;
    static final TokenVocabulary VOCAB;

    static {
        for (String s : List.of("a", "b", "ab", "abc", "c", "1", "2", "12", "21", "日", "本", "日本", "1日", "x")) {
            PIECES.add(utf8(s));
        }
        byte[] ri = utf8("日");
        byte[] hon = utf8("本");
        PIECES.add(new byte[] {ri[0], ri[1]});
        PIECES.add(new byte[] {ri[2], hon[0]});
        PIECES.add(new byte[] {hon[1], hon[2]});
        PIECES.add(new byte[] {(byte) '2', ri[0]});
        for (int b = 1; b < 256; b++) {
            PIECES.add(new byte[] {(byte) b});
        }
        EOG = PIECES.size();
        PIECES.add(new byte[0]);
        CONTROL = PIECES.size();
        PIECES.add(new byte[0]);
        boolean[] eog = new boolean[PIECES.size()];
        eog[EOG] = true;
        VOCAB = new TokenVocabulary(PIECES.toArray(new byte[0][]), eog);
    }

    static boolean isPrefixOfSentence(byte[] text) {
        for (String s : SENTENCES) {
            byte[] b = utf8(s);
            if (text.length <= b.length && Arrays.equals(text, 0, text.length, b, 0, text.length)) {
                return true;
            }
        }
        return false;
    }

    static Set<Integer> oracle(byte[] text) {
        Set<Integer> allowed = new HashSet<>();
        for (int t = 0; t < PIECES.size(); t++) {
            if (t == EOG) {
                if (SENTENCES.stream().anyMatch(s -> Arrays.equals(utf8(s), text))) {
                    allowed.add(t);
                }
            } else if (PIECES.get(t).length > 0) {
                byte[] next = Arrays.copyOf(text, text.length + PIECES.get(t).length);
                System.arraycopy(PIECES.get(t), 0, next, text.length, PIECES.get(t).length);
                if (isPrefixOfSentence(next)) {
                    allowed.add(t);
                }
            }
        }
        return allowed;
    }

    static Set<Integer> toSet(long[] mask) {
        Set<Integer> s = new HashSet<>();
        for (int t = 0; t < mask.length * 64; t++) {
            if ((mask[t >>> 6] & (1L << t)) != 0) {
                s.add(t);
            }
        }
        return s;
    }

    /** Every text reachable through allowed tokens: the allowed set and isAllowed agree with the oracle. */
    @Test
    void allowedSetsMatchTheOracleEverywhere() {
        Grammar g = Grammar.parse(GRAMMAR);
        record Node(List<Integer> tokens, byte[] text) {
        }
        ArrayDeque<Node> queue = new ArrayDeque<>();
        queue.add(new Node(List.of(), new byte[0]));
        Set<String> seen = new HashSet<>();
        int states = 0;
        while (!queue.isEmpty()) {
            Node n = queue.poll();
            if (!seen.add(Arrays.toString(n.text))) {
                continue;
            }
            states++;
            GrammarMatcher m = new GrammarMatcher(g, VOCAB);
            for (int t : n.tokens) {
                m.accept(t);
            }
            Set<Integer> expected = oracle(n.text);
            assertEquals(expected, toSet(m.allowedTokens()), "after " + new String(n.text, StandardCharsets.UTF_8));
            for (int t = 0; t < PIECES.size(); t++) {
                assertEquals(expected.contains(t), m.isAllowed(t), "token " + t);
            }
            assertFalse(expected.isEmpty(), "dead state");
            assertEquals(expected.contains(EOG), m.canEnd());
            for (int t : expected) {
                if (t != EOG) {
                    List<Integer> tokens = new ArrayList<>(n.tokens);
                    tokens.add(t);
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    out.writeBytes(n.text);
                    out.writeBytes(PIECES.get(t));
                    queue.add(new Node(tokens, out.toByteArray()));
                }
            }
        }
        assertTrue(states > 20, "only " + states + " texts explored");
    }

    @Test
    void acceptingARefusedTokenFails() {
        GrammarMatcher m = new GrammarMatcher(Grammar.parse(GRAMMAR), VOCAB);
        assertThrows(IllegalStateException.class, () -> m.accept(EOG));
        assertThrows(IllegalStateException.class, () -> m.accept(CONTROL));
        m.accept(4); // "c"
        assertTrue(m.canEnd());
        assertEquals(Set.of(EOG), toSet(m.allowedTokens()), "complete: only end-of-generation");
        m.accept(EOG);
        assertTrue(m.isEnded());
    }

    /** A token that leads where no token can follow is not offered, even though its bytes fit the grammar. */
    @Test
    void neverLeadsIntoADeadState() {
        byte[][] pieces = {utf8("a"), utf8("ab"), utf8("b"), new byte[0]};
        boolean[] eog = {false, false, false, true};
        TokenVocabulary v = new TokenVocabulary(pieces, eog);
        GrammarMatcher m = new GrammarMatcher(Grammar.parse("root ::= \"a\" \"z\" | \"b\""), v);
        assertFalse(m.isAllowed(0), "\"a\" can only go on with \"z\", which no token has");
        assertEquals(Set.of(2), toSet(m.allowedTokens()));
    }

    /** Greedy with a grammar: the highest-logit allowed token, for random logits at every step. */
    @Test
    void greedyPicksTheBestAllowedToken() {
        Grammar g = Grammar.parse(GRAMMAR);
        SplittableRandom r = new SplittableRandom(3);
        for (int run = 0; run < 200; run++) {
            Sampler s = new Sampler(SamplingParams.greedy().withGrammar(g), 64, VOCAB);
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            for (int step = 0; step < 20; step++) {
                float[] logits = new float[PIECES.size()];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = (float) r.nextGaussian();
                }
                Set<Integer> allowed = oracle(text.toByteArray());
                int best = -1;
                for (int t : allowed) {
                    if (best < 0 || logits[t] > logits[best]) {
                        best = t;
                    }
                }
                int t = s.sample(logits);
                assertEquals(best, t);
                s.acceptSampled(t);
                if (t == EOG) {
                    break;
                }
                text.writeBytes(PIECES.get(t));
            }
            String out = text.toString(StandardCharsets.UTF_8);
            assertTrue(SENTENCES.contains(out), out);
        }
    }

    /** Sampling with temperature draws only allowed tokens and always ends in a sentence. */
    @Test
    void samplingStaysInTheLanguage() {
        Grammar g = Grammar.parse(GRAMMAR);
        SplittableRandom r = new SplittableRandom(5);
        for (int run = 0; run < 200; run++) {
            Sampler s = new Sampler(SamplingParams.DEFAULTS.withSeed(run).withTopK(0).withTemperature(1.5f)
                    .withGrammar(g), 64, VOCAB);
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            for (int step = 0; step < 20; step++) {
                float[] logits = new float[PIECES.size()];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = (float) r.nextGaussian();
                }
                int t = s.sample(logits);
                assertTrue(oracle(text.toByteArray()).contains(t));
                s.acceptSampled(t);
                if (t == EOG) {
                    break;
                }
                text.writeBytes(PIECES.get(t));
            }
            assertTrue(SENTENCES.contains(text.toString(StandardCharsets.UTF_8)));
        }
    }

    /**
     * The fallback that checks the best candidates one by one (used for a grammar state whose allowed set is not
     * cached) draws exactly what filtering the whole vocabulary first draws: two samplers with one seed, the second
     * made to filter everything (its allowed sets computed before each draw), pick the same tokens.
     */
    @Test
    void checkingTheBestCandidatesEqualsFilteringAll() throws Exception {
        Grammar g = Grammar.parse(GrammarParserTest.resource("json.gbnf"));
        SplittableRandom r = new SplittableRandom(9);
        int compared = 0;
        for (int run = 0; run < 40; run++) {
            SamplingParams sp = SamplingParams.DEFAULTS.withSeed(run).withTopK(run % 2 == 0 ? 5 : 40)
                    .withTemperature(run % 4 == 3 ? 0 : 1.2f).withGrammar(g);
            Sampler a = new Sampler(sp, 64, Sentences.BYTES);
            Sampler b = new Sampler(sp, 64, Sentences.BYTES);
            for (int step = 0; step < 30; step++) {
                float[] logits = new float[257];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = (float) (r.nextGaussian() * 3);
                }
                b.grammar().allowedTokens();
                int ta = a.sample(logits);
                int tb = b.sample(logits);
                assertEquals(tb, ta, "run " + run + " step " + step);
                compared++;
                a.acceptSampled(ta);
                b.acceptSampled(tb);
                if (ta == Sentences.EOG) {
                    break;
                }
            }
        }
        assertTrue(compared > 300, compared + " draws");
    }

    /** Random sentences of our JSON grammar over a byte vocabulary are JSON (checked by the strict test parser). */
    @Test
    void jsonGrammarSentencesAreJson() throws Exception {
        Grammar g = Grammar.parse(GrammarParserTest.resource("json.gbnf"));
        MiniSchemaValidator any = new MiniSchemaValidator("{}");
        SplittableRandom r = new SplittableRandom(11);
        int n = 0;
        for (int i = 0; i < 200; i++) {
            String s = Sentences.sample(g, r, 200);
            if (s != null) {
                String err = any.validate(s);
                assertTrue(err == null || !err.startsWith("not JSON"), s + ": " + err);
                n++;
            }
        }
        assertTrue(n > 100);
    }
}
