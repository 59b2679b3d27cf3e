package dev.gguf4j.types;

import dev.gguf4j.Gguf4jException;

/** A ggml type that is recognised but not supported (yet) for the operation asked for. */
public class UnsupportedTypeException extends Gguf4jException {
    private final GgmlType type;

    public UnsupportedTypeException(GgmlType type, String operation) {
        super(type + " (" + type.ggmlName() + "): " + operation + " is not supported yet");
        this.type = type;
    }

    public GgmlType type() {
        return type;
    }
}
