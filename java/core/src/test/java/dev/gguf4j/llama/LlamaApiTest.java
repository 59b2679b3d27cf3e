package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Java API on stories260K: shapes of results, streaming, stop strings, seeds, context limits. */
class LlamaApiTest {
    static Llama llama;

    @BeforeAll
    static void load() throws Exception {
        llama = Llama.load(TestData.model("stories260K.gguf"), LlamaOptions.DEFAULTS.withThreads(2).withSeed(7));
    }

    @AfterAll
    static void close() {
        llama.close();
    }

    @Test
    void greedyCompletionIsOpenAiShaped() {
        Completion c = llama.complete("Once upon a time", CompletionParams.DEFAULTS.withMaxTokens(12)
                .withSampling(SamplingParams.greedy()));
        // llama.cpp's greedy continuation begins ", there was a little girl named Lily."
        assertTrue(c.text().startsWith(", there was a little girl named Lily"), c.text());
        assertEquals("text_completion", c.object());
        assertTrue(c.id().startsWith("cmpl-"));
        assertEquals("length", c.choices().getFirst().finishReason());
        assertEquals(5, c.usage().promptTokens());
        assertEquals(12, c.usage().completionTokens());
        assertEquals(17, c.usage().totalTokens());
        String json = c.toJson();
        assertTrue(json.contains("\"object\":\"text_completion\"") && json.contains("\"finish_reason\":\"length\"")
                && json.contains("\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":12,\"total_tokens\":17}"), json);
    }

    @Test
    void streamingChunksAddUpToTheCompletion() {
        CompletionParams p = CompletionParams.DEFAULTS.withMaxTokens(40).withSampling(SamplingParams.greedy());
        String whole = llama.complete("The cat", p).text();
        List<Completion> chunks;
        try (Stream<Completion> s = llama.stream("The cat", p)) {
            chunks = s.toList();
        }
        assertTrue(chunks.size() > 5);
        assertEquals(whole, chunks.stream().map(Completion::text).collect(Collectors.joining()));
        assertTrue(chunks.subList(0, chunks.size() - 1).stream().allMatch(c -> c.choices().getFirst().finishReason() == null));
        assertEquals("length", chunks.getLast().choices().getFirst().finishReason());
    }

    @Test
    void timingsComeWithTheResultAndTheLastChunk() {
        CompletionParams p = CompletionParams.DEFAULTS.withMaxTokens(7).withSampling(SamplingParams.greedy());
        Completion c = llama.complete("The cat", p);
        Timings t = c.timings();
        assertEquals(c.usage().promptTokens(), t.promptTokens());
        assertEquals(7, t.generatedTokens());
        assertEquals(0, t.reusedTokens());
        assertTrue(t.promptSeconds() > 0 && t.generationSeconds() > 0, t.toString());
        List<Completion> chunks;
        try (Stream<Completion> s = llama.stream("The cat", p)) {
            chunks = s.toList();
        }
        assertTrue(chunks.subList(0, chunks.size() - 1).stream().allMatch(k -> k.timings() == null));
        assertEquals(7, chunks.getLast().timings().generatedTokens());
        assertEquals(c.usage().promptTokens(), chunks.getLast().timings().promptTokens());
    }

    @Test
    void stopStringIsNeverEmittedNotEvenInPart() {
        CompletionParams p = CompletionParams.DEFAULTS.withMaxTokens(100).withSampling(SamplingParams.greedy())
                .withStop(List.of("Lily."));
        List<String> pieces = new ArrayList<>();
        Completion c = llama.complete("Once upon a time", p, chunk -> pieces.add(chunk.text()));
        assertEquals(", there was a little girl named ", c.text());
        assertEquals("stop", c.choices().getFirst().finishReason());
        assertFalse(String.join("", pieces).contains("Lily"), pieces.toString());
    }

    @Test
    void sameSeedSameText() {
        CompletionParams p = CompletionParams.DEFAULTS.withMaxTokens(40)
                .withSampling(SamplingParams.DEFAULTS.withTemperature(1.0f).withSeed(42));
        String a = llama.complete("Lily and Tom", p).text();
        String b = llama.complete("Lily and Tom", p).text();
        assertEquals(a, b);
        String c = llama.complete("Lily and Tom", p.withSampling(p.sampling().withSeed(43))).text();
        assertNotEquals(a, c);
    }

    /** llama-simple's n_ctx = prompt tokens + n_predict: the golden prompt's llama.cpp tokens (with BOS) + 5. */
    @Test
    void contextSizedForAPrompt() throws Exception {
        try (dev.gguf4j.gguf.GgufFile g = dev.gguf4j.gguf.GgufFile.open(TestData.golden("stories260K.golden.gguf"))) {
            String text = g.metadata().getString("prompt.0.text");
            long want = g.requireTensor("prompt.0.tokens").elementCount() + 5;
            try (Llama small = Llama.load(TestData.model("stories260K.gguf"),
                    LlamaOptions.DEFAULTS.withContextFor(text, 5))) {
                assertEquals(want, small.contextLength());
                Completion c = small.complete(text, CompletionParams.DEFAULTS.withMaxTokens(5)
                        .withSampling(SamplingParams.greedy()));
                assertEquals(5, c.usage().completionTokens(), c.toJson());
            }
        }
    }

    @Test
    void promptLongerThanTheContextIsAnErrorUnlessTruncationIsAsked() throws Exception {
        try (Llama small = Llama.load(TestData.model("stories260K.gguf"), LlamaOptions.DEFAULTS.withContextLength(8))) {
            String prompt = "Once upon a time there was a little girl named Lily and a boy named Tom";
            Gguf4jException e = assertThrows(Gguf4jException.class,
                    () -> small.complete(prompt, CompletionParams.DEFAULTS));
            assertTrue(e.getMessage().contains("holds 8"), e.getMessage());
            Completion c = small.complete(prompt, CompletionParams.DEFAULTS.withMaxTokens(3).withTruncatePrompt(true)
                    .withSampling(SamplingParams.greedy()));
            assertTrue(c.usage().promptTokens() < 8, c.toJson());
        }
    }

    @Test
    void contextLimitEndsGenerationWithLength() throws Exception {
        try (Llama small = Llama.load(TestData.model("stories260K.gguf"), LlamaOptions.DEFAULTS.withContextLength(10))) {
            Completion c = small.complete("Once upon a time", CompletionParams.DEFAULTS.withMaxTokens(100)
                    .withSampling(SamplingParams.greedy()));
            assertEquals("length", c.choices().getFirst().finishReason());
            assertEquals(10, c.usage().totalTokens());
        }
    }
}
