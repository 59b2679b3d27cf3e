package dev.gguf4j.grammar;

import dev.gguf4j.chat.ChatJson;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A small JSON Schema validator for the tests, written from the JSON Schema 2020-12 validation spec (not from the
 * converter): parses the text as JSON and checks the keywords the converter supports. Returns null when valid,
 * else what failed.
 */
final class MiniSchemaValidator {
    private final Object root;

    MiniSchemaValidator(String schemaJson) {
        this.root = ChatJson.parse(schemaJson, "schema");
    }

    /** Null if {@code json} is one JSON value valid under the schema; else the reason. */
    String validate(String json) {
        Object v;
        try {
            new Strict(json).document();
            v = ChatJson.parse(json, "output");
        } catch (RuntimeException e) {
            return "not JSON: " + e.getMessage();
        }
        return check(root, v, "#");
    }

    /** Whether {@code text} is the beginning of some JSON text (the strict parser only runs out of input). */
    static boolean isJsonPrefix(String text) {
        Strict p = new Strict(text);
        try {
            p.document();
            return true;
        } catch (IllegalArgumentException e) {
            return p.i >= text.length();
        }
    }

    private static final Pattern DATE = Pattern.compile("\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])");
    private static final Pattern TIME = Pattern.compile(
            "([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d+)?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)");
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    @SuppressWarnings("unchecked")
    private String check(Object schema, Object v, String at) {
        if (schema instanceof Boolean b) {
            return b ? null : at + ": false schema";
        }
        Map<String, Object> s = (Map<String, Object>) schema;
        if (s.containsKey("$ref")) {
            Object target = root;
            String ref = (String) s.get("$ref");
            for (String part : ref.substring(1).split("/")) {
                if (!part.isEmpty()) {
                    target = ((Map<String, Object>) target).get(part.replace("~1", "/").replace("~0", "~"));
                }
            }
            String r = check(target, v, at);
            if (r != null) {
                return r;
            }
        }
        if (s.containsKey("type")) {
            Object t = s.get("type");
            List<Object> types = t instanceof List<?> l ? (List<Object>) l : List.of(t);
            if (types.stream().noneMatch(x -> hasType(v, (String) x))) {
                return at + ": " + describe(v) + " is not of type " + t;
            }
        }
        if (s.containsKey("const") && !jsonEquals(s.get("const"), v)) {
            return at + ": not the const";
        }
        if (s.containsKey("enum") && ((List<Object>) s.get("enum")).stream().noneMatch(e -> jsonEquals(e, v))) {
            return at + ": not in the enum";
        }
        for (String k : List.of("anyOf", "oneOf")) {
            if (s.containsKey(k)) {
                long ok = ((List<Object>) s.get(k)).stream().filter(a -> check(a, v, at) == null).count();
                if (ok == 0 || (k.equals("oneOf") && ok > 1)) {
                    return at + ": " + ok + " alternatives of " + k + " match";
                }
            }
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> props = (Map<String, Object>) s.getOrDefault("properties", Map.of());
            for (Object r : (List<Object>) s.getOrDefault("required", List.of())) {
                if (!m.containsKey(r)) {
                    return at + ": required property " + r + " missing";
                }
            }
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String key = (String) e.getKey();
                Object sub = props.get(key);
                if (sub == null) {
                    Object add = s.get("additionalProperties");
                    sub = add == null ? Boolean.TRUE : add;
                }
                String r = check(sub, e.getValue(), at + "/" + key);
                if (r != null) {
                    return r;
                }
            }
        }
        if (v instanceof List<?> l) {
            if (s.containsKey("minItems") && l.size() < ((Number) s.get("minItems")).longValue()) {
                return at + ": fewer than minItems";
            }
            if (s.containsKey("maxItems") && l.size() > ((Number) s.get("maxItems")).longValue()) {
                return at + ": more than maxItems";
            }
            Object items = s.get("items");
            List<Object> prefix = s.get("prefixItems") instanceof List<?> p ? (List<Object>) p
                    : items instanceof List<?> p2 ? (List<Object>) p2 : List.of();
            Object rest = items == null || items instanceof List<?> ? Boolean.TRUE : items;
            for (int i = 0; i < l.size(); i++) {
                Object sub = i < prefix.size() ? prefix.get(i) : rest;
                String r = check(sub, l.get(i), at + "/" + i);
                if (r != null) {
                    return r;
                }
            }
        }
        if (v instanceof String str) {
            int n = str.codePointCount(0, str.length());
            if (s.containsKey("minLength") && n < ((Number) s.get("minLength")).longValue()) {
                return at + ": shorter than minLength";
            }
            if (s.containsKey("maxLength") && n > ((Number) s.get("maxLength")).longValue()) {
                return at + ": longer than maxLength";
            }
            Object f = s.get("format");
            if (f != null) {
                boolean ok = switch ((String) f) {
                    case "date" -> DATE.matcher(str).matches();
                    case "time" -> TIME.matcher(str).matches();
                    case "date-time" -> str.contains("T") && DATE.matcher(str.substring(0, str.indexOf('T'))).matches()
                            && TIME.matcher(str.substring(str.indexOf('T') + 1)).matches();
                    case "uuid" -> UUID.matcher(str).matches();
                    default -> true;
                };
                if (!ok) {
                    return at + ": not a " + f + ": " + str;
                }
            }
        }
        return null;
    }

    private static boolean hasType(Object v, String t) {
        return switch (t) {
            case "object" -> v instanceof Map;
            case "array" -> v instanceof List;
            case "string" -> v instanceof String;
            case "integer" -> v instanceof Long || (v instanceof Double d && d == Math.rint(d));
            case "number" -> v instanceof Long || v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "null" -> v == null;
            default -> false;
        };
    }

    private static boolean jsonEquals(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return x.doubleValue() == y.doubleValue();
        }
        return Objects.equals(a, b);
    }

    private static String describe(Object v) {
        return v == null ? "null" : v.getClass().getSimpleName() + " " + v;
    }

    /** RFC 8259's grammar, strictly (ChatJson is lenient about e.g. leading zeros). */
    private static final class Strict {
        private final String s;
        int i;

        Strict(String s) {
            this.s = s;
        }

        void document() {
            ws();
            value();
            ws();
            if (i != s.length()) {
                throw err();
            }
        }

        private IllegalArgumentException err() {
            return new IllegalArgumentException("invalid JSON at offset " + i + " of " + s);
        }

        private void ws() {
            while (i < s.length() && " \t\n\r".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
        }

        private boolean eat(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void value() {
            if (i >= s.length()) {
                throw err();
            }
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                ws();
                if (!eat('}')) {
                    do {
                        ws();
                        string();
                        ws();
                        if (!eat(':')) {
                            throw err();
                        }
                        ws();
                        value();
                        ws();
                    } while (eat(','));
                    if (!eat('}')) {
                        throw err();
                    }
                }
            } else if (c == '[') {
                i++;
                ws();
                if (!eat(']')) {
                    do {
                        ws();
                        value();
                        ws();
                    } while (eat(','));
                    if (!eat(']')) {
                        throw err();
                    }
                }
            } else if (c == '"') {
                string();
            } else if (s.startsWith("true", i) || s.startsWith("null", i)) {
                i += 4;
            } else if (s.startsWith("false", i)) {
                i += 5;
            } else {
                number();
            }
        }

        private void string() {
            if (!eat('"')) {
                throw err();
            }
            while (true) {
                if (i >= s.length() || s.charAt(i) < 0x20) {
                    throw err();
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return;
                }
                if (c == '\\') {
                    char e = i < s.length() ? s.charAt(i++) : 0;
                    if (e == 'u') {
                        for (int k = 0; k < 4; k++) {
                            if (i >= s.length() || Character.digit(s.charAt(i++), 16) < 0) {
                                throw err();
                            }
                        }
                    } else if ("\"\\/bfnrt".indexOf(e) < 0) {
                        throw err();
                    }
                }
            }
        }

        private void number() {
            eat('-');
            if (eat('0')) {
                // no more integer digits
            } else if (i < s.length() && s.charAt(i) >= '1' && s.charAt(i) <= '9') {
                digits();
            } else {
                throw err();
            }
            if (eat('.')) {
                if (!digits()) {
                    throw err();
                }
            }
            if (eat('e') || eat('E')) {
                if (!eat('+')) {
                    eat('-');
                }
                if (!digits()) {
                    throw err();
                }
            }
        }

        private boolean digits() {
            int start = i;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            return i > start;
        }
    }
}
