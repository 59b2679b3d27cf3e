package dev.gguf4j.cli;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code gguf4j quantize INPUT OUTPUT TYPE [options]}: llama-quantize's command line, with a plan
 * ({@code --dry-run}), a progress display and a summary.
 */
final class QuantizeCommand {
    static final String USAGE = """
            usage: gguf4j quantize INPUT.gguf OUTPUT.gguf TYPE [options]
              TYPE: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q2_K_S Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M
                    Q5_K_S Q5_K_M Q6_K IQ4_NL COPY (case-insensitive)
              --imatrix FILE               importance matrix (llama-imatrix's .dat format)
              --include-weights NAME       use the imatrix only for tensors whose name contains NAME (repeatable)
              --exclude-weights NAME       do not use the imatrix for tensors whose name contains NAME (repeatable)
              --output-tensor-type TYPE    type of output.weight
              --token-embedding-type TYPE  type of token_embd.weight
              --leave-output-tensor        do not quantize output.weight
              --pure                       no mixture: every quantized tensor gets TYPE
              --allow-requantize           allow quantized inputs (loses quality)
              --override-kv KEY=TYPE:VAL   set metadata (TYPE: int, float, bool, str), repeatable
              --threads N                  worker threads (default: all cores)
              --search reference|better    reference (default): ggml's search, byte-identical to llama-quantize;
                                           better: a wider k-quant search (Q2_K..Q6_K) for lower error in the
                                           same format and size (files load in llama.cpp; see README)
              --calibration TEXT|FILE      with --search better: run TEXT (UTF-8) through the input model and
                                           quantize each k-quant matrix with GPTQ on its inputs' second moments;
                                           or FILE, that calibration saved by gguf4j calibrate (faster)
              --calibration-ctx N          tokens per calibration chunk (default %d; TEXT only)
              --calibration-chunks N       at most N chunks of the text (default %d; TEXT only)
              --dry-run                    print the plan, write nothing
            """.formatted(QuantizeOptions.CALIBRATION_CTX, QuantizeOptions.CALIBRATION_CHUNKS);

    private QuantizeCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        List<String> positional = new ArrayList<>();
        QuantizeOptions o;
        boolean dryRun = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--dry-run" -> dryRun = true;
                case "--pure", "--leave-output-tensor", "--allow-requantize" -> { }
                case "--imatrix", "--include-weights", "--exclude-weights", "--output-tensor-type",
                        "--token-embedding-type", "--override-kv", "--threads", "--search", "--calibration",
                        "--calibration-ctx", "--calibration-chunks" -> {
                    if (i + 1 >= args.size()) {
                        throw new Main.UsageException("quantize: " + a + " needs a value");
                    }
                    i++;
                }
                default -> {
                    if (a.startsWith("-")) {
                        throw new Main.UsageException("quantize: unknown option '" + Errors.printable(a)
                                + "' (quantize --help lists them)");
                    }
                    positional.add(a);
                }
            }
        }
        if (positional.size() != 3) {
            throw new Main.UsageException("quantize: expected INPUT OUTPUT TYPE, got " + positional.size()
                    + " positional argument" + (positional.size() == 1 ? "" : "s") + " (quantize --help)");
        }
        String typeName = positional.get(2);
        if (typeName.equalsIgnoreCase("COPY")) {
            o = QuantizeOptions.copy();
        } else {
            FileType ft = FileType.byQuantizeName(typeName)
                    .orElseThrow(() -> new Main.UsageException("quantize: unknown TYPE '" + Errors.printable(typeName)
                            + "' (quantize --help lists the types)"));
            o = QuantizeOptions.to(ft);
        }
        Path calibration = null;
        int calCtx = QuantizeOptions.CALIBRATION_CTX;
        int calChunks = QuantizeOptions.CALIBRATION_CHUNKS;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--pure" -> o.pure(true);
                case "--leave-output-tensor" -> o.leaveOutputTensor(true);
                case "--allow-requantize" -> o.allowRequantize(true);
                case "--search" -> {
                    String v = args.get(++i);
                    o.search(switch (v) {
                        case "reference" -> QuantizeOptions.Search.REFERENCE;
                        case "better" -> QuantizeOptions.Search.BETTER;
                        default -> throw new Main.UsageException("quantize: --search " + Errors.printable(v)
                                + ": expected reference or better");
                    });
                }
                case "--calibration" -> calibration = PathChecks.readableFile("--calibration", args.get(++i));
                case "--calibration-ctx" -> calCtx = positiveInt(a, args.get(++i), 2, 1 << 20);
                case "--calibration-chunks" -> calChunks = positiveInt(a, args.get(++i), 1, 1 << 20);
                case "--imatrix" -> o.imatrix(PathChecks.readableFile("--imatrix", args.get(++i)));
                case "--include-weights" -> o.includeWeights(args.get(++i));
                case "--exclude-weights" -> o.excludeWeights(args.get(++i));
                case "--output-tensor-type" -> o.outputTensorType(ggmlType(args.get(++i)));
                case "--token-embedding-type" -> o.tokenEmbeddingType(ggmlType(args.get(++i)));
                case "--override-kv" -> {
                    try {
                        o.override(QuantizeOptions.KvOverride.parse(args.get(++i)));
                    } catch (IllegalArgumentException e) {
                        throw new Main.UsageException("quantize: --override-kv " + Errors.printable(args.get(i)) + ": "
                                + e.getMessage());
                    }
                }
                case "--threads" -> {
                    String v = args.get(++i);
                    int n;
                    try {
                        n = Integer.parseInt(v.strip());
                    } catch (NumberFormatException e) {
                        n = 0;
                    }
                    if (n < 1 || n > Args.MAX_THREADS) {
                        throw new Main.UsageException("quantize: --threads " + Errors.printable(v) + ": expected a whole"
                                + " number in [1, " + Args.MAX_THREADS + "]");
                    }
                    o.threads(n);
                }
                default -> { }
            }
        }
        if (calibration != null) {
            if (o.search() != QuantizeOptions.Search.BETTER) {
                throw new Main.UsageException("quantize: --calibration needs --search better");
            }
            o.calibration(calibration, calCtx, calChunks);
        }
        // the files, before any work: the input readable, the output's folder writable
        Path input = PathChecks.readableFile("INPUT", positional.get(0));
        if (dryRun) {
            try (GgufFile in = GgufFile.open(input)) {
                ModelQuantizer.Plan plan = ModelQuantizer.plan(in, o, ModelQuantizer.LLAMA_POLICY);
                printPlan(plan, out);
                printSummary(plan, out, -1);
            }
            return 0;
        }
        Path output = PathChecks.writableOutput("OUTPUT", positional.get(1));
        long t0 = System.nanoTime();
        if (o.allowRequantize()) {
            err.println("gguf4j: warning: requantizing already quantized tensors compounds their quantization error;"
                    + " quantize from an F32/F16/BF16 model when you can");
        }
        Progress progress = new Progress(err, System.console() != null && System.console().isTerminal());
        ModelQuantizer.Plan plan;
        try {
            plan = ModelQuantizer.quantize(input, output, o, ModelQuantizer.LLAMA_POLICY, progress);
        } catch (java.nio.file.FileSystemException e) {
            throw e; // names its file
        } catch (IOException e) {
            // a write that failed (e.g. "No space left on device"): say which file
            throw new IOException("writing " + output + ": " + Errors.describe(e), e);
        } finally {
            progress.finish();
        }
        printSummary(plan, out, (System.nanoTime() - t0) / 1e9);
        out.println("wrote " + output);
        return 0;
    }

    private static int positiveInt(String option, String v, int lo, int hi) {
        int n;
        try {
            n = Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            n = lo - 1;
        }
        if (n < lo || n > hi) {
            throw new Main.UsageException("quantize: " + option + " " + Errors.printable(v) + ": expected a whole number in ["
                    + lo + ", " + hi + "]");
        }
        return n;
    }

    private static GgmlType ggmlType(String name) {
        return GgmlType.byName(name).orElseThrow(() -> new Main.UsageException("quantize: unknown tensor type '"
                + Errors.printable(name) + "'"));
    }

    static void printPlan(ModelQuantizer.Plan plan, PrintStream out) {
        out.printf("%-32s %-18s %-7s %-7s %12s %12s  %s%n", "tensor", "shape", "from", "to", "bytes", "after", "why");
        for (ModelQuantizer.PlannedTensor t : plan.tensors()) {
            out.printf("%-32s %-18s %-7s %-7s %12d %12d  %s%n", t.name(), t.source().shapeString(), t.source().type(),
                    t.type(), t.source().byteSize(), t.bytes(), t.reason());
        }
    }

    static void printSummary(ModelQuantizer.Plan plan, PrintStream out, double seconds) {
        Map<String, Integer> perType = new TreeMap<>();
        for (ModelQuantizer.PlannedTensor t : plan.tensors()) {
            perType.merge(t.type().ggmlName(), 1, Integer::sum);
        }
        out.printf(Locale.ROOT, "model size  = %10.2f MB (%.2f bpw)%n", plan.bytesBefore() / 1048576.0, plan.bitsPerWeightBefore());
        out.printf(Locale.ROOT, "quant size  = %10.2f MB (%.2f bpw)%n", plan.bytesAfter() / 1048576.0, plan.bitsPerWeightAfter());
        StringBuilder sb = new StringBuilder("tensors     =");
        perType.forEach((k, v) -> sb.append(' ').append(k).append(": ").append(v));
        out.println(sb);
        if (seconds >= 0) {
            out.printf(Locale.ROOT, "wall time   = %10.2f s%n", seconds);
        }
    }

    /** Per-tensor and overall progress: a redrawn line on a terminal, one line per tensor otherwise. */
    static final class Progress implements ModelQuantizer.Listener {
        private final PrintStream err;
        private final boolean tty;
        private final AtomicLong done = new AtomicLong();
        private long total;
        private int count;
        private long start;
        private volatile long tensorStartBytes;
        private volatile ModelQuantizer.PlannedTensor current;
        private volatile int index;
        private long lastDraw;

        Progress(PrintStream err, boolean tty) {
            this.err = err;
            this.tty = tty;
        }

        @Override
        public void planned(ModelQuantizer.Plan plan) {
            total = Math.max(1, plan.bytesBefore());
            count = plan.tensors().size();
            start = System.nanoTime();
        }

        @Override
        public void tensorStarted(int i, ModelQuantizer.PlannedTensor t) {
            index = i;
            current = t;
            tensorStartBytes = done.get();
            draw(true);
        }

        @Override
        public void progress(long bytes) {
            done.addAndGet(bytes);
            if (tty) {
                draw(false);
            }
        }

        @Override
        public void note(String line) {
            err.println("gguf4j quantize: " + line);
        }

        @Override
        public void tensorDone(int i, ModelQuantizer.PlannedTensor t) {
            if (!tty) {
                // formatted first, printed once: printf on System.err wrote each piece (even single padding
                // spaces) with its own write(2), ~2,500 system calls for a TinyLlama-sized model
                err.print(String.format(Locale.ROOT, "[%4d/%4d] %-32s %-18s %5s -> %-5s %9.3f MiB -> %9.3f MiB  %s%n",
                        i + 1, count, t.name(), t.source().shapeString(), t.source().type(), t.type(),
                        t.source().byteSize() / 1048576.0, t.bytes() / 1048576.0, rate()));
            }
        }

        private synchronized void draw(boolean force) {
            if (!tty) {
                return;
            }
            long now = System.nanoTime();
            if (!force && now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            ModelQuantizer.PlannedTensor t = current;
            if (t == null) {
                return;
            }
            double tensorPct = 100.0 * (done.get() - tensorStartBytes) / Math.max(1, t.source().byteSize());
            double allPct = 100.0 * done.get() / total;
            err.print(String.format(Locale.ROOT, "\r\033[K[%4d/%4d] %-28.28s %5s->%-5s %3.0f%% | total %3.0f%% %s",
                    index + 1, count, t.name(), t.source().type(), t.type(), Math.min(100, tensorPct),
                    Math.min(100, allPct), rate()));
            err.flush();
        }

        private String rate() {
            double secs = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
            double mbs = done.get() / 1048576.0 / secs;
            double eta = mbs > 0 ? (total - done.get()) / 1048576.0 / mbs : 0;
            return String.format(Locale.ROOT, "%.1f MB/s ETA %d:%02d", mbs, (long) eta / 60, (long) eta % 60);
        }

        void finish() {
            if (tty) {
                err.print("\r\033[K");
            }
        }
    }
}
