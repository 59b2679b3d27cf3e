package dev.gguf4j.cli;

import dev.gguf4j.fit.ModelFit;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.engine.Footprint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * {@code gguf4j fit -m MODEL [-c N] [--bandwidth GBPS] [--json]}: which quantizations of the model (or, for a
 * quantized file, whether it and how many GPU layers) fit this machine, with the expected generation speed
 * ({@link ModelFit}).
 */
final class FitCommand {
    private FitCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("fit", argv);
        ModelFlag model = new ModelFlag("fit");
        Integer ctx = null;
        OptionalDouble bandwidth = OptionalDouble.empty();
        boolean json = false;
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-c", "--ctx-size" -> ctx = a.intValue(o);
                case "--bandwidth" -> bandwidth = OptionalDouble.of(a.floatValue(o, Float.MIN_VALUE, Float.MAX_VALUE));
                case "--json" -> json = true;
                default -> throw a.unknown(o);
            }
        }
        Path path = model.resolve(err);
        int trained;
        try (GgufFile f = GgufFile.open(path)) {
            trained = Footprint.config(f).contextLength();
        }
        if (ctx != null && (ctx < 1 || ctx > trained)) {
            throw new Main.UsageException("fit: -c " + ctx + ": must be in [1, " + trained + "] (the training context"
                    + " of " + path + ")");
        }
        ModelFit.Report r = ModelFit.plan(path, ctx == null ? 0 : ctx, ModelFit.probe(bandwidth));
        if (json) {
            out.println(Json.write(toJson(r)));
        } else {
            print(r, out);
        }
        return 0;
    }

    private static void print(ModelFit.Report r, PrintStream out) {
        ModelFit.Machine m = r.machine();
        out.printf(Locale.ROOT, "model: %s (%d layers, trained context %d), -c %d, KV cache F16%n", r.model(),
                r.layers(), r.trainedContext(), r.contextLength());
        out.printf(Locale.ROOT, "RAM: %s available (%s)%n", ModelFit.gb(m.ramAvailableBytes()), m.ramSource());
        out.println(m.gpu().map(g -> String.format(Locale.ROOT, "GPU: %s, %s free of %s", g.name(),
                ModelFit.gb(g.freeBytes()), ModelFit.gb(g.totalBytes())))
                .orElse("GPU: none found (" + shortReason(m.gpuReason()) + ")"));
        out.printf(Locale.ROOT, "memory read bandwidth: %s GB/s with 1 thread, %s GB/s with %d (%s)%n",
                gbps(m.bandwidthOneThread()), gbps(m.bandwidthAllThreads()), m.threads(), m.bandwidthSource());
        String tgHead = "est. tg t/s (1/" + m.threads() + " thr)";
        List<String[]> table = new ArrayList<>();
        table.add(new String[] {"type", "file size", "KV cache", "total RAM", "fits RAM", "GPU -ngl", tgHead});
        for (ModelFit.Row row : r.rows()) {
            table.add(new String[] {row.type() + (row.thisFile() ? " (this file)" : ""), ModelFit.gb(row.fileBytes()),
                    ModelFit.gb(row.kvBytes()), ModelFit.gb(row.totalBytes()), row.fitsRam() ? "yes" : "no",
                    row.gpuLayers() < 0 ? "-" : row.gpuLayers() + "/" + (row.layers() + 1)
                            + (row.fullGpuOffload() ? " full" : ""),
                    ModelFit.tps(row.tgOneThread()) + " / " + ModelFit.tps(row.tgAllThreads())});
        }
        int[] w = new int[table.get(0).length];
        for (String[] t : table) {
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.max(w[i], t[i].length());
            }
        }
        for (String[] t : table) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < w.length; i++) {
                String cell = i == 0 ? String.format("%-" + w[i] + "s", t[i]) : String.format("%" + w[i] + "s", t[i]);
                sb.append(i == 0 ? "" : "  ").append(cell);
            }
            out.println(sb.toString().stripTrailing());
        }
        for (ModelFit.Skipped s : r.skipped()) {
            out.println("skipped " + s.type() + ": " + Errors.oneLine(s.reason()));
        }
        out.println("total RAM = file + KV cache + compute buffers and runtime (an estimate, about "
                + ModelFit.gb(r.rows().get(0).computeBytes()) + ")" + (r.rows().stream().anyMatch(x -> x.repackBytes() > 0)
                        ? " + the copies made at load on top of the file's pages (a tied output's; the others"
                                + " replace the file's pages; --no-repack skips them)" : "")
                + "; tg = bandwidth / (weights + KV read per token), an upper bound");
        out.println("verdict: " + r.verdict());
    }

    /** The probe's reason up to its first ';' (the full text is in --json), at most 100 characters. */
    static String shortReason(String reason) {
        String s = Errors.oneLine(reason);
        int cut = s.indexOf(';');
        s = (cut > 0 ? s.substring(0, cut) : s).strip();
        return s.length() > 100 ? s.substring(0, 97) + "..." : s;
    }

    private static String gbps(double v) {
        return Double.isNaN(v) ? "?" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static Map<String, Object> toJson(ModelFit.Report r) {
        ModelFit.Machine m = r.machine();
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("ram_available_bytes", m.ramAvailableBytes());
        machine.put("ram_source", m.ramSource());
        machine.put("gpu", m.gpu().map(g -> (Object) Map.of("name", g.name(), "free_bytes", g.freeBytes(),
                "total_bytes", g.totalBytes())).orElse(null));
        machine.put("gpu_reason", m.gpuReason());
        machine.put("bandwidth_gbps_1_thread", m.bandwidthOneThread());
        machine.put("bandwidth_gbps_all_threads", m.bandwidthAllThreads());
        machine.put("threads", m.threads());
        machine.put("bandwidth_source", m.bandwidthSource());
        List<Object> rows = new ArrayList<>();
        for (ModelFit.Row row : r.rows()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("type", row.type());
            o.put("this_file", row.thisFile());
            o.put("file_bytes", row.fileBytes());
            o.put("repack_bytes", row.repackBytes());
            o.put("kv_bytes", row.kvBytes());
            o.put("compute_bytes_estimate", row.computeBytes());
            o.put("total_bytes", row.totalBytes());
            o.put("fits_ram", row.fitsRam());
            o.put("gpu_layers", row.gpuLayers() < 0 ? null : row.gpuLayers());
            o.put("full_gpu_offload", row.gpuLayers() < 0 ? null : row.fullGpuOffload());
            o.put("bytes_per_token", row.bytesPerToken());
            o.put("tg_tps_1_thread", row.tgOneThread());
            o.put("tg_tps_all_threads", row.tgAllThreads());
            rows.add(o);
        }
        List<Object> skipped = new ArrayList<>();
        for (ModelFit.Skipped s : r.skipped()) {
            skipped.add(Map.of("type", s.type(), "reason", s.reason()));
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("model", r.model().toString());
        o.put("context", r.contextLength());
        o.put("trained_context", r.trainedContext());
        o.put("layers", r.layers());
        o.put("machine", machine);
        o.put("rows", rows);
        o.put("skipped", skipped);
        o.put("verdict", r.verdict());
        return o;
    }
}
