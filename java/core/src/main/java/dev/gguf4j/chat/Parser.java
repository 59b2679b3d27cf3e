package dev.gguf4j.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Lexes and parses a Jinja template as transformers configures Jinja2: trim_blocks, lstrip_blocks, loop controls,
 * newlines normalised and one trailing newline dropped (keep_trailing_newline off).
 */
final class Parser {
    record Tok(String type, String val, int line, int col) {
    }

    private final String src;
    private final List<Tok> toks = new ArrayList<>();
    private int p;

    private Parser(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        this.src = s;
    }

    static List<Node> parse(String source) {
        Parser ps = new Parser(source);
        ps.lex();
        return ps.subparse(Set.of());
    }

    // ------------------------------------------------------------------ lexer

    private int[] lineStarts;

    private int[] lineCol(int offset) {
        if (lineStarts == null) {
            List<Integer> starts = new ArrayList<>(List.of(0));
            for (int i = 0; i < src.length(); i++) {
                if (src.charAt(i) == '\n') {
                    starts.add(i + 1);
                }
            }
            lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
        }
        int k = java.util.Arrays.binarySearch(lineStarts, offset);
        int line = k >= 0 ? k : -k - 2;
        return new int[] {line + 1, offset - lineStarts[line] + 1};
    }

    private ChatTemplateException.Syntax errorAt(int offset, String msg) {
        int[] lc = lineCol(offset);
        return new ChatTemplateException.Syntax(msg, lc[0], lc[1]);
    }

    private ChatTemplateException.Syntax error(Tok t, String msg) {
        return new ChatTemplateException.Syntax(msg, t.line, t.col);
    }

    private void add(String type, String val, int offset) {
        int[] lc = lineCol(offset);
        toks.add(new Tok(type, val, lc[0], lc[1]));
    }

    private static boolean isHSpace(char c) {
        return c == ' ' || c == '\t' || c == '\u000b' || c == '\f';
    }

    private void lex() {
        int pos = 0;
        boolean lineStarting = true;
        int n = src.length();
        while (true) {
            int idx = -1;
            for (int i = pos; i + 1 < n; i++) {
                char c = src.charAt(i);
                char d = src.charAt(i + 1);
                if (c == '{' && (d == '{' || d == '%' || d == '#')) {
                    idx = i;
                    break;
                }
            }
            if (idx < 0) {
                if (pos < n) {
                    add("TEXT", src.substring(pos), pos);
                }
                add("EOF", "", n);
                return;
            }
            char kind = src.charAt(idx + 1);
            char sign = idx + 2 < n ? src.charAt(idx + 2) : 0;
            String text = src.substring(pos, idx);
            if (sign == '-') {
                text = Py.strip(text, null, false, true);
            } else if (sign != '+' && kind != '{') {
                int lPos = text.lastIndexOf('\n') + 1;
                if (lPos > 0 || lineStarting) {
                    boolean allSpace = lPos < text.length();
                    for (int i = lPos; i < text.length(); i++) {
                        allSpace &= isHSpace(text.charAt(i));
                    }
                    if (allSpace) {
                        text = text.substring(0, lPos);
                    }
                }
            }
            if (!text.isEmpty()) {
                add("TEXT", text, pos);
            }
            int start = idx + 2 + (sign == '-' || sign == '+' ? 1 : 0);
            if (kind == '#') {
                int end = src.indexOf("#}", start);
                if (end < 0) {
                    throw errorAt(idx, "Missing end of comment tag");
                }
                pos = end + 2;
                boolean minus = end > start && src.charAt(end - 1) == '-';
                boolean plus = end > start && src.charAt(end - 1) == '+';
                pos = afterTag(pos, minus, plus);
            } else {
                add(kind == '{' ? "VBEGIN" : "BBEGIN", "", idx);
                pos = lexInside(start, kind == '{' ? '}' : '%');
                add(kind == '{' ? "VEND" : "BEND", "", pos);
                boolean minus = src.charAt(pos) == '-';
                boolean plus = src.charAt(pos) == '+';
                pos += (minus || plus ? 1 : 0) + 2;
                pos = kind == '{' ? afterVar(pos, minus) : afterTag(pos, minus, plus);
            }
            lineStarting = pos > 0 && src.charAt(pos - 1) == '\n';
        }
    }

    private int afterVar(int pos, boolean minus) {
        if (minus) {
            while (pos < src.length() && Py.isSpace(src.charAt(pos))) {
                pos++;
            }
        }
        return pos;
    }

    private int afterTag(int pos, boolean minus, boolean plus) {
        if (minus) {
            return afterVar(pos, true);
        }
        if (!plus && pos < src.length() && src.charAt(pos) == '\n') {
            return pos + 1; // trim_blocks
        }
        return pos;
    }

    private static final String[] OPS = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">",
        "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", ";"};

    /** Lexes the inside of a tag; returns the offset of its end marker (at '-', '+' or the closing pair). */
    private int lexInside(int pos, char closer) {
        int depth = 0;
        int n = src.length();
        while (true) {
            while (pos < n && Py.isSpace(src.charAt(pos))) {
                pos++;
            }
            if (pos >= n) {
                throw errorAt(pos, "unexpected end of template, expected '" + (closer == '}' ? "}}" : "%}") + "'");
            }
            if (depth == 0) {
                if ((src.charAt(pos) == '-' || src.charAt(pos) == '+') && src.startsWith(closer + "}", pos + 1)) {
                    return pos;
                }
                if (src.startsWith(closer + "}", pos)) {
                    return pos;
                }
            }
            char c = src.charAt(pos);
            if (Character.isLetter(c) || c == '_') {
                int s = pos;
                while (pos < n && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                add("NAME", src.substring(s, pos), s);
            } else if (Character.isDigit(c)) {
                int s = pos;
                boolean isFloat = false;
                while (pos < n && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                if (pos + 1 < n && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
                    isFloat = true;
                    pos++;
                    while (pos < n && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                        pos++;
                    }
                }
                if (pos < n && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
                    int q = pos + 1;
                    if (q < n && (src.charAt(q) == '+' || src.charAt(q) == '-')) {
                        q++;
                    }
                    if (q < n && Character.isDigit(src.charAt(q))) {
                        isFloat = true;
                        pos = q;
                        while (pos < n && Character.isDigit(src.charAt(pos))) {
                            pos++;
                        }
                    }
                }
                add(isFloat ? "FLOAT" : "INT", src.substring(s, pos).replace("_", ""), s);
            } else if (c == '\'' || c == '"') {
                int s = pos;
                StringBuilder sb = new StringBuilder();
                pos++;
                while (true) {
                    if (pos >= n) {
                        throw errorAt(s, "unexpected end of string");
                    }
                    char d = src.charAt(pos++);
                    if (d == c) {
                        break;
                    }
                    if (d == '\\' && pos < n) {
                        char e = src.charAt(pos++);
                        switch (e) {
                            case 'n' -> sb.append('\n');
                            case 't' -> sb.append('\t');
                            case 'r' -> sb.append('\r');
                            case '0' -> sb.append('\0');
                            case 'a' -> sb.append('\u0007');
                            case 'b' -> sb.append('\b');
                            case 'f' -> sb.append('\f');
                            case 'v' -> sb.append('\u000b');
                            case '\\', '\'', '"' -> sb.append(e);
                            case '\n' -> {
                            }
                            case 'x', 'u', 'U' -> {
                                int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                                if (pos + len > n) {
                                    throw errorAt(pos, "truncated \\" + e + " escape");
                                }
                                try {
                                    sb.appendCodePoint(Integer.parseInt(src.substring(pos, pos + len), 16));
                                } catch (NumberFormatException ex) {
                                    throw errorAt(pos, "bad \\" + e + " escape");
                                }
                                pos += len;
                            }
                            default -> sb.append('\\').append(e);
                        }
                    } else {
                        sb.append(d);
                    }
                }
                add("STR", sb.toString(), s);
            } else {
                String op = null;
                for (String o : OPS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw errorAt(pos, "unexpected char '" + c + "'");
                }
                if (op.equals("{") || op.equals("(") || op.equals("[")) {
                    depth++;
                } else if (op.equals("}") || op.equals(")") || op.equals("]")) {
                    if (depth == 0) {
                        throw errorAt(pos, "unexpected '" + op + "'");
                    }
                    depth--;
                }
                add("OP", op, pos);
                pos += op.length();
            }
        }
    }

    // ------------------------------------------------------------------ parser

    private Tok peek() {
        return toks.get(p);
    }

    private Tok next() {
        return toks.get(p++);
    }

    private boolean at(String type) {
        return peek().type.equals(type);
    }

    private boolean atOp(String op) {
        return at("OP") && peek().val.equals(op);
    }

    private boolean atName(String name) {
        return at("NAME") && peek().val.equals(name);
    }

    private String describe(Tok t) {
        return switch (t.type) {
            case "EOF" -> "end of template";
            case "VEND" -> "end of print statement";
            case "BEND" -> "end of statement block";
            case "STR" -> "string";
            case "INT", "FLOAT" -> t.val;
            default -> "'" + t.val + "'";
        };
    }

    private Tok expectOp(String op) {
        if (!atOp(op)) {
            throw error(peek(), "expected token '" + op + "', got " + describe(peek()));
        }
        return next();
    }

    private void expect(String type, String what) {
        if (!at(type)) {
            throw error(peek(), "expected " + what + ", got " + describe(peek()));
        }
        next();
    }

    private String expectName() {
        if (!at("NAME")) {
            throw error(peek(), "expected a name, got " + describe(peek()));
        }
        return next().val;
    }

    private void expectKeyword(String kw) {
        if (!atName(kw)) {
            throw error(peek(), "expected '" + kw + "', got " + describe(peek()));
        }
        next();
    }

    /** Parses until a block tag whose name is in {@code ends} (left unconsumed, positioned at its BBEGIN). */
    private List<Node> subparse(Set<String> ends) {
        List<Node> out = new ArrayList<>();
        while (true) {
            Tok t = peek();
            switch (t.type) {
                case "EOF" -> {
                    if (!ends.isEmpty()) {
                        throw error(t, "Unexpected end of template. Jinja was looking for one of: "
                                + String.join(", ", ends.stream().sorted().toList()) + ".");
                    }
                    return out;
                }
                case "TEXT" -> out.add(new Node.Text(next().line, t.val));
                case "VBEGIN" -> {
                    next();
                    out.add(new Node.Output(t.line, tuple()));
                    expect("VEND", "end of print statement");
                }
                case "BBEGIN" -> {
                    Tok name = toks.get(p + 1);
                    if (name.type.equals("NAME") && ends.contains(name.val)) {
                        return out;
                    }
                    if (ends.isEmpty() && name.type.equals("NAME") && name.val.startsWith("end")) {
                        throw error(name, "Encountered unknown tag '" + name.val + "'.");
                    }
                    next();
                    out.add(statement());
                }
                default -> throw error(t, "unexpected " + describe(t));
            }
        }
    }

    private void endTag(String name) {
        expect("BBEGIN", "'{%'");
        expectKeyword(name);
        expect("BEND", "end of statement block");
    }

    private Node statement() {
        Tok t = peek();
        if (!at("NAME")) {
            throw error(t, "tag name expected");
        }
        String tag = next().val;
        switch (tag) {
            case "if" -> {
                List<Node> conds = new ArrayList<>();
                List<List<Node>> bodies = new ArrayList<>();
                List<Node> orElse = null;
                conds.add(tuple());
                expect("BEND", "end of statement block");
                while (true) {
                    bodies.add(subparse(Set.of("elif", "else", "endif")));
                    next();
                    String kw = next().val;
                    if (kw.equals("elif")) {
                        conds.add(tuple());
                        expect("BEND", "end of statement block");
                    } else if (kw.equals("else")) {
                        expect("BEND", "end of statement block");
                        orElse = subparse(Set.of("endif"));
                        endTag("endif");
                        break;
                    } else {
                        expect("BEND", "end of statement block");
                        break;
                    }
                }
                return new Node.If(t.line, conds, bodies, orElse == null ? List.of() : orElse);
            }
            case "for" -> {
                List<String> targets = new ArrayList<>();
                boolean paren = atOp("(");
                if (paren) {
                    next();
                }
                targets.add(expectName());
                while (atOp(",")) {
                    next();
                    if (!at("NAME")) {
                        break;
                    }
                    targets.add(expectName());
                }
                if (paren) {
                    expectOp(")");
                }
                expectKeyword("in");
                Node iter = tuple(false);
                Node filter = null;
                if (atName("if")) {
                    next();
                    filter = expression();
                }
                if (atName("recursive")) {
                    throw error(peek(), "recursive loops are not supported");
                }
                expect("BEND", "end of statement block");
                List<Node> body = subparse(Set.of("endfor", "else"));
                next();
                List<Node> orElse = List.of();
                if (next().val.equals("else")) {
                    expect("BEND", "end of statement block");
                    orElse = subparse(Set.of("endfor"));
                    endTag("endfor");
                } else {
                    expect("BEND", "end of statement block");
                }
                return new Node.For(t.line, targets, iter, filter, body, orElse);
            }
            case "set" -> {
                String first = expectName();
                if (atOp(".")) {
                    next();
                    String attr = expectName();
                    expectOp("=");
                    Node v = tuple();
                    expect("BEND", "end of statement block");
                    return new Node.Set(t.line, List.of(first), attr, v);
                }
                List<String> targets = new ArrayList<>(List.of(first));
                while (atOp(",")) {
                    next();
                    targets.add(expectName());
                }
                if (atOp("=")) {
                    next();
                    Node v = tuple();
                    expect("BEND", "end of statement block");
                    return new Node.Set(t.line, targets, null, v);
                }
                List<Node> filters = new ArrayList<>();
                while (atOp("|")) {
                    next();
                    filters.add(filterCall(null));
                }
                expect("BEND", "end of statement block");
                List<Node> body = subparse(Set.of("endset"));
                endTag("endset");
                return new Node.SetBlock(t.line, first, filters, body);
            }
            case "macro" -> {
                String name = expectName();
                expectOp("(");
                List<String> params = new ArrayList<>();
                List<Node> defaults = new ArrayList<>();
                while (!atOp(")")) {
                    if (!params.isEmpty()) {
                        expectOp(",");
                        if (atOp(")")) {
                            break;
                        }
                    }
                    params.add(expectName());
                    if (atOp("=")) {
                        next();
                        defaults.add(expression());
                    } else {
                        defaults.add(null);
                    }
                }
                next();
                expect("BEND", "end of statement block");
                List<Node> body = subparse(Set.of("endmacro"));
                endTag("endmacro");
                return new Node.Macro(t.line, name, params, defaults, body);
            }
            case "filter" -> {
                List<Node> filters = new ArrayList<>();
                filters.add(filterCall(null));
                while (atOp("|")) {
                    next();
                    filters.add(filterCall(null));
                }
                expect("BEND", "end of statement block");
                List<Node> body = subparse(Set.of("endfilter"));
                endTag("endfilter");
                return new Node.FilterBlock(t.line, filters, body);
            }
            case "generation" -> { // transformers' AssistantTracker: renders its body unchanged
                expect("BEND", "end of statement block");
                List<Node> body = subparse(Set.of("endgeneration"));
                endTag("endgeneration");
                return new Node.If(t.line, List.of(new Node.Literal(t.line, true)), List.of(body), List.of());
            }
            case "break" -> {
                expect("BEND", "end of statement block");
                return new Node.Break(t.line);
            }
            case "continue" -> {
                expect("BEND", "end of statement block");
                return new Node.Continue(t.line);
            }
            default -> throw error(t, "Encountered unknown tag '" + tag + "'.");
        }
    }

    // ------------------------------------------------------------------ expressions

    private Node tuple() {
        return tuple(true);
    }

    /** An expression, or a tuple when commas follow. */
    private Node tuple(boolean withCondExpr) {
        int line = peek().line;
        List<Node> items = new ArrayList<>();
        boolean comma = false;
        while (true) {
            if (!items.isEmpty()) {
                if (!atOp(",")) {
                    break;
                }
                next();
                comma = true;
            }
            if (at("VEND") || at("BEND") || atOp(")") || (atName("if") && !withCondExpr)) {
                break;
            }
            items.add(withCondExpr ? expression() : or());
        }
        if (!comma) {
            if (items.isEmpty()) {
                throw error(peek(), "Expected an expression, got " + describe(peek()));
            }
            return items.get(0);
        }
        return new Node.ListLit(line, items, true);
    }

    private Node expression() {
        Node e = or();
        while (atName("if")) {
            int line = next().line;
            Node cond = or();
            Node orElse = null;
            if (atName("else")) {
                next();
                orElse = expression();
            }
            e = new Node.CondExpr(line, e, cond, orElse);
        }
        return e;
    }

    private Node or() {
        Node l = and();
        while (atName("or")) {
            int line = next().line;
            l = new Node.Binary(line, "or", l, and());
        }
        return l;
    }

    private Node and() {
        Node l = not();
        while (atName("and")) {
            int line = next().line;
            l = new Node.Binary(line, "and", l, not());
        }
        return l;
    }

    private Node not() {
        if (atName("not")) {
            int line = next().line;
            return new Node.Unary(line, "not", not());
        }
        return compare();
    }

    private static final Set<String> CMP = Set.of("==", "!=", "<", ">", "<=", ">=");

    private Node compare() {
        int line = peek().line;
        Node first = math1();
        List<String> ops = new ArrayList<>();
        List<Node> rest = new ArrayList<>();
        while (true) {
            if (at("OP") && CMP.contains(peek().val)) {
                ops.add(next().val);
            } else if (atName("in")) {
                next();
                ops.add("in");
            } else if (atName("not") && toks.get(p + 1).type.equals("NAME") && toks.get(p + 1).val.equals("in")) {
                p += 2;
                ops.add("notin");
            } else {
                break;
            }
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Node.Compare(line, first, ops, rest);
    }

    private Node math1() {
        Node l = concat();
        while (atOp("+") || atOp("-")) {
            Tok t = next();
            l = new Node.Binary(t.line, t.val, l, concat());
        }
        return l;
    }

    private Node concat() {
        Node l = math2();
        while (atOp("~")) {
            Tok t = next();
            l = new Node.Binary(t.line, "~", l, math2());
        }
        return l;
    }

    private Node math2() {
        Node l = pow();
        while (atOp("*") || atOp("/") || atOp("//") || atOp("%")) {
            Tok t = next();
            l = new Node.Binary(t.line, t.val, l, pow());
        }
        return l;
    }

    private Node pow() {
        Node l = unary(true);
        while (atOp("**")) {
            Tok t = next();
            l = new Node.Binary(t.line, "**", l, unary(true));
        }
        return l;
    }

    private Node unary(boolean withFilter) {
        Node node;
        if (atOp("-") || atOp("+")) {
            Tok t = next();
            node = new Node.Unary(t.line, t.val, unary(false));
        } else {
            node = primary();
        }
        node = postfix(node);
        if (withFilter) {
            node = filterExpr(node);
        }
        return node;
    }

    private Node primary() {
        Tok t = peek();
        switch (t.type) {
            case "NAME" -> {
                next();
                return switch (t.val) {
                    case "true", "True" -> new Node.Literal(t.line, Boolean.TRUE);
                    case "false", "False" -> new Node.Literal(t.line, Boolean.FALSE);
                    case "none", "None" -> new Node.Literal(t.line, null);
                    default -> new Node.Name(t.line, t.val);
                };
            }
            case "STR" -> {
                next();
                StringBuilder sb = new StringBuilder(t.val);
                while (at("STR")) {
                    sb.append(next().val);
                }
                return new Node.Literal(t.line, sb.toString());
            }
            case "INT" -> {
                next();
                try {
                    return new Node.Literal(t.line, Long.parseLong(t.val));
                } catch (NumberFormatException e) {
                    return new Node.Literal(t.line, Double.parseDouble(t.val));
                }
            }
            case "FLOAT" -> {
                next();
                return new Node.Literal(t.line, Double.parseDouble(t.val));
            }
            default -> {
            }
        }
        if (atOp("(")) {
            next();
            if (atOp(")")) {
                next();
                return new Node.ListLit(t.line, List.of(), true);
            }
            Node e = tuple();
            expectOp(")");
            return e;
        }
        if (atOp("[")) {
            next();
            List<Node> items = new ArrayList<>();
            while (!atOp("]")) {
                if (!items.isEmpty()) {
                    expectOp(",");
                    if (atOp("]")) {
                        break;
                    }
                }
                items.add(expression());
            }
            next();
            return new Node.ListLit(t.line, items, false);
        }
        if (atOp("{")) {
            next();
            List<Node> keys = new ArrayList<>();
            List<Node> values = new ArrayList<>();
            while (!atOp("}")) {
                if (!keys.isEmpty()) {
                    expectOp(",");
                    if (atOp("}")) {
                        break;
                    }
                }
                keys.add(expression());
                expectOp(":");
                values.add(expression());
            }
            next();
            return new Node.DictLit(t.line, keys, values);
        }
        throw error(t, "unexpected " + describe(t));
    }

    private Node postfix(Node node) {
        while (true) {
            if (atOp(".")) {
                Tok t = next();
                Tok n = next();
                if (n.type.equals("NAME")) {
                    node = new Node.Attr(t.line, node, n.val);
                } else if (n.type.equals("INT")) {
                    node = new Node.Item(t.line, node, new Node.Literal(n.line, Long.parseLong(n.val)));
                } else {
                    throw error(n, "expected name or number");
                }
            } else if (atOp("[")) {
                Tok t = next();
                node = subscript(t, node);
            } else if (atOp("(")) {
                node = call(node);
            } else {
                return node;
            }
        }
    }

    private Node subscript(Tok t, Node obj) {
        Node[] parts = new Node[3];
        int i = 0;
        boolean slice = false;
        while (!atOp("]")) {
            if (atOp(":")) {
                next();
                slice = true;
                i++;
                if (i > 2) {
                    throw error(peek(), "too many ':' in slice");
                }
                continue;
            }
            parts[i] = expression();
            if (!slice && atOp(",")) {
                throw error(peek(), "tuple subscripts are not supported");
            }
        }
        next();
        if (!slice) {
            if (parts[0] == null) {
                throw error(t, "expected a subscript");
            }
            return new Node.Item(t.line, obj, parts[0]);
        }
        return new Node.Slice(t.line, obj, parts[0], parts[1], parts[2]);
    }

    private Node call(Node fn) {
        Tok t = expectOp("(");
        List<Node> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Node> kwValues = new ArrayList<>();
        parseArgs(args, kwNames, kwValues);
        return new Node.Call(t.line, fn, args, kwNames, kwValues);
    }

    private void parseArgs(List<Node> args, List<String> kwNames, List<Node> kwValues) {
        boolean first = true;
        while (!atOp(")")) {
            if (!first) {
                expectOp(",");
                if (atOp(")")) {
                    break;
                }
            }
            first = false;
            if (at("NAME") && toks.get(p + 1).type.equals("OP") && toks.get(p + 1).val.equals("=")) {
                kwNames.add(next().val);
                next();
                kwValues.add(expression());
            } else {
                if (!kwNames.isEmpty()) {
                    throw error(peek(), "positional argument after keyword argument");
                }
                args.add(expression());
            }
        }
        next();
    }

    private Node filterCall(Node operand) {
        Tok t = peek();
        StringBuilder name = new StringBuilder(expectName());
        while (atOp(".")) {
            next();
            name.append('.').append(expectName());
        }
        List<Node> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Node> kwValues = new ArrayList<>();
        if (atOp("(")) {
            next();
            parseArgs(args, kwNames, kwValues);
        }
        return new Node.Filter(t.line, operand, name.toString(), args, kwNames, kwValues);
    }

    private Node filterExpr(Node node) {
        while (true) {
            if (atOp("|")) {
                next();
                node = filterCall(node);
            } else if (atName("is")) {
                Tok t = next();
                boolean negated = false;
                if (atName("not")) {
                    next();
                    negated = true;
                }
                String name = expectName();
                while (atOp(".")) {
                    next();
                    name += "." + expectName();
                }
                List<Node> args = new ArrayList<>();
                if (atOp("(")) {
                    next();
                    List<String> kwn = new ArrayList<>();
                    List<Node> kwv = new ArrayList<>();
                    parseArgs(args, kwn, kwv);
                } else if ((at("NAME") || at("STR") || at("INT") || at("FLOAT") || atOp("[") || atOp("{"))
                        && !(atName("else") || atName("or") || atName("and"))) {
                    if (atName("is")) {
                        throw error(peek(), "You cannot chain multiple tests with is");
                    }
                    args.add(postfix(primary()));
                }
                node = new Node.Test(t.line, node, name, args, negated);
            } else if (atOp("(")) {
                node = call(node);
            } else {
                return node;
            }
        }
    }
}
