package dev.gguf4j.cli;

import dev.gguf4j.internal.JsonText;
import java.util.List;
import java.util.Map;

/** A minimal JSON writer for the CLI's --json output (maps, lists, strings, numbers, booleans, null). */
final class Json {
    private Json() {
    }

    static String write(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int indent) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> JsonText.quote(sb, s);
            case Boolean b -> sb.append(b);
            case Float f -> sb.append(Float.isFinite(f) ? f.toString() : "null");
            case Double d -> sb.append(Double.isFinite(d) ? d.toString() : "null");
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                sb.append('{');
                int i = 0;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    sb.append(i++ == 0 ? "\n" : ",\n").append("  ".repeat(indent + 1));
                    JsonText.quote(sb, String.valueOf(e.getKey()));
                    sb.append(": ");
                    write(sb, e.getValue(), indent + 1);
                }
                sb.append(m.isEmpty() ? "}" : "\n" + "  ".repeat(indent) + "}");
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    sb.append(i == 0 ? "" : ", ");
                    write(sb, l.get(i), indent + 1);
                }
                sb.append(']');
            }
            default -> JsonText.quote(sb, v.toString());
        }
    }
}
