package dev.gguf4j.engine;

import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.ArchitectureException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The registry of architectures the forward pass runs: one line per architecture. */
public final class Architectures {
    private static final Map<String, Architecture> BY_NAME = new TreeMap<>();

    static {
        register(new LlamaArchitecture());
        register(new Qwen2Architecture());
        register(new Qwen2MoeArchitecture());
        register(new GemmaArchitecture());
        register(new Gemma2Architecture());
        register(new Phi3Architecture());
        register(new GraniteArchitecture());
        register(new BertArchitecture());
        register(new NomicBertArchitecture());
    }

    private Architectures() {
    }

    private static void register(Architecture a) {
        BY_NAME.put(a.name(), a);
    }

    /** The supported architecture names, sorted. */
    static List<String> names() {
        return List.copyOf(BY_NAME.keySet());
    }

    /** The architecture called {@code name}; an {@link ArchitectureException} naming the supported ones if none. */
    public static Architecture of(String source, String name) {
        Architecture a = BY_NAME.get(name);
        if (a == null) {
            throw new ArchitectureException(source, name, WellKnownKeys.ARCHITECTURE, "'" + name
                    + "' is not supported yet", names());
        }
        return a;
    }
}
