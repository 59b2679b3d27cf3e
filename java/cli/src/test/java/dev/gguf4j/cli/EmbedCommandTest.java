package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.testing.EmbeddingVectors;
import dev.gguf4j.testing.RandomEncoders;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gguf4j embed} on the random bert encoder: its {@code --embd-output-format json} has llama-embedding's
 * shape and numbers (tests/golden/embeddings/bert-F32-cls.json, llama-embedding c392e50 with the same flags), and
 * an input longer than the context fails in one line naming it, unless {@code --truncate}.
 */
class EmbedCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void build() throws Exception {
        model = dir.resolve("bert-F32.gguf");
        RandomEncoders.write(RandomEncoders.Preset.BERT, GgmlType.F32, model);
    }

    @Test
    void jsonMatchesLlamaEmbedding() throws Exception {
        Path golden = TestData.root().resolve("tests/golden/embeddings/bert-F32-cls.json");
        Path prompts = TestData.root().resolve("tests/golden/embeddings/prompts.txt");
        MainTest.Result r = MainTest.run("embed", "-m", model.toString(), "-f", prompts.toString(), "-c", "512",
                "--pooling", "cls", "--embd-normalize", "2", "--embd-output-format", "json", "-t", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("{\n  \"object\": \"list\",\n  \"data\": [\n    {\n      \"object\": \"embedding\","
                + "\n      \"index\": 0,\n      \"embedding\": ["), r.out());
        List<float[]> want = EmbeddingVectors.parse(Files.readString(golden));
        List<float[]> got = EmbeddingVectors.parse(r.out());
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            assertTrue(EmbedCommand.cosine(want.get(i), got.get(i)) > 0.99999f, "input " + i);
        }
        assertTrue(r.err().contains("5 inputs") && r.err().contains("pooling cls"), r.err());
    }

    @Test
    void tooLongInputIsOneLineUnlessTruncated() throws Exception {
        String text = "the quick brown fox jumps over the lazy dog";
        MainTest.Result r = MainTest.run("embed", "-m", model.toString(), "-p", "hello\n" + text, "-c", "8");
        assertEquals(1, r.status(), r.out());
        assertEquals("gguf4j: error: input 1 has 21 tokens, more than the limit of 8 (the context length); shorten"
                + " it, or ask for truncation (EmbeddingParams.withTruncate(true), --truncate)\n", r.err());
        MainTest.Result t = MainTest.run("embed", "-m", model.toString(), "-p", "hello\n" + text, "-c", "8",
                "--truncate", "--embd-output-format", "array");
        assertEquals(0, t.status(), t.err());
        assertTrue(t.err().contains("1 truncated"), t.err());
        assertTrue(t.out().startsWith("[[") && t.out().trim().endsWith("]]"), t.out());
    }
}
