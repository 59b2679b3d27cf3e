package dev.gguf4j.grammar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GBNF grammar in llama.cpp's syntax (llama.cpp's {@code grammars/README.md}): rules {@code name ::= ...},
 * alternation {@code |}, grouping, {@code * + ?} and {@code {m} {m,} {m,n}} repetition, string literals,
 * character classes with ranges, negation and the escapes {@code \xHH}, backslash-u with 4 and {@code \U} with 8 hex digits, {@code \t \r \n \\ \" \[ \]},
 * {@code .} for any character, {@code #} comments; the output must match the rule {@code root}. Parsed into
 * llama.cpp's element form (each rule a sequence of alternatives, repetitions rewritten into helper rules as
 * llama-grammar.cpp does), which {@link GrammarMatcher} runs over a vocabulary. Immutable and thread-safe.
 *
 * <p>Also: {@link #fromJsonSchema} (JSON Schema to grammar) and {@link #jsonObject} (any JSON object, OpenAI's
 * {@code response_format: json_object}).
 */
public final class Grammar {
    // element types, as llama_gretype
    static final int END = 0;
    static final int ALT = 1;
    static final int RULE_REF = 2;
    static final int CHAR = 3;
    static final int CHAR_NOT = 4;
    static final int CHAR_RNG_UPPER = 5;
    static final int CHAR_ALT = 6;
    static final int CHAR_ANY = 7;

    private final String source;
    private final String rootName;
    // every rule's elements one after another: type[i], value[i]; a rule ends with END
    final int[] type;
    final int[] value;
    final int[] ruleStart;
    final String[] ruleNames;
    final int root;
    /** For a character element: the position after its class (past CHAR_ALT / CHAR_RNG_UPPER); else -1. */
    final int[] charEnd;

    private Grammar(String source, String rootName, int[] type, int[] value, int[] ruleStart, String[] ruleNames,
            int root) {
        this.source = source;
        this.rootName = rootName;
        this.type = type;
        this.value = value;
        this.ruleStart = ruleStart;
        this.ruleNames = ruleNames;
        this.root = root;
        this.charEnd = new int[type.length];
        for (int i = 0; i < type.length; i++) {
            int t = type[i];
            if (t == CHAR || t == CHAR_NOT || t == CHAR_ANY) {
                int p = i;
                do {
                    p += type[p + 1] == CHAR_RNG_UPPER ? 2 : 1;
                } while (type[p] == CHAR_ALT);
                charEnd[i] = p;
            } else {
                charEnd[i] = -1;
            }
        }
    }

    /** Parses a GBNF grammar whose start rule is {@code root}. */
    public static Grammar parse(String gbnf) {
        return parse(gbnf, "root");
    }

    /** Parses a GBNF grammar whose start rule is {@code rootRule}. */
    public static Grammar parse(String gbnf, String rootRule) {
        return new Parser(gbnf).parse(rootRule);
    }

    /**
     * The grammar of the JSON values a JSON Schema accepts (llama.cpp's {@code json_schema_to_grammar} subset,
     * see {@link JsonSchemaGrammar}); a feature that is not supported is a {@link UnsupportedSchemaException}
     * naming the schema path and the keyword.
     */
    public static Grammar fromJsonSchema(String schemaJson) {
        return parse(JsonSchemaGrammar.toGbnf(schemaJson));
    }

    /** {@link #fromJsonSchema(String)} for a schema already parsed (maps, lists, strings, numbers, booleans). */
    public static Grammar fromJsonSchemaValue(Object schema) {
        return parse(JsonSchemaGrammar.toGbnf(schema));
    }

    /** Any JSON object (OpenAI's {@code response_format: {"type": "json_object"}}), as llama.cpp's. */
    public static Grammar jsonObject() {
        return JSON_OBJECT;
    }

    private static final Grammar JSON_OBJECT = fromJsonSchema("{\"type\": \"object\"}");

    /** The GBNF text this grammar was parsed from. */
    public String source() {
        return source;
    }

    /** The start rule's name. */
    public String rootRule() {
        return rootName;
    }

    /** Whether the whole of {@code text} is a sentence of this grammar. */
    public boolean matches(String text) {
        Engine e = new Engine(this);
        Engine.State s = e.initial();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            s = e.step(s, b & 0xff);
            if (s == null) {
                return false;
            }
        }
        return s.canEnd;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Grammar g && g.source.equals(source) && g.rootName.equals(rootName);
    }

    @Override
    public int hashCode() {
        return source.hashCode() * 31 + rootName.hashCode();
    }

    @Override
    public String toString() {
        return source;
    }

    // ------------------------------------------------------------------------------------------------ parser

    /** A recursive-descent parser over code points with llama-grammar.cpp's grammar of GBNF. */
    private static final class Parser {
        private final String src;
        private int pos;
        private final Map<String, Integer> symbols = new LinkedHashMap<>();
        private final List<int[]> rules = new ArrayList<>(); // pairs (type, value); null = not defined
        private final List<Integer> firstUse = new ArrayList<>(); // source offset of the first reference
        private final List<Integer> definedAt = new ArrayList<>();

        Parser(String src) {
            this.src = src;
        }

        Grammar parse(String rootRule) {
            skipSpace(true);
            while (pos < src.length()) {
                parseRule();
            }
            for (Map.Entry<String, Integer> e : symbols.entrySet()) {
                int id = e.getValue();
                if (id >= rules.size() || rules.get(id) == null) {
                    throw error(firstUse.get(id), "undefined rule '" + e.getKey() + "'");
                }
            }
            Integer root = symbols.get(rootRule);
            if (root == null) {
                throw error(src.length(), "the grammar has no '" + rootRule + "' rule (the start rule)");
            }
            // flatten
            int total = 0;
            for (int[] r : rules) {
                total += r.length / 2;
            }
            int[] type = new int[total];
            int[] value = new int[total];
            int[] start = new int[rules.size()];
            String[] names = new String[rules.size()];
            symbols.forEach((k, v) -> names[v] = k);
            int at = 0;
            for (int i = 0; i < rules.size(); i++) {
                int[] r = rules.get(i);
                start[i] = at;
                for (int j = 0; j < r.length; j += 2) {
                    type[at] = r[j];
                    value[at] = r[j + 1];
                    at++;
                }
            }
            checkLeftRecursion(type, value, start, names);
            return new Grammar(src, rootRule, type, value, start, names, root);
        }

        private void checkLeftRecursion(int[] type, int[] value, int[] start, String[] names) {
            int n = start.length;
            boolean[] visited = new boolean[n];
            boolean[] inProgress = new boolean[n];
            boolean[] mayBeEmpty = new boolean[n];
            for (int i = 0; i < n; i++) {
                if (!visited[i] && leftRecursive(i, type, value, start, visited, inProgress, mayBeEmpty)) {
                    String name = names[i];
                    int base = name.indexOf('_');
                    // a helper rule (a group or repetition) reports the rule it was written in
                    String user = base > 0 && symbols.containsKey(name.substring(0, base)) ? name.substring(0, base)
                            : name;
                    int id = symbols.get(user);
                    throw error(definedAt.get(id), "left recursion in rule '" + user
                            + "' (it can reach itself without matching a character), which llama.cpp's grammars"
                            + " do not support");
                }
            }
        }

        private static boolean leftRecursive(int r, int[] type, int[] value, int[] start, boolean[] visited,
                boolean[] inProgress, boolean[] mayBeEmpty) {
            if (inProgress[r]) {
                return true;
            }
            inProgress[r] = true;
            boolean atStart = true;
            for (int i = start[r];; i++) {
                if (type[i] == END || type[i] == ALT) {
                    if (atStart) {
                        mayBeEmpty[r] = true;
                        break;
                    }
                    atStart = true;
                    if (type[i] == END) {
                        break;
                    }
                } else {
                    atStart = false;
                }
            }
            boolean recurse = true;
            for (int i = start[r];; i++) {
                if (type[i] == RULE_REF && recurse) {
                    if (leftRecursive(value[i], type, value, start, visited, inProgress, mayBeEmpty)) {
                        return true;
                    }
                    if (!mayBeEmpty[value[i]]) {
                        recurse = false;
                    }
                } else if (type[i] == END || type[i] == ALT) {
                    recurse = true;
                    if (type[i] == END) {
                        break;
                    }
                } else {
                    recurse = false;
                }
            }
            inProgress[r] = false;
            visited[r] = true;
            return false;
        }

        private GrammarSyntaxException error(int at, String message) {
            int line = 1;
            int col = 1;
            for (int i = 0; i < at && i < src.length(); i++) {
                char c = src.charAt(i);
                if (c == '\n' || (c == '\r' && (i + 1 >= src.length() || src.charAt(i + 1) != '\n'))) {
                    line++;
                    col = 1;
                } else if (!Character.isLowSurrogate(c)) {
                    col++;
                }
            }
            return new GrammarSyntaxException(line, col, message);
        }

        private GrammarSyntaxException expected(String what) {
            return error(pos, "expected " + what + ", found " + found());
        }

        private String found() {
            if (pos >= src.length()) {
                return "the end of the grammar";
            }
            int c = src.codePointAt(pos);
            return switch (c) {
                case '\n' -> "a newline";
                case '\r' -> "a carriage return";
                case '\t' -> "a tab";
                default -> c < 0x20 || c == 0x7f ? String.format("U+%04X", c) : "'" + Character.toString(c) + "'";
            };
        }

        private int peek() {
            return pos < src.length() ? src.charAt(pos) : -1;
        }

        private int peek(int k) {
            return pos + k < src.length() ? src.charAt(pos + k) : -1;
        }

        private static boolean isWordChar(int c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        }

        private void skipSpace(boolean newlineOk) {
            while (pos < src.length()) {
                char c = src.charAt(pos);
                if (c == ' ' || c == '\t' || (newlineOk && (c == '\r' || c == '\n'))) {
                    pos++;
                } else if (c == '#') {
                    while (pos < src.length() && src.charAt(pos) != '\r' && src.charAt(pos) != '\n') {
                        pos++;
                    }
                } else {
                    break;
                }
            }
        }

        private String parseName(String what) {
            int start = pos;
            while (pos < src.length() && isWordChar(src.charAt(pos))) {
                pos++;
            }
            if (pos == start) {
                throw expected(what);
            }
            return src.substring(start, pos);
        }

        private int symbol(String name, int at) {
            Integer id = symbols.get(name);
            if (id == null) {
                id = symbols.size();
                symbols.put(name, id);
                firstUse.add(at);
                definedAt.add(at);
            }
            return id;
        }

        private int generateSymbol(String base) {
            int id = symbols.size();
            symbols.put(base + "_" + id, id);
            firstUse.add(pos);
            definedAt.add(pos);
            return id;
        }

        private void setRule(int id, int[] rule) {
            while (rules.size() <= id) {
                rules.add(null);
            }
            rules.set(id, rule);
        }

        private void parseRule() {
            int at = pos;
            String name = parseName("a rule name");
            skipSpace(false);
            if (!src.startsWith("::=", pos)) {
                throw expected("'::=' after the rule name '" + name + "'");
            }
            int id = symbol(name, at);
            definedAt.set(id, at);
            pos += 3;
            skipSpace(true);
            parseAlternates(name, id, false);
            if (peek() == '\r') {
                pos += peek(1) == '\n' ? 2 : 1;
            } else if (peek() == '\n') {
                pos++;
            } else if (pos < src.length()) {
                throw expected("a symbol, '|', or the end of the line");
            }
            skipSpace(true);
        }

        private void parseAlternates(String ruleName, int id, boolean nested) {
            IntPairs rule = new IntPairs();
            parseSequence(ruleName, rule, nested);
            while (peek() == '|') {
                rule.add(ALT, 0);
                pos++;
                skipSpace(true);
                parseSequence(ruleName, rule, nested);
            }
            rule.add(END, 0);
            setRule(id, rule.toArray());
        }

        private void parseSequence(String ruleName, IntPairs rule, boolean nested) {
            int lastSymStart = rule.size();
            while (pos < src.length()) {
                int c = peek();
                int opAt = pos;
                if (c == '"') {
                    pos++;
                    lastSymStart = rule.size();
                    while (peek() != '"') {
                        if (pos >= src.length()) {
                            throw error(opAt, "unterminated string literal (no closing '\"')");
                        }
                        rule.add(CHAR, parseChar());
                    }
                    pos++;
                    skipSpace(nested);
                } else if (c == '[') {
                    pos++;
                    int startType = CHAR;
                    if (peek() == '^') {
                        pos++;
                        startType = CHAR_NOT;
                    }
                    lastSymStart = rule.size();
                    while (peek() != ']') {
                        if (pos >= src.length()) {
                            throw error(opAt, "unterminated character class (no closing ']')");
                        }
                        int ch = parseChar();
                        rule.add(lastSymStart < rule.size() ? CHAR_ALT : startType, ch);
                        if (peek() == '-' && peek(1) != ']') {
                            pos++;
                            if (pos >= src.length()) {
                                throw error(opAt, "unterminated character class (no closing ']')");
                            }
                            int hiAt = pos;
                            int hi = parseChar();
                            if (hi < ch) {
                                throw error(hiAt, "the range's end " + show(hi) + " comes before its start " + show(ch));
                            }
                            rule.add(CHAR_RNG_UPPER, hi);
                        }
                    }
                    if (lastSymStart == rule.size()) {
                        throw error(opAt, "empty character class '[" + (startType == CHAR_NOT ? "^" : "") + "]'");
                    }
                    pos++;
                    skipSpace(nested);
                } else if (isWordChar(c)) {
                    int at = pos;
                    String name = parseName("a rule name");
                    int ref = symbol(name, at);
                    skipSpace(nested);
                    lastSymStart = rule.size();
                    rule.add(RULE_REF, ref);
                } else if (c == '(') {
                    pos++;
                    skipSpace(true);
                    int sub = generateSymbol(ruleName);
                    parseAlternates(ruleName, sub, true);
                    lastSymStart = rule.size();
                    rule.add(RULE_REF, sub);
                    if (peek() != ')') {
                        throw expected("')' to close the '(' at " + where(opAt));
                    }
                    pos++;
                    skipSpace(nested);
                } else if (c == '.') {
                    lastSymStart = rule.size();
                    rule.add(CHAR_ANY, 0);
                    pos++;
                    skipSpace(nested);
                } else if (c == '*' || c == '+' || c == '?') {
                    pos++;
                    skipSpace(nested);
                    repeat(ruleName, rule, lastSymStart, c == '+' ? 1 : 0, c == '?' ? 1 : -1, opAt, (char) c);
                } else if (c == '{') {
                    pos++;
                    skipSpace(nested);
                    int min = parseInt();
                    skipSpace(nested);
                    int max;
                    if (peek() == '}') {
                        max = min;
                        pos++;
                    } else if (peek() == ',') {
                        pos++;
                        skipSpace(nested);
                        max = -1;
                        if (peek() >= '0' && peek() <= '9') {
                            int maxAt = pos;
                            max = parseInt();
                            if (max < min) {
                                throw error(maxAt, "the repetition's maximum " + max + " is below its minimum " + min);
                            }
                            skipSpace(nested);
                        }
                        if (peek() != '}') {
                            throw expected("'}' to close the repetition");
                        }
                        pos++;
                    } else {
                        throw expected("',' or '}' in the repetition");
                    }
                    skipSpace(nested);
                    repeat(ruleName, rule, lastSymStart, min, max, opAt, '{');
                } else {
                    break;
                }
            }
        }

        private String where(int at) {
            GrammarSyntaxException e = error(at, "");
            return "line " + e.line() + ", column " + e.column();
        }

        private static String show(int cp) {
            return cp >= 0x20 && cp < 0x7f ? "'" + (char) cp + "'" : String.format("U+%04X", cp);
        }

        private int parseInt() {
            int start = pos;
            while (peek() >= '0' && peek() <= '9') {
                pos++;
            }
            if (pos == start) {
                throw expected("a number in the repetition '{m,n}'");
            }
            try {
                int n = Integer.parseInt(src.substring(start, pos));
                if (n > 100_000) {
                    throw new NumberFormatException();
                }
                return n;
            } catch (NumberFormatException e) {
                throw error(start, "repetition count " + src.substring(start, pos) + " is too large (at most 100000)");
            }
        }

        /**
         * llama-grammar.cpp's rewrite of the last symbol S: S{m,n} becomes S repeated m times followed by n-m nested
         * optional helper rules (S' ::= S S'' |); S{m,} becomes S m times and S' ::= S S' |.
         */
        private void repeat(String ruleName, IntPairs rule, int lastSymStart, int min, int max, int opAt, char op) {
            if (lastSymStart == rule.size()) {
                throw error(opAt, "'" + op + "' must follow a symbol, string, character class or group");
            }
            int[] prev = rule.slice(lastSymStart);
            if (min == 0) {
                rule.truncate(lastSymStart);
            } else {
                for (int i = 1; i < min; i++) {
                    rule.addAll(prev);
                }
            }
            int lastRec = 0;
            int nOpt = max < 0 ? 1 : max - min;
            for (int i = 0; i < nOpt; i++) {
                IntPairs rec = new IntPairs();
                rec.addAll(prev);
                int recId = generateSymbol(ruleName);
                if (i > 0 || max < 0) {
                    rec.add(RULE_REF, max < 0 ? recId : lastRec);
                }
                rec.add(ALT, 0);
                rec.add(END, 0);
                setRule(recId, rec.toArray());
                lastRec = recId;
            }
            if (nOpt > 0) {
                rule.add(RULE_REF, lastRec);
            }
        }

        private int parseChar() {
            int at = pos;
            char c = src.charAt(pos);
            if (c == '\\') {
                if (pos + 1 >= src.length()) {
                    throw error(at, "unterminated escape '\\'");
                }
                char e = src.charAt(pos + 1);
                pos += 2;
                return switch (e) {
                    case 'x' -> hex(2, at);
                    case 'u' -> hex(4, at);
                    case 'U' -> hex(8, at);
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case 'n' -> '\n';
                    case '\\', '"', '[', ']' -> e;
                    default -> throw error(at, "unknown escape '\\" + e + "' (known: \\x.. \\u.... \\U........"
                            + " \\t \\r \\n \\\\ \\\" \\[ \\])");
                };
            }
            int cp = src.codePointAt(pos);
            pos += Character.charCount(cp);
            return cp;
        }

        private int hex(int digits, int at) {
            long v = 0;
            for (int i = 0; i < digits; i++) {
                int d = pos < src.length() ? Character.digit(src.charAt(pos), 16) : -1;
                if (d < 0) {
                    throw error(pos, "expected " + digits + " hex digits in the escape at " + where(at) + ", found "
                            + found());
                }
                v = v * 16 + d;
                pos++;
            }
            if (v > 0x10FFFF) {
                throw error(at, "code point " + String.format("U+%X", v) + " is beyond U+10FFFF");
            }
            return (int) v;
        }
    }

    /** A growable list of (type, value) pairs. */
    private static final class IntPairs {
        private int[] a = new int[16];
        private int n; // ints used (2 per element)

        int size() {
            return n / 2;
        }

        void add(int t, int v) {
            if (n + 2 > a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = t;
            a[n++] = v;
        }

        void addAll(int[] pairs) {
            for (int i = 0; i < pairs.length; i += 2) {
                add(pairs[i], pairs[i + 1]);
            }
        }

        int[] slice(int fromElement) {
            return Arrays.copyOfRange(a, fromElement * 2, n);
        }

        void truncate(int elements) {
            n = elements * 2;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
