package dev.gguf4j.tokenizer;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The vocabulary of a tokenizer: each token's text ({@code tokenizer.ggml.tokens}), score ({@code scores}) and
 * attributes (llama.cpp's {@code llama_token_attr} bits, from {@code token_type}), and lookup by text. The
 * attributes are the one mutable part: llama.cpp corrects some of them while it finds the special tokens
 * ({@link SpecialTokens}) and by model ({@link ModelQuirks}), all before the tokenizer is used.
 */
final class Vocabulary {
    // llama.cpp's llama_token_attr bits
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 1 << 1;
    static final int ATTR_NORMAL = 1 << 2;
    static final int ATTR_CONTROL = 1 << 3;
    static final int ATTR_USER_DEFINED = 1 << 4;
    static final int ATTR_BYTE = 1 << 5;
    static final int ATTR_LSTRIP = 1 << 7;
    static final int ATTR_RSTRIP = 1 << 8;
    /** Control and unknown tokens: printed only on request, matched in text only on request. */
    static final int ATTR_SPECIAL = ATTR_UNKNOWN | ATTR_CONTROL;

    private final String[] texts;
    private final byte[][] utf8;
    private final float[] scores;
    private final int[] attrs;
    private final Map<String, Integer> idByText;

    private Vocabulary(String[] texts, float[] scores, int[] attrs, Map<String, Integer> idByText) {
        this.texts = texts;
        this.scores = scores;
        this.attrs = attrs;
        this.idByText = idByText;
        this.utf8 = new byte[texts.length][];
        for (int i = 0; i < texts.length; i++) {
            utf8[i] = texts[i].getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Reads {@code tokenizer.ggml.tokens}, {@code scores} and {@code token_type}; an empty text reads as llama.cpp's. */
    static Vocabulary fromMetadata(GgufMetadata md, String source) {
        String prefix = Tokenizer.KEY_PREFIX;
        String[] tokens = md.getStringArray(prefix + "tokens");
        int n = tokens.length;
        float[] sc = new float[n];
        md.findArray(prefix + "scores").ifPresent(a -> {
            if (!(a.values() instanceof float[] f) || f.length < n) {
                throw new GgufFormatException(source, prefix + "scores",
                        "expected " + n + " FLOAT32 values, found " + a.length() + " " + a.elementType());
            }
            System.arraycopy(f, 0, sc, 0, n);
        });
        long[] types = md.findArray(prefix + "token_type").map(a -> {
            if (!(a.values() instanceof long[] l) || l.length < n) {
                throw new GgufFormatException(source, prefix + "token_type",
                        "expected " + n + " integer values, found " + a.length() + " " + a.elementType());
            }
            return l;
        }).orElse(null);
        String[] texts = new String[n];
        int[] attrs = new int[n];
        Map<String, Integer> idByText = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String t = tokens[i].isEmpty() ? "[EMPTY_" + i + "]" : tokens[i];
            texts[i] = t;
            idByText.put(t, i);
            attrs[i] = types == null ? ATTR_NORMAL : attrOf(types[i]);
        }
        return new Vocabulary(texts, sc, attrs, idByText);
    }

    private static int attrOf(long type) {
        return switch (TokenType.fromCode(type)) {
            case NORMAL -> ATTR_NORMAL;
            case UNKNOWN -> ATTR_UNKNOWN;
            case CONTROL -> ATTR_CONTROL;
            case USER_DEFINED -> ATTR_USER_DEFINED;
            case UNUSED -> ATTR_UNUSED;
            case BYTE -> ATTR_BYTE;
            case UNDEFINED -> 0;
        };
    }

    int size() {
        return texts.length;
    }

    /** {@code id}, if it is a token of the vocabulary. */
    int checkId(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + texts.length + ")");
        }
        return id;
    }

    String text(int id) {
        return texts[id];
    }

    /** The token's text in UTF-8 (shared: not to be modified). */
    byte[] utf8(int id) {
        return utf8[id];
    }

    float score(int id) {
        return scores[id];
    }

    /** The scores (shared: not to be modified). */
    float[] scores() {
        return scores;
    }

    /** The texts (shared: not to be modified). */
    String[] texts() {
        return texts;
    }

    int attrs(int id) {
        return attrs[id];
    }

    boolean has(int id, int attr) {
        return (attrs[id] & attr) != 0;
    }

    /** The id of the token with exactly this text, or null. */
    Integer find(String text) {
        return idByText.get(text);
    }

    /** Lookup by text (shared: not to be modified). */
    Map<String, Integer> idByText() {
        return idByText;
    }

    /** The token's type (after llama.cpp's corrections). */
    TokenType type(int id) {
        int a = attrs[id];
        if ((a & ATTR_CONTROL) != 0) {
            return TokenType.CONTROL;
        } else if ((a & ATTR_USER_DEFINED) != 0) {
            return TokenType.USER_DEFINED;
        } else if ((a & ATTR_UNKNOWN) != 0) {
            return TokenType.UNKNOWN;
        } else if ((a & ATTR_BYTE) != 0) {
            return TokenType.BYTE;
        } else if ((a & ATTR_UNUSED) != 0) {
            return TokenType.UNUSED;
        } else if ((a & ATTR_NORMAL) != 0) {
            return TokenType.NORMAL;
        }
        return TokenType.UNDEFINED;
    }

    /** llama.cpp's correction of a special token found by text: its attributes become CONTROL, unless they have it. */
    void forceControl(int id) {
        if ((attrs[id] & ATTR_CONTROL) == 0) {
            attrs[id] = ATTR_CONTROL;
        }
    }

    /** Sets or clears {@code attr} on the token with this text, if there is one. */
    void setAttr(String text, int attr, boolean on) {
        Integer id = idByText.get(text);
        if (id != null) {
            setAttr(id, attr, on);
        }
    }

    void setAttr(int id, int attr, boolean on) {
        attrs[id] = on ? attrs[id] | attr : attrs[id] & ~attr;
    }

    /** UTF-8 text to id, for the SPM and WPM encoders (which look tokens up by bytes). */
    Map<String, Integer> idByUtf8() {
        Map<String, Integer> byUtf8 = new HashMap<>(texts.length * 2);
        for (int i = 0; i < texts.length; i++) {
            byUtf8.put(Utf8.key(utf8[i]), i);
        }
        return byUtf8;
    }
}
