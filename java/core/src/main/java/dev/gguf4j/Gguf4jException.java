package dev.gguf4j;

/** Base of every exception gguf4j throws on purpose: bad input, a missing backend, a native failure. */
public class Gguf4jException extends RuntimeException {
    public Gguf4jException(String message) {
        super(message);
    }

    public Gguf4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
