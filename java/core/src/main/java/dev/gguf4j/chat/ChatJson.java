package dev.gguf4j.chat;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.internal.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as the chat templates see it: {@link #parse} reads objects into ordered {@link Map}s, arrays into
 * {@link List}s, integers into {@link Long}, other numbers into {@link Double}; {@link #dumps} writes what Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...)} writes (transformers' tojson).
 */
public final class ChatJson {
    private ChatJson() {
    }

    /** Malformed JSON: the message names the source, line and column. */
    public static final class JsonException extends Gguf4jException {
        public JsonException(String message) {
            super(message);
        }
    }

    /** Parses one JSON value; {@code source} names the input in error messages (e.g. the file name). */
    public static Object parse(String text, String source) {
        Reader r = new Reader(text, source);
        r.ws();
        Object v = r.value();
        r.ws();
        if (r.pos < text.length()) {
            throw r.error("unexpected " + r.describe() + " after the value");
        }
        return v;
    }

    /** A JSON value read from the middle of a text, and the index just past it. */
    record Prefix(Object value, int end) {
    }

    /**
     * Reads one JSON value starting at {@code start} (after optional whitespace) and stops where it ends, leaving any
     * text after it (as llama.cpp's tool-call parsers read JSON out of model output). Throws {@link JsonException}
     * when no complete value starts there.
     */
    static Prefix parsePrefix(String text, int start) {
        Reader r = new Reader(text, "model output");
        r.pos = start;
        r.ws();
        Object v = r.value();
        return new Prefix(v, r.pos);
    }

    /** Compact JSON ({@code separators=(",", ":")}): what llama.cpp's {@code json::dump()} writes. */
    static String compact(Object x) {
        return dumps(x, null, List.of(",", ":"), false);
    }

    private static final class Reader {
        final String s;
        final String source;
        int pos;

        Reader(String s, String source) {
            this.s = s;
            this.source = source;
        }

        JsonException error(String msg) {
            int line = 1;
            int col = 1;
            for (int i = 0; i < pos && i < s.length(); i++) {
                if (s.charAt(i) == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return new JsonException(source + ": malformed JSON at line " + line + ", column " + col + ": " + msg);
        }

        String describe() {
            return pos >= s.length() ? "end of input" : "'" + s.charAt(pos) + "'";
        }

        void ws() {
            while (pos < s.length() && " \t\r\n".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
        }

        Object value() {
            if (pos >= s.length()) {
                throw error("unexpected end of input, expected a value");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{' -> {
                    pos++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (peek('}')) {
                        return m;
                    }
                    while (true) {
                        ws();
                        if (pos >= s.length() || s.charAt(pos) != '"') {
                            throw error("expected a string key, found " + describe());
                        }
                        String k = string();
                        ws();
                        expect(':');
                        ws();
                        m.put(k, value());
                        ws();
                        if (peek('}')) {
                            return m;
                        }
                        expect(',');
                    }
                }
                case '[' -> {
                    pos++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (peek(']')) {
                        return l;
                    }
                    while (true) {
                        ws();
                        l.add(value());
                        ws();
                        if (peek(']')) {
                            return l;
                        }
                        expect(',');
                    }
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (s.startsWith("true", pos)) {
                        pos += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", pos)) {
                        pos += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", pos)) {
                        pos += 4;
                        return null;
                    }
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected " + describe());
                }
            }
        }

        boolean peek(char c) {
            if (pos < s.length() && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "', found " + describe());
            }
        }

        Object number() {
            int start = pos;
            boolean isFloat = false;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c >= '0' && c <= '9') {
                    pos++;
                } else if (c == '.' || c == 'e' || c == 'E' || ((c == '+' || c == '-') && isFloat)) {
                    isFloat = true;
                    pos++;
                } else {
                    break;
                }
            }
            String t = s.substring(start, pos);
            try {
                if (!isFloat) {
                    try {
                        return Long.parseLong(t);
                    } catch (NumberFormatException big) {
                        return Double.parseDouble(t);
                    }
                }
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                pos = start;
                throw error("bad number '" + t + "'");
            }
        }

        String string() {
            pos++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(pos++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    if (pos >= s.length()) {
                        throw error("unterminated string");
                    }
                    char e = s.charAt(pos++);
                    switch (e) {
                        case '"', '\\', '/' -> sb.append(e);
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            if (pos + 4 > s.length()) {
                                throw error("bad \\u escape");
                            }
                            try {
                                sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            } catch (NumberFormatException ex) {
                                throw error("bad \\u escape");
                            }
                            pos += 4;
                        }
                        default -> {
                            pos--;
                            throw error("bad escape '\\" + e + "'");
                        }
                    }
                } else if (c < 0x20) {
                    pos--;
                    throw error("control character in string");
                } else {
                    sb.append(c);
                }
            }
        }
    }

    /**
     * Python's {@code json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sortKeys)}.
     * {@code indent} is null, a number of spaces (Long) or a string; {@code separators} null or a two-item list.
     */
    static String dumps(Object x, Object indent, List<?> separators, boolean sortKeys) {
        String ind = indent == null ? null
                : indent instanceof String s ? s : " ".repeat((int) Math.max(0, Py.toLong(indent)));
        String itemSep = ind == null ? ", " : ",";
        String keySep = ": ";
        if (separators != null) {
            itemSep = Py.str(separators.get(0));
            keySep = Py.str(separators.get(1));
        }
        StringBuilder sb = new StringBuilder();
        write(sb, x, ind, itemSep, keySep, sortKeys, 0);
        return sb.toString();
    }

    private static void newline(StringBuilder sb, String ind, int level) {
        if (ind != null) {
            sb.append('\n').append(ind.repeat(level));
        }
    }

    private static void write(StringBuilder sb, Object x, String ind, String itemSep, String keySep, boolean sort,
            int level) {
        if (x == null) {
            sb.append("null");
        } else if (x instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (x instanceof Long || x instanceof Integer) {
            sb.append(x);
        } else if (x instanceof Double d) {
            sb.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
        } else if (x instanceof String s) {
            JsonText.quote(sb, s);
        } else if (x instanceof List<?> l) {
            if (l.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(itemSep);
                }
                newline(sb, ind, level + 1);
                write(sb, l.get(i), ind, itemSep, keySep, sort, level + 1);
            }
            newline(sb, ind, level);
            sb.append(']');
        } else if (x instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sort) {
                entries.sort((a, b) -> Py.compare(a.getKey(), b.getKey(), "<"));
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) {
                    sb.append(itemSep);
                }
                first = false;
                newline(sb, ind, level + 1);
                Object k = e.getKey();
                String key = k instanceof String s ? s
                        : k == null ? "null" : k instanceof Boolean b ? (b ? "true" : "false") : Py.repr(k);
                JsonText.quote(sb, key);
                sb.append(keySep);
                write(sb, e.getValue(), ind, itemSep, keySep, sort, level + 1);
            }
            newline(sb, ind, level);
            sb.append('}');
        } else {
            throw PyError.type("Object of type " + Py.typeName(x) + " is not JSON serializable");
        }
    }
}
