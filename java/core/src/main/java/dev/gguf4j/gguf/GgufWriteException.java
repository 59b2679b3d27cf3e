package dev.gguf4j.gguf;

import dev.gguf4j.Gguf4jException;

/**
 * Something handed to a {@link GgufWriter} would make a file that breaks the GGUF format or its limits, or the
 * writer was used out of order. The message names the file being written, the key or tensor at fault, the value
 * given and the limit it broke.
 */
public class GgufWriteException extends Gguf4jException {
    private final String target;
    private final String field;

    public GgufWriteException(String target, String field, String problem) {
        super(target + ": " + field + ": " + problem);
        this.target = target;
        this.field = field;
    }

    /** The file (or other destination) being written. */
    public String target() {
        return target;
    }

    /** The key, tensor or part of the file at fault. */
    public String field() {
        return field;
    }
}
