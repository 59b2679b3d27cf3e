package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * llama.cpp's tokenizer test vectors ({@code golden/tokenizer/ggml-vocab-*.gguf} with {@code .inp}/{@code .out},
 * the data of test-tokenizer-0): every input must tokenize to exactly the expected ids with {@code add_special =
 * false, parse_special = false}, as test-tokenizer-0 calls {@code common_tokenize}. Every vocabulary file with
 * test vectors in the folder is picked up.
 *
 * <p>Also detokenization: {@code decode(encode(x))} must give {@code x} back, except that models with
 * {@code clean_spaces} (most BPE pre-tokenizers) give llama.cpp's cleaned-up text, e.g. "you ?" becomes "you?"
 * (test-tokenizer-0 prints this text but does not compare it; this test pins it down).
 */
class VocabGoldenTest {
    private static final Map<String, String> TALLY = new TreeMap<>();

    static List<Path> vocabFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : TestData.goldenFiles("tokenizer", ".gguf")) {
            if (p.getFileName().toString().startsWith("ggml-vocab-") && Files.exists(Path.of(p + ".inp"))
                    && Files.exists(Path.of(p + ".out"))) {
                files.add(p);
            }
        }
        return files;
    }

    @TestFactory
    Stream<DynamicTest> everyInputOfEveryVocab() throws IOException {
        List<Path> files = vocabFiles();
        assertFalse(files.isEmpty(), "no ggml-vocab-*.gguf with .inp/.out in golden/tokenizer");
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> checkVocab(f)));
    }

    private static void checkVocab(Path file) throws IOException {
        Tokenizer tok = Tokenizer.fromMetadata(TokenizerTestInputs.metadata(file));
        List<String> inputs = TokenizerTestInputs.readInputs(Path.of(file + ".inp"));
        List<int[]> expected = TokenizerTestInputs.readOutputs(Path.of(file + ".out"));
        assertEquals(expected.size(), inputs.size(), "inputs vs outputs in " + file);
        int ok = 0;
        int roundTrip = 0;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String in = inputs.get(i);
            int[] got = tok.encode(in, false, false);
            if (Arrays.equals(expected.get(i), got)) {
                ok++;
            } else {
                failures.add("#" + i + " '" + in + "'\n  expected " + Arrays.toString(expected.get(i)) + "\n  got      "
                        + Arrays.toString(got));
            }
            String want = expectedDecode(tok, in);
            String back = tok.decode(got);
            if (want.equals(back)) {
                roundTrip++;
            } else {
                failures.add("#" + i + " decode: '" + back + "' instead of '" + want + "'");
            }
        }
        String name = file.getFileName().toString();
        synchronized (TALLY) {
            TALLY.put(name, ok + "/" + inputs.size() + " inputs tokenize exactly, " + roundTrip + "/" + inputs.size()
                    + " decode back" + (tok.cleanSpaces() ? " (with clean_spaces)" : ""));
        }
        assertTrue(failures.isEmpty(), name + ":\n" + String.join("\n", failures));
    }

    /** What llama_detokenize gives for text that tokenized without loss: the text, cleaned up if the model says so. */
    static String expectedDecode(Tokenizer tok, String text) {
        if (!tok.cleanSpaces()) {
            return text;
        }
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int n = Detokenizer.cleanUpSpaces(b, b.length);
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    @AfterAll
    static void report() {
        TALLY.forEach((k, v) -> System.out.println("[tokenizer] " + k + ": " + v));
    }
}
