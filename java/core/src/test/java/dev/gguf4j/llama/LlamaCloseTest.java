package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@link Llama#close()} while completions run in other threads: each one ends normally or with a
 * {@link GenerationCancelledException} (its partial text equal to the chunks already given), nothing else; close()
 * returns with the weights freed; never a crash (a kernel reading freed memory would kill this JVM).
 */
class LlamaCloseTest {
    enum Outcome { NORMAL, CANCELLED, AFTER_CLOSE }

    static final CompletionParams PARAMS = CompletionParams.DEFAULTS.withMaxTokens(150)
            .withSampling(SamplingParams.DEFAULTS.withTemperature(1.0f).withSeed(3));

    static Llama load() throws Exception {
        return Llama.load(TestData.model("stories260K.gguf"), LlamaOptions.DEFAULTS.withThreads(1)
                .withContextLength(256));
    }

    static Outcome stream(Llama llama, String prompt, CompletionParams params) {
        Stream<Completion> s;
        try {
            s = llama.stream(prompt, params);
        } catch (IllegalStateException e) {
            assertEquals("closed", e.getMessage());
            return Outcome.AFTER_CLOSE;
        } catch (GenerationCancelledException e) { // closed while the prompt was evaluated
            assertCancelled(e, "");
            return Outcome.CANCELLED;
        }
        List<Completion> chunks = new ArrayList<>();
        try (s) {
            s.forEach(chunks::add);
        } catch (GenerationCancelledException e) {
            assertCancelled(e, chunks.stream().map(Completion::text).collect(Collectors.joining()));
            return Outcome.CANCELLED;
        }
        String reason = chunks.getLast().choices().getFirst().finishReason();
        assertTrue(reason.equals("length") || reason.equals("stop"), reason);
        return Outcome.NORMAL;
    }

    static Outcome complete(Llama llama, String prompt, CompletionParams params) {
        StringBuilder seen = new StringBuilder();
        try {
            Completion c = llama.complete(prompt, params, chunk -> seen.append(chunk.text()));
            assertEquals(seen.toString(), c.text());
            String reason = c.choices().getFirst().finishReason();
            assertTrue(reason.equals("length") || reason.equals("stop"), reason);
            return Outcome.NORMAL;
        } catch (IllegalStateException e) {
            assertEquals("closed", e.getMessage());
            assertEquals("", seen.toString());
            return Outcome.AFTER_CLOSE;
        } catch (GenerationCancelledException e) {
            assertCancelled(e, seen.toString());
            return Outcome.CANCELLED;
        }
    }

    static void assertCancelled(GenerationCancelledException e, String textSoFar) {
        Completion p = e.partial();
        assertEquals("cancelled", p.choices().getFirst().finishReason());
        assertEquals(textSoFar, p.text());
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    static void assertFreed(Llama llama) {
        assertEquals(0, llama.liveGenerations());
        assertFalse(llama.model().file().contents().scope().isAlive(), "the weights are still mapped");
        llama.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> llama.complete("x", PARAMS));
        assertEquals("closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> llama.stream("x", PARAMS));
        assertThrows(IllegalStateException.class, llama::newSession);
    }

    @Test
    void closeWhileStreamsAndCompletionsRun() throws Exception {
        Random rnd = new Random(10);
        ExecutorService ex = Executors.newCachedThreadPool();
        int[] counts = new int[Outcome.values().length];
        try {
            for (int it = 0; it < 100; it++) {
                Llama llama = load();
                List<Callable<Outcome>> jobs = new ArrayList<>();
                int streams = 2 + rnd.nextInt(2);
                for (int i = 0; i < streams; i++) {
                    String prompt = "Once upon a time " + i;
                    CompletionParams p = PARAMS.withMaxTokens(1 + rnd.nextInt(150)); // some end before close()
                    jobs.add(() -> stream(llama, prompt, p));
                }
                CompletionParams p = PARAMS.withMaxTokens(1 + rnd.nextInt(150));
                jobs.add(() -> complete(llama, "Lily and Tom", p));
                List<Future<Outcome>> futures = new ArrayList<>();
                for (Callable<Outcome> j : jobs) {
                    futures.add(ex.submit(j));
                }
                long waitMicros = rnd.nextInt(40_000); // up to 40 ms: before, during and after the generations
                TimeUnit.MICROSECONDS.sleep(waitMicros);
                assertTimeoutPreemptively(Duration.ofSeconds(30), llama::close, "close() did not return");
                for (Future<Outcome> f : futures) {
                    counts[f.get(30, TimeUnit.SECONDS).ordinal()]++; // any other exception fails here
                }
                assertFreed(llama);
            }
        } finally {
            ex.shutdownNow();
        }
        System.out.printf("close while running, 100 rounds: %d normal, %d cancelled, %d started after close%n",
                counts[0], counts[1], counts[2]);
        assertTrue(counts[Outcome.NORMAL.ordinal()] > 0 && counts[Outcome.CANCELLED.ordinal()] > 0,
                "the rounds did not exercise both outcomes: " + java.util.Arrays.toString(counts));
    }

    /** A stream left half-read (nobody is in next()): close() does not wait for it; its next step is cancelled. */
    @Test
    void idleStreamIsCancelledAtItsNextStep() throws Exception {
        Llama llama = load();
        Stream<Completion> s = llama.stream("Once upon a time", PARAMS.withSampling(SamplingParams.greedy()));
        Iterator<Completion> it = s.iterator();
        String first = it.next().text();
        assertTimeoutPreemptively(Duration.ofSeconds(10), llama::close);
        // a Stream's iterator looks ahead: its hasNext() runs the step, so the exception comes from there
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class, it::hasNext);
        assertCancelled(e, first);
        assertFalse(it.hasNext());
        s.close();
        assertFreed(llama);
    }

    /** close() from inside complete()'s chunk callback, on the generating thread: no deadlock, the completion ends. */
    @Test
    void closeFromTheChunkCallback() throws Exception {
        Llama llama = load();
        AtomicReference<String> firstChunk = new AtomicReference<>();
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                () -> assertTimeoutPreemptively(Duration.ofSeconds(10), () -> llama.complete("Once upon a time",
                        PARAMS.withSampling(SamplingParams.greedy()), chunk -> {
                            if (firstChunk.get() == null) {
                                firstChunk.set(chunk.text());
                                llama.close();
                            }
                        })));
        assertCancelled(e, firstChunk.get());
        assertFreed(llama);
    }
}
