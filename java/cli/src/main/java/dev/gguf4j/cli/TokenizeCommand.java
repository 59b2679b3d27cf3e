package dev.gguf4j.cli;

import dev.gguf4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.List;

/** {@code gguf4j tokenize}: prints tokens as llama-tokenize does (ids only with --ids). */
final class TokenizeCommand {
    private TokenizeCommand() {
    }

    static int run(List<String> argv, PrintStream out) throws IOException {
        Args a = new Args("tokenize", argv);
        String model = null;
        byte[] text = null;
        boolean ids = false;
        boolean bos = true;
        while (a.hasNext()) {
            String o = a.next();
            switch (o) {
                case "-m", "--model" -> model = a.value(o);
                case "-p", "--prompt" -> text = a.value(o).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                // the file's bytes as llama-tokenize reads them
                case "-f", "--file" -> text = Files.readAllBytes(PathChecks.readableFile(o, a.value(o)));
                case "--ids" -> ids = true;
                case "--no-bos" -> bos = false;
                default -> throw a.unknown(o);
            }
        }
        if (text == null) {
            throw new Main.UsageException("tokenize: give the text with -p TEXT or -f FILE");
        }
        Tokenizer t = Tokenizer.load(BundledModel.resolve(model));
        int[] tokens = t.encode(text, bos, true);
        if (ids) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < tokens.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(tokens[i]);
            }
            out.println(sb.append(']'));
        } else {
            for (int id : tokens) {
                out.printf("%6d -> '%s'%n", id, new String(t.tokenBytes(id, true), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return 0;
    }
}
