package dev.gguf4j.grammar;

import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.internal.JsonText;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * JSON Schema to GBNF, after llama.cpp's {@code common/json-schema-to-grammar.cpp} (its primitive rules, its
 * whitespace rule {@code space}, its object layout: declared properties in order, required first, then the
 * optional ones each optional in turn). Supported: {@code type} (object, array, string, number, integer, boolean,
 * null, or a list of them), {@code enum}, {@code const}, {@code properties}, {@code required},
 * {@code additionalProperties} (false unless given, as llama.cpp: it defaults to false to keep the output
 * short; {@code true} or a schema allows further keys), {@code items} (a schema, or a list as a tuple, as
 * {@code prefixItems}), {@code minItems}, {@code maxItems}, {@code minLength}, {@code maxLength}, {@code format}
 * date, time, date-time and uuid, {@code anyOf}, {@code oneOf} (as anyOf: the alternatives should not overlap),
 * {@code $ref} to {@code #/...} in the same document ({@code $defs}, {@code definitions}); a schema without
 * constraints (e.g. {@code {}}) gives any JSON object, as llama.cpp's, and {@code true} any JSON value. Annotations are ignored ({@code title}, {@code description}, {@code default},
 * {@code examples}, {@code $schema}, {@code $id}, {@code $comment}, {@code deprecated}, {@code readOnly},
 * {@code writeOnly}). Anything else is an {@link UnsupportedSchemaException} naming the path and the keyword:
 * the grammar never silently accepts output the schema would refuse.
 */
public final class JsonSchemaGrammar {
    private JsonSchemaGrammar() {
    }

    static final String SPACE_RULE = "| \" \" | \"\\n\" [ \\t]{0,20}";

    /** llama.cpp's PRIMITIVE_RULES and STRING_FORMAT_RULES: name, body, the rules it uses. */
    private record Builtin(String body, List<String> deps) {
    }

    private static final Map<String, Builtin> BUILTINS = new HashMap<>();

    static {
        b("boolean", "(\"true\" | \"false\") space");
        b("decimal-part", "[0-9]{1,16}");
        b("integral-part", "[0] | [1-9] [0-9]{0,15}");
        b("number", "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)? space",
                "integral-part", "decimal-part");
        b("integer", "(\"-\"? integral-part) space", "integral-part");
        b("value", "object | array | string | number | boolean | null",
                "object", "array", "string", "number", "boolean", "null");
        b("object", "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space",
                "string", "value");
        b("array", "\"[\" space ( value (\",\" space value)* )? \"]\" space", "value");
        b("uuid", "\"\\\"\" [0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\""
                + " [0-9a-fA-F]{12} \"\\\"\" space");
        b("char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})");
        b("string", "\"\\\"\" char* \"\\\"\" space", "char");
        b("null", "\"null\" space");
        b("date", "[0-9]{4} \"-\" ( \"0\" [1-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1] )");
        b("time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{3} )? ( \"Z\" |"
                + " ( \"+\" | \"-\" ) ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )");
        b("date-time", "date \"T\" time", "date", "time");
        b("date-string", "\"\\\"\" date \"\\\"\" space", "date");
        b("time-string", "\"\\\"\" time \"\\\"\" space", "time");
        b("date-time-string", "\"\\\"\" date-time \"\\\"\" space", "date-time");
    }

    private static void b(String name, String body, String... deps) {
        BUILTINS.put(name, new Builtin(body, List.of(deps)));
    }

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    private static final Set<String> HANDLED = Set.of("type", "enum", "const", "properties", "required",
            "additionalProperties", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength",
            "format", "anyOf", "oneOf", "$ref", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean",
            "null");

    /** The GBNF grammar (start rule {@code root}) of the JSON values {@code schemaJson} accepts. */
    public static String toGbnf(String schemaJson) {
        Object schema;
        try {
            schema = ChatJson.parse(schemaJson, "JSON schema");
        } catch (ChatJson.JsonException e) {
            throw new GrammarException(e.getMessage());
        }
        return new Converter(schema).convert();
    }

    /** {@link #toGbnf(String)} for a schema already parsed, as {@code ChatJson.parse} gives it. */
    public static String toGbnf(Object schema) {
        return new Converter(schema).convert();
    }

    private static final class Converter {
        private final Object rootSchema;
        private final Map<String, String> rules = new TreeMap<>();
        private final Map<String, String> refRules = new HashMap<>();

        Converter(Object rootSchema) {
            this.rootSchema = rootSchema;
            rules.put("space", SPACE_RULE);
        }

        String convert() {
            String body = body(rootSchema, "root", "#");
            rules.put("root", body);
            StringBuilder sb = new StringBuilder();
            sb.append("root ::= ").append(rules.get("root")).append('\n');
            rules.forEach((k, v) -> {
                if (!k.equals("root")) {
                    sb.append(k).append(" ::= ").append(v).append('\n');
                }
            });
            return sb.toString();
        }

        private static UnsupportedSchemaException unsupported(String path, String keyword, String what) {
            return new UnsupportedSchemaException(path, keyword, what);
        }

        /** A rule for {@code schema} named after {@code name}; returns the rule's name. */
        private String visit(Object schema, String name, String path) {
            String body = body(schema, name, path);
            if (body.matches("[a-zA-Z0-9-]+")) {
                return body; // a rule already
            }
            return addRule(name, body);
        }

        private String addRule(String name, String body) {
            String key = name.replaceAll("[^a-zA-Z0-9-]+", "-");
            if (key.isEmpty() || BUILTINS.containsKey(key) || key.equals("space") || key.equals("root")) {
                key = key + "-";
            }
            String existing = rules.get(key);
            if (existing != null && !existing.equals(body)) {
                int i = 0;
                while (rules.containsKey(key + i) && !rules.get(key + i).equals(body)) {
                    i++;
                }
                key = key + i;
            }
            rules.put(key, body);
            return key;
        }

        /** Reserves a fresh rule name (for a $ref target, whose body may refer to itself). */
        private String reserve(String name) {
            String key = name.replaceAll("[^a-zA-Z0-9-]+", "-");
            if (key.isEmpty() || BUILTINS.containsKey(key) || key.equals("space") || key.equals("root")) {
                key = key + "-";
            }
            String k = key;
            for (int i = 0; rules.containsKey(k); i++) {
                k = key + i;
            }
            rules.put(k, "");
            return k;
        }

        private String builtin(String name) {
            if (!rules.containsKey(name)) {
                Builtin b = BUILTINS.get(name);
                rules.put(name, b.body());
                for (String d : b.deps()) {
                    builtin(d);
                }
            }
            return name;
        }

        private static String sub(String name, String part) {
            return name.equals("root") ? part : name + "-" + part;
        }

        /** The body of a rule for {@code schema}. */
        @SuppressWarnings("unchecked")
        private String body(Object schema, String name, String path) {
            if (schema instanceof Boolean bool) {
                if (!bool) {
                    throw unsupported(path, "false", "the schema false accepts no value");
                }
                return builtin("value");
            }
            if (!(schema instanceof Map<?, ?> raw)) {
                throw unsupported(path, "schema", "a schema must be an object or a boolean, got " + describe(schema));
            }
            Map<String, Object> s = (Map<String, Object>) raw;
            for (String k : s.keySet()) {
                if (!HANDLED.contains(k) && !ANNOTATIONS.contains(k)) {
                    throw unsupported(path, k, "'" + k + "' is not supported (supported: " + String.join(", ",
                            new java.util.TreeSet<>(HANDLED)) + "; annotations are ignored)");
                }
            }
            if (s.containsKey("$ref")) {
                for (String k : s.keySet()) {
                    if (HANDLED.contains(k) && !k.equals("$ref")) {
                        throw unsupported(path, k, "'" + k + "' next to '$ref' is not supported");
                    }
                }
                return ref(s.get("$ref"), path + "/$ref");
            }
            if (s.containsKey("anyOf") || s.containsKey("oneOf")) {
                String key = s.containsKey("anyOf") ? "anyOf" : "oneOf";
                for (String k : s.keySet()) {
                    if (HANDLED.contains(k) && !k.equals(key)) {
                        throw unsupported(path, k, "'" + k + "' next to '" + key + "' is not supported (put it"
                                + " inside each alternative)");
                    }
                }
                List<Object> alts = list(s.get(key), path + "/" + key);
                if (alts.isEmpty()) {
                    throw unsupported(path + "/" + key, key, "'" + key + "' with no alternatives accepts no value");
                }
                List<String> names = new ArrayList<>();
                for (int i = 0; i < alts.size(); i++) {
                    names.add(visit(alts.get(i), sub(name, "alternative-" + i), path + "/" + key + "/" + i));
                }
                return String.join(" | ", names);
            }
            Object type = s.get("type");
            if (type instanceof List<?> types) {
                if (types.isEmpty()) {
                    throw unsupported(path + "/type", "type", "an empty list of types accepts no value");
                }
                List<String> names = new ArrayList<>();
                for (int i = 0; i < types.size(); i++) {
                    Map<String, Object> copy = new LinkedHashMap<>(s);
                    copy.put("type", types.get(i));
                    names.add(visit(copy, sub(name, String.valueOf(types.get(i))), path));
                }
                return String.join(" | ", names);
            }
            if (type != null && !(type instanceof String t && TYPES.contains(t))) {
                throw unsupported(path + "/type", "type", "unknown type " + describe(type) + " (known: " + String.join(
                        ", ", new java.util.TreeSet<>(TYPES)) + ")");
            }
            if (s.containsKey("const")) {
                return literal(json(s.get("const"))) + " space";
            }
            if (s.containsKey("enum")) {
                List<Object> values = list(s.get("enum"), path + "/enum");
                if (values.isEmpty()) {
                    throw unsupported(path + "/enum", "enum", "an empty enum accepts no value");
                }
                List<String> lits = new ArrayList<>();
                for (Object v : values) {
                    lits.add(literal(json(v)));
                }
                return "(" + String.join(" | ", lits) + ") space";
            }
            String t = (String) type;
            if (t == null) {
                // keywords imply the type: the grammar then produces a subset of what the schema accepts
                if (s.containsKey("properties") || s.containsKey("additionalProperties") || s.containsKey("required")) {
                    t = "object";
                } else if (s.containsKey("items") || s.containsKey("prefixItems") || s.containsKey("minItems")
                        || s.containsKey("maxItems")) {
                    t = "array";
                } else if (s.containsKey("minLength") || s.containsKey("maxLength") || s.containsKey("format")) {
                    t = "string";
                } else {
                    return builtin("object"); // as llama.cpp: a schema without constraints gives an object
                }
            }
            return switch (t) {
                case "object" -> object(s, name, path);
                case "array" -> array(s, name, path);
                case "string" -> string(s, name, path);
                case "integer" -> integer(s, path);
                default -> {
                    // keywords of other types do not apply; a number's bounds do, and are not supported
                    for (String k : List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) {
                        if (t.equals("number") && s.containsKey(k)) {
                            throw unsupported(path, k, "'" + k + "' is supported for integers, not numbers");
                        }
                    }
                    yield builtin(t);
                }
            };
        }

        /**
         * An integer, with {@code minimum}, {@code maximum}, {@code exclusiveMinimum}, {@code exclusiveMaximum} as
         * digit patterns (at most 16 digits, as llama.cpp's integral-part).
         */
        private String integer(Map<String, Object> s, String path) {
            long min = Long.MIN_VALUE;
            long max = Long.MAX_VALUE;
            if (s.containsKey("minimum")) {
                min = Math.max(min, (long) Math.ceil(bound(s, "minimum", path)));
            }
            if (s.containsKey("exclusiveMinimum")) {
                min = Math.max(min, (long) Math.floor(bound(s, "exclusiveMinimum", path)) + 1);
            }
            if (s.containsKey("maximum")) {
                max = Math.min(max, (long) Math.floor(bound(s, "maximum", path)));
            }
            if (s.containsKey("exclusiveMaximum")) {
                max = Math.min(max, (long) Math.ceil(bound(s, "exclusiveMaximum", path)) - 1);
            }
            if (min == Long.MIN_VALUE && max == Long.MAX_VALUE) {
                return builtin("integer");
            }
            if (min > max) {
                throw unsupported(path, "minimum", "no integer lies between the minimum " + min + " and the maximum "
                        + max);
            }
            return "(" + IntRange.gbnf(min, max) + ") space";
        }

        private static double bound(Map<String, Object> s, String key, String path) {
            Object v = s.get(key);
            if (!(v instanceof Number n) || Math.abs(n.doubleValue()) >= 1e15) {
                throw unsupported(path + "/" + key, key, key + " must be a number below 1e15 in magnitude, got "
                        + describe(v));
            }
            return n.doubleValue();
        }

        private String ref(Object refValue, String path) {
            if (!(refValue instanceof String ref)) {
                throw unsupported(path, "$ref", "$ref must be a string, got " + describe(refValue));
            }
            if (!ref.equals("#") && !ref.startsWith("#/")) {
                throw unsupported(path, "$ref", "only references inside the schema (#/...) are supported, got '"
                        + ref + "'");
            }
            String known = refRules.get(ref);
            if (known != null) {
                return known;
            }
            Object target = rootSchema;
            String[] parts = ref.length() <= 2 ? new String[0] : ref.substring(2).split("/", -1);
            for (String part : parts) {
                String key = part.replace("~1", "/").replace("~0", "~");
                Object next = null;
                if (target instanceof Map<?, ?> m && m.containsKey(key)) {
                    next = m.get(key);
                } else if (target instanceof List<?> l && key.matches("[0-9]+") && Integer.parseInt(key) < l.size()) {
                    next = l.get(Integer.parseInt(key));
                } else {
                    throw unsupported(path, "$ref", "the reference '" + ref + "' does not resolve: no '" + key + "'");
                }
                target = next;
            }
            String last = parts.length == 0 ? "root-ref" : parts[parts.length - 1];
            String rule = reserve(last);
            refRules.put(ref, rule);
            rules.put(rule, body(target, rule, ref));
            return rule;
        }

        @SuppressWarnings("unchecked")
        private String object(Map<String, Object> s, String name, String path) {
            Map<String, Object> props = new LinkedHashMap<>();
            if (s.containsKey("properties")) {
                if (!(s.get("properties") instanceof Map<?, ?> m)) {
                    throw unsupported(path + "/properties", "properties", "must be an object, got "
                            + describe(s.get("properties")));
                }
                props = (Map<String, Object>) m;
            }
            List<String> required = new ArrayList<>();
            if (s.containsKey("required")) {
                for (Object r : list(s.get("required"), path + "/required")) {
                    if (!(r instanceof String rs)) {
                        throw unsupported(path + "/required", "required", "must list property names, got "
                                + describe(r));
                    }
                    required.add(rs);
                }
            }
            Object additional = s.get("additionalProperties");
            boolean hasAdditional = additional != null && !Boolean.FALSE.equals(additional);
            if (!s.containsKey("properties") && (!s.containsKey("additionalProperties")
                    || Boolean.TRUE.equals(additional)) && required.isEmpty()) {
                return builtin("object");
            }
            for (String r : required) {
                if (!props.containsKey(r) && !hasAdditional) {
                    throw unsupported(path + "/required", "required", "required property '" + r
                            + "' is not among the properties and no additional properties are allowed");
                }
                if (!props.containsKey(r)) {
                    throw unsupported(path + "/required", "required", "required property '" + r
                            + "' without a schema in 'properties' is not supported");
                }
            }
            Map<String, String> kv = new LinkedHashMap<>();
            List<String> req = new ArrayList<>();
            List<String> opt = new ArrayList<>();
            for (Map.Entry<String, Object> p : props.entrySet()) {
                String prop = p.getKey();
                String valueRule = visit(p.getValue(), sub(name, prop), path + "/properties/" + pointer(prop));
                kv.put(prop, addRule(sub(name, prop) + "-kv", literal(json(prop)) + " space \":\" space " + valueRule));
                (required.contains(prop) ? req : opt).add(prop);
            }
            if (hasAdditional) {
                String subName = sub(name, "additional");
                String valueRule = additional instanceof Map<?, ?> ? visit(additional, subName + "-value",
                        path + "/additionalProperties") : builtin("value");
                if (!(additional instanceof Map<?, ?>) && !Boolean.TRUE.equals(additional)) {
                    throw unsupported(path + "/additionalProperties", "additionalProperties",
                            "must be a boolean or a schema, got " + describe(additional));
                }
                String keyRule = props.isEmpty() ? builtin("string") : addRule(subName + "-k",
                        notStrings(new ArrayList<>(props.keySet())));
                kv.put("*", addRule(subName + "-kv", keyRule + " \":\" space " + valueRule));
                opt.add("*");
            }
            StringBuilder rule = new StringBuilder("\"{\" space ");
            for (int i = 0; i < req.size(); i++) {
                if (i > 0) {
                    rule.append(" \",\" space ");
                }
                rule.append(kv.get(req.get(i)));
            }
            if (!opt.isEmpty()) {
                rule.append(" (");
                if (!req.isEmpty()) {
                    rule.append(" \",\" space ( ");
                }
                for (int i = 0; i < opt.size(); i++) {
                    if (i > 0) {
                        rule.append(" | ");
                    }
                    rule.append(optionalChain(opt.subList(i, opt.size()), false, kv, name));
                }
                if (!req.isEmpty()) {
                    rule.append(" )");
                }
                rule.append(" )?");
            }
            rule.append(" \"}\" space");
            return rule.toString();
        }

        /** llama.cpp's get_recursive_refs: the first key present, then each later one optional, in order. */
        private String optionalChain(List<String> ks, boolean firstOptional, Map<String, String> kv, String name) {
            String k = ks.get(0);
            String kvRule = kv.get(k);
            String commaRef = "( \",\" space " + kvRule + " )";
            String res = firstOptional ? commaRef + (k.equals("*") ? "*" : "?")
                    : kvRule + (k.equals("*") ? " " + commaRef + "*" : "");
            if (ks.size() > 1) {
                res += " " + addRule(sub(name, k.equals("*") ? "additional" : k) + "-rest",
                        optionalChain(ks.subList(1, ks.size()), true, kv, name));
            }
            return res;
        }

        /** llama.cpp's _not_strings: a JSON string that is none of {@code strings}. */
        private String notStrings(List<String> strings) {
            Trie trie = new Trie();
            for (String str : strings) {
                trie.insert(str);
            }
            String charRule = builtin("char");
            StringBuilder out = new StringBuilder("[\"] ( ");
            visitTrie(trie, out, charRule);
            out.append(" )");
            if (!trie.end) {
                out.append("?");
            }
            out.append(" [\"] space");
            return out.toString();
        }

        private static final class Trie {
            final TreeMap<Integer, Trie> children = new TreeMap<>();
            boolean end;

            void insert(String s) {
                Trie n = this;
                for (int i = 0; i < s.length(); ) {
                    int c = s.codePointAt(i);
                    i += Character.charCount(c);
                    n = n.children.computeIfAbsent(c, x -> new Trie());
                }
                n.end = true;
            }
        }

        private void visitTrie(Trie node, StringBuilder out, String charRule) {
            StringBuilder rejects = new StringBuilder();
            boolean first = true;
            for (Map.Entry<Integer, Trie> e : node.children.entrySet()) {
                String c = classChar(e.getKey());
                rejects.append(c);
                if (!first) {
                    out.append(" | ");
                }
                first = false;
                out.append("[").append(c).append("]");
                if (!e.getValue().children.isEmpty()) {
                    out.append(" (");
                    visitTrie(e.getValue(), out, charRule);
                    out.append(")");
                } else if (e.getValue().end) {
                    out.append(" ").append(charRule).append("+");
                }
            }
            if (!node.children.isEmpty()) {
                if (!first) {
                    out.append(" | ");
                }
                // not llama.cpp's [^"...]: that lets a raw control character or backslash start the key
                out.append("[^\"\\\\\\x7F\\x00-\\x1F").append(rejects).append("] ").append(charRule).append("*");
            }
        }

        private String array(Map<String, Object> s, String name, String path) {
            Object items = s.containsKey("items") ? s.get("items") : s.get("prefixItems");
            String itemsKey = s.containsKey("items") ? "items" : "prefixItems";
            if (s.containsKey("items") && s.containsKey("prefixItems")) {
                throw unsupported(path, "prefixItems", "'prefixItems' together with 'items' is not supported");
            }
            int min = count(s, "minItems", path);
            int max = s.containsKey("maxItems") ? count(s, "maxItems", path) : Integer.MAX_VALUE;
            if (max < min) {
                throw unsupported(path + "/maxItems", "maxItems", "maxItems " + max + " is below minItems " + min);
            }
            if (items instanceof List<?> tuple) {
                if (s.containsKey("minItems") || s.containsKey("maxItems")) {
                    throw unsupported(path, "minItems", "minItems/maxItems with a tuple ('" + itemsKey
                            + "' as a list) is not supported");
                }
                StringBuilder rule = new StringBuilder("\"[\" space ");
                for (int i = 0; i < tuple.size(); i++) {
                    if (i > 0) {
                        rule.append(" \",\" space ");
                    }
                    rule.append(visit(tuple.get(i), sub(name, "tuple-" + i), path + "/" + itemsKey + "/" + i));
                }
                return rule.append(" \"]\" space").toString();
            }
            String item = items == null ? builtin("value") : visit(items, sub(name, "item"), path + "/items");
            if (min == 0 && max == Integer.MAX_VALUE && items == null) {
                return builtin("array");
            }
            return "\"[\" space " + repetition(item, min, max, "\",\" space") + " \"]\" space";
        }

        private String string(Map<String, Object> s, String name, String path) {
            if (s.containsKey("format")) {
                Object f = s.get("format");
                if (s.containsKey("minLength") || s.containsKey("maxLength")) {
                    throw unsupported(path, "minLength", "minLength/maxLength together with format is not supported");
                }
                if (f instanceof String fs && fs.matches("uuid[1-5]?")) {
                    return builtin("uuid");
                }
                if (f instanceof String fs && BUILTINS.containsKey(fs + "-string")) {
                    return builtin(fs + "-string");
                }
                throw unsupported(path + "/format", "format", "string format " + describe(f)
                        + " is not supported (supported: date, time, date-time, uuid)");
            }
            if (s.containsKey("minLength") || s.containsKey("maxLength")) {
                int min = count(s, "minLength", path);
                int max = s.containsKey("maxLength") ? count(s, "maxLength", path) : Integer.MAX_VALUE;
                if (max < min) {
                    throw unsupported(path + "/maxLength", "maxLength", "maxLength " + max + " is below minLength "
                            + min);
                }
                return "\"\\\"\" " + repetition(builtin("char"), min, max, null) + " \"\\\"\" space";
            }
            return builtin("string");
        }

        private int count(Map<String, Object> s, String key, String path) {
            Object v = s.get(key);
            if (v == null) {
                return 0;
            }
            if (v instanceof Double d && d == Math.rint(d)) {
                v = d.longValue();
            }
            if (!(v instanceof Long n) || n < 0 || n > 100_000) {
                throw unsupported(path + "/" + key, key, key + " must be a whole number in [0, 100000], got "
                        + describe(v));
            }
            return (int) (long) n;
        }

        /** llama.cpp's build_repetition. */
        private static String repetition(String item, int min, int max, String separator) {
            boolean hasMax = max != Integer.MAX_VALUE;
            if (min == 0 && max == 1) {
                return item + "?";
            }
            if (separator == null) {
                if (min == 1 && !hasMax) {
                    return item + "+";
                } else if (min == 0 && !hasMax) {
                    return item + "*";
                }
                return item + "{" + min + "," + (hasMax ? String.valueOf(max) : "") + "}";
            }
            if (max == 0) {
                return "";
            }
            String result = item + " " + repetition("(" + separator + " " + item + ")", min == 0 ? 0 : min - 1,
                    hasMax ? max - 1 : max, null);
            return min == 0 ? "(" + result + ")?" : result;
        }

        private static List<Object> list(Object v, String path) {
            if (!(v instanceof List<?> l)) {
                String key = path.substring(path.lastIndexOf('/') + 1);
                throw unsupported(path, key, "must be a list, got " + describe(v));
            }
            @SuppressWarnings("unchecked")
            List<Object> r = (List<Object>) l;
            return r;
        }

        private static String pointer(String key) {
            return key.replace("~", "~0").replace("/", "~1");
        }

        private static String describe(Object v) {
            String j = json(v);
            return j.length() > 60 ? j.substring(0, 57) + "..." : j;
        }
    }

    /** Compact JSON (nlohmann's dump()): the literal a const or enum value must appear as. */
    static String json(Object v) {
        StringBuilder sb = new StringBuilder();
        writeJson(sb, v);
        return sb.toString();
    }

    private static void writeJson(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            JsonText.quote(sb, s);
        } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer) {
            sb.append(v);
        } else if (v instanceof Double d) {
            sb.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? String.format(java.util.Locale.ROOT, "%.1f", d) : Double.toString(d));
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                writeJson(sb, l.get(i));
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                JsonText.quote(sb, String.valueOf(e.getKey()));
                sb.append(':');
                writeJson(sb, e.getValue());
            }
            sb.append('}');
        } else {
            sb.append(v);
        }
    }

    /** A GBNF string literal matching exactly {@code text}. */
    static String literal(String text) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format(java.util.Locale.ROOT, "\\x%02X", c));
                    } else {
                        sb.appendCodePoint(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** One character inside a GBNF character class. */
    static String classChar(int c) {
        return switch (c) {
            case '"' -> "\\\"";
            case '\\' -> "\\\\";
            case ']' -> "\\]";
            case '[' -> "\\[";
            case '-' -> "\\x2D";
            case '^' -> "\\x5E";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> c < 0x20 || c == 0x7f ? String.format("\\x%02X", c) : Character.toString(c);
        };
    }
}
