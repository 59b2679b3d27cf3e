package dev.gguf4j.chat;

import java.math.BigDecimal;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python value semantics for the template interpreter. Values are: {@code null} (None), {@link Boolean}, {@link Long}
 * (int), {@link Double} (float), {@link String}, {@link List} (list; {@link Tuple} for tuples), {@link Map} (dict),
 * {@link Undefined}, {@link Namespace}, {@link Generator} and {@link Callable}.
 */
final class Py {
    private Py() {
    }

    /** Jinja's Undefined: prints as "", iterates as empty, is false; anything else raises UndefinedError. */
    static class Undefined {
        final String name;
        final Object owner;
        final boolean hasOwner;

        Undefined(String name) {
            this(name, null, false);
        }

        Undefined(String name, Object owner, boolean hasOwner) {
            this.name = name;
            this.owner = owner;
            this.hasOwner = hasOwner;
        }

        static Undefined missing(Object owner, Object key) {
            return new Undefined(key instanceof String s ? s : repr(key), owner, true) {
                @Override
                String message() {
                    return key instanceof String ? repr(objectTypeRepr(owner)) + " has no attribute " + repr(key)
                            : objectTypeRepr(owner) + " has no element " + repr(key);
                }
            };
        }

        String message() {
            return repr(name) + " is undefined";
        }

        PyError error() {
            return PyError.undefined(message());
        }
    }

    static String objectTypeRepr(Object o) {
        return o == null ? "None" : typeName(o) + " object";
    }

    /** Jinja's namespace(): attributes assignable with {@code set ns.attr = value}. */
    static final class Namespace {
        final Map<String, Object> attrs = new LinkedHashMap<>();
    }

    /** What map/select/reject/unique return in Jinja: a Python generator (tojson and length refuse it). */
    static final class Generator {
        final List<Object> items;

        Generator(List<Object> items) {
            this.items = items;
        }
    }

    /** A Python tuple: a list that prints with parentheses. */
    static final class Tuple extends AbstractList<Object> {
        final List<Object> items;

        Tuple(List<Object> items) {
            this.items = items;
        }

        static Tuple of(Object... xs) {
            return new Tuple(java.util.Arrays.asList(xs)); // List.of refuses None
        }

        @Override
        public Object get(int i) {
            return items.get(i);
        }

        @Override
        public int size() {
            return items.size();
        }
    }

    @FunctionalInterface
    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    static String typeName(Object o) {
        if (o == null) {
            return "NoneType";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof Long || o instanceof Integer) {
            return "int";
        }
        if (o instanceof Double || o instanceof Float) {
            return "float";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof List) {
            return "list";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof Undefined) {
            return "Undefined";
        }
        if (o instanceof Namespace) {
            return "Namespace";
        }
        if (o instanceof Generator) {
            return "generator";
        }
        if (o instanceof Callable) {
            return "function";
        }
        return o.getClass().getSimpleName();
    }

    static boolean truthy(Object o) {
        if (o == null || o instanceof Undefined) {
            return false;
        }
        if (o instanceof Boolean b) {
            return b;
        }
        if (o instanceof Long l) {
            return l != 0;
        }
        if (o instanceof Integer i) {
            return i != 0;
        }
        if (o instanceof Double d) {
            return d != 0.0;
        }
        if (o instanceof String s) {
            return !s.isEmpty();
        }
        if (o instanceof List<?> l) {
            return !l.isEmpty();
        }
        if (o instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    static boolean isNumber(Object o) {
        return o instanceof Long || o instanceof Integer || o instanceof Double || o instanceof Boolean;
    }

    static boolean isInt(Object o) {
        return o instanceof Long || o instanceof Integer || o instanceof Boolean;
    }

    static long toLong(Object o) {
        if (o instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) o).longValue();
    }

    static double toDouble(Object o) {
        if (o instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) o).doubleValue();
    }

    /** Python's str(). */
    static String str(Object o) {
        if (o instanceof String s) {
            return s;
        }
        if (o instanceof Undefined) {
            return "";
        }
        return repr(o);
    }

    /** Python's repr(). */
    static String repr(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (o instanceof Long || o instanceof Integer) {
            return o.toString();
        }
        if (o instanceof Double d) {
            return floatRepr(d);
        }
        if (o instanceof String s) {
            return stringRepr(s);
        }
        if (o instanceof Tuple t) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(repr(t.get(i)));
            }
            return sb.append(t.size() == 1 ? ",)" : ")").toString();
        }
        if (o instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(repr(l.get(i)));
            }
            return sb.append(']').toString();
        }
        if (o instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return sb.append('}').toString();
        }
        if (o instanceof Undefined) {
            return "Undefined";
        }
        if (o instanceof Namespace n) {
            StringBuilder sb = new StringBuilder("<Namespace {");
            boolean first = true;
            for (Map.Entry<String, Object> e : n.attrs.entrySet()) {
                sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return sb.append("}>").toString();
        }
        if (o instanceof Generator) {
            return "<generator object>";
        }
        return String.valueOf(o);
    }

    static String stringRepr(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) {
                        sb.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append(q).toString();
    }

    /** Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (exp >= -4 && exp < 16) {
            if (exp < 0) {
                sb.append("0.").append("0".repeat(-exp - 1)).append(digits);
            } else if (digits.length() <= exp + 1) {
                sb.append(digits).append("0".repeat(exp + 1 - digits.length())).append(".0");
            } else {
                sb.append(digits, 0, exp + 1).append('.').append(digits.substring(exp + 1));
            }
            return sb.toString();
        }
        return sciRepr(d < 0, digits, exp);
    }

    private static String sciRepr(boolean negative, String digits, int exp) {
        StringBuilder sb = new StringBuilder(negative ? "-" : "").append(digits.charAt(0));
        if (digits.length() > 1) {
            sb.append('.').append(digits.substring(1));
        }
        sb.append('e').append(exp < 0 ? '-' : '+');
        int a = Math.abs(exp);
        return sb.append(a < 10 ? "0" : "").append(a).toString();
    }

    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
            if (isInt(a) && isInt(b)) {
                return toLong(a) == toLong(b);
            }
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof Undefined && b instanceof Undefined) {
            return true;
        }
        if (a instanceof String || b instanceof String) {
            return a.equals(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if ((a instanceof Tuple) != (b instanceof Tuple) || x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    /** Python's ordering comparison; returns negative, zero or positive. */
    static int compare(Object a, Object b, String op) {
        if (isNumber(a) && isNumber(b)) {
            if (isInt(a) && isInt(b)) {
                return Long.compare(toLong(a), toLong(b));
            }
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String x && b instanceof String y) {
            return x.compareTo(y);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return compare(x.get(i), y.get(i), op);
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        if (a instanceof Undefined u) {
            throw u.error();
        }
        if (b instanceof Undefined u) {
            throw u.error();
        }
        throw PyError.type("'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    /** Python's iter(): the items a for loop visits. */
    static List<Object> iterate(Object o) {
        if (o instanceof List<?> l) {
            @SuppressWarnings("unchecked")
            List<Object> r = (List<Object>) l;
            return r;
        }
        if (o instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (o instanceof String s) {
            List<Object> r = new ArrayList<>();
            s.codePoints().forEach(cp -> r.add(new String(Character.toChars(cp))));
            return r;
        }
        if (o instanceof Generator g) {
            return g.items;
        }
        if (o instanceof Undefined) {
            return List.of();
        }
        throw PyError.type("'" + typeName(o) + "' object is not iterable");
    }

    static boolean isIterable(Object o) {
        return o instanceof List || o instanceof Map || o instanceof String || o instanceof Generator
                || o instanceof Undefined;
    }

    static int len(Object o) {
        if (o instanceof String s) {
            return s.codePointCount(0, s.length());
        }
        if (o instanceof List<?> l) {
            return l.size();
        }
        if (o instanceof Map<?, ?> m) {
            return m.size();
        }
        if (o instanceof Undefined) {
            return 0;
        }
        throw PyError.type("object of type '" + typeName(o) + "' has no len()");
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String t)) {
                throw PyError.type("'in <string>' requires string as left operand, not " + typeName(item));
            }
            return s.contains(t);
        }
        if (container instanceof Map<?, ?> m) {
            if (item instanceof String || item == null) {
                return m.containsKey(item);
            }
            for (Object k : m.keySet()) {
                if (eq(k, item)) {
                    return true;
                }
            }
            return false;
        }
        for (Object x : iterate(container)) {
            if (eq(x, item)) {
                return true;
            }
        }
        return false;
    }

    /** Python's whitespace (str.isspace). */
    static boolean isSpace(int c) {
        return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0
                || Character.getType(c) == Character.SPACE_SEPARATOR || c == 0x2028 || c == 0x2029;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        while (left && b < e && (chars == null ? isSpace(s.charAt(b)) : chars.indexOf(s.charAt(b)) >= 0)) {
            b++;
        }
        while (right && e > b && (chars == null ? isSpace(s.charAt(e - 1)) : chars.indexOf(s.charAt(e - 1)) >= 0)) {
            e--;
        }
        return s.substring(b, e);
    }

    static Iterator<Object> none() {
        return List.<Object>of().iterator();
    }
}
