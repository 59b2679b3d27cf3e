package dev.gguf4j.quality;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.internal.JsonText;
import dev.gguf4j.llama.Bench;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.llama.Perplexity;
import dev.gguf4j.quality.KlDivergence.Estimate;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.types.FileType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The size/quality/speed ladder of a model's quantizations ({@code gguf4j ladder}): the base model (F16 or F32) is
 * quantized to each type with {@link ModelQuantizer}, and each quantization measured: file size, bits per weight,
 * perplexity, mean KL divergence from the base and top-token agreement ({@link KlDivergence}, against base logits
 * computed once with {@link KlDivergence#saveBase}), pp and tg tokens/s ({@link Bench}).
 *
 * <p>Everything goes to one folder: {@code base.kld} (the base logits), {@code base.json} and {@code type-T.json}
 * (each result, written atomically when it is complete, with the settings that made it), {@code ladder.json},
 * {@code ladder.md} and {@code ladder.svg} (the whole ladder so far, rewritten after each type). A rerun with the same
 * folder and settings reuses the finished results and measures only the rest; a result made with other settings is
 * measured again. A type that does not apply to the model (no fallback for its row length, an importance matrix it
 * needs) is skipped with the quantizer's reason.
 */
public final class Ladder {
    /** The types measured when none are given: llama.cpp's usual ladder from Q8_0 down to Q2_K. */
    public static final List<FileType> DEFAULT_TYPES = List.of(FileType.MOSTLY_Q8_0, FileType.MOSTLY_Q6_K,
            FileType.MOSTLY_Q5_K_M, FileType.MOSTLY_Q4_K_M, FileType.MOSTLY_Q4_0, FileType.MOSTLY_Q3_K_M,
            FileType.MOSTLY_Q2_K);

    private Ladder() {
    }

    /**
     * What to measure.
     *
     * @param model         the base model (F16, BF16 or F32)
     * @param text          the text for perplexity and KL divergence (UTF-8)
     * @param dir           the output folder (created if missing)
     * @param types         the quantizations, in order
     * @param imatrix       an importance matrix for the quantizer (llama-imatrix's .dat), or empty
     * @param contextLength tokens per chunk (0: 512, or the model's training context when that is smaller)
     * @param chunks        chunks of the text to score (-1: all)
     * @param threads       threads for inference and quantization (0: all cores)
     * @param nPrompt       pp test size in tokens (0: no pp test)
     * @param nGen          tg test size in tokens (0: no tg test)
     * @param reps          timed repetitions of each speed test
     * @param keepModels    keep the quantized files in {@code dir} (else each is deleted once measured)
     * @param betterSearch  also measure each type quantized with {@link QuantizeOptions.Search#BETTER}, as a rung
     *                      named {@code TYPE+better} after the type's own (KLD and PPL; no speed test, as the
     *                      format, hence the speed, is the same)
     * @param calibration   with {@code betterSearch}: the better rungs are quantized with GPTQ on this calibration
     *                      ({@link QuantizeOptions#calibration}) and named {@code TYPE+gptq}; empty: the per-block
     *                      search
     */
    public record Options(Path model, Path text, Path dir, List<FileType> types, Optional<Path> imatrix,
            int contextLength, int chunks, int threads, int nPrompt, int nGen, int reps, boolean keepModels,
            boolean betterSearch, Optional<Calibration> calibration) {
        /** Without the better-search rungs. */
        public Options(Path model, Path text, Path dir, List<FileType> types, Optional<Path> imatrix,
                int contextLength, int chunks, int threads, int nPrompt, int nGen, int reps, boolean keepModels) {
            this(model, text, dir, types, imatrix, contextLength, chunks, threads, nPrompt, nGen, reps, keepModels,
                    false);
        }

        /** Better-search rungs (if asked) with the per-block search, no calibration. */
        public Options(Path model, Path text, Path dir, List<FileType> types, Optional<Path> imatrix,
                int contextLength, int chunks, int threads, int nPrompt, int nGen, int reps, boolean keepModels,
                boolean betterSearch) {
            this(model, text, dir, types, imatrix, contextLength, chunks, threads, nPrompt, nGen, reps, keepModels,
                    betterSearch, Optional.empty());
        }

        public Options {
            types = List.copyOf(types);
            if (contextLength < 0 || chunks == 0 || chunks < -1 || threads < 0 || nPrompt < 0 || nGen < 0 || reps < 1) {
                throw new IllegalArgumentException("bad ladder options: c=" + contextLength + " chunks=" + chunks
                        + " threads=" + threads + " pp=" + nPrompt + " tg=" + nGen + " reps=" + reps);
            }
            if (calibration.isPresent() && !betterSearch) {
                throw new IllegalArgumentException("a ladder calibration needs betterSearch (it makes the better rungs)");
            }
        }

        /** The defaults: {@link #DEFAULT_TYPES}, no imatrix, whole text, pp512, tg128, 3 repetitions. */
        public static Options of(Path model, Path text, Path dir) {
            return new Options(model, text, dir, DEFAULT_TYPES, Optional.empty(), 0, -1, 0, 512, 128, 3, false, false);
        }
    }

    /**
     * The calibration of the GPTQ rungs, as {@link QuantizeOptions#calibration(Path, int, int)} takes it.
     *
     * @param file   what the quantizer calibrates on (passed on as it is)
     * @param ctx    tokens per calibration chunk
     * @param chunks at most this many chunks
     */
    public record Calibration(Path file, int ctx, int chunks) {
        public Calibration {
            java.util.Objects.requireNonNull(file);
            if (ctx < 2 || chunks < 1) {
                throw new IllegalArgumentException("calibration needs ctx >= 2 and chunks >= 1, got " + ctx + ", "
                        + chunks);
            }
        }
    }

    /**
     * One rung: the base (type the base's file type, KLD 0, same top 1) or a quantization.
     *
     * @param fileBytes     size of the GGUF file
     * @param bitsPerWeight tensor data bits per weight (as llama.cpp's "BPW")
     * @param kld99         the 99th percentile of the per-position KLD
     * @param ppTs          pp tokens/s (mean ± standard deviation over the repetitions; 0 when not measured)
     * @param fallbacks     tensors that got a fallback type because their row length does not fit the type's block
     * @param seconds       time this rung took to make and measure
     */
    public record Row(String type, long fileBytes, double bitsPerWeight, Estimate ppl, Estimate meanKld,
            Estimate sameTop, double kld99, Estimate ppTs, Estimate tgTs, int fallbacks, double seconds) {
    }

    /** A type that was not measured, and why (one line). */
    public record Skip(String type, String reason) {
    }

    /**
     * The ladder of {@code model} (the base's file name): the base, the measured types in the order asked, the
     * skipped ones; {@code settings} made them.
     */
    public record Result(String model, String settings, int chunks, int contextLength, Row base, List<Row> rows,
            List<Skip> skipped) {
        public Result {
            rows = List.copyOf(rows);
            skipped = List.copyOf(skipped);
        }
    }

    /** Progress (called on the measuring thread). */
    public interface Listener {
        /** {@code type} enters {@code phase}: "quantize", "base logits", "kld", "pp", "tg". */
        default void phase(String type, String phase) {
        }

        /** Quantization progress of {@code type}, 0..1. */
        default void quantizing(String type, double fraction) {
        }

        /** A chunk of the base logits or the KLD is done; {@code kldSoFar} is NaN for the base. */
        default void chunk(String type, int chunk, int chunks, double pplSoFar, double kldSoFar, double seconds) {
        }

        /** {@code row} is finished ({@code reused}: read from an earlier run's result in the folder). */
        default void done(Row row, boolean reused) {
        }

        default void skipped(Skip skip) {
        }
    }

    /**
     * Measures the ladder (reusing finished results in {@code o.dir()}) and writes ladder.json/.md/.svg there. When
     * it is interrupted (an exception, or SIGINT/SIGTERM), what it was making is deleted: the folder keeps only
     * finished results.
     */
    public static Result run(Options o, Listener listener) throws IOException {
        java.util.Set<Path> unfinished = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread hook = new Thread(() -> deleteAll(unfinished));
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(o, listener, unfinished);
        } finally {
            deleteAll(unfinished);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down: the hook runs
            }
        }
    }

    private static void deleteAll(java.util.Set<Path> files) {
        for (Path p : files) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort
            }
        }
        files.clear();
    }

    private static Result run(Options o, Listener listener, java.util.Set<Path> unfinished) throws IOException {
        Files.createDirectories(o.dir());
        removeStalePartials(o.dir());
        String text = Files.readString(o.text(), StandardCharsets.UTF_8);
        Path baseKld = o.dir().resolve("base.kld");
        String stem = stem(o.model());
        long modelBytes = Files.size(o.model());
        int nCtx;
        long params;
        long baseTensorBytes;
        String baseType;
        try (GgufFile f = GgufFile.open(o.model())) {
            int trained = (int) Math.min(Integer.MAX_VALUE, f.metadata().findLong(f.metadata().findString(
                    "general.architecture").orElse("llama") + ".context_length").orElse(512L));
            nCtx = o.contextLength() > 0 ? o.contextLength() : Math.min(512, trained);
            params = f.tensors().stream().mapToLong(GgufTensor::elementCount).sum();
            baseTensorBytes = f.tensors().stream().mapToLong(GgufTensor::byteSize).sum();
            // the file type's name, else the type of most of the weights (a converted file may have no file type)
            java.util.Map<String, Long> byType = new java.util.HashMap<>();
            f.tensors().forEach(t -> byType.merge(t.type().name(), t.elementCount(), Long::sum));
            String most = byType.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                    .orElse("base");
            baseType = f.metadata().findLong("general.file_type").flatMap(FileType::byId).map(FileType::quantizeName)
                    .orElse(most);
        }
        String settings = settings(o, nCtx, modelBytes, text);
        // the calibrated rungs' results also depend on the calibration; the other rungs' do not
        String calibrated = settings + calibrationSettings(o);
        // the base: its logits once, reused by every type (and by a rerun)
        Row base = readRow(o.dir().resolve("base.json"), settings);
        int nChunk;
        if (base != null && Files.isRegularFile(baseKld)) {
            try (BaseLogits.Reader r = new BaseLogits.Reader(baseKld)) {
                nChunk = r.chunks();
            }
            listener.done(base, true);
        } else {
            long t0 = System.nanoTime();
            try (Llama llama = load(o.model(), o, nCtx)) {
                int[] tokens = llama.tokenizer().encode(text, true, false);
                listener.phase(baseType, "base logits");
                Path tmp = temp(baseKld);
                unfinished.add(tmp);
                Perplexity.Result ppl;
                try {
                    ppl = KlDivergence.saveBase(llama, tokens, nCtx, o.chunks(), tmp, (c, n, p, logits, s) ->
                            listener.chunk(baseType, c, n, p, Double.NaN, s));
                    move(tmp, baseKld);
                } finally {
                    Files.deleteIfExists(tmp);
                    unfinished.remove(tmp);
                }
                nChunk = ppl.chunks();
                Estimate[] speed = speed(llama, o, baseType, listener);
                base = new Row(baseType, modelBytes, 8.0 * baseTensorBytes / params, new Estimate(ppl.ppl(), ppl.error()),
                        new Estimate(0, 0), new Estimate(1, 0), 0, speed[0], speed[1], 0, (System.nanoTime() - t0) / 1e9);
            }
            writeAtomically(o.dir().resolve("base.json"), rowJson(base, settings));
            listener.done(base, false);
        }
        String modelName = o.model().getFileName().toString();
        List<Row> rows = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        for (FileType type : o.types()) {
            for (QuantizeOptions.Search search : o.betterSearch() ? List.of(QuantizeOptions.Search.REFERENCE,
                    QuantizeOptions.Search.BETTER) : List.of(QuantizeOptions.Search.REFERENCE)) {
                String name = rungName(type, search, o);
                String rowSettings = search == QuantizeOptions.Search.BETTER ? calibrated : settings;
                Path json = o.dir().resolve("type-" + name + ".json");
                Row row = readRow(json, rowSettings);
                if (row != null) {
                    rows.add(row);
                    listener.done(row, true);
                } else {
                    row = measure(o, type, search, nCtx, stem, baseKld, params, listener, skipped, unfinished);
                    if (row == null) {
                        break; // the type does not apply: nor does its better search
                    }
                    writeAtomically(json, rowJson(row, rowSettings));
                    rows.add(row);
                    listener.done(row, false);
                }
                writeOutputs(o.dir(), new Result(modelName, calibrated, nChunk, nCtx, base, rows, skipped));
            }
        }
        Result result = new Result(modelName, calibrated, nChunk, nCtx, base, rows, skipped);
        writeOutputs(o.dir(), result);
        return result;
    }

    /** Quantizes to {@code type} and measures it; null (and a {@link Skip}) when the type does not apply. */
    private static Row measure(Options o, FileType type, QuantizeOptions.Search search, int nCtx, String stem,
            Path baseKld, long params, Listener listener, List<Skip> skipped, java.util.Set<Path> unfinished)
            throws IOException {
        boolean better = search == QuantizeOptions.Search.BETTER;
        String name = rungName(type, search, o);
        long t0 = System.nanoTime();
        QuantizeOptions qo = QuantizeOptions.to(type).threads(o.threads() > 0 ? o.threads()
                : Runtime.getRuntime().availableProcessors()).search(search);
        o.imatrix().ifPresent(qo::imatrix);
        if (better) {
            o.calibration().ifPresent(c -> qo.calibration(c.file(), c.ctx(), c.chunks()));
        }
        ModelQuantizer.Plan plan;
        try (GgufFile in = GgufFile.open(o.model())) {
            plan = ModelQuantizer.plan(in, qo, ModelQuantizer.LLAMA_POLICY);
        } catch (Gguf4jException e) {
            Skip s = new Skip(name, oneLine(e.getMessage()));
            skipped.add(s);
            listener.skipped(s);
            return null;
        }
        List<ModelQuantizer.PlannedTensor> fellBack = plan.tensors().stream().filter(t -> t.reason().contains(
                "fallback")).toList();
        int fallbacks = fellBack.size();
        long quantized = plan.tensors().stream().filter(t -> t.convert() && t.type().isQuantized()).count();
        if (fallbacks > 0 && fallbacks == quantized) {
            // every tensor the type would quantize got another type: the result would not be this type at all
            ModelQuantizer.PlannedTensor t = fellBack.getFirst();
            Skip s = new Skip(name, "no tensor fits: every quantized tensor would get a fallback type (e.g. '"
                    + t.name() + "'" + t.reason().substring(t.reason().lastIndexOf(';') + 1) + ")");
            skipped.add(s);
            listener.skipped(s);
            return null;
        }
        Path out = o.dir().resolve(stem + "-" + name + ".gguf");
        if (!o.keepModels()) {
            unfinished.add(out);
        }
        listener.phase(name, "quantize");
        ModelQuantizer.quantize(o.model(), out, qo, ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() {
            private long total = 1;
            private long done;
            private long last;

            @Override
            public void planned(ModelQuantizer.Plan p) {
                total = Math.max(1, p.bytesBefore());
            }

            @Override
            public synchronized void progress(long bytes) {
                done += bytes;
                long now = System.nanoTime();
                if (now - last > 500_000_000L) {
                    last = now;
                    listener.quantizing(name, (double) done / total);
                }
            }
        });
        try {
            long fileBytes = Files.size(out);
            try (Llama llama = load(out, o, nCtx); BaseLogits.Reader base = new BaseLogits.Reader(baseKld)) {
                listener.phase(name, "kld");
                KlDivergence.Stats st = KlDivergence.compute(llama, out.toString(), base, (c, n, s, sec) ->
                        listener.chunk(name, c, n, s.ppl().value(), s.meanKld().value(), sec));
                Estimate[] speed = better ? new Estimate[] {new Estimate(0, 0), new Estimate(0, 0)}
                        : speed(llama, o, name, listener);
                return new Row(name, fileBytes, 8.0 * plan.bytesAfter() / params, st.ppl(), st.meanKld(), st.sameTop(),
                        st.kldPercentile(0.99f), speed[0], speed[1], fallbacks, (System.nanoTime() - t0) / 1e9);
            }
        } finally {
            if (!o.keepModels()) {
                Files.deleteIfExists(out);
                unfinished.remove(out);
            }
        }
    }

    private static Llama load(Path model, Options o, int nCtx) throws IOException {
        int ctx = Math.max(nCtx, Math.max(o.nPrompt(), o.nGen()) + 1);
        return Llama.load(model, LlamaOptions.DEFAULTS.withThreads(o.threads()).withContextLength(ctx)
                .withRepack(o.nGen() > 0)); // the load-time copies are for generation (Q4_0's is read by it only)
    }

    private static Estimate[] speed(Llama llama, Options o, String type, Listener listener) {
        Estimate pp = new Estimate(0, 0);
        Estimate tg = new Estimate(0, 0);
        if (o.nPrompt() > 0) {
            listener.phase(type, "pp");
            Bench.Measurement m = Bench.measure(llama, o.nPrompt(), 0, o.reps());
            pp = new Estimate(m.avgTs(), m.stddevTs());
        }
        if (o.nGen() > 0) {
            listener.phase(type, "tg");
            Bench.Measurement m = Bench.measure(llama, 0, o.nGen(), o.reps());
            tg = new Estimate(m.avgTs(), m.stddevTs());
        }
        return new Estimate[] {pp, tg};
    }

    /**
     * A rung's name: the type's, with {@code +better} for the better search, or {@code +gptq} for the better search
     * with a calibration (GPTQ), so that the table, the JSON and the chart say which search made it.
     */
    static String rungName(FileType type, QuantizeOptions.Search search, Options o) {
        return type.quantizeName() + (search != QuantizeOptions.Search.BETTER ? ""
                : o.calibration().isPresent() ? "+gptq" : "+better");
    }

    /**
     * What the calibrated rungs' results depend on besides {@link #settings}: the calibration file (its path, size
     * and time of change: its content is the quantizer's to read) and the chunking; empty without one.
     */
    private static String calibrationSettings(Options o) throws IOException {
        if (o.calibration().isEmpty()) {
            return "";
        }
        Calibration c = o.calibration().get();
        return String.format(Locale.ROOT, " calibration=%s (%d bytes, modified %s) calibration-ctx=%d"
                + " calibration-chunks=%d", c.file().toAbsolutePath().normalize(), Files.size(c.file()),
                Files.getLastModifiedTime(c.file()), c.ctx(), c.chunks());
    }

    /** What a stored result must have been made with to be reused (types excepted: each file is one type). */
    private static String settings(Options o, int nCtx, long modelBytes, String text) {
        return String.format(Locale.ROOT, "model=%s (%d bytes) text=%s (%d chars, hash %08x) c=%d chunks=%d"
                + " imatrix=%s threads=%d pp=%d tg=%d reps=%d", o.model().toAbsolutePath().normalize(), modelBytes,
                o.text().toAbsolutePath().normalize(), text.length(), text.hashCode(), nCtx, o.chunks(),
                o.imatrix().map(p -> p.toAbsolutePath().normalize().toString()).orElse("none"), o.threads(), o.nPrompt(),
                o.nGen(), o.reps());
    }

    private static String stem(Path model) {
        String n = model.getFileName().toString();
        return n.endsWith(".gguf") ? n.substring(0, n.length() - 5) : n;
    }

    private static String oneLine(String s) {
        return String.valueOf(s).replaceAll("\\s*\\R\\s*", " ").strip();
    }

    // ---- files ----

    private static Path temp(Path target) {
        return target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".partial");
    }

    /** Temporary files ({@link #temp}) of runs killed before they could delete them. */
    private static void removeStalePartials(Path dir) throws IOException {
        java.util.regex.Pattern partial = java.util.regex.Pattern.compile("\\..+\\.(?:kld|json|md|svg)\\.(\\d+)\\.partial");
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                java.util.regex.Matcher m = partial.matcher(p.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Writes {@code text} to a temporary file beside {@code file}, then renames it: never a half-written file. */
    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = temp(file);
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            move(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeOutputs(Path dir, Result r) throws IOException {
        writeAtomically(dir.resolve("ladder.json"), json(r));
        writeAtomically(dir.resolve("ladder.md"), markdown(r));
        writeAtomically(dir.resolve("ladder.svg"), LadderChart.svg(r));
    }

    /** A stored result, or null when there is none, it is unreadable or it was made with other settings. */
    private static Row readRow(Path file, String settings) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            Object v = ChatJson.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
            if (!(v instanceof Map<?, ?> m) || !settings.equals(m.get("settings"))) {
                return null;
            }
            return new Row((String) m.get("type"), num(m, "file_bytes").longValue(), num(m, "bits_per_weight")
                    .doubleValue(), est(m, "ppl"), est(m, "mean_kld"), est(m, "same_top"),
                    num(m, "kld_99").doubleValue(), est(m, "pp_ts"), est(m, "tg_ts"), num(m, "fallbacks").intValue(),
                    num(m, "seconds").doubleValue());
        } catch (IOException | RuntimeException e) {
            return null; // measured again
        }
    }

    private static Number num(Map<?, ?> m, String key) {
        return (Number) m.get(key);
    }

    private static Estimate est(Map<?, ?> m, String key) {
        return new Estimate(num(m, key).doubleValue(), num(m, key + "_err").doubleValue());
    }

    private static void field(StringBuilder sb, String indent, String key, Object v, boolean last) {
        sb.append(indent);
        JsonText.quote(sb, key).append(": ");
        switch (v) {
            case String s -> JsonText.quote(sb, s);
            case Double d -> sb.append(Double.isFinite(d) ? d.toString() : "null");
            default -> sb.append(v);
        }
        sb.append(last ? "\n" : ",\n");
    }

    private static void rowFields(StringBuilder sb, String indent, Row r) {
        field(sb, indent, "type", r.type(), false);
        field(sb, indent, "file_bytes", r.fileBytes(), false);
        field(sb, indent, "bits_per_weight", r.bitsPerWeight(), false);
        field(sb, indent, "ppl", r.ppl().value(), false);
        field(sb, indent, "ppl_err", r.ppl().uncertainty(), false);
        field(sb, indent, "mean_kld", r.meanKld().value(), false);
        field(sb, indent, "mean_kld_err", r.meanKld().uncertainty(), false);
        field(sb, indent, "same_top", r.sameTop().value(), false);
        field(sb, indent, "same_top_err", r.sameTop().uncertainty(), false);
        field(sb, indent, "kld_99", r.kld99(), false);
        field(sb, indent, "pp_ts", r.ppTs().value(), false);
        field(sb, indent, "pp_ts_err", r.ppTs().uncertainty(), false);
        field(sb, indent, "tg_ts", r.tgTs().value(), false);
        field(sb, indent, "tg_ts_err", r.tgTs().uncertainty(), false);
        field(sb, indent, "fallbacks", r.fallbacks(), false);
        field(sb, indent, "seconds", r.seconds(), true);
    }

    private static String rowJson(Row r, String settings) {
        StringBuilder sb = new StringBuilder("{\n");
        field(sb, "  ", "settings", settings, false);
        rowFields(sb, "  ", r);
        return sb.append("}\n").toString();
    }

    /** The ladder as JSON: settings, chunks, context, the base row, the rows, the skipped types with reasons. */
    public static String json(Result r) {
        StringBuilder sb = new StringBuilder("{\n");
        field(sb, "  ", "model", r.model(), false);
        field(sb, "  ", "settings", r.settings(), false);
        field(sb, "  ", "context_length", r.contextLength(), false);
        field(sb, "  ", "chunks", r.chunks(), false);
        sb.append("  \"base\": {\n");
        rowFields(sb, "    ", r.base());
        sb.append("  },\n  \"rows\": [");
        for (int i = 0; i < r.rows().size(); i++) {
            sb.append(i == 0 ? "\n" : ",\n").append("    {\n");
            rowFields(sb, "      ", r.rows().get(i));
            sb.append("    }");
        }
        sb.append(r.rows().isEmpty() ? "],\n" : "\n  ],\n").append("  \"skipped\": [");
        for (int i = 0; i < r.skipped().size(); i++) {
            Skip s = r.skipped().get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"type\": ");
            JsonText.quote(sb, s.type()).append(", \"reason\": ");
            JsonText.quote(sb, s.reason()).append('}');
        }
        sb.append(r.skipped().isEmpty() ? "]\n" : "\n  ]\n");
        return sb.append("}\n").toString();
    }

    /** The ladder as a Markdown table (what {@code gguf4j ladder} prints), skipped types listed below it. */
    public static String markdown(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append("| type | MiB | bpw | PPL | mean KLD | KLD 99% | same top % | pp t/s | tg t/s |\n");
        sb.append("|---|---:|---:|---|---|---:|---|---:|---:|\n");
        List<Row> all = new ArrayList<>();
        all.add(r.base());
        all.addAll(r.rows());
        for (Row x : all) {
            boolean base = x == r.base();
            sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.4f ± %.4f | %s | %s | %s | %s | %s |\n",
                    x.type() + (x.fallbacks() > 0 ? " (" + x.fallbacks() + " fallback)" : ""),
                    x.fileBytes() / 1048576.0, x.bitsPerWeight(), x.ppl().value(), x.ppl().uncertainty(),
                    base ? "0 (base)" : String.format(Locale.ROOT, "%.6f ± %.6f", x.meanKld().value(),
                            x.meanKld().uncertainty()),
                    base ? "0" : String.format(Locale.ROOT, "%.6f", x.kld99()),
                    base ? "100 (base)" : String.format(Locale.ROOT, "%.3f ± %.3f", 100 * x.sameTop().value(),
                            100 * x.sameTop().uncertainty()),
                    speed(x.ppTs()), speed(x.tgTs())));
        }
        if (!r.skipped().isEmpty()) {
            sb.append('\n');
        }
        for (Skip s : r.skipped()) {
            sb.append("skipped ").append(s.type()).append(": ").append(s.reason()).append('\n');
        }
        return sb.toString();
    }

    private static String speed(Estimate e) {
        return e.value() <= 0 ? "-" : String.format(Locale.ROOT, "%.1f ± %.1f", e.value(), e.uncertainty());
    }
}
