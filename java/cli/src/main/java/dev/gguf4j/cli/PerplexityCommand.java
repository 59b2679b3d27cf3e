package dev.gguf4j.cli;

import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.llama.Perplexity;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@code gguf4j perplexity}: llama-perplexity's PPL over a text file (chunks of -c tokens, second halves scored). */
final class PerplexityCommand {
    private PerplexityCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("perplexity", argv);
        ModelFlag model = new ModelFlag("perplexity");
        String file = null;
        int ctx = 512;
        int threads = 0;
        int chunks = -1;
        boolean mmap = true;
        boolean mlock = false;
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-f", "--file" -> file = a.value(o);
                case "-c", "--ctx-size" -> ctx = a.intValue(o, 2, Integer.MAX_VALUE);
                case "-t", "--threads" -> threads = a.intValue(o, 0, Args.MAX_THREADS);
                case "--chunks" -> chunks = a.intValue(o, -1, Integer.MAX_VALUE);
                case "--no-mmap" -> mmap = false;
                case "--mlock" -> mlock = true;
                default -> throw a.unknown(o);
            }
        }
        if (file == null) {
            throw new Main.UsageException("perplexity: give the text with -f FILE");
        }
        if (chunks == 0) {
            throw new Main.UsageException("perplexity: --chunks 0: expected -1 (every chunk) or a count >= 1");
        }
        Path path = model.resolve(err);
        String text = PathChecks.readUtf8("-f", file);
        long t0 = System.nanoTime();
        try (Llama llama = Llama.load(path, LlamaOptions.DEFAULTS.withThreads(threads)
                .withContextLength(ctx).withMmap(mmap).withMlock(mlock)
                .withRepack(false))) {
            int[] tokens = llama.tokenizer().encode(text, true, false);
            err.printf(Locale.ROOT, "gguf4j: %d tokens, %d chunks of %d%n", tokens.length, tokens.length / ctx, ctx);
            Perplexity.Result r = Perplexity.compute(llama, tokens, ctx, chunks);
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f (%d chunks, %d tokens scored, %.1f s)%n",
                    r.ppl(), r.error(), r.chunks(), r.scoredTokens(), (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
