package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.testing.RandomEncoders;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Llama#embed}'s contract beyond the llama-embedding goldens (EmbeddingGoldenTest): inputs batched into one
 * pass give each input what it gets alone (attention never crosses inputs), in bert (non-causal) and in a decoder
 * (causal); the result states pooling, normalisation and token counts; too-long inputs fail naming index, length
 * and limit, or are cut when asked; an encoder refuses to generate in one line.
 */
class EmbedApiTest {
    @TempDir
    static Path dir;
    static Path bert;

    @BeforeAll
    static void build() throws Exception {
        bert = dir.resolve("bert-F32.gguf");
        RandomEncoders.write(RandomEncoders.Preset.BERT, GgmlType.F32, bert);
    }

    static final List<String> INPUTS = List.of("Hello world", "the quick brown fox jumps over the lazy dog",
            "of and the in to", "A man is eating food.");

    private static void batchEqualsAlone(Path model, Pooling pooling) throws Exception {
        try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS.withThreads(2).withContextLength(256))) {
            Embeddings all = llama.embed(INPUTS, EmbeddingParams.DEFAULTS.withPooling(pooling));
            assertEquals(INPUTS.size(), all.data().size());
            int total = 0;
            for (int i = 0; i < INPUTS.size(); i++) {
                Embeddings one = llama.embed(List.of(INPUTS.get(i)), EmbeddingParams.DEFAULTS.withPooling(pooling));
                float[] a = all.data().get(i).vector();
                float[] b = one.data().get(0).vector();
                double dot = 0;
                for (int k = 0; k < a.length; k++) {
                    dot += (double) a[k] * b[k];
                }
                assertTrue(dot > 1 - 1e-6, "input " + i + " batched vs alone: cosine " + dot);
                assertEquals(one.promptTokens(), all.data().get(i).tokens());
                total += all.data().get(i).tokens();
            }
            assertEquals(total, all.promptTokens());
            assertEquals(pooling, all.pooling());
            assertEquals(2, all.normalize());
            double norm = 0;
            for (float x : all.data().get(0).vector()) {
                norm += (double) x * x;
            }
            assertEquals(1.0, norm, 1e-5);
        }
    }

    @Test
    void encoderInputsDoNotSeeEachOther() throws Exception {
        batchEqualsAlone(bert, Pooling.MEAN);
    }

    @Test
    void decoderInputsDoNotSeeEachOther() throws Exception {
        batchEqualsAlone(TestData.model("stories260K.gguf"), Pooling.LAST);
    }

    @Test
    void modelPoolingPerTokenVectorsAndNormalisation() throws Exception {
        try (Llama llama = Llama.load(bert, LlamaOptions.DEFAULTS.withThreads(2))) {
            assertTrue(llama.embeddingOnly());
            assertEquals(Pooling.CLS, llama.defaultPooling()); // bert.pooling_type 2
            Embeddings e = llama.embed("Hello world");
            assertEquals(Pooling.CLS, e.pooling());
            int tokens = llama.tokenize("Hello world", true).length; // [CLS] ... [SEP] (4096-token vocab)
            assertEquals(tokens, e.data().get(0).tokens());
            Embeddings none = llama.embed(List.of("Hello world"), EmbeddingParams.DEFAULTS.withPooling(Pooling.NONE));
            assertEquals(tokens, none.data().get(0).vectors().length);
            // CLS pooling is the first token's vector
            assertArrayEquals(e.data().get(0).vector(), none.data().get(0).vectors()[0]);
            Embeddings raw = llama.embed(List.of("Hello world"), EmbeddingParams.DEFAULTS.withNormalize(-1));
            Embeddings l2 = Embeddings.class.cast(e);
            float[] r = raw.data().get(0).vector();
            double n = 0;
            for (float x : r) {
                n += (double) x * x;
            }
            assertTrue(Math.abs(Math.sqrt(n) - 1) > 1e-3, "not normalised");
            assertEquals(r[7] / (float) Math.sqrt(n), l2.data().get(0).vector()[7], 1e-6);
        }
    }

    @Test
    void tooLongInputFailsOrIsTruncated() throws Exception {
        try (Llama llama = Llama.load(bert, LlamaOptions.DEFAULTS.withThreads(2).withContextLength(8))) {
            List<String> in = List.of("hello", "the quick brown fox jumps over the lazy dog");
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> llama.embed(in));
            assertEquals(21, llama.tokenize(in.get(1), true).length);
            assertEquals("input 1 has 21 tokens, more than the limit of 8 (the context length); shorten it, or ask"
                    + " for truncation (EmbeddingParams.withTruncate(true), --truncate)", x.getMessage());
            Embeddings e = llama.embed(in, EmbeddingParams.DEFAULTS.withTruncate(true));
            assertFalse(e.data().get(0).truncated());
            assertTrue(e.data().get(1).truncated());
            assertEquals(8, e.data().get(1).tokens());
            assertEquals(llama.tokenize("hello", true).length + 8, e.promptTokens());
        }
    }

    @Test
    void encoderRefusesToGenerate() throws Exception {
        try (Llama llama = Llama.load(bert, LlamaOptions.DEFAULTS.withThreads(1));
                LlamaSession s = llama.newSession()) {
            Gguf4jException x = assertThrows(Gguf4jException.class, () -> s.forward(101));
            assertEquals(1, x.getMessage().lines().count());
            assertTrue(x.getMessage().startsWith("bert is an embedding model"), x.getMessage());
        }
    }
}
