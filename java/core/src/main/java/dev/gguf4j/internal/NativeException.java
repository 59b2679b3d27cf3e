package dev.gguf4j.internal;

import dev.gguf4j.Gguf4jException;

/** A native call that returned a failure status; the message is the library's {@code g4j_last_error()}. */
public class NativeException extends Gguf4jException {
    private final int status;

    public NativeException(String function, int status, String statusName, String message) {
        super(function + " failed (" + statusName + "): " + message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
