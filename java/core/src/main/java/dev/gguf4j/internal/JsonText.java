package dev.gguf4j.internal;

/**
 * A JSON string literal, the one definition every JSON writer here uses (OpenAI-shaped results, the CLI's
 * {@code --json}, chat templates' {@code tojson}): Python's {@code json.dumps(..., ensure_ascii=False)} escaping,
 * which transformers' {@code tojson} uses: {@code " \ \n \r \t \b \f} by name, other controls below U+0020 as
 * {@code \}{@code u00XX}, everything else as it is.
 */
public final class JsonText {
    private JsonText() {
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Appends {@code s} as a JSON string literal. */
    public static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }

    /** {@code s} as a JSON string literal. */
    public static String quote(String s) {
        return quote(new StringBuilder(s.length() + 2), s).toString();
    }
}
