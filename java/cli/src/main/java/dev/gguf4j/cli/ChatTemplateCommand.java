package dev.gguf4j.cli;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.chat.BuiltinTemplates;
import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.chat.ChatTemplate;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code gguf4j chat-template}: prints the prompt a chat template renders for a conversation, exactly (no newline
 * added), as transformers' {@code apply_chat_template} renders it.
 */
final class ChatTemplateCommand {
    static final String USAGE = """
            usage: gguf4j chat-template (-m MODEL | --chat-template NAME | --chat-template-file FILE)
                                        --messages FILE.json [--tools FILE.json] [--no-generation-prompt]
                                        [--bos S] [--eos S] [--var KEY=VALUE ...]
              -m MODEL                  the model's tokenizer.chat_template (chatml, llama.cpp's fallback, if it has
                                        none) and its BOS/EOS token text
              --chat-template NAME      one of llama.cpp's built-in templates (below), or with -m the file's
                                        tokenizer.chat_template.NAME (e.g. tool_use), or the text of a Jinja
                                        template
              --chat-template-file FILE a Jinja template file
              --messages FILE.json      [{"role": "user", "content": "..."}, ...]
              --tools FILE.json         [{"type": "function", "function": {...}}, ...]
              --no-generation-prompt    add_generation_prompt=false (default true)
              --var KEY=VALUE           an extra template variable; VALUE is JSON if it parses (true, 3, [..]),
                                        else a string
            built-in templates (llama.cpp's names, rendering as llama.cpp's own C++ does):
            %s
            """.formatted(wrap(String.join(", ", BuiltinTemplates.names()), "  ", 110));

    private static String wrap(String text, String indent, int width) {
        StringBuilder sb = new StringBuilder(indent);
        int lineStart = 0;
        for (String word : text.split(" ")) {
            if (sb.length() - lineStart + word.length() + 1 > width) {
                sb.setLength(sb.length() - 1); // the space before the break
                sb.append('\n');
                lineStart = sb.length();
                sb.append(indent);
            }
            sb.append(word).append(' ');
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    private ChatTemplateCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("chat-template", argv);
        String model = null;
        String name = null;
        Path file = null;
        Path messagesFile = null;
        Path toolsFile = null;
        boolean generationPrompt = true;
        String bos = null;
        String eos = null;
        Map<String, Object> vars = new LinkedHashMap<>();
        while (a.hasNext()) {
            String o = a.next();
            switch (o) {
                case "-m", "--model" -> model = a.value(o);
                case "--chat-template" -> name = a.value(o);
                case "--chat-template-file" -> file = Path.of(a.value(o));
                case "--messages" -> messagesFile = Path.of(a.value(o));
                case "--tools" -> toolsFile = Path.of(a.value(o));
                case "--no-generation-prompt" -> generationPrompt = false;
                case "--bos" -> bos = a.value(o);
                case "--eos" -> eos = a.value(o);
                case "--var" -> {
                    String kv = a.value(o);
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        throw new Main.UsageException("chat-template: --var " + kv + ": expected KEY=VALUE");
                    }
                    vars.put(kv.substring(0, eq), varValue(kv.substring(eq + 1)));
                }
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw a.unknown(o);
            }
        }
        if (messagesFile == null) {
            throw new Main.UsageException("chat-template: give the conversation with --messages FILE.json");
        }
        if (model == null && name == null && file == null) {
            throw new Main.UsageException("chat-template: give -m MODEL, --chat-template NAME or "
                    + "--chat-template-file FILE");
        }
        if (name != null && file != null) {
            throw new Main.UsageException("chat-template: give --chat-template or --chat-template-file, not both");
        }

        ChatTemplate template;
        String[] special = {"", ""};
        if (model != null) {
            Path path = BundledModel.resolve(model);
            try (GgufFile gguf = GgufFile.open(path)) {
                GgufMetadata md = gguf.metadata();
                special = ChatTemplate.specialTokens(md);
                template = select(md, model, name, file, err);
                if (template == null) {
                    Optional<ChatTemplate> own = ChatTemplate.fromMetadata(md);
                    if (own.isEmpty()) {
                        err.println("gguf4j: " + model + " has no " + ChatTemplate.METADATA_KEY + "; using "
                                + BuiltinTemplates.FALLBACK + " (llama.cpp's fallback)");
                    }
                    template = own.orElseGet(() -> BuiltinTemplates.get(BuiltinTemplates.FALLBACK).orElseThrow());
                }
            } catch (NoSuchFileException e) {
                throw new Gguf4jException("-m " + model + ": no such file");
            }
        } else {
            template = select(null, null, name, file, err);
        }

        Object messages = ChatJson.parse(read(messagesFile, "--messages"), messagesFile.toString());
        if (!(messages instanceof List<?> list)) {
            throw new Gguf4jException(messagesFile + ": expected a JSON array of messages");
        }
        ChatTemplate.validateMessages(list);
        List<?> tools = null;
        if (toolsFile != null) {
            Object t = ChatJson.parse(read(toolsFile, "--tools"), toolsFile.toString());
            if (!(t instanceof List<?> tl)) {
                throw new Gguf4jException(toolsFile + ": expected a JSON array of tools");
            }
            tools = tl;
        }
        @SuppressWarnings("unchecked")
        List<? extends Map<String, ?>> msgs = (List<? extends Map<String, ?>>) list;
        String prompt = template.apply(msgs, tools, generationPrompt, bos != null ? bos : special[0],
                eos != null ? eos : special[1], vars);
        out.print(prompt);
        out.flush();
        return 0;
    }

    /**
     * The template {@code --chat-template} / {@code --chat-template-file} pick (here and in {@code gguf4j chat}):
     * the file's text; a built-in name, else the model's {@code tokenizer.chat_template.NAME} ({@code md} null: no
     * model), else {@link #named}; null when neither flag is given (the model's own template).
     */
    static ChatTemplate select(GgufMetadata md, String model, String name, Path file, PrintStream err)
            throws IOException {
        if (file != null) {
            return ChatTemplate.parse(read(file, "--chat-template-file"));
        }
        if (name == null) {
            return null;
        }
        if (md != null && !BuiltinTemplates.isName(name)) {
            Optional<ChatTemplate> variant = ChatTemplate.fromMetadata(md, name);
            if (variant.isPresent()) {
                return variant.get();
            }
        }
        return named(name, model, err);
    }

    /**
     * {@code --chat-template VALUE} as llama.cpp takes it: a built-in name; else (llama.cpp with {@code --jinja}) the
     * text of a Jinja template; else the built-in llama.cpp's detection reads in it (e.g. {@code mistral}, its name
     * for old pre-v1 Mistral templates, is {@code llama2}), with a note; anything else is an unknown name.
     */
    static ChatTemplate named(String value, String model, PrintStream err) {
        Optional<ChatTemplate> builtin = BuiltinTemplates.get(value);
        if (builtin.isPresent()) {
            return builtin.get();
        }
        if (value.contains("{{") || value.contains("{%")) {
            return ChatTemplate.parse(value);
        }
        Optional<String> detected = BuiltinTemplates.detect(value);
        if (detected.isPresent()) {
            err.println("gguf4j: --chat-template " + value + ": not a built-in name; llama.cpp reads it as "
                    + detected.get());
            return BuiltinTemplates.get(detected.get()).orElseThrow();
        }
        throw new Gguf4jException("--chat-template " + value + ": unknown template name (built-in: "
                + String.join(", ", BuiltinTemplates.names())
                + (model != null ? "; " + model + " has no " + ChatTemplate.METADATA_KEY + "." + value : "")
                + ")");
    }

    private static Object varValue(String v) {
        try {
            return ChatJson.parse(v, "--var");
        } catch (ChatJson.JsonException e) {
            return v;
        }
    }

    private static String read(Path p, String option) throws IOException {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new Gguf4jException(option + " " + p + ": no such file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new Gguf4jException(option + " " + p + ": not UTF-8 text");
        }
    }
}
