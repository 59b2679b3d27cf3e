package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * llama.cpp's test-tokenizer-1-spm (enabled in llama.cpp's CMake for llama-spm): every token detokenizes to a
 * string that tokenizes (with parse_special) and detokenizes back to the same bytes, and every code point
 * (except surrogates, U+40000..U+E0000 and U+2581) survives tokenize/detokenize. llama.cpp ships the BPE
 * variant (test-tokenizer-1-bpe) disabled; here the per-code-point part is run on the BPE vocabularies too,
 * where it also holds, except for bytes a vocabulary has no token for (Falcon), which llama.cpp drops.
 */
class RoundTripTest {
    private static final int MAX_FAILURES_SHOWN = 10;

    @Test
    void spmEveryTokenRoundTrips() {
        Tokenizer tok = TokenizerTestInputs.variant("llama-spm");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < tok.vocabSize(); i++) {
            byte[] str = tok.decodeBytes(new int[] {i}, false, true);
            int[] ids = tok.encode(str, false, true);
            byte[] check = tok.decodeBytes(ids, false, true);
            if (!java.util.Arrays.equals(str, check) && failures.size() < MAX_FAILURES_SHOWN) {
                failures.add("token " + i + " '" + tok.tokenText(i) + "'");
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void spmEveryCodePointRoundTrips() {
        assertEquals(List.of(), codePointFailures(TokenizerTestInputs.variant("llama-spm")));
    }

    @Test
    void bpeEveryCodePointRoundTrips() {
        for (String v : List.of("gpt-2", "deepseek-coder", "starcoder", "mpt", "refact")) {
            assertEquals(List.of(), codePointFailures(TokenizerTestInputs.variant(v)), v);
        }
    }

    @Test
    void falconDropsBytesItHasNoTokenFor() {
        // Falcon's vocabulary lacks some control bytes; llama.cpp silently drops them (llama-tokenize on "a\x03b"
        // gives the ids of "ab"), so exactly the code points containing such a byte do not round-trip
        Tokenizer falcon = TokenizerTestInputs.variant("falcon");
        List<String> expected = new ArrayList<>();
        byte[] buf = new byte[4];
        for (int cp : codePoints(falcon)) {
            int n = Utf8.encode(cp, buf, 0);
            for (int k = 0; k < n; k++) {
                if (falcon.tokenId(String.valueOf(ByteLevel.charOf(buf[k]))) < 0) {
                    expected.add(String.format("U+%04X", cp));
                    break;
                }
            }
        }
        assertFalse(expected.isEmpty());
        assertEquals(expected, codePointFailures(falcon));
        assertArrayEquals(new int[] {falcon.tokenId("a"), falcon.tokenId("b")}, falcon.encode("a\u0003b", false, false));
    }

    /** The code points test-tokenizer-1 visits; strided above U+3000 for BPE vocabularies to keep it quick. */
    private static List<Integer> codePoints(Tokenizer tok) {
        int stride = tok.model() == Tokenizer.Model.SPM ? 1 : 7;
        List<Integer> cps = new ArrayList<>();
        for (int cp = 0; cp < 0x110000; cp += (cp < 0x3000 ? 1 : stride)) {
            if ((cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x40000 && cp <= 0xE0000) || cp == 0x2581) {
                continue;
            }
            cps.add(cp);
        }
        return cps;
    }

    /** test-tokenizer-1's code point loop: the code points whose text does not survive encode + decode. */
    private static List<String> codePointFailures(Tokenizer tok) {
        boolean spm = tok.model() == Tokenizer.Model.SPM;
        List<String> failures = new ArrayList<>();
        byte[] buf = new byte[4];
        for (int cp : codePoints(tok)) {
            int n = Utf8.encode(cp, buf, 0);
            byte[] str = java.util.Arrays.copyOf(buf, n);
            // test-tokenizer-1-spm parses special tokens; the BPE variant does not
            int[] ids = tok.encode(str, false, spm);
            byte[] check = tok.decodeBytes(ids, false, true);
            if (!java.util.Arrays.equals(str, check)) {
                failures.add(String.format("U+%04X", cp));
            }
        }
        return failures;
    }

    @Test
    void byteFallbackPiecesAreRawBytes() {
        Tokenizer tok = TokenizerTestInputs.variant("llama-spm");
        // U+1F601 is not in the LLaMA vocabulary: four byte tokens <0xF0> <0x9F> <0x98> <0x81>
        int[] ids = tok.encode("\uD83D\uDE01", false, false);
        assertArrayEquals(new int[] {29871, 243, 162, 155, 132}, ids);
        assertArrayEquals(new byte[] {(byte) 0xF0}, tok.tokenBytes(243));
        assertEquals(TokenType.BYTE, tok.tokenType(243));
        assertEquals("\uD83D\uDE01", tok.decode(ids));
    }
}
