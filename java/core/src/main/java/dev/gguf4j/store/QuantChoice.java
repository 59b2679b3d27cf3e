package dev.gguf4j.store;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which GGUF file of a repository a REF means. A quantization asked for picks the file whose name carries it
 * (case-insensitive; {@code q4} also takes {@code Q4_K_M}, {@code Q4_0}...). Without one, as llama.cpp c392e50's
 * {@code -hf} ({@code common_get_hf_file} in common/common.cpp: "default to latest, meaning it checks for Q4_K_M first,
 * then Q4, then if not found, return the first GGUF file in repo") and Ollama's {@code hf.co/user/repo}: Q4_K_M, else
 * the first file of a Q4 quantization, else the first GGUF file. Multimodal projector files ({@code mmproj*}) are
 * never chosen (the Hub leaves them out of that answer too). A split model ({@code NAME-00001-of-00003.gguf}) counts as
 * one model of all its files.
 */
public final class QuantChoice {
    /** The quantization a REF without one gets. */
    public static final String DEFAULT = "Q4_K_M";
    /** What the default falls back to first: any quantization whose name starts with this. */
    static final String FALLBACK_PREFIX = "Q4";

    /** A quantization label in a file name: Q4_K_M, IQ4_XS, Q8_0, TQ1_0, F16, BF16, F32, MXFP4. */
    private static final Pattern LABEL = Pattern.compile(
            "(?<![A-Za-z0-9])((?:I|T)?Q[0-9]+(?:_[A-Za-z0-9]+)*|BF16|F16|F32|MXFP4)(?![A-Za-z0-9])",
            Pattern.CASE_INSENSITIVE);
    /** llama.cpp's split file names ({@code llama_split_path}). */
    private static final Pattern SPLIT = Pattern.compile("(.*)-([0-9]{5})-of-([0-9]{5})\\.gguf",
            Pattern.CASE_INSENSITIVE);

    private QuantChoice() {
    }

    /** One file of the repository as its file listing gives it. */
    record RepoFile(String path, long size, Optional<String> sha256, String gitOid) {
    }

    /** A model in the repository: one file, or a split model's files in order. */
    record Model(List<RepoFile> parts, String label) {
        String first() {
            return parts.getFirst().path();
        }

        long size() {
            return parts.stream().mapToLong(RepoFile::size).sum();
        }

        String describe() {
            return first() + (parts.size() > 1 ? " (+" + (parts.size() - 1) + " more split files)" : "");
        }
    }

    /** The model chosen and why, in words. */
    record Choice(Model model, String reason) {
    }

    /** The quantization label of a file name, upper case ({@code Q4_K_M}), or "" when it carries none. */
    public static String label(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        Matcher split = SPLIT.matcher(name);
        String stem = split.matches() ? split.group(1) : name.replaceFirst("(?i)\\.gguf$", "");
        Matcher m = LABEL.matcher(stem);
        String found = "";
        while (m.find()) {
            found = m.group(1).toUpperCase(Locale.ROOT); // the last one: "Q4_K_M" in "Qwen2-7B-Q4_K_M"
        }
        return found;
    }

    /** The repository's models: GGUF files, split parts grouped, projector files left out, in listing order. */
    static List<Model> models(List<RepoFile> files) {
        Map<String, List<RepoFile>> groups = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (RepoFile f : files) {
            String name = f.path().substring(f.path().lastIndexOf('/') + 1);
            if (!name.toLowerCase(Locale.ROOT).endsWith(".gguf") || name.toLowerCase(Locale.ROOT).startsWith("mmproj")) {
                continue;
            }
            Matcher m = SPLIT.matcher(f.path());
            String key = m.matches() ? m.group(1) + "-of-" + m.group(3) : f.path();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(f);
            counts.put(key, m.matches() ? Integer.parseInt(m.group(3)) : 1);
        }
        List<Model> out = new ArrayList<>();
        groups.forEach((key, parts) -> {
            parts.sort((a, b) -> a.path().compareTo(b.path()));
            if (parts.size() == counts.get(key) && (parts.size() == 1 || SPLIT.matcher(parts.getFirst().path())
                    .replaceFirst("$2").equals("00001"))) {
                out.add(new Model(List.copyOf(parts), label(parts.getFirst().path())));
            }
        });
        return out;
    }

    /** The model {@code ref} means in {@code files}; a {@link ModelStoreException} when there is none. */
    static Choice choose(ModelRef ref, List<RepoFile> files) {
        List<Model> models = models(files);
        if (models.isEmpty()) {
            throw new ModelStoreException(ref.repoId() + ": the repository has no GGUF model file ("
                    + files.size() + " files, none ending in .gguf but projector files), so there is nothing to run;"
                    + " look for a repository with GGUF in its name (e.g. " + ref.repoId() + "-GGUF)");
        }
        if (ref.quant().isPresent()) {
            String q = ref.quant().get();
            for (Model m : models) {
                if (m.label().equals(q)) {
                    return new Choice(m, q + " asked for");
                }
            }
            List<Model> prefixed = models.stream().filter(m -> m.label().startsWith(q + "_")
                    || (m.label().startsWith(q) && q.length() <= 3)).toList();
            if (!prefixed.isEmpty()) {
                Model m = prefixed.stream().filter(x -> x.label().equals(DEFAULT)).findFirst().orElse(prefixed.getFirst());
                return new Choice(m, q + " asked for: " + m.label() + (prefixed.size() > 1 ? " (" + (m.label()
                        .equals(DEFAULT) ? "the default" : "the first") + " of " + labels(prefixed) + ")" : ""));
            }
            throw new ModelStoreException(ref.repoId() + " has no GGUF file for " + q + "; it has: "
                    + labels(models) + " (pull " + ref.repoId() + ":QUANT with one of them)");
        }
        for (Model m : models) {
            if (m.label().equals(DEFAULT)) {
                return new Choice(m, DEFAULT + ", the default");
            }
        }
        for (Model m : models) {
            if (m.label().startsWith(FALLBACK_PREFIX)) {
                return new Choice(m, "no " + DEFAULT + " in the repository; " + m.label() + " is its first "
                        + FALLBACK_PREFIX + " file, as llama.cpp's -hf falls back");
            }
        }
        Model m = models.getFirst();
        return new Choice(m, "no " + DEFAULT + " or other " + FALLBACK_PREFIX + " file in the repository; its first GGUF"
                + " file" + (m.label().isEmpty() ? "" : " (" + m.label() + ")") + ", as llama.cpp's -hf falls back");
    }

    private static String labels(List<Model> models) {
        TreeSet<String> s = new TreeSet<>();
        for (Model m : models) {
            s.add(m.label().isEmpty() ? m.first() : m.label());
        }
        return String.join(", ", s);
    }
}
