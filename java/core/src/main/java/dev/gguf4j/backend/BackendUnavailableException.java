package dev.gguf4j.backend;

import dev.gguf4j.Gguf4jException;

/** A backend that was asked for but cannot run here; the message says why. */
public class BackendUnavailableException extends Gguf4jException {
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
