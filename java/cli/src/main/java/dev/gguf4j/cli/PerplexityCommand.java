package dev.gguf4j.cli;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.Perplexity;
import dev.gguf4j.quality.BaseLogits;
import dev.gguf4j.quality.KlDivergence;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code gguf4j perplexity}: llama-perplexity's PPL over a text file (chunks of -c tokens, second halves scored);
 * with {@code --kl-divergence-base FILE} it also saves the base model's log-probabilities there, and with
 * {@code --kl-divergence} compares the model with such a file (llama-perplexity's KL-divergence statistics).
 */
final class PerplexityCommand {
    private PerplexityCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("perplexity", argv);
        ModelFlag model = new ModelFlag("perplexity");
        String file = null;
        String base = null;
        boolean kld = false;
        int ctx = 512;
        boolean ctxGiven = false;
        int chunks = -1;
        LoadFlags load = new LoadFlags();
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a) || load.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-f", "--file" -> file = a.value(o);
                case "-c", "--ctx-size" -> {
                    ctx = a.intValue(o, 2, Integer.MAX_VALUE);
                    ctxGiven = true;
                }
                case "--chunks" -> chunks = a.intValue(o, -1, Integer.MAX_VALUE);
                case "--kl-divergence-base" -> base = a.value(o);
                case "--kl-divergence" -> kld = true;
                default -> throw a.unknown(o);
            }
        }
        if (chunks == 0) {
            throw new Main.UsageException("perplexity: --chunks 0: expected -1 (every chunk) or a count >= 1");
        }
        if (kld) {
            if (base == null) {
                throw new Main.UsageException("perplexity: --kl-divergence needs --kl-divergence-base FILE (the base"
                        + " model's log-probabilities, saved by perplexity --kl-divergence-base FILE without"
                        + " --kl-divergence)");
            }
            return klDivergence(model.resolve(err), base, file, ctxGiven ? ctx : 0, load, out, err);
        }
        if (file == null) {
            throw new Main.UsageException("perplexity: give the text with -f FILE");
        }
        Path path = model.resolve(err);
        Path basePath = base == null ? null : PathChecks.writableOutput("--kl-divergence-base", base);
        String text = PathChecks.readUtf8("-f", file);
        long t0 = System.nanoTime();
        try (Llama llama = Llama.load(path, load.options().withContextLength(ctx))) {
            int[] tokens = llama.tokenizer().encode(text, true, false);
            err.printf(Locale.ROOT, "gguf4j: %d tokens, %d chunks of %d%n", tokens.length, tokens.length / ctx, ctx);
            Perplexity.Result r;
            if (basePath != null) {
                r = KlDivergence.saveBase(llama, tokens, ctx, chunks, basePath, null);
                err.printf(Locale.ROOT, "gguf4j: saved the base log-probabilities of %d chunks to %s%n", r.chunks(),
                        basePath);
            } else {
                r = Perplexity.compute(llama, tokens, ctx, chunks);
            }
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f (%d chunks, %d tokens scored, %.1f s)%n",
                    r.ppl(), r.error(), r.chunks(), r.scoredTokens(), (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    /** --kl-divergence: the model against the base file, in llama-perplexity's layout. */
    private static int klDivergence(Path path, String base, String textFile, int ctx, LoadFlags load,
            PrintStream out, PrintStream err) throws IOException {
        Path basePath = PathChecks.readableFile("--kl-divergence-base", base);
        try (BaseLogits.Reader in = new BaseLogits.Reader(basePath)) {
            if (ctx != 0 && ctx != in.contextLength()) {
                throw new Main.UsageException("perplexity: -c " + ctx + ": the base file " + basePath + " was made with"
                        + " -c " + in.contextLength() + " (leave -c out: the file's is used)");
            }
            try (Llama llama = Llama.load(path, load.options()
                    .withContextLength(in.contextLength()))) {
                KlDivergence.checkCompatible(llama, path.toString(), in);
                if (textFile != null) {
                    checkTokens(llama, path, in, textFile);
                }
                err.printf(Locale.ROOT, "gguf4j: %d chunks of %d from %s%n", in.chunks(), in.contextLength(), basePath);
                out.println("chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence"
                        + "              Δp RMS            Same top p");
                KlDivergence.Stats s = KlDivergence.compute(llama, path.toString(), in, (c, total, st, sec) -> {
                    KlDivergence.Estimate ppl = st.ppl();
                    KlDivergence.Estimate ratio = st.logPplRatio();
                    KlDivergence.Estimate kl = st.meanKld();
                    KlDivergence.Estimate rms = st.rmsPDiff();
                    KlDivergence.Estimate top = st.sameTop();
                    out.printf(Locale.ROOT, "%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f"
                            + "    %6.3f ± %6.3f %%    %6.3f ± %6.3f %%%n", c + 1, ppl.value(), ppl.uncertainty(),
                            ratio.value(), ratio.uncertainty(), kl.value(), kl.uncertainty(), 100 * rms.value(),
                            100 * rms.uncertainty(), 100 * top.value(), 100 * top.uncertainty());
                    out.flush();
                });
                out.println();
                if (s.count() < 100) {
                    out.printf(Locale.ROOT, "(%d positions: too few for the summary statistics, as in"
                            + " llama-perplexity)%n", s.count());
                    return 0;
                }
                summary(s, out);
            }
        }
        return 0;
    }

    /** With -f in KLD mode: the file's tokens must be this model's tokenization of the text (same tokenizer). */
    private static void checkTokens(Llama llama, Path model, BaseLogits.Reader in, String textFile) throws IOException {
        int[] mine = llama.tokenizer().encode(PathChecks.readUtf8("-f", textFile), true, false);
        int[] theirs = in.tokens();
        for (int i = 0; i < theirs.length; i++) {
            if (i >= mine.length || mine[i] != theirs[i]) {
                throw new Gguf4jException(in.file() + ": token " + i + " is " + theirs[i] + ", but " + model
                        + " tokenizes " + textFile + " to " + (i < mine.length ? String.valueOf(mine[i]) : "fewer tokens")
                        + " there: the base file was made with another model or text");
            }
        }
    }

    private static void summary(KlDivergence.Stats s, PrintStream out) {
        PrintStream o = out;
        o.println("====== Perplexity statistics ======");
        KlDivergence.Estimate ppl = s.ppl();
        KlDivergence.Estimate pplBase = s.pplBase();
        o.printf(Locale.ROOT, "Mean PPL(Q)                   : %10.6f ± %10.6f%n", ppl.value(), ppl.uncertainty());
        o.printf(Locale.ROOT, "Mean PPL(base)                : %10.6f ± %10.6f%n", pplBase.value(), pplBase.uncertainty());
        o.printf(Locale.ROOT, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%%n", 100.0 * s.logPplCorrelation());
        KlDivergence.Estimate lr = s.logPplRatio();
        o.printf(Locale.ROOT, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", lr.value(), lr.uncertainty());
        KlDivergence.Estimate r = s.pplRatio();
        o.printf(Locale.ROOT, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f%n", r.value(), r.uncertainty());
        KlDivergence.Estimate d = s.pplDifference();
        o.printf(Locale.ROOT, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f%n", d.value(), d.uncertainty());
        o.println();
        o.println("====== KL divergence statistics ======");
        KlDivergence.Estimate k = s.meanKld();
        o.printf(Locale.ROOT, "Mean    KLD: %10.6f ± %10.6f%n", k.value(), k.uncertainty());
        o.printf(Locale.ROOT, "Maximum KLD: %10.6f%n", s.kldPercentile(1));
        o.printf(Locale.ROOT, "99.9%%   KLD: %10.6f%n", s.kldPercentile(0.999f));
        o.printf(Locale.ROOT, "99.0%%   KLD: %10.6f%n", s.kldPercentile(0.990f));
        o.printf(Locale.ROOT, "99.0%%   KLD: %10.6f%n", s.kldPercentile(0.990f));
        o.printf(Locale.ROOT, "Median  KLD: %10.6f%n", s.kldMedian());
        o.printf(Locale.ROOT, "10.0%%   KLD: %10.6f%n", s.kldPercentile(0.100f));
        o.printf(Locale.ROOT, " 5.0%%   KLD: %10.6f%n", s.kldPercentile(0.050f));
        o.printf(Locale.ROOT, " 1.0%%   KLD: %10.6f%n", s.kldPercentile(0.010f));
        o.printf(Locale.ROOT, "Minimum KLD: %10.6f%n", s.kldPercentile(0));
        o.println();
        o.println("====== Token probability statistics ======");
        KlDivergence.Estimate pd = s.meanPDiff();
        o.printf(Locale.ROOT, "Mean    Δp: %6.3f ± %5.3f %%%n", 100.0 * pd.value(), 100.0 * pd.uncertainty());
        o.printf(Locale.ROOT, "Maximum Δp: %6.3f%%%n", 100.0 * s.pDiffPercentile(1));
        float[] fr = {0.999f, 0.990f, 0.950f, 0.900f, 0.750f};
        String[] names = {"99.9", "99.0", "95.0", "90.0", "75.0"};
        for (int i = 0; i < fr.length; i++) {
            o.printf(Locale.ROOT, "%s%%   Δp: %6.3f%%%n", names[i], 100.0 * s.pDiffPercentile(fr[i]));
        }
        o.printf(Locale.ROOT, "Median  Δp: %6.3f%%%n", 100.0 * s.pDiffMedian());
        float[] lo = {0.250f, 0.100f, 0.050f, 0.010f, 0.001f};
        String[] loNames = {"25.0", "10.0", " 5.0", " 1.0", " 0.1"};
        for (int i = 0; i < lo.length; i++) {
            o.printf(Locale.ROOT, "%s%%   Δp: %6.3f%%%n", loNames[i], 100.0 * s.pDiffPercentile(lo[i]));
        }
        o.printf(Locale.ROOT, "Minimum Δp: %6.3f%%%n", 100.0 * s.pDiffPercentile(0));
        KlDivergence.Estimate rms = s.rmsPDiff();
        o.printf(Locale.ROOT, "RMS Δp    : %6.3f ± %5.3f %%%n", 100.0 * rms.value(), 100.0 * rms.uncertainty());
        KlDivergence.Estimate top = s.sameTop();
        o.printf(Locale.ROOT, "Same top p: %6.3f ± %5.3f %%%n", 100.0 * top.value(), 100.0 * top.uncertainty());
    }
}
