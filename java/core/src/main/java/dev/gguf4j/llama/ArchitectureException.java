package dev.gguf4j.llama;

import dev.gguf4j.gguf.GgufFormatException;
import java.util.List;

/**
 * A model this engine cannot run as its architecture says: an architecture it does not have, or one it has whose
 * file lacks a tensor the architecture requires. The message names the file, the architecture, the key or
 * tensor, and the supported architectures.
 */
public final class ArchitectureException extends GgufFormatException {
    private final String architecture;
    private final List<String> supported;

    public ArchitectureException(String source, String architecture, String field, String problem, List<String> supported) {
        super(source, field, problem + " (supported architectures: " + String.join(", ", supported) + ")");
        this.architecture = architecture;
        this.supported = List.copyOf(supported);
    }

    /** The file's {@code general.architecture}. */
    public String architecture() {
        return architecture;
    }

    /** The architectures this engine runs. */
    public List<String> supported() {
        return supported;
    }
}
