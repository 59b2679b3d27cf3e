package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real models: llama-simple's prompt tokenization ({@code prompt.i.tokens} in the inference golden files,
 * made with {@code llama_tokenize(add_special = true, parse_special = true)}) and its printed text
 * ({@code prompt.i.llama_simple_stdout}: every prompt and generated token's piece with special = true, then a
 * newline).
 */
class ModelGoldenTest {
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Stream<Arguments> goldens() {
        return Stream.of(
                Arguments.of("stories260K.gguf", "stories260K.golden.gguf"),
                Arguments.of("kjv7m-F16.gguf", "kjv7m-F16.golden.gguf"),
                Arguments.of("stories260K-pad256.gguf", "stories260K-pad256.golden.gguf"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void promptTokensAndPrintedText(String model, String golden) throws IOException {
        Tokenizer tok = Tokenizer.load(TestData.model(model));
        assertEquals(Tokenizer.Model.SPM, tok.model());
        try (GgufFile g = GgufFile.open(TestData.golden(golden))) {
            GgufMetadata md = g.metadata();
            int prompts = (int) md.getLong("golden.prompt_count");
            assertTrue(prompts > 0);
            for (int i = 0; i < prompts; i++) {
                String text = md.getString("prompt." + i + ".text");
                int[] want = ints(g.requireTensor("prompt." + i + ".tokens"));
                assertArrayEquals(want, tok.encode(text, true, true), model + " prompt " + i + " '" + text + "'");
                assertArrayEquals(want, tok.encode(text, true, false), "no special tokens in the prompt text");
                assertEquals(tok.bos(), want[0]);

                // llama-simple prints pieces with special = true, streaming; it stops before an EOG token
                int[] greedy = ints(g.requireTensor("prompt." + i + ".greedy"));
                String stdout = md.getString("prompt." + i + ".llama_simple_stdout");
                Decoder d = tok.newDecoder(true);
                StringBuilder sb = new StringBuilder(d.next(want));
                boolean matched = (sb + "\n").equals(stdout);
                for (int k = 0; k < greedy.length && !matched && !tok.isEog(greedy[k]); k++) {
                    sb.append(d.next(greedy[k]));
                    matched = (sb + "\n").equals(stdout);
                }
                assertTrue(matched, model + " prompt " + i + ": streamed text\n" + sb + "\nvs llama-simple\n" + stdout);
                // llama_detokenize drops SentencePiece's prefix space only when the first token is not BOS
                assertEquals(" " + text, tok.decode(want));
                assertEquals(text, tok.decode(java.util.Arrays.copyOfRange(want, 1, want.length)));
                assertEquals("<s> " + text, tok.decode(want, true));
            }
        }
    }

    static Stream<Arguments> wholeText() {
        return Stream.of(
                Arguments.of("models/kjv7m-F16.gguf", 52151, "da2a3791"),
                Arguments.of("models/stories260K.gguf", 103198, "a16be013"),
                Arguments.of("llama-spm", 51746, "9ee7f619"),
                Arguments.of("gpt-2", 47756, "f11ab0bd"),
                Arguments.of("gpt-2:llama-bpe", 47700, "4924b5ef"));
    }

    /**
     * The whole of {@code models/kjv7m-test.txt} (190 KB) as one string, against {@code llama-tokenize --ids --no-bos
     * --no-escape --no-parse-special} (c392e50): token count and {@link TokenizerTestInputs#fingerprint}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("wholeText")
    void wholeTestTextMatchesLlamaTokenize(String vocab, int count, String crc) throws IOException {
        String text = java.nio.file.Files.readString(TestData.model("kjv7m-test.txt"));
        Tokenizer tok = vocab.startsWith("models/") ? Tokenizer.load(TestData.model(vocab.substring(7)))
                : TokenizerTestInputs.variant(vocab);
        int[] ids = tok.encode(text, false, false);
        assertEquals(count + ":" + crc, ids.length + ":" + TokenizerTestInputs.fingerprint(ids));
        assertEquals(VocabGoldenTest.expectedDecode(tok, text), tok.decode(ids));
    }

    private static int[] ints(GgufTensor t) {
        int[] r = new int[(int) t.elementCount()];
        for (int i = 0; i < r.length; i++) {
            r[i] = t.data().getAtIndex(I32_LE, i);
        }
        return r;
    }
}
