package dev.gguf4j.cli;

import dev.gguf4j.llama.Bench;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code gguf4j bench}: llama-bench's pp (prompt processing) and tg (text generation) tests, tokens/s with
 * spread over repetitions; {@code --json} prints llama-bench's JSON fields so one script reads both tools.
 */
final class BenchCommand {
    private BenchCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("bench", argv);
        ModelFlag model = new ModelFlag("bench");
        int pp = 512;
        int tg = 128;
        int reps = 3;
        List<Integer> threads = new ArrayList<>(List.of(Runtime.getRuntime().availableProcessors()));
        boolean json = false;
        boolean mmap = true;
        boolean mlock = false;
        boolean repack = true;
        List<Integer> ngls = new ArrayList<>(List.of(0));
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-p", "--n-prompt" -> pp = a.intValue(o, 0, Integer.MAX_VALUE - 1);
                case "-n", "--n-gen" -> tg = a.intValue(o, 0, Integer.MAX_VALUE - 1);
                case "-r", "--repetitions" -> reps = a.intValue(o, 1, Integer.MAX_VALUE);
                case "-t", "--threads" -> {
                    threads.clear();
                    for (String t : a.value(o).split(",")) {
                        int n;
                        try {
                            n = Integer.parseInt(t.trim());
                        } catch (NumberFormatException e) {
                            n = -1;
                        }
                        if (n < 0 || n > Args.MAX_THREADS) {
                            throw new Main.UsageException("bench: -t " + Errors.printable(t) + ": expected thread counts"
                                    + " in [0, " + Args.MAX_THREADS + "] separated by commas");
                        }
                        threads.add(n);
                    }
                }
                case "--no-mmap" -> mmap = false;
                case "--mlock" -> mlock = true;
                case "--no-repack" -> repack = false;
                case "-ngl", "--n-gpu-layers" -> {
                    ngls.clear();
                    for (String v : a.value(o).split(",")) {
                        ngls.add(Args.parseGpuLayers("bench", o, v.trim()));
                    }
                }
                case "--json", "-o" -> {
                    json = true;
                    if (o.equals("-o") && !a.value(o).equals("json")) {
                        throw new Main.UsageException("bench: only -o json is supported");
                    }
                }
                default -> throw a.unknown(o);
            }
        }
        Path path = model.resolve(err);
        List<Map<String, Object>> results = new ArrayList<>();
        for (int ngl : ngls) {
            for (int t : threads) {
                LlamaOptions opts = LlamaOptions.DEFAULTS.withThreads(t).withContextLength(Math.max(pp, tg) + 1)
                        .withGpuLayers(ngl).withMmap(mmap).withMlock(mlock).withRepack(repack);
                try (Llama llama = Llama.load(path, opts)) {
                    if (ngl != 0) {
                        err.println("gguf4j: " + llama.offloadPlan().summary());
                    }
                    if (llama.repackSummary() != null) {
                        err.println("gguf4j: " + llama.repackSummary());
                    }
                    if (pp > 0) {
                        results.add(measure(llama, path, t, pp, 0, reps));
                    }
                    if (tg > 0) {
                        results.add(measure(llama, path, t, 0, tg, reps));
                    }
                }
            }
        }
        if (json) {
            out.println(Json.write(results));
        } else {
            out.printf("| %-28s | %10s | %10s | %-8s | %7s | %4s | %6s | %20s |%n", "model", "size", "params", "backend",
                    "threads", "ngl", "test", "t/s");
            out.println("| " + "-".repeat(28) + " | ---------: | ---------: | -------- | ------: | ---: | -----: | -------------------: |");
            for (Map<String, Object> r : results) {
                String test = ((Integer) r.get("n_prompt")) > 0 ? "pp" + r.get("n_prompt") : "tg" + r.get("n_gen");
                out.printf(Locale.ROOT, "| %-28s | %10s | %10s | %-8s | %7d | %4d | %6s | %13.2f ± %5.2f |%n",
                        r.get("model_type"), InfoCommand.human((Long) r.get("model_size")),
                        InfoCommand.count((Long) r.get("model_n_params")), r.get("backends"), r.get("n_threads"),
                        r.get("n_gpu_layers"), test, r.get("avg_ts"), r.get("stddev_ts"));
            }
        }
        return 0;
    }

    /** One llama-bench test ({@link Bench#measure}) in llama-bench's JSON fields. */
    private static Map<String, Object> measure(Llama llama, Path path, int threads, int nPrompt, int nGen, int reps)
            throws IOException {
        Bench.Measurement b = Bench.measure(llama, nPrompt, nGen, reps);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("build_commit", "gguf4j");
        m.put("model_filename", path.toString());
        m.put("model_type", llama.config().architecture() + " " + llama.metadata().findLong("general.file_type")
                .flatMap(dev.gguf4j.types.FileType::byId).map(dev.gguf4j.types.FileType::quantizeName).orElse("?"));
        m.put("model_size", Files.size(path));
        m.put("model_n_params", modelParams(path));
        m.put("n_batch", Bench.BATCH);
        m.put("n_threads", threads);
        m.put("type_k", "f16");
        m.put("type_v", "f16");
        // llama-bench's field: the count asked for; for auto, the count auto chose
        int ngl = llama.offloadPlan().requested() == LlamaOptions.GPU_LAYERS_AUTO ? llama.offloadPlan().gpuLayers()
                : llama.offloadPlan().requested();
        m.put("n_gpu_layers", ngl);
        m.put("gpu_layers_effective", llama.offloadPlan().gpuLayers());
        m.put("n_prompt", nPrompt);
        m.put("n_gen", nGen);
        m.put("backends", llama.backend().name() + llama.device().map(d -> "," + d.split("[ :]")[0]).orElse(""));
        m.put("avg_ns", (long) b.avgNs());
        m.put("stddev_ns", (long) b.stddevNs());
        m.put("avg_ts", b.avgTs());
        m.put("stddev_ts", b.stddevTs());
        m.put("samples_ts", b.tokensPerSecond());
        return m;
    }

    private static long modelParams(Path path) throws IOException {
        try (var f = dev.gguf4j.gguf.GgufFile.openModel(path, true)) {
            return f.parameterCount();
        }
    }
}
