package dev.gguf4j.chat;

/** A Python-level error raised while rendering; becomes a {@link ChatTemplateException}. */
final class PyError extends RuntimeException {
    final String type;

    PyError(String type, String message) {
        super(message, null, false, false);
        this.type = type;
    }

    static PyError type(String message) {
        return new PyError("TypeError", message);
    }

    static PyError undefined(String message) {
        return new PyError("UndefinedError", message);
    }
}
