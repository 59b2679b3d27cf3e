package dev.gguf4j.cli;

import dev.gguf4j.quality.Ladder;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.types.FileType;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code gguf4j ladder}: quantizes a base model to each type and measures size, bits per weight, PPL, KL divergence,
 * top-token agreement and speed ({@link Ladder}); prints the table, writes ladder.json/.md/.svg in the folder.
 */
final class LadderCommand {
    static final String USAGE = """
            usage: gguf4j ladder -m BASE.gguf -f TEXT [--types Q8_0,Q6_K,...] [--imatrix FILE] [-o DIR] [options]
              quantizes BASE (F16/BF16/F32) to each type, measures file size, bits per weight, PPL, mean KL
              divergence from BASE, same top token, pp and tg tokens/s; prints a table and writes
              DIR/ladder.json, DIR/ladder.md and DIR/ladder.svg (a chart). Each type's result is saved as it is
              finished: a rerun with the same DIR and options measures only what is missing.
              --types LIST   default Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0,Q3_K_M,Q2_K (quantize --help lists the types)
              --imatrix FILE importance matrix for the quantizer (llama-imatrix's .dat)
              -o DIR         output folder (default ladder-BASE, BASE the model's name without .gguf)
              -c N           tokens per chunk (default 512, or the model's training context if smaller)
              --chunks N     score at most N chunks of the text (default: all)
              -t N           threads (default: all cores)
              -p N, -n N     pp and tg test sizes as in bench (default 512, 128; 0: not measured)
              -r N           speed test repetitions (default 3)
              --keep         keep the quantized models in DIR (default: each is deleted once measured)
              --search better  also measure each type made with quantize --search better (rungs TYPE+better:
                             same format and size, KLD and PPL; no speed test)
              --calibration TEXT|FILE  with --search better: those rungs are made with quantize --search
                             better --calibration (GPTQ; a text, or a calibration saved by gguf4j calibrate,
                             which skips the pass over the text for each type) and named TYPE+gptq
              --calibration-ctx N, --calibration-chunks N  as in quantize (default %d, %d)
            """.formatted(QuantizeOptions.CALIBRATION_CTX, QuantizeOptions.CALIBRATION_CHUNKS);

    private LadderCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        if (argv.contains("--help") || argv.contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Args a = new Args("ladder", argv);
        String model = null;
        String file = null;
        String dir = null;
        String imatrix = null;
        List<FileType> types = Ladder.DEFAULT_TYPES;
        int ctx = 0;
        int chunks = -1;
        int threads = 0;
        int pp = 512;
        int tg = 128;
        int reps = 3;
        boolean keep = false;
        boolean better = false;
        String calibration = null;
        Integer calCtx = null;
        Integer calChunks = null;
        while (a.hasNext()) {
            String o = a.next();
            switch (o) {
                case "-m", "--model" -> model = a.value(o);
                case "-f", "--file" -> file = a.value(o);
                case "-o", "--output" -> dir = a.value(o);
                case "--imatrix" -> imatrix = a.value(o);
                case "--types" -> types = types(a.value(o));
                case "-c", "--ctx-size" -> ctx = a.intValue(o, 2, Integer.MAX_VALUE);
                case "--chunks" -> chunks = a.intValue(o, -1, Integer.MAX_VALUE);
                case "-t", "--threads" -> threads = a.intValue(o, 0, Args.MAX_THREADS);
                case "-p", "--n-prompt" -> pp = a.intValue(o, 0, 1 << 20);
                case "-n", "--n-gen" -> tg = a.intValue(o, 0, 1 << 20);
                case "-r", "--repetitions" -> reps = a.intValue(o, 1, 1000);
                case "--keep" -> keep = true;
                case "--search" -> {
                    String v = a.value(o);
                    if (!v.equals("better")) {
                        throw new Main.UsageException("ladder: --search " + Errors.printable(v) + ": expected better"
                                + " (the reference rungs are always measured)");
                    }
                    better = true;
                }
                case "--calibration" -> calibration = a.value(o);
                case "--calibration-ctx" -> calCtx = a.intValue(o, 2, 1 << 20);
                case "--calibration-chunks" -> calChunks = a.intValue(o, 1, 1 << 20);
                default -> throw a.unknown(o);
            }
        }
        if (chunks == 0) {
            throw new Main.UsageException("ladder: --chunks 0: expected -1 (every chunk) or a count >= 1");
        }
        if (model == null) {
            throw new Main.UsageException("ladder: give the base model with -m BASE.gguf (F16, BF16 or F32)");
        }
        if (file == null) {
            throw new Main.UsageException("ladder: give the text with -f FILE");
        }
        if (calibration != null && !better) {
            throw new Main.UsageException("ladder: --calibration needs --search better (it makes the +better rungs"
                    + " with GPTQ)");
        }
        if (calibration == null && (calCtx != null || calChunks != null)) {
            throw new Main.UsageException("ladder: --calibration-" + (calCtx != null ? "ctx" : "chunks")
                    + " needs --calibration");
        }
        Path path = PathChecks.readableFile("-m", model);
        Path text = PathChecks.readableFile("-f", file);
        Optional<Path> im = imatrix == null ? Optional.empty()
                : Optional.of(PathChecks.readableFile("--imatrix", imatrix));
        // the file is the quantizer's to read (a text, or what it accepts besides): only that it can be read here
        Optional<Ladder.Calibration> cal = calibration == null ? Optional.empty()
                : Optional.of(new Ladder.Calibration(PathChecks.readableFile("--calibration", calibration),
                        calCtx != null ? calCtx : QuantizeOptions.CALIBRATION_CTX,
                        calChunks != null ? calChunks : QuantizeOptions.CALIBRATION_CHUNKS));
        String stem = path.getFileName().toString().replaceFirst("\\.gguf$", "");
        Path outDir = PathChecks.path("-o", dir == null ? "ladder-" + stem : dir);
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new Main.UsageException("ladder: -o " + outDir + ": exists and is not a folder");
        }
        Ladder.Options opts = new Ladder.Options(path, text, outDir, types, im, ctx, chunks, threads, pp, tg, reps, keep,
                better, cal);
        boolean tty = System.console() != null && System.console().isTerminal();
        err.println("gguf4j: ladder of " + path + " in " + outDir + ": " + String.join(",",
                types.stream().map(FileType::quantizeName).toList()));
        Ladder.Result r = Ladder.run(opts, new Progress(err, tty));
        out.print(Ladder.markdown(r));
        out.println();
        out.println("wrote " + outDir.resolve("ladder.json") + ", " + outDir.resolve("ladder.md") + ", "
                + outDir.resolve("ladder.svg"));
        return 0;
    }

    private static List<FileType> types(String list) {
        List<FileType> ts = new ArrayList<>();
        for (String s : list.split(",")) {
            String n = s.strip();
            FileType t = FileType.byQuantizeName(n).orElseThrow(() -> new Main.UsageException("ladder: --types: unknown"
                    + " type '" + Errors.printable(n) + "' (quantize --help lists the types)"));
            if (!ts.contains(t)) {
                ts.add(t);
            }
        }
        return ts;
    }

    /** Which type and phase, chunk by chunk: a redrawn line on a terminal, about ten lines per phase otherwise. */
    private static final class Progress implements Ladder.Listener {
        private final PrintStream err;
        private final boolean tty;
        private String type = "";
        private String phase = "";

        Progress(PrintStream err, boolean tty) {
            this.err = err;
            this.tty = tty;
        }

        @Override
        public void phase(String t, String p) {
            clear();
            type = t;
            phase = p;
            err.printf(Locale.ROOT, "gguf4j: %s: %s%n", t, switch (p) {
                case "base logits" -> "base logits and perplexity";
                case "quantize" -> "quantizing";
                case "kld" -> "KL divergence and perplexity";
                case "pp" -> "prompt processing speed";
                case "tg" -> "generation speed";
                default -> p;
            });
        }

        @Override
        public void quantizing(String t, double fraction) {
            if (tty) {
                err.printf(Locale.ROOT, "\r\033[K  %s: quantizing %3.0f%%", t, 100 * fraction);
            }
        }

        @Override
        public void chunk(String t, int c, int n, double ppl, double kld, double seconds) {
            String line = String.format(Locale.ROOT, "  %s: chunk %d/%d  PPL %.4f%s  %.2f s/chunk", t, c + 1, n, ppl,
                    Double.isNaN(kld) ? "" : String.format(Locale.ROOT, "  mean KLD %.6f", kld), seconds);
            if (tty) {
                err.print("\r\033[K" + line);
            } else if ((c + 1) % Math.max(1, n / 10) == 0 || c + 1 == n) {
                err.println(line);
            }
        }

        @Override
        public void done(Ladder.Row row, boolean reused) {
            clear();
            err.printf(Locale.ROOT, "gguf4j: %s: %s: %.2f bpw, PPL %.4f, mean KLD %.6f, same top %.3f %%%n", row.type(),
                    reused ? "from an earlier run" : "done", row.bitsPerWeight(), row.ppl().value(),
                    row.meanKld().value(), 100 * row.sameTop().value());
        }

        @Override
        public void skipped(Ladder.Skip s) {
            clear();
            err.println("gguf4j: " + s.type() + ": skipped: " + s.reason());
        }

        private void clear() {
            if (tty) {
                err.print("\r\033[K");
            }
        }
    }
}
