package dev.gguf4j.cli;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.chat.ChatCompletionChunk;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.chat.ChatTemplate;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.llama.Timings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * {@code gguf4j chat}: a conversation with the model, through its chat template. In a terminal: line editing and
 * history (JLine), the reply streamed as it is generated, Ctrl-C stops the reply (not the program), {@code /reset}
 * and {@code /exit}. Otherwise one user message per input line and one reply per message (a line) on stdout.
 * Each turn reuses the KV cache of the conversation so far ({@code Llama.chat}).
 */
final class ChatCommand {
    static final String USAGE = """
            usage: gguf4j chat [-m MODEL | -hf USER/REPO[:QUANT] [--offline]]
                               [-sys TEXT] [--chat-template NAME | --chat-template-file FILE] [-n N]
                               [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S]
                               [-c CTX] [-t THREADS] [-ngl N|auto] [--stop S]... [--no-mmap] [--mlock]
                               [--grammar GBNF | --grammar-file FILE | --json-schema FILE|JSON]
              -sys TEXT                 a system message first
              --chat-template NAME      a llama.cpp built-in template, the file's tokenizer.chat_template.NAME, or
                                        a template's text (default: the file's tokenizer.chat_template, else chatml)
              --chat-template-file FILE a Jinja template file
              -n N                      tokens per reply at most (default: until the end of the turn or a full
                                        context, -1)
              defaults and the other flags as gguf4j run (run --help); -c: the model's context, capped at 4096
            in a terminal: Ctrl-C stops the reply, /reset starts over, /exit (or Ctrl-D) quits; with stdin not a
            terminal: one user message per line, one reply per line on stdout
            """;

    private ChatCommand() {
    }

    static int run(List<String> argv, InputStream in, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("chat", argv);
        ModelFlag model = new ModelFlag("chat");
        String system = null;
        String templateName = null;
        Path templateFile = null;
        int n = -1;
        GenerationFlags f = new GenerationFlags("chat");
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a)) {
                continue;
            }
            if (f.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-sys", "--system-prompt" -> system = a.value(o);
                case "--chat-template" -> templateName = a.value(o);
                case "--chat-template-file" -> templateFile = Path.of(a.value(o));
                case "-n", "--n-predict" -> n = a.intValue(o, -1, Integer.MAX_VALUE);
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw a.unknown(o);
            }
        }
        if (templateName != null && templateFile != null) {
            throw new Main.UsageException("chat: give --chat-template or --chat-template-file, not both");
        }
        Path path = model.resolve(err);
        LlamaOptions opts = f.options();
        if (f.ctx > 0) {
            opts = opts.withContextLength(f.ctx);
        }
        Llama loaded;
        try {
            loaded = Llama.load(path, opts);
        } catch (Gguf4jException e) {
            if (f.ngl == 0) {
                throw e;
            }
            throw new Gguf4jException("-ngl " + Args.gpuLayersName(f.ngl) + ": " + e.getMessage(), e);
        }
        try (Llama llama = loaded) {
            ChatTemplate template = ChatTemplateCommand.select(llama.metadata(), path.toString(), templateName,
                    templateFile, err);
            if (template == null && llama.metadata().findString(ChatTemplate.METADATA_KEY).isEmpty()) {
                err.println("gguf4j: " + path + " has no " + ChatTemplate.METADATA_KEY + "; using "
                        + llama.chatTemplate().builtinName().orElse("its tool_use template")
                        + " (llama.cpp's fallback)");
            }
            err.printf(Locale.ROOT, "gguf4j: %s (%s, %d layers, dim %d, vocab %d), context %d, backend %s, load"
                    + " %.3f s%n", path, llama.config().architecture(), llama.config().layers(), llama.config().dim(),
                    llama.config().vocab(), llama.contextLength(), llama.backend().description(),
                    llama.loadSeconds());
            ChatParams params = ChatParams.DEFAULTS.withMaxTokens(n).withStop(f.stop).withSampling(f.sampling())
                    .withTemplate(template);
            Conversation c = new Conversation(llama, params, system);
            java.io.Console console = System.console();
            if (in == System.in && console != null && console.isTerminal()) {
                interactive(c, err);
            } else {
                piped(c, in, out);
            }
        }
        return 0;
    }

    /** The messages so far and the turn in progress. */
    static final class Conversation {
        private final Llama llama;
        private final ChatParams params;
        private final String system;
        final List<ChatMessage> messages = new ArrayList<>();
        /** Set (Ctrl-C) to stop the reply being generated. */
        final AtomicBoolean stop = new AtomicBoolean();
        /** The timings of the last reply that finished (null before the first, or when it was interrupted). */
        Timings timings;

        Conversation(Llama llama, ChatParams params, String system) {
            this.llama = llama;
            this.params = params;
            this.system = system;
            reset();
        }

        void reset() {
            messages.clear();
            if (system != null) {
                messages.add(ChatMessage.system(system));
            }
        }

        /**
         * Sends a user message, handing the reply's text to {@code sink} as it comes; the reply (cut short if
         * {@link #stop} was set meanwhile) joins the conversation. Returns why it ended ("stop", "length", or
         * "interrupted").
         */
        String send(String user, java.util.function.Consumer<String> sink) {
            stop.set(false);
            timings = null;
            messages.add(ChatMessage.user(user));
            StringBuilder reply = new StringBuilder();
            String finish = "interrupted";
            boolean ok = false;
            try (Stream<ChatCompletionChunk> s = llama.chatStream(messages, params)) {
                Iterator<ChatCompletionChunk> it = s.iterator();
                while (!stop.get() && it.hasNext()) {
                    ChatCompletionChunk chunk = it.next();
                    ChatCompletionChunk.Choice ch = chunk.choices().getFirst();
                    String piece = ch.delta().content();
                    if (piece != null && !piece.isEmpty()) {
                        reply.append(piece);
                        sink.accept(piece);
                    }
                    if (ch.finishReason() != null) {
                        finish = ch.finishReason();
                        timings = chunk.timings();
                    }
                }
                ok = true;
            } finally {
                if (ok) {
                    messages.add(ChatMessage.assistant(reply.toString()));
                } else {
                    messages.removeLast(); // the turn failed: the conversation stays as it was
                }
            }
            return finish;
        }
    }

    /** One user message per line; each reply printed whole on one line (the text may hold newlines itself). */
    private static void piped(Conversation c, InputStream in, PrintStream out) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
            String cmd = line.strip();
            if (cmd.equals("/exit")) {
                break;
            }
            if (cmd.equals("/reset")) {
                c.reset();
                continue;
            }
            c.send(line, piece -> {
                out.print(piece);
                out.flush();
            });
            out.println();
            out.flush();
        }
    }

    private static void interactive(Conversation c, PrintStream err) throws IOException {
        try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
            Path history = historyFile();
            LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal);
            if (history != null) {
                b.variable(LineReader.HISTORY_FILE, history);
            }
            LineReader reader = b.build();
            PrintStream tout = new PrintStream(terminal.output(), true, StandardCharsets.UTF_8);
            tout.println("gguf4j chat: Ctrl-C stops a reply, /reset starts over, /exit or Ctrl-D quits");
            terminal.handle(Terminal.Signal.INT, sig -> c.stop.set(true));
            while (true) {
                String line;
                try {
                    line = reader.readLine("> ");
                } catch (UserInterruptException e) {
                    continue; // Ctrl-C at the prompt clears the line
                } catch (EndOfFileException e) {
                    break;
                }
                String cmd = line.strip();
                if (cmd.isEmpty()) {
                    continue;
                }
                if (cmd.equals("/exit")) {
                    break;
                }
                if (cmd.equals("/reset")) {
                    c.reset();
                    tout.println("(conversation reset)");
                    continue;
                }
                try {
                    String finish = c.send(line, piece -> {
                        tout.print(piece);
                        tout.flush();
                    });
                    tout.println(finish.equals("interrupted") ? " [stopped]" : "");
                    Timings t = c.timings;
                    if (t != null && !finish.equals("interrupted")) {
                        err.printf(Locale.ROOT, "[prompt %d new tokens (%d reused), %.1f tokens/s; reply %d tokens,"
                                + " %.1f tokens/s]%n", t.promptTokens(), t.reusedTokens(), t.promptTokensPerSecond(),
                                t.generatedTokens(), t.generationTokensPerSecond());
                    }
                } catch (Gguf4jException e) {
                    tout.println();
                    err.println("gguf4j: error: " + Errors.oneLine(e.getMessage()) + " (/reset starts over)");
                }
            }
            reader.getHistory().save();
        }
    }

    /** ~/.cache/gguf4j/chat_history, or null (no history file) where it cannot be made. */
    private static Path historyFile() {
        try {
            Path dir = Path.of(System.getProperty("user.home"), ".cache", "gguf4j");
            java.nio.file.Files.createDirectories(dir);
            return dir.resolve("chat_history");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
