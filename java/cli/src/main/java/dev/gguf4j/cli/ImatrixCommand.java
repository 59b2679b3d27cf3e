package dev.gguf4j.cli;

import dev.gguf4j.llama.Llama;
import dev.gguf4j.quality.ImatrixCollector;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code gguf4j imatrix}: llama-imatrix's importance matrix (sums of squared matmul inputs per column) over a
 * calibration text, with its per-chunk perplexity, written in its {@code .dat} format for {@code quantize --imatrix}.
 */
final class ImatrixCommand {
    static final String USAGE = """
            usage: gguf4j imatrix [-m MODEL | -hf USER/REPO[:QUANT] [--offline]] -f TEXT [-o imatrix.dat] [-c 512]
                   [--chunks N] [--process-output] [-t N]
              the importance matrix llama-imatrix computes, in its .dat format (quantize --imatrix reads it)
              -f TEXT            calibration text (UTF-8); needs at least 2 x -c tokens
              -o FILE            output (default imatrix.dat)
              -c N               tokens per chunk (default 512)
              --chunks N         at most N chunks (default: all)
              --process-output   collect output.weight too (llama-imatrix's --process-output)
              -t N               threads (default: the physical cores); --no-mmap, --mlock as for run
            """;

    private ImatrixCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        if (argv.contains("--help") || argv.contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Args a = new Args("imatrix", argv);
        ModelFlag model = new ModelFlag("imatrix");
        String file = null;
        String output = "imatrix.dat";
        int ctx = 512;
        int chunks = -1;
        boolean processOutput = false;
        LoadFlags load = new LoadFlags();
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a) || load.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-f", "--file" -> file = a.value(o);
                case "-o", "--output-file" -> output = a.value(o);
                case "-c", "--ctx-size" -> ctx = a.intValue(o, 2, Integer.MAX_VALUE);
                case "--chunks" -> chunks = a.intValue(o, -1, Integer.MAX_VALUE);
                case "--process-output" -> processOutput = true;
                default -> throw a.unknown(o);
            }
        }
        if (file == null) {
            throw new Main.UsageException("imatrix: give the calibration text with -f FILE");
        }
        if (chunks == 0) {
            throw new Main.UsageException("imatrix: --chunks 0: expected -1 (every chunk) or a count >= 1");
        }
        Path path = model.resolve(err);
        Path outPath = PathChecks.writableOutput("-o", output);
        String text = PathChecks.readUtf8("-f", file);
        long t0 = System.nanoTime();
        try (Llama llama = Llama.load(path, load.options().withContextLength(ctx))) {
            int[] tokens = llama.tokenizer().encode(text, true, false);
            if (tokens.length < 2 * ctx) {
                throw new dev.gguf4j.Gguf4jException("-f " + file + ": the text tokenizes to " + tokens.length
                        + " tokens; imatrix with -c " + ctx + " needs at least " + 2 * ctx
                        + " (a longer text or a smaller -c)");
            }
            int n = chunks < 0 ? tokens.length / ctx : Math.min(chunks, tokens.length / ctx);
            err.printf(Locale.ROOT, "gguf4j imatrix: %d tokens; computing over %d chunks of %d%n", tokens.length, n, ctx);
            ImatrixCollector.Run r = ImatrixCollector.collect(llama, tokens, ctx, chunks, processOutput,
                    (c, total, ppl, logits, s) -> {
                        if (c == 0) {
                            err.printf(Locale.ROOT, "gguf4j imatrix: %.2f seconds per pass - ETA %.2f minutes%n", s,
                                    s * total / 60);
                        }
                        out.printf(Locale.ROOT, "[%d]%.4f,", c + 1, ppl);
                        out.flush();
                    });
            out.println();
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", r.perplexity().ppl(), r.perplexity().error());
            List<String> skipped = r.imatrix().write(outPath, file);
            for (String s : skipped) {
                err.println("gguf4j imatrix: warning: entry " + s + " left out");
            }
            err.printf(Locale.ROOT, "gguf4j imatrix: wrote %d entries (%d chunks) to %s in %.1f s%n",
                    r.imatrix().weights().size() - skipped.size(), r.imatrix().calls(), outPath,
                    (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
