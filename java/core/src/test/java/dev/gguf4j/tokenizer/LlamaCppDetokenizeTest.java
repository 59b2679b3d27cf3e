package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Detokenization and token metadata against libllama (c392e50), through a small C++ program linked to it:
 *
 * <ul>
 * <li>{@code llama_token_to_piece(token, lstrip 0, special false/true)} for every token of the vocabulary, as
 * CRC-32 fingerprints of the lowercase hex pieces, one per line (matches {@link Tokenizer#tokenBytes(int,
 * boolean)});</li>
 * <li>{@code llama_vocab_is_eog} for every token (the ids for which it is true);</li>
 * <li>{@code llama_detokenize(llama_tokenize(input, add_special = true, parse_special = true), remove_special,
 * unparse_special)} for every input of {@link TokenizerTestInputs#allInputs()} and the four flag combinations,
 * as CRC-32 fingerprints of lines "index hex".</li>
 * </ul>
 */
class LlamaCppDetokenizeTest {
    static Stream<Arguments> vocabs() {
        return Stream.of(
                Arguments.of("llama-spm", "757a2232", "7334f64f", "2", "ceda91b4 60fe8627 ceda91b4 b0eccea5"),
                Arguments.of("gpt-2", "bca5e876", "e3ed36a5", "50256", "b14bbe4a 49ed7cda b14bbe4a 49ed7cda"),
                Arguments.of("mpt", "f137584d", "18ac3dd0", "0", "b14bbe4a 49ed7cda b14bbe4a 49ed7cda"),
                Arguments.of("falcon", "57e87323", "fa96ecc6", "11", "b5e99162 660b773c b5e99162 660b773c"),
                Arguments.of("deepseek-coder", "7886444c", "34c727c5", "32014", "21d1b3a9 a9660b7a 21d1b3a9 82c951b5"),
                Arguments.of("starcoder", "6dc07f7a", "16916438", "0", "0a1fcd14 49ed7cda 0a1fcd14 49ed7cda"),
                Arguments.of("refact", "0b849c54", "4a0e6ddc", "0", "0a1fcd14 49ed7cda 0a1fcd14 49ed7cda"),
                Arguments.of("models/kjv7m-F16.gguf", "12a20e7d", "2f196d2a", "2", "ceda91b4 60fe8627 ceda91b4 b0eccea5"),
                Arguments.of("models/stories260K.gguf", "caece160", "6c1de624", "2", "ceda91b4 60fe8627 ceda91b4 b0eccea5"),
                Arguments.of("gpt-2:llama-bpe", "bca5e876", "e3ed36a5", "50256", "b14bbe4a 01dd6642 b14bbe4a 49ed7cda"),
                Arguments.of("gpt-2:qwen2", "bca5e876", "e3ed36a5", "50256", "238fb5ea 82c951b5 238fb5ea 82c951b5"),
                Arguments.of("llama-spm:nospace", "757a2232", "7334f64f", "2", "6d3d3098 242168ad 6d3d3098 c883e35d"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vocabs")
    void piecesEogAndDetokenizeMatchLibllama(String vocab, String pieces, String specialPieces, String eog,
            String detokenize) throws IOException {
        Tokenizer tok = vocab.startsWith("models/") ? Tokenizer.load(TestData.model(vocab.substring(7)))
                : TokenizerTestInputs.variant(vocab);
        StringBuilder p0 = new StringBuilder();
        StringBuilder p1 = new StringBuilder();
        for (int id = 0; id < tok.vocabSize(); id++) {
            p0.append(hex(tok.tokenBytes(id, false))).append('\n');
            p1.append(hex(tok.tokenBytes(id, true))).append('\n');
        }
        assertEquals(pieces, crc(p0), "pieces (special = false)");
        assertEquals(specialPieces, crc(p1), "pieces (special = true)");
        String eogIds = String.join(",", IntStream.range(0, tok.vocabSize()).filter(tok::isEog)
                .mapToObj(Integer::toString).toList());
        assertEquals(eog, eogIds, "end-of-generation tokens");

        List<String> inputs = TokenizerTestInputs.allInputs();
        List<String> got = new ArrayList<>();
        for (int mode = 0; mode < 4; mode++) {
            boolean removeSpecial = mode >= 2;
            boolean unparseSpecial = (mode & 1) != 0;
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < inputs.size(); i++) {
                int[] ids = tok.encode(inputs.get(i), true, true);
                sb.append(i).append(' ').append(hex(tok.decodeBytes(ids, removeSpecial, unparseSpecial))).append('\n');
            }
            got.add(crc(sb));
        }
        assertEquals(detokenize, String.join(" ", got),
                "detokenize fingerprints for (remove_special, unparse_special) = 00 01 10 11");
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return sb.toString();
    }

    private static String crc(CharSequence s) {
        CRC32 c = new CRC32();
        c.update(s.toString().getBytes(StandardCharsets.US_ASCII));
        return String.format("%08x", c.getValue());
    }
}
