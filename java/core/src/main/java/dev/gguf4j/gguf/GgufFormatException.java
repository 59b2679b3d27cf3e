package dev.gguf4j.gguf;

import dev.gguf4j.Gguf4jException;

/**
 * A GGUF file that breaks the format or its limits. The message names the file, the field or tensor, the
 * value found and the limit it broke.
 */
public class GgufFormatException extends Gguf4jException {
    private final String source;
    private final String field;

    public GgufFormatException(String source, String field, String problem) {
        super(source + ": " + field + ": " + problem);
        this.source = source;
        this.field = field;
    }

    /** The file (or other source) that was read. */
    public String source() {
        return source;
    }

    /** The field, key or tensor at fault. */
    public String field() {
        return field;
    }
}
