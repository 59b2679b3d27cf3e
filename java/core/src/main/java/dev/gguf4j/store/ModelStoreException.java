package dev.gguf4j.store;

import dev.gguf4j.Gguf4jException;

/**
 * A model could not be found, pulled or removed: the message is one line naming the model, the file or URL, what
 * went wrong and what to do (set HF_TOKEN, run the pull again to resume, free disk space...).
 */
public class ModelStoreException extends Gguf4jException {
    public ModelStoreException(String message) {
        super(message);
    }

    public ModelStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
