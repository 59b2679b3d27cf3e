package dev.gguf4j.grammar;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Random sentences of a grammar, for comparing two grammars' languages: a random walk over a byte-level
 * vocabulary (256 one-byte tokens and an end-of-generation token) choosing among the tokens the matcher allows.
 * Also checks on the way that the matcher never leaves a state with nothing allowed.
 */
final class Sentences {
    static final int EOG = 256;
    static final TokenVocabulary BYTES;

    static {
        byte[][] pieces = new byte[257][];
        boolean[] eog = new boolean[257];
        for (int i = 0; i < 256; i++) {
            pieces[i] = new byte[] {(byte) i};
        }
        pieces[256] = new byte[0];
        eog[256] = true;
        BYTES = new TokenVocabulary(pieces, eog);
    }

    private Sentences() {
    }

    /** A random sentence, or null if none ended within {@code maxBytes}. */
    static String sample(Grammar g, SplittableRandom r, int maxBytes) {
        GrammarMatcher m = new GrammarMatcher(g, BYTES);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            long[] allowed = m.allowedTokens();
            int n = 0;
            for (long w : allowed) {
                n += Long.bitCount(w);
            }
            assertTrue(n > 0, "dead state after " + out.toString(StandardCharsets.UTF_8) + " in\n" + g);
            boolean canEnd = (allowed[EOG >>> 6] & (1L << EOG)) != 0;
            if (canEnd && (n == 1 || r.nextInt(4) == 0 || out.size() > maxBytes / 2)) {
                m.accept(EOG);
                return out.toString(StandardCharsets.UTF_8);
            }
            if (out.size() > maxBytes) {
                return null;
            }
            // prefer ASCII (most allowed sets are mostly non-ASCII bytes under negated classes)
            int pick = -1;
            int k = r.nextInt(n);
            boolean ascii = r.nextInt(8) != 0;
            for (int pass = 0; pass < 2 && pick < 0; pass++) {
                int seen = 0;
                int count = 0;
                for (int t = 0; t < 256; t++) {
                    if ((allowed[t >>> 6] & (1L << t)) != 0 && (!ascii || t < 0x80)) {
                        count++;
                    }
                }
                if (count == 0) {
                    ascii = false;
                    continue;
                }
                k = r.nextInt(count);
                for (int t = 0; t < 256; t++) {
                    if ((allowed[t >>> 6] & (1L << t)) != 0 && (!ascii || t < 0x80)) {
                        if (seen++ == k) {
                            pick = t;
                            break;
                        }
                    }
                }
            }
            m.accept(pick);
            out.write(pick);
        }
    }
}
