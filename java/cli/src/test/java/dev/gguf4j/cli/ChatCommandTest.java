package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.sampling.SamplingParams;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code gguf4j chat} with stdin not a terminal: one user message per line, one reply per message. */
class ChatCommandTest {

    static MainTest.Result chat(String input, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of("chat"));
        all.addAll(List.of(args));
        int st = Main.run(all.toArray(String[]::new), new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new MainTest.Result(st, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Each line is a turn of one conversation (the replies as Llama.chat gives them); /reset starts over. */
    @Test
    void pipedLinesAreTurnsOfOneConversation() throws Exception {
        MainTest.Result r = chat("Hello\nHow are you?\n/reset\nHello\n/exit\nnot read\n", "-n", "6", "--temp", "0",
                "-sys", "Be brief.", "-t", "2", "-c", "512");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("has no tokenizer.chat_template; using chatml"), r.err());
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(6).withSampling(SamplingParams.greedy());
        try (Llama llama = Llama.load(BundledModel.path(), LlamaOptions.DEFAULTS.withThreads(2)
                .withContextLength(512))) {
            List<ChatMessage> m = new ArrayList<>(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello")));
            String r1 = llama.chat(m, p).message().content();
            m.add(ChatMessage.assistant(r1));
            m.add(ChatMessage.user("How are you?"));
            String r2 = llama.chat(m, p).message().content();
            assertEquals(r1 + "\n" + r2 + "\n" + r1 + "\n", r.out());
        }
    }

    @Test
    void aNamedBuiltInTemplateRendersTheTurns() {
        MainTest.Result r = chat("Hello\n", "-n", "3", "--temp", "0", "--chat-template", "llama2");
        assertEquals(0, r.status(), r.err());
        assertTrue(!r.err().contains("has no tokenizer.chat_template"), r.err());
    }

    @Test
    void badArgumentsAreOneLineErrors() {
        MainTest.Result both = chat("", "--chat-template", "chatml", "--chat-template-file", "t.jinja");
        assertEquals(2, both.status());
        assertEquals("gguf4j: chat: give --chat-template or --chat-template-file, not both\n", both.err());
        MainTest.Result unknown = chat("", "--chat-template", "nosuch");
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().contains("--chat-template nosuch: unknown template name"), unknown.err());
        MainTest.Result n = chat("", "-n", "-2");
        assertEquals(2, n.status());
        assertEquals("gguf4j: chat: -n -2: must be in [-1, 2147483647]\n", n.err());
        MainTest.Result file = chat("", "--chat-template-file", "/nonexistent/t.jinja");
        assertEquals(1, file.status());
        assertTrue(file.err().contains("--chat-template-file /nonexistent/t.jinja: no such file"), file.err());
    }
}
