package dev.gguf4j.cli;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.types.FileType;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@code gguf4j info [MODEL] [--tensors] [--json]}. */
final class InfoCommand {
    private InfoCommand() {
    }

    static int run(List<String> args, PrintStream out) throws IOException {
        String model = null;
        boolean tensors = false;
        boolean json = false;
        for (String a : args) {
            switch (a) {
                case "--tensors" -> tensors = true;
                case "--json" -> json = true;
                default -> {
                    if (a.startsWith("-") || model != null) {
                        throw new Main.UsageException("info: unexpected argument '" + Errors.printable(a) + "'");
                    }
                    model = a;
                }
            }
        }
        Path path = BundledModel.resolve(model);
        try (GgufFile f = GgufFile.open(path)) {
            Map<String, Object> report = report(path, f, tensors);
            if (json) {
                out.println(Json.write(report));
            } else {
                printText(report, out);
            }
        }
        return 0;
    }

    static Map<String, Object> report(Path path, GgufFile f, boolean withTensors) {
        long params = f.parameterCount();
        long tensorBytes = 0;
        Map<String, Integer> perType = new TreeMap<>();
        for (GgufTensor t : f.tensors()) {
            tensorBytes += t.byteSize();
            perType.merge(t.type().toString(), 1, Integer::sum);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", path.toString());
        r.put("file_size", f.fileSize());
        r.put("gguf_version", f.version());
        r.put("alignment", f.alignment());
        r.put("tensor_count", f.tensors().size());
        r.put("metadata_count", f.metadata().size());
        WellKnownKeys wk = new WellKnownKeys(f.metadata());
        r.put("file_type", wk.fileType().map(FileType::describe).orElse("not set"));
        // files made with gguf4j quantize --search better say so (absent from llama-quantize's)
        f.metadata().findString(ModelQuantizer.SEARCH_KEY).ifPresent(v -> r.put("quantize_search", v));
        r.put("parameters", params);
        r.put("tensor_bytes", tensorBytes);
        r.put("bits_per_weight", params == 0 ? 0.0 : 8.0 * tensorBytes / params);
        r.put("well_known", wk.summary());
        Map<String, Object> md = new LinkedHashMap<>();
        f.metadata().asMap().forEach((k, v) -> md.put(k, v.summary()));
        r.put("metadata", md);
        r.put("tensors_per_type", perType);
        if (withTensors) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (GgufTensor t : f.tensors()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("name", t.name());
                e.put("type", t.type().toString());
                e.put("shape", Arrays.stream(t.shape()).boxed().toList());
                e.put("bytes", t.byteSize());
                e.put("offset", f.dataOffset() + t.offset());
                list.add(e);
            }
            r.put("tensors", list);
        }
        return r;
    }

    @SuppressWarnings("unchecked")
    private static void printText(Map<String, Object> r, PrintStream out) {
        out.printf("file:            %s%n", r.get("file"));
        out.printf("file size:       %s (%d bytes)%n", human((Long) r.get("file_size")), r.get("file_size"));
        out.printf("GGUF:            v%s, alignment %s, %s tensors, %s metadata keys%n", r.get("gguf_version"),
                r.get("alignment"), r.get("tensor_count"), r.get("metadata_count"));
        out.printf("file type:       %s%n", r.get("file_type"));
        if (r.containsKey("quantize_search")) {
            String v = String.valueOf(r.get("quantize_search"));
            out.printf("quant search:    %s (gguf4j quantize --search better%s: same format, lower error)%n", v,
                    v.contains("gptq") ? " --calibration, GPTQ" : "");
        }
        out.printf("parameters:      %s (%d)%n", count((Long) r.get("parameters")), r.get("parameters"));
        out.printf("bits per weight: %.2f%n", (Double) r.get("bits_per_weight"));
        out.println();
        ((Map<String, String>) r.get("well_known")).forEach((k, v) -> out.printf("%-40s %s%n", k, v));
        out.println();
        out.println("metadata:");
        ((Map<String, String>) r.get("metadata")).forEach((k, v) -> out.printf("  %-40s %s%n", k, v));
        out.println();
        out.print("tensors per type:");
        ((Map<String, Integer>) r.get("tensors_per_type")).forEach((k, v) -> out.print(" " + k + " " + v));
        out.println();
        List<Map<String, Object>> tensors = (List<Map<String, Object>>) r.get("tensors");
        if (tensors != null) {
            out.println();
            out.printf("%-32s %-8s %-24s %12s %12s%n", "name", "type", "shape", "bytes", "offset");
            for (Map<String, Object> t : tensors) {
                out.printf("%-32s %-8s %-24s %12d %12d%n", t.get("name"), t.get("type"), t.get("shape"), t.get("bytes"),
                        t.get("offset"));
            }
        }
    }

    static String human(long bytes) {
        return dev.gguf4j.store.ModelStore.human(bytes);
    }

    static String count(long n) {
        if (n >= 1_000_000_000L) {
            return String.format("%.2f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format("%.2f M", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format("%.2f K", n / 1e3);
        }
        return Long.toString(n);
    }

}
