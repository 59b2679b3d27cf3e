package dev.gguf4j.cli;

import dev.gguf4j.llama.EmbeddingParams;
import dev.gguf4j.llama.Embeddings;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.Pooling;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code gguf4j embed}: embeddings printed as llama.cpp c392e50's llama-embedding prints them (the same flags where
 * it has them: {@code --pooling}, {@code --embd-normalize}, {@code --embd-output-format}, {@code --embd-separator}).
 */
final class EmbedCommand {
    static final String USAGE = """
            usage: gguf4j embed [-m MODEL | -hf USER/REPO[:QUANT] [--offline]] (-p TEXT | -f FILE) [options]
              -p TEXT                  the inputs, one per line (split at --embd-separator)
              -f FILE                  the inputs from a file, one per line (a final newline ends the last line)
              --pooling P              none, mean, cls or last (default: the model's pooling_type; mean when the
                                       GGUF has none, as for decoder models)
              --embd-normalize N       -1 none, 0 max absolute (int16 range), 1 taxicab, 2 euclidean (default), >2 p-norm
              --embd-output-format F   default: llama-embedding's text; array: [[...],...]; json: OpenAI-shaped
                                       {"object": "list", "data": [...]}; json+: json plus the cosine similarities
              --embd-separator S       the separator between inputs (default: a newline)
              --truncate               cut inputs longer than the context to it (default: fail, naming the input)
              -c N                     context length: the most tokens per input (default: the model's, at most 4096)
              -b N                     tokens per forward pass (default 2048; several inputs run together)
              -t N                     threads (default: the physical cores)
              --no-mmap, --mlock       as for run
            """;

    private EmbedCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        if (argv.contains("--help") || argv.contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Args a = new Args("embed", argv);
        ModelFlag model = new ModelFlag("embed");
        String prompt = null;
        String file = null;
        String format = "";
        String separator = "\n";
        Pooling pooling = null;
        int normalize = 2;
        boolean truncate = false;
        int ctx = 0;
        int batch = 2048;
        LoadFlags load = new LoadFlags();
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a) || load.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-p", "--prompt" -> prompt = a.value(o);
                case "-f", "--file" -> file = a.value(o);
                case "--pooling" -> {
                    String v = a.value(o);
                    try {
                        pooling = Pooling.parse(v);
                    } catch (IllegalArgumentException e) {
                        throw new Main.UsageException("embed: --pooling " + Errors.printable(v) + ": expected none,"
                                + " mean, cls or last");
                    }
                }
                case "--embd-normalize" -> normalize = a.intValue(o, -1, Integer.MAX_VALUE);
                case "--embd-output-format" -> {
                    format = a.value(o);
                    if (!List.of("", "array", "json", "json+").contains(format)) {
                        throw new Main.UsageException("embed: --embd-output-format " + Errors.printable(format)
                                + ": expected array, json or json+ (or nothing: text)");
                    }
                }
                case "--embd-separator" -> {
                    separator = a.value(o);
                    if (separator.isEmpty()) {
                        throw new Main.UsageException("embed: --embd-separator must not be empty");
                    }
                }
                case "--truncate" -> truncate = true;
                case "-c", "--ctx-size" -> ctx = a.intValue(o, 0, Integer.MAX_VALUE);
                case "-b", "--batch-size" -> batch = a.intValue(o, 1, Integer.MAX_VALUE);
                default -> throw a.unknown(o);
            }
        }
        if ((prompt == null) == (file == null)) {
            throw new Main.UsageException("embed: give the inputs with -p TEXT or -f FILE (one of them)");
        }
        String text = prompt != null ? prompt : PathChecks.readUtf8("-f", file);
        if (file != null && text.endsWith(separator)) {
            text = text.substring(0, text.length() - separator.length());
        }
        List<String> inputs = split(text, separator);
        Path path = model.resolve(err);
        long t0 = System.nanoTime();
        try (Llama llama = Llama.load(path, load.options().withContextLength(ctx))) {
            EmbeddingParams params = EmbeddingParams.DEFAULTS.withPooling(pooling).withNormalize(normalize)
                    .withTruncate(truncate).withBatchTokens(batch);
            Embeddings e;
            long t1 = System.nanoTime();
            try {
                e = llama.embed(inputs, params);
            } catch (IllegalArgumentException x) {
                throw new dev.gguf4j.Gguf4jException(x.getMessage());
            }
            long t2 = System.nanoTime();
            double secs = (t2 - t1) / 1e9;
            int cut = (int) e.data().stream().filter(Embeddings.Embedding::truncated).count();
            err.printf(Locale.ROOT, "gguf4j: %d inputs, %d tokens, %d dimensions, pooling %s, normalize %d%s;"
                    + " embedded in %.3f s (%.2f inputs/s, %.1f tokens/s), %.2f s with loading%n", inputs.size(),
                    e.promptTokens(), e.dimension(), e.pooling().id(), normalize,
                    cut > 0 ? ", " + cut + " truncated" : "", secs, inputs.size() / secs, e.promptTokens() / secs,
                    (t2 - t0) / 1e9);
            print(e, inputs, format, normalize, out);
        }
        return 0;
    }

    /** llama.cpp's split_lines: every separator splits, the last part included (even if empty). */
    static List<String> split(String s, String sep) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int end = s.indexOf(sep); end >= 0; end = s.indexOf(sep, start)) {
            out.add(s.substring(start, end));
            start = end + sep.length();
        }
        out.add(s.substring(start));
        return out;
    }

    private static void print(Embeddings e, List<String> inputs, String format, int normalize, PrintStream out) {
        List<float[]> rows = new ArrayList<>();
        for (Embeddings.Embedding x : e.data()) {
            for (float[] v : x.vectors()) {
                rows.add(v);
            }
        }
        String num = normalize == 0 ? "%1.0f" : "%1.7f";
        if (format.isEmpty()) {
            String cell = normalize == 0 ? "%6.0f " : "%9.6f ";
            StringBuilder sb = new StringBuilder("\n");
            int n = rows.isEmpty() ? 0 : rows.get(0).length;
            for (int j = 0; j < rows.size(); j++) {
                float[] v = rows.get(j);
                sb.append("embedding ").append(j).append(": ");
                if (e.pooling() == Pooling.NONE) {
                    for (int i = 0; i < Math.min(3, n); i++) {
                        sb.append(String.format(Locale.ROOT, cell, v[i]));
                    }
                    sb.append(" ... ");
                    for (int i = Math.max(0, n - 3); i < n; i++) {
                        sb.append(String.format(Locale.ROOT, cell, v[i]));
                    }
                } else {
                    for (int i = 0; i < (inputs.size() > 1 ? Math.min(16, n) : n); i++) {
                        sb.append(String.format(Locale.ROOT, cell, v[i]));
                    }
                }
                sb.append('\n');
            }
            if (e.pooling() != Pooling.NONE && inputs.size() > 1) {
                sb.append("\ncosine similarity matrix:\n\n");
                for (String p : inputs) {
                    sb.append(String.format(Locale.ROOT, "%6.6s ", p));
                }
                sb.append('\n');
                for (int i = 0; i < rows.size(); i++) {
                    for (int j = 0; j < rows.size(); j++) {
                        sb.append(String.format(Locale.ROOT, "%6.2f ", cosine(rows.get(i), rows.get(j))));
                    }
                    sb.append(String.format(Locale.ROOT, "%1.10s", inputs.get(i))).append('\n');
                }
            }
            out.print(sb.append('\n'));
            return;
        }
        boolean object = !format.equals("array");
        StringBuilder sb = new StringBuilder(object ? "{\n  \"object\": \"list\",\n  \"data\": [\n" : "[");
        for (int j = 0; j < rows.size(); j++) {
            if (object) {
                sb.append("    {\n      \"object\": \"embedding\",\n      \"index\": ").append(j)
                        .append(",\n      \"embedding\": ");
            }
            sb.append('[');
            float[] v = rows.get(j);
            for (int i = 0; i < v.length; i++) {
                sb.append(String.format(Locale.ROOT, num, v[i]));
                if (i + 1 < v.length) {
                    sb.append(',');
                }
            }
            sb.append(object ? "]\n    }" : "]");
            if (j + 1 < rows.size()) {
                sb.append(object ? ",\n" : ",");
            }
        }
        sb.append(object ? "\n  ]" : "]\n");
        if (format.equals("json+") && inputs.size() > 1) {
            sb.append(",\n  \"cosineSimilarity\": [\n");
            for (int i = 0; i < rows.size(); i++) {
                sb.append("    [");
                for (int j = 0; j < rows.size(); j++) {
                    sb.append(String.format(Locale.ROOT, "%6.2f", cosine(rows.get(i), rows.get(j))));
                    if (j + 1 < rows.size()) {
                        sb.append(", ");
                    }
                }
                sb.append(" ]");
                if (i + 1 < rows.size()) {
                    sb.append(",\n");
                }
            }
            sb.append("\n  ]");
        }
        if (object) {
            sb.append("\n}\n");
        }
        out.print(sb);
    }

    /** common_embd_similarity_cos. */
    static float cosine(float[] a, float[] b) {
        double sum = 0;
        double sum1 = 0;
        double sum2 = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
            sum1 += a[i] * a[i];
            sum2 += b[i] * b[i];
        }
        if (sum1 == 0.0 || sum2 == 0.0) {
            return sum1 == 0.0 && sum2 == 0.0 ? 1.0f : 0.0f;
        }
        return (float) (sum / (Math.sqrt(sum1) * Math.sqrt(sum2)));
    }
}
