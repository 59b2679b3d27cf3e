package dev.gguf4j.internal;

import dev.gguf4j.Gguf4jException;

/** A native library that could not be found, loaded or accepted; the message lists every path tried. */
public class NativeLibraryException extends Gguf4jException {
    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
