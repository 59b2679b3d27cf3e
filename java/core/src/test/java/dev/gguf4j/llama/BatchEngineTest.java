package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.Backends;
import dev.gguf4j.chat.ChatCompletion;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.engine.BatchEngine;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.engine.Sequence;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continuous batching ({@link BatchEngine}, {@link Llama#enableBatching}): sequences evaluated together in one
 * forward pass per step give, bit for bit, the logits and outputs of the same sequences run alone on their own
 * {@link LlamaSession} (whatever else is in the batch, however the prompt is chunked), and a chat continues the
 * kept cache of the conversation it extends.
 */
class BatchEngineTest {
    private static final int THREADS = 2;
    private static final int STEPS = 12;

    @TempDir
    static Path dir;
    static Path chatml;

    @BeforeAll
    static void models() throws Exception {
        chatml = ChatTestModels.write(dir, "chatml");
    }

    /** Logits of the prompt's last token, then of {@link #STEPS} greedy tokens. */
    private static List<float[]> run(Sequence s, int[] prompt) {
        List<float[]> out = new ArrayList<>();
        float[] l = s.forwardLast(prompt);
        out.add(l.clone());
        for (int i = 0; i < STEPS; i++) {
            int next = LlamaSession.argmax(l);
            l = s.forward(next);
            out.add(l.clone());
        }
        return out;
    }

    @Test
    void concurrentSequencesGiveTheLogitsOfEachAlone() throws Exception {
        try (LlamaModel m = LlamaModel.load(TestData.model("kjv7m-Q4_K_M.gguf"))) {
            SplittableRandom rnd = new SplittableRandom(7);
            int[] lengths = {23, 1, 41, 9};
            int[][] prompts = new int[lengths.length][];
            for (int i = 0; i < prompts.length; i++) {
                prompts[i] = rnd.ints(lengths[i], 0, m.config().vocab()).toArray();
            }
            List<List<float[]>> alone = new ArrayList<>();
            for (int[] p : prompts) {
                try (LlamaSession s = new LlamaSession(m, Backends.select(), 128, THREADS,
                        LlamaSession.KvType.F16)) {
                    alone.add(run(s, p));
                }
            }
            // prompt chunks of 5 tokens per step: every prompt is cut, and shares steps with the others' tokens
            try (BatchEngine e = new BatchEngine(m, Backends.select(), THREADS, 128, LlamaSession.KvType.F16,
                    prompts.length, 5);
                    ExecutorService pool = Executors.newFixedThreadPool(prompts.length)) {
                for (int round = 0; round < 2; round++) { // the second round: slots reused after close
                    List<Future<List<float[]>>> batched = new ArrayList<>();
                    for (int[] p : prompts) {
                        batched.add(pool.submit(() -> {
                            try (BatchEngine.Slot s = e.acquire()) {
                                return run(s, p);
                            }
                        }));
                    }
                    for (int i = 0; i < prompts.length; i++) {
                        List<float[]> got = batched.get(i).get();
                        for (int k = 0; k < got.size(); k++) {
                            assertArrayEquals(alone.get(i).get(k), got.get(k), "sequence " + i + " step " + k);
                        }
                    }
                }
                long[] counters = e.counters();
                long total = 2L * (23 + 1 + 41 + 9 + prompts.length * STEPS);
                assertEquals(total, counters[1], "rows evaluated");
                assertTrue(counters[0] < total * 5 / 6, "steps " + counters[0] + " for " + total
                        + " rows: sequences shared steps");
            }
        }
    }

    @Test
    void concurrentCompletionsMatchEachAlone() throws Exception {
        Path model = TestData.model("kjv7m-Q4_K_M.gguf");
        String[] prompts = {"In the beginning God created", "And Adam knew Eve his wife; and she conceived, and",
            "The LORD is my shepherd", "Blessed are the"};
        List<CompletionParams> params = List.of(
                CompletionParams.DEFAULTS.withMaxTokens(20).withSampling(SamplingParams.greedy()),
                CompletionParams.DEFAULTS.withMaxTokens(24).withSampling(SamplingParams.DEFAULTS.withSeed(11)),
                CompletionParams.DEFAULTS.withMaxTokens(16).withSampling(SamplingParams.DEFAULTS.withTemperature(1.2f)
                        .withTopK(0).withSeed(3)),
                CompletionParams.DEFAULTS.withMaxTokens(28).withStop(List.of("."))
                        .withSampling(SamplingParams.DEFAULTS.withSeed(99)));
        LlamaOptions opts = LlamaOptions.DEFAULTS.withThreads(THREADS).withContextLength(128);
        List<String> alone = new ArrayList<>();
        try (Llama llama = Llama.load(model, opts)) {
            for (int i = 0; i < prompts.length; i++) {
                alone.add(llama.complete(prompts[i], params.get(i)).text());
            }
        }
        try (Llama llama = Llama.load(model, opts); ExecutorService pool = Executors.newFixedThreadPool(4)) {
            assertTrue(llama.enableBatching(4, 4));
            List<Future<String>> got = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                int k = i;
                got.add(pool.submit((Callable<String>) () -> llama.complete(prompts[k], params.get(k)).text()));
            }
            for (int i = 0; i < prompts.length; i++) {
                assertEquals(alone.get(i), got.get(i).get(), "completion " + i);
            }
            assertEquals(0, llama.batchedSequencesInUse(), "completions give their slots back");
        }
    }

    @Test
    void aClosedStreamLeavesTheBatchAtOnceAndTheOthersGoOn() throws Exception {
        Path model = TestData.model("kjv7m-Q4_K_M.gguf");
        LlamaOptions opts = LlamaOptions.DEFAULTS.withThreads(THREADS).withContextLength(128);
        CompletionParams p = CompletionParams.DEFAULTS.withMaxTokens(40).withSampling(SamplingParams.DEFAULTS
                .withSeed(5).withLogitBias(java.util.Map.of(2, Float.NEGATIVE_INFINITY)));
        String alone;
        try (Llama llama = Llama.load(model, opts)) {
            alone = llama.complete("And the earth was", p).text();
        }
        try (Llama llama = Llama.load(model, opts); ExecutorService pool = Executors.newFixedThreadPool(1)) {
            assertTrue(llama.enableBatching(3));
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
            Future<String> other = pool.submit(() -> {
                StringBuilder sb = new StringBuilder();
                try (var st = llama.stream("And the earth was", p)) {
                    st.forEach(c -> {
                        sb.append(c.text());
                        started.countDown();
                    });
                }
                return sb.toString();
            });
            started.await();
            var it = llama.stream("In the beginning", p).iterator();
            try (var leaving = llama.stream("Then said Jesus", p)) {
                var chunks = leaving.iterator();
                chunks.next();
                chunks.next();
                assertEquals(3, llama.batchedSequencesInUse());
            }
            // closing the stream (what the server does when a client is gone) gives its slot back before the
            // next step
            assertTrue(llama.batchedSequencesInUse() <= 2, "in use " + llama.batchedSequencesInUse());
            it.next();
            assertEquals(alone, other.get());
        }
    }

    @Test
    void chatContinuesTheKeptCacheOfItsConversation() throws Exception {
        ChatParams greedy = ChatParams.DEFAULTS.withSampling(SamplingParams.greedy()).withMaxTokens(6);
        List<ChatMessage> a = List.of(ChatMessage.system("Answer in the words of the King James Bible."),
                ChatMessage.user("Who begat Enoch?"));
        List<ChatMessage> b = List.of(ChatMessage.system("Speak plainly."), ChatMessage.user("Hello there"));
        LlamaOptions opts = LlamaOptions.DEFAULTS.withThreads(THREADS);
        try (Llama llama = Llama.load(chatml, opts)) {
            assertTrue(llama.enableBatching(2));
            ChatCompletion rA = llama.chat(a, greedy);
            String replyA = rA.message().content();
            int promptA = rA.timings().promptTokens();
            llama.chat(b, greedy);
            List<ChatMessage> a2 = new ArrayList<>(a);
            a2.add(ChatMessage.assistant(replyA));
            a2.add(ChatMessage.user("And who begat Methuselah?"));
            ChatCompletion r2 = llama.chat(a2, greedy);
            String reply2 = r2.message().content();
            Timings t = r2.timings();
            // conversation a's cache was kept beside b's: its whole first prompt is reused
            assertTrue(t.reusedTokens() >= promptA, "reused " + t.reusedTokens() + " of " + promptA);
            assertEquals(2, llama.batchedSequencesInUse(), "two conversations kept");
            // a new conversation with a's system prompt: that prefix is copied from a's cache, which stays
            List<ChatMessage> c = List.of(a.get(0), ChatMessage.user("Who begat Noah?"));
            ChatCompletion rC = llama.chat(c, greedy);
            String replyC = rC.message().content();
            int reusedC = rC.timings().reusedTokens();
            assertTrue(reusedC > 8 && reusedC < promptA, "reused " + reusedC);
            try (Llama fresh = Llama.load(chatml, opts)) {
                ChatCompletion f = fresh.chat(a2, greedy);
                assertEquals(f.message().content(), reply2);
                assertEquals(0, f.timings().reusedTokens());
            }
            try (Llama fresh = Llama.load(chatml, opts)) {
                assertEquals(fresh.chat(c, greedy).message().content(), replyC);
            }
        }
    }
}
