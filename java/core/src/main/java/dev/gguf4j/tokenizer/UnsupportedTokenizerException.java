package dev.gguf4j.tokenizer;

import dev.gguf4j.Gguf4jException;
import java.util.List;

/**
 * The GGUF names a tokenizer model ({@code tokenizer.ggml.model}) or pre-tokenizer ({@code tokenizer.ggml.pre})
 * that this library does not implement. The message names the key, the value and the supported values.
 */
public class UnsupportedTokenizerException extends Gguf4jException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String value;
    private final String[] supported;

    public UnsupportedTokenizerException(String key, String value, List<String> supported) {
        super(key + " = \"" + value + "\" is not supported; supported: " + String.join(", ", supported));
        this.key = key;
        this.value = value;
        this.supported = supported.toArray(new String[0]);
    }

    /** The metadata key, e.g. {@code tokenizer.ggml.pre}. */
    public String key() {
        return key;
    }

    /** The value found. */
    public String value() {
        return value;
    }

    /** The values that are supported for this key. */
    public List<String> supported() {
        return List.of(supported);
    }
}
