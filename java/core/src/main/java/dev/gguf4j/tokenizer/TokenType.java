package dev.gguf4j.tokenizer;

/**
 * A token's type, as stored in {@code tokenizer.ggml.token_type} (llama.cpp's {@code llama_token_type}), after
 * llama.cpp's load-time corrections (end-of-turn-like tokens such as {@code <|im_end|>} become {@link #CONTROL}).
 */
public enum TokenType {
    /** Code 0, or any code this library does not know: treated like llama.cpp's UNDEFINED attribute. */
    UNDEFINED(0),
    NORMAL(1),
    UNKNOWN(2),
    CONTROL(3),
    USER_DEFINED(4),
    UNUSED(5),
    BYTE(6);

    private final int code;

    TokenType(int code) {
        this.code = code;
    }

    /** The GGUF code. */
    public int code() {
        return code;
    }

    /** The type for a GGUF code; unknown codes map to {@link #UNDEFINED}, as in llama.cpp. */
    public static TokenType fromCode(long code) {
        return switch ((int) Math.max(Math.min(code, 7), -1)) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> UNDEFINED;
        };
    }
}
