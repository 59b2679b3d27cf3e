package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatCompletion;
import dev.gguf4j.chat.ChatCompletionChunk;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log-probabilities ({@link CompletionParams#withLogprobs}, {@link ChatParams#withLogprobs}): each generated token's
 * entry is the log-softmax of the raw logits (before sampling) that a plain {@link LlamaSession} gives for the same
 * tokens, computed here independently; the same with continuous batching; none (and no cost) when not asked.
 */
class LogprobsTest {
    private static final String PROMPT = "And God said, Let there be";
    private static final int TOP = 5;

    @TempDir
    static Path dir;

    private static LlamaOptions opts() {
        return LlamaOptions.DEFAULTS.withThreads(2).withContextLength(128);
    }

    private static CompletionParams params(long seed) {
        return CompletionParams.DEFAULTS.withMaxTokens(12).withLogprobs(TOP)
                .withSampling(SamplingParams.DEFAULTS.withTemperature(0.9f).withSeed(seed));
    }

    /** Log-softmax of {@code logits} in double, the textbook way (exp of each over the sum). */
    private static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = Math.log(Math.exp(logits[i] - max) / sum);
        }
        return out;
    }

    /** Checks each entry against a fresh session fed the prompt and the generated tokens. */
    private static void checkAgainstSession(Llama llama, String prompt, List<TokenLogprob> entries) {
        try (LlamaSession s = llama.newSession()) {
            float[] logits = s.forwardLast(llama.tokenizer().encode(prompt, true, true)).clone();
            for (TokenLogprob e : entries) {
                double[] lp = logSoftmax(logits);
                assertEquals(lp[e.id()], e.logprob(), 1e-9, "token " + e.id());
                assertArrayEquals(llama.tokenizer().tokenBytes(e.id()), e.bytes());
                assertEquals(TOP, e.topLogprobs().size());
                Integer[] order = new Integer[lp.length];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                java.util.Arrays.sort(order, (a, b) -> Double.compare(lp[b], lp[a]));
                for (int k = 0; k < TOP; k++) {
                    TokenLogprob alt = e.topLogprobs().get(k);
                    assertEquals(lp[order[k]], alt.logprob(), 1e-9, "alternative " + k);
                    assertEquals(order[k], alt.id());
                    assertTrue(alt.topLogprobs().isEmpty());
                }
                logits = s.forward(e.id()).clone();
            }
        }
    }

    @Test
    void completionLogprobsAreTheLogSoftmaxOfTheSessionsLogits() throws Exception {
        try (Llama llama = Llama.load(TestData.model("kjv7m-Q4_K_M.gguf"), opts())) {
            List<Completion> chunks = new ArrayList<>();
            Completion c = llama.complete(PROMPT, params(3), chunks::add);
            List<TokenLogprob> all = c.choices().getFirst().logprobs();
            assertEquals(c.usage().completionTokens() - ("stop".equals(c.choices().getFirst().finishReason()) ? 1 : 0),
                    all.size());
            checkAgainstSession(llama, PROMPT, all);
            // the chunks carry them in order, each once; the tokens' bytes make the text
            assertEquals(all, chunks.stream().flatMap(k -> k.choices().getFirst().logprobs().stream()).toList());
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            all.forEach(e -> bytes.writeBytes(e.bytes()));
            assertEquals(c.text(), bytes.toString(StandardCharsets.UTF_8));
            // a sampled (not greedy) run picks a token outside the top alternatives now and then; the sampled one's
            // log-probability is its own whatever its rank
            assertTrue(all.stream().allMatch(e -> e.logprob() <= e.topLogprobs().getFirst().logprob()));
            // not asked: none
            assertNull(llama.complete(PROMPT, params(3).withLogprobs(-1)).choices().getFirst().logprobs());
            // zero alternatives: the tokens' own only
            List<TokenLogprob> own = llama.complete(PROMPT, params(3).withLogprobs(0)).choices().getFirst().logprobs();
            assertEquals(all.stream().map(TokenLogprob::logprob).toList(),
                    own.stream().map(TokenLogprob::logprob).toList());
            assertTrue(own.stream().allMatch(e -> e.topLogprobs().isEmpty()));
        }
    }

    @Test
    void batchedCompletionsGiveTheSameLogprobs() throws Exception {
        List<List<TokenLogprob>> alone = new ArrayList<>();
        try (Llama llama = Llama.load(TestData.model("kjv7m-Q4_K_M.gguf"), opts())) {
            for (int i = 0; i < 3; i++) {
                alone.add(llama.complete(PROMPT, params(10 + i)).choices().getFirst().logprobs());
            }
        }
        try (Llama llama = Llama.load(TestData.model("kjv7m-Q4_K_M.gguf"), opts());
                ExecutorService pool = Executors.newFixedThreadPool(3)) {
            assertTrue(llama.enableBatching(3));
            List<Future<List<TokenLogprob>>> batched = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                long seed = 10 + i;
                batched.add(pool.submit(() -> llama.complete(PROMPT, params(seed)).choices().getFirst().logprobs()));
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(alone.get(i), batched.get(i).get(), "sequence " + i);
            }
        }
    }

    @Test
    void chatCarriesLogprobsInTheChoiceAndTheChunks() throws Exception {
        Path chatml = ChatTestModels.write(dir, "chatml");
        List<ChatMessage> messages = List.of(ChatMessage.user("Who made the heaven and the earth?"));
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(10).withLogprobs(TOP)
                .withSampling(SamplingParams.DEFAULTS.withSeed(5));
        try (Llama llama = Llama.load(chatml, opts())) {
            ChatCompletion r = llama.chat(messages, p);
            List<TokenLogprob> all = r.choices().getFirst().logprobs();
            assertTrue(!all.isEmpty());
            List<TokenLogprob> streamed;
            try (Stream<ChatCompletionChunk> s = llama.chatStream(messages, p)) {
                streamed = s.flatMap(k -> k.choices().getFirst().logprobs() == null ? Stream.empty()
                        : k.choices().getFirst().logprobs().stream()).toList();
            }
            assertEquals(all, streamed);
            // independent: a session over the same prompt tokens
            try (LlamaSession s = llama.newSession()) {
                float[] logits = s.forwardLast(LlamaChat.promptTokens(llama, messages, p)).clone();
                for (TokenLogprob e : all) {
                    assertEquals(logSoftmax(logits)[e.id()], e.logprob(), 1e-9);
                    logits = s.forward(e.id()).clone();
                }
            }
            String json = r.toJson();
            assertTrue(json.contains("\"logprobs\":{\"content\":[{\"token\":"), json);
            assertNull(llama.chat(messages, p.withLogprobs(-1)).choices().getFirst().logprobs());
        }
        assertThrows(RuntimeException.class, () -> p.withLogprobs(21));
        assertThrows(IllegalArgumentException.class, () -> CompletionParams.DEFAULTS.withLogprobs(-2));
    }
}
