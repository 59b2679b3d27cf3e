package dev.gguf4j.llama;

import java.util.Locale;

/**
 * How an input's token vectors become one embedding, as llama.cpp's {@code llama_pooling_type} (c392e50,
 * {@code append_pooling} in src/llama.cpp): the GGUF's {@code <arch>.pooling_type} value is the ordinal.
 */
public enum Pooling {
    /** No pooling: one vector per token. */
    NONE,
    /** The mean of the input's token vectors. */
    MEAN,
    /** The first token's vector ([CLS] for BERT-family encoders). */
    CLS,
    /** The last token's vector. */
    LAST;

    /** The lower-case name, as llama-embedding's {@code --pooling} takes it. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code none}, {@code mean}, {@code cls} or {@code last}; an IllegalArgumentException naming them otherwise. */
    public static Pooling parse(String s) {
        for (Pooling p : values()) {
            if (p.id().equals(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("pooling '" + s + "' is not one of none, mean, cls, last");
    }

    /** The pooling a GGUF {@code pooling_type} value means (0 none, 1 mean, 2 cls, 3 last; 4 rank is not supported). */
    public static Pooling ofGguf(String source, String key, long v) {
        if (v < 0 || v >= values().length) {
            throw new dev.gguf4j.gguf.GgufFormatException(source, key, v + " is not a supported pooling type (0 none,"
                    + " 1 mean, 2 cls, 3 last; 4 rank is not supported yet)");
        }
        return values()[(int) v];
    }
}
