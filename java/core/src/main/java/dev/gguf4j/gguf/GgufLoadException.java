package dev.gguf4j.gguf;

import dev.gguf4j.Gguf4jException;

/**
 * A GGUF file could not be read into memory ({@link GgufFile#load}): not enough memory for it, or the read
 * failed part-way. The message names the file, the bytes needed or the offset reached, and the cause.
 */
public class GgufLoadException extends Gguf4jException {
    public GgufLoadException(String message, Throwable cause) {
        super(message, cause);
    }

    public GgufLoadException(String message) {
        super(message);
    }
}
