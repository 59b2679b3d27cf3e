package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.Backends;
import dev.gguf4j.chat.BuiltinTemplates;
import dev.gguf4j.chat.ChatCompletion;
import dev.gguf4j.chat.ChatCompletionChunk;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Llama#chat}: the OpenAI shape, end-of-generation tokens, stop strings, streaming, and the KV cache of the
 * previous turn reused (counted evaluated tokens; logits and greedy replies equal to a fresh evaluation, bit for
 * bit), on kjv7m with a ChatML and a Llama 3.1 template ({@link ChatTestModels}).
 */
class LlamaChatTest {
    @TempDir
    static Path dir;
    static Path chatml;
    static Path llama3;

    private static final ChatParams GREEDY = ChatParams.DEFAULTS.withSampling(SamplingParams.greedy());

    @BeforeAll
    static void models() throws Exception {
        chatml = ChatTestModels.write(dir, "chatml");
        llama3 = ChatTestModels.write(dir, "llama3");
    }

    private static List<ChatMessage> firstTurn() {
        return List.of(ChatMessage.system("Answer in the words of the King James Bible."),
                ChatMessage.user("Who begat Enoch?"));
    }

    @Test
    void chatCompletionHasOpenAiShape() throws Exception {
        try (Llama llama = Llama.load(chatml, LlamaOptions.DEFAULTS)) {
            ChatCompletion c = llama.chat(firstTurn(), GREEDY.withMaxTokens(8));
            assertTrue(c.id().startsWith("chatcmpl-"), c.id());
            assertEquals("length", c.choices().getFirst().finishReason());
            assertEquals("assistant", c.message().role());
            assertEquals(LlamaChat.promptTokens(llama, firstTurn(), GREEDY).length, c.usage().promptTokens());
            assertEquals(8, c.usage().completionTokens());
            assertEquals(c.usage().promptTokens() + 8, c.usage().totalTokens());
            assertTrue(c.toJson().contains("\"object\":\"chat.completion\""), c.toJson());
            // the reply is the greedy completion of the rendered prompt
            String prompt = LlamaChat.promptText(llama, llama.chatTemplate(), firstTurn(), GREEDY);
            assertEquals(llama.complete(prompt, CompletionParams.DEFAULTS.withMaxTokens(8)
                    .withSampling(SamplingParams.greedy())).text(), c.message().content());
            assertEquals(0, llama.liveGenerations());
        }
    }

    @Test
    void stopsAtEveryEndOfGenerationToken() throws Exception {
        // <|im_end|> (chatml) and <|eot_id|> (llama3) end the reply: made the most likely token by a logit bias
        for (Path model : List.of(chatml, llama3)) {
            try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS)) {
                String eog = model == chatml ? "<|im_end|>" : "<|eot_id|>";
                int id = llama.tokenizer().tokenId(eog);
                ChatCompletion c = llama.chat(firstTurn(), GREEDY.withMaxTokens(8).withSampling(
                        SamplingParams.greedy().withLogitBias(Map.of(id, 1000f))));
                assertEquals("stop", c.choices().getFirst().finishReason(), eog);
                assertEquals("", c.message().content(), eog);
                assertEquals(1, c.usage().completionTokens(), eog);
            }
        }
    }

    @Test
    void stopStringsEndTheReply() throws Exception {
        try (Llama llama = Llama.load(chatml, LlamaOptions.DEFAULTS)) {
            String full = llama.chat(firstTurn(), GREEDY.withMaxTokens(16)).message().content();
            String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
            ChatCompletion c = llama.chat(firstTurn(), GREEDY.withMaxTokens(16).withStop(List.of(stop)));
            assertEquals(full.substring(0, full.indexOf(stop)), c.message().content(), "stop " + stop);
            assertEquals("stop", c.choices().getFirst().finishReason());
        }
    }

    @Test
    void streamedChunksAddUpToTheReply() throws Exception {
        try (Llama llama = Llama.load(llama3, LlamaOptions.DEFAULTS)) {
            ChatCompletion whole = llama.chat(firstTurn(), GREEDY.withMaxTokens(12));
            List<ChatCompletionChunk> chunks;
            try (Stream<ChatCompletionChunk> s = llama.chatStream(firstTurn(), GREEDY.withMaxTokens(12))) {
                chunks = s.toList();
            }
            assertEquals("assistant", chunks.getFirst().choices().getFirst().delta().role());
            StringBuilder text = new StringBuilder();
            for (ChatCompletionChunk c : chunks.subList(0, chunks.size() - 1)) {
                assertNull(c.choices().getFirst().finishReason());
                assertNull(c.usage());
                if (c.choices().getFirst().delta().content() != null) {
                    text.append(c.choices().getFirst().delta().content());
                }
            }
            ChatCompletionChunk last = chunks.getLast();
            assertEquals("length", last.choices().getFirst().finishReason());
            assertEquals(whole.usage(), last.usage());
            assertEquals(whole.message().content(), text.toString());
            List<ChatCompletionChunk> seen = new ArrayList<>();
            ChatCompletion viaCallback = llama.chat(firstTurn(), GREEDY.withMaxTokens(12), seen::add);
            assertEquals(whole.message(), viaCallback.message());
            assertEquals(chunks.size(), seen.size());
        }
    }

    @Test
    void secondTurnEvaluatesOnlyItsNewTokensAndRepliesAsAFreshEvaluation() throws Exception {
        for (Path model : List.of(chatml, llama3)) {
            List<ChatMessage> turn2 = new ArrayList<>(firstTurn());
            ChatCompletion reused;
            Timings t2;
            int[] p1;
            int[] p2;
            try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS)) {
                p1 = LlamaChat.promptTokens(llama, firstTurn(), GREEDY);
                ChatCompletion r1 = llama.chat(firstTurn(), GREEDY.withMaxTokens(6));
                Timings t1 = r1.timings();
                assertEquals(0, t1.reusedTokens(), model.toString());
                assertEquals(p1.length, t1.promptTokens(), model.toString());
                turn2.add(r1.message());
                turn2.add(ChatMessage.user("And who begat Methuselah?"));
                p2 = LlamaChat.promptTokens(llama, turn2, GREEDY);
                reused = llama.chat(turn2, GREEDY.withMaxTokens(10));
                t2 = reused.timings();
            }
            int shared = 0;
            while (shared < Math.min(p1.length, p2.length) && p1[shared] == p2[shared]) {
                shared++;
            }
            // the first turn's prompt (at least what the second shares of it) and maybe some of its reply
            assertTrue(t2.reusedTokens() >= shared && t2.reusedTokens() < p2.length, model + ": reused "
                    + t2.reusedTokens() + ", shared prompt prefix " + shared + " of " + p2.length);
            assertTrue(shared >= p1.length - 2, model + ": prompts share " + shared + " of " + p1.length);
            assertEquals(p2.length - t2.reusedTokens(), t2.promptTokens(), model + ": evaluated tokens");
            if (model == chatml) {
                // ChatML re-renders the reply as it was generated: its 6 tokens are reused too, and only the
                // turn's new tokens are evaluated (Llama 3.1's template trims the reply, which may change them)
                assertEquals(p1.length + 6, t2.reusedTokens());
            }
            assertEquals(p2.length, reused.usage().promptTokens());
            try (Llama fresh = Llama.load(model, LlamaOptions.DEFAULTS)) {
                ChatCompletion f = fresh.chat(turn2, GREEDY.withMaxTokens(10));
                assertEquals(0, f.timings().reusedTokens());
                assertEquals(f.message(), reused.message(), model.toString());
                assertEquals(f.usage(), reused.usage(), model.toString());
            }
        }
    }

    @Test
    void aDifferentConversationReusesOnlyWhatItShares() throws Exception {
        try (Llama llama = Llama.load(chatml, LlamaOptions.DEFAULTS)) {
            llama.chat(firstTurn(), GREEDY.withMaxTokens(4));
            List<ChatMessage> other = List.of(ChatMessage.system("Speak plainly."), ChatMessage.user("Hello"));
            ChatCompletion c = llama.chat(other, GREEDY.withMaxTokens(4));
            Timings t = c.timings();
            int[] p1 = LlamaChat.promptTokens(llama, firstTurn(), GREEDY);
            int[] p2 = LlamaChat.promptTokens(llama, other, GREEDY);
            int shared = 0;
            while (shared < Math.min(p1.length, p2.length) && p1[shared] == p2[shared]) {
                shared++;
            }
            assertEquals(shared, t.reusedTokens());
            try (Llama fresh = Llama.load(chatml, LlamaOptions.DEFAULTS)) {
                assertEquals(fresh.chat(other, GREEDY.withMaxTokens(4)).message(), c.message());
            }
            // a built-in template picked by name renders the same conversation its own way
            ChatParams builtin = GREEDY.withMaxTokens(1).withTemplate(BuiltinTemplates.get("llama2").orElseThrow());
            assertTrue(LlamaChat.promptText(llama, LlamaChat.template(llama, builtin), other, builtin)
                    .startsWith("[INST] "));
        }
    }

    @Test
    void closingFreesTheKeptSessionAndBadRequestsAreClearErrors() throws Exception {
        Llama llama = Llama.load(chatml, LlamaOptions.DEFAULTS.withContextLength(48));
        try {
            llama.chat(firstTurn(), GREEDY.withMaxTokens(2)); // leaves its session kept
            assertEquals(0, llama.liveGenerations());
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                    () -> llama.chat(List.of(ChatMessage.user("In the beginning God created the heaven and the earth. "
                            .repeat(5))), GREEDY));
            assertTrue(e.getMessage().startsWith("chat: the conversation is ") && e.getMessage().contains(
                    "the context holds 48"), e.getMessage());
            assertEquals("chat: no messages", org.junit.jupiter.api.Assertions.assertThrows(
                    dev.gguf4j.Gguf4jException.class, () -> llama.chat(List.of(), GREEDY)).getMessage());
        } finally {
            llama.close();
        }
        assertEquals("closed", org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> llama.chat(firstTurn(), GREEDY)).getMessage());
    }

    /** The KV reuse's primitive: a rewound session evaluating new tokens gives a fresh session's logits exactly. */
    @Test
    void rewoundSessionLogitsEqualAFreshEvaluation() throws Exception {
        try (LlamaModel m = LlamaModel.load(TestData.model("kjv7m-F16.gguf"));
                LlamaSession reusing = new LlamaSession(m, Backends.select(), 96, 2, LlamaSession.KvType.F16);
                LlamaSession fresh = new LlamaSession(m, Backends.select(), 96, 2, LlamaSession.KvType.F16)) {
            SplittableRandom rnd = new SplittableRandom(13);
            int[] a = rnd.ints(40, 0, m.config().vocab()).toArray();
            int[] stale = rnd.ints(30, 0, m.config().vocab()).toArray();
            int[] b = rnd.ints(25, 0, m.config().vocab()).toArray();
            reusing.forwardBatch(a, false);
            reusing.forwardBatch(stale, false); // then discarded: its cache entries are overwritten
            reusing.rewind(a.length);
            float[][] got = reusing.forwardBatch(b, true);
            int[] ab = new int[a.length + b.length];
            System.arraycopy(a, 0, ab, 0, a.length);
            System.arraycopy(b, 0, ab, a.length, b.length);
            float[][] want = fresh.forwardBatch(ab, true);
            for (int i = 0; i < b.length; i++) {
                assertArrayEquals(want[a.length + i], got[i], "position " + (a.length + i));
            }
            assertArrayEquals(fresh.forward(7), reusing.forward(7), "a token after");
        }
    }
}
