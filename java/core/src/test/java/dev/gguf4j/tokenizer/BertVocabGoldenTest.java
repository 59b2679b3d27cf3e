package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.testing.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The WordPiece tokenizer ({@code tokenizer.ggml.model = "bert"}) on llama.cpp's own test vectors for it:
 * {@code tests/golden/tokenizer/ggml-vocab-bert-bge.gguf} (the bge-small vocabulary, vocab-only) with the
 * {@code .inp} / {@code .out} of llama.cpp c392e50's {@code models/} (test-tokenizer-0's data). Every input must give
 * exactly the expected ids with {@code add_special = false, parse_special = false}, as test-tokenizer-0 calls it.
 * The vocabulary file is kept in the repository because ../shared has no WordPiece vocabulary.
 */
class BertVocabGoldenTest {
    private static Path file() {
        return TestData.root().resolve("tests/golden/tokenizer/ggml-vocab-bert-bge.gguf");
    }

    @Test
    void everyInputTokenizesAsLlamaCpp() throws Exception {
        Path f = file();
        Tokenizer tok = Tokenizer.load(f);
        assertEquals(Tokenizer.Model.WPM, tok.model());
        List<String> inputs = TokenizerTestInputs.readInputs(Path.of(f + ".inp"));
        List<int[]> expected = TokenizerTestInputs.readOutputs(Path.of(f + ".out"));
        assertEquals(expected.size(), inputs.size());
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            int[] got = tok.encode(inputs.get(i), false, false);
            if (!Arrays.equals(expected.get(i), got)) {
                failures.add("#" + i + " '" + inputs.get(i) + "'\n  expected " + Arrays.toString(expected.get(i))
                        + "\n  got      " + Arrays.toString(got));
            }
        }
        System.out.println("[tokenizer] ggml-vocab-bert-bge.gguf: " + (inputs.size() - failures.size()) + "/"
                + inputs.size() + " inputs tokenize exactly");
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /** With special tokens, as llama-embedding tokenizes: [CLS] first, [SEP] last, and "[SEP]" in the text parsed. */
    @Test
    void specialTokensAsLlamaEmbeddingAddsThem() throws Exception {
        Tokenizer tok = Tokenizer.load(file());
        int[] ids = tok.encode("Hello world", true, true);
        assertEquals(101, ids[0]);
        assertEquals(102, ids[ids.length - 1]);
        assertEquals(List.of(101, 7592, 2088, 102), Arrays.stream(ids).boxed().toList());
        assertEquals(102, tok.sep());
        assertEquals(0, tok.pad());
        assertEquals(103, tok.mask());
    }
}
