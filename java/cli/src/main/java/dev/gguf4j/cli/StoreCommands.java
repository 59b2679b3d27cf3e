package dev.gguf4j.cli;

import dev.gguf4j.chat.ChatTemplate;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.store.ModelStore;
import dev.gguf4j.store.ModelStoreException;
import dev.gguf4j.store.StoredModel;
import dev.gguf4j.types.FileType;
import java.io.IOException;
import java.io.PrintStream;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** {@code gguf4j pull | list | show | rm}: the local model store ({@link ModelStore}). */
final class StoreCommands {
    static final String PULL_USAGE = """
            usage: gguf4j pull USER/REPO[:QUANT] [--offline]
              downloads a GGUF model from a Hugging Face repository into the store (hf.co/USER/REPO[:QUANT] too):
              the file whose name carries QUANT (case-insensitive; default Q4_K_M, else the first Q4 file, else the
              first GGUF file, as llama.cpp's -hf), every part of a split model, resumable, checked against the
              SHA-256 the Hub lists. Environment: GGUF4J_MODELS (the store, default ~/.cache/gguf4j/models),
              HF_TOKEN (gated or private repositories), HF_ENDPOINT (a mirror), HF_HUB_OFFLINE=1 (never download)
            """;

    /** The environment the store reads (tests set their own). */
    static volatile Map<String, String> environment = System.getenv();

    private StoreCommands() {
    }

    /** The store of {@link #environment}: offline if asked, with its log and progress on {@code err}. */
    static ModelStore store(boolean offline, PrintStream err) {
        ModelStore s = ModelStore.fromEnvironment(environment);
        ProgressBar bar = new ProgressBar(err, ProgressBar.stderrIsTerminal(err));
        return s.withOffline(offline || s.offline()).withLog(m -> bar.message("gguf4j: " + m)).withProgress(bar);
    }

    static int pull(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("pull", argv);
        List<String> refs = new ArrayList<>();
        boolean offline = false;
        while (a.hasNext()) {
            String o = a.next();
            switch (o) {
                case "--offline" -> offline = true;
                case "-h", "--help" -> {
                    out.print(PULL_USAGE);
                    return 0;
                }
                default -> {
                    if (o.startsWith("-")) {
                        throw a.unknown(o);
                    }
                    refs.add(o);
                }
            }
        }
        if (refs.isEmpty()) {
            throw new Main.UsageException("pull: name a model: gguf4j pull USER/REPO[:QUANT]");
        }
        ModelStore store = store(offline, err);
        for (String ref : refs) {
            StoredModel m = store.pull(ref);
            out.println(m.ref() + " " + m.path());
        }
        return 0;
    }

    static int list(List<String> argv, PrintStream out) throws IOException {
        if (!argv.isEmpty()) {
            throw new Main.UsageException("list: unexpected argument '" + Errors.printable(argv.getFirst()) + "'");
        }
        ModelStore store = ModelStore.fromEnvironment(environment);
        List<StoredModel> models = store.list();
        if (models.isEmpty()) {
            out.println("no models in " + store.root() + " (gguf4j pull USER/REPO[:QUANT] adds one)");
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "QUANTIZATION", "PARAMETERS", "SIZE", "MODIFIED"});
        DateTimeFormatter when = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT)
                .withZone(ZoneId.systemDefault());
        for (StoredModel m : models) {
            rows.add(new String[] {m.ref().toString(), quantization(m), InfoCommand.count(m.parameters()),
                    InfoCommand.human(m.size()), when.format(m.pulledAt())});
        }
        int[] w = new int[5];
        for (String[] r : rows) {
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            out.printf(Locale.ROOT, "%-" + w[0] + "s  %-" + w[1] + "s  %" + w[2] + "s  %" + w[3] + "s  %s%n",
                    (Object[]) r);
        }
        return 0;
    }

    /** The file type's name as {@code info} gives it, or the name's label when the file sets none. */
    static String quantization(StoredModel m) {
        return m.fileType() >= 0 ? FileType.describe(m.fileType())
                : m.quantization().isEmpty() ? "not set" : m.quantization();
    }

    static int show(List<String> argv, PrintStream out) throws IOException {
        if (argv.size() != 1 || argv.getFirst().startsWith("-")) {
            throw new Main.UsageException("show: usage: gguf4j show USER/REPO[:QUANT] (a model in the store)");
        }
        ModelStore store = ModelStore.fromEnvironment(environment);
        StoredModel m = stored(store, argv.getFirst());
        try (GgufFile f = GgufFile.open(m.path())) {
            var md = f.metadata();
            String arch = md.findString(WellKnownKeys.ARCHITECTURE).orElse("not set");
            out.printf("name:          %s%n", m.ref());
            out.printf("file:          %s%s%n", m.path(), m.files().size() > 1 ? " (+" + (m.files().size() - 1)
                    + " more split files)" : "");
            out.printf("chosen:        %s (%s)%n", m.repoPath(), m.reason());
            out.printf("architecture:  %s%n", arch);
            out.printf("parameters:    %s (%d)%n", InfoCommand.count(m.parameters()), m.parameters());
            out.printf("context:       %s%n", md.findLong(arch + "." + WellKnownKeys.CONTEXT_LENGTH).map(String::valueOf)
                    .orElse("not set"));
            out.printf("quantization:  %s%n", quantization(m));
            out.printf("size:          %s (%d bytes)%n", InfoCommand.human(m.size()), m.size());
            out.printf("pulled:        %s%n", m.pulledAt());
            out.printf("license:       %s%n", md.get("general.license").map(GgufValue::summary).orElse("not set"));
            Optional<String> template = md.findString(ChatTemplate.METADATA_KEY);
            if (template.isEmpty()) {
                out.println("chat template: none");
            } else {
                List<String> lines = template.get().lines().toList();
                out.printf("chat template: %d lines%s%n", lines.size(), lines.size() > 8 ? ", the first 8:" : ":");
                lines.stream().limit(8).forEach(l -> out.println("    " + l));
            }
            out.println("general:");
            md.asMap().forEach((k, v) -> {
                if (k.startsWith("general.")) {
                    out.printf("  %-38s %s%n", k, v.summary());
                }
            });
        }
        return 0;
    }

    static int rm(List<String> argv, PrintStream out) throws IOException {
        if (argv.isEmpty() || argv.stream().anyMatch(s -> s.startsWith("-"))) {
            throw new Main.UsageException("rm: usage: gguf4j rm USER/REPO[:QUANT]... (without :QUANT, every"
                    + " quantization of the repository)");
        }
        ModelStore store = ModelStore.fromEnvironment(environment);
        for (String ref : argv) {
            List<StoredModel> gone = store.remove(ref);
            if (gone.isEmpty()) {
                throw new ModelStoreException(dev.gguf4j.store.ModelRef.parse(ref) + " is not in the store ("
                        + store.root() + "): nothing removed; gguf4j list shows what is there");
            }
            for (StoredModel m : gone) {
                out.println("removed " + m.ref() + " (" + m.repoPath() + ")");
            }
        }
        return 0;
    }

    private static StoredModel stored(ModelStore store, String ref) throws IOException {
        return store.find(ref).orElseThrow(() -> notStored(store, ref));
    }

    private static ModelStoreException notStored(ModelStore store, String ref) {
        return new ModelStoreException(dev.gguf4j.store.ModelRef.parse(ref) + " is not in the store (" + store.root()
                + "); gguf4j list shows what is, gguf4j pull " + ref + " adds it");
    }
}
