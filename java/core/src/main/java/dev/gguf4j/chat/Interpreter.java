package dev.gguf4j.chat;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Evaluates a parsed template with Jinja2/Python semantics as transformers' sandboxed environment has them. */
final class Interpreter {
    private static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return new Py.Undefined(name);
        }
    }

    private static final class BreakSignal extends RuntimeException {
        BreakSignal() {
            super(null, null, false, false);
        }
    }

    private static final class ContinueSignal extends RuntimeException {
        ContinueSignal() {
            super(null, null, false, false);
        }
    }

    private static final BreakSignal BREAK = new BreakSignal();
    private static final ContinueSignal CONTINUE = new ContinueSignal();

    private Interpreter() {
    }

    static String render(List<Node> body, Map<String, ?> variables) {
        Scope globals = new Scope(null);
        globals.vars.put("raise_exception", (Py.Callable) (a, kw) -> {
            throw new PyError("TemplateError", a.isEmpty() ? "" : Py.str(a.get(0)));
        });
        globals.vars.put("strftime_now", (Py.Callable) (a, kw) -> strftime(Py.str(arg(a, kw, 0, "format")),
                LocalDateTime.now()));
        globals.vars.put("namespace", (Py.Callable) (a, kw) -> {
            Py.Namespace ns = new Py.Namespace();
            if (!a.isEmpty() && a.get(0) instanceof Map<?, ?> m) {
                m.forEach((k, v) -> ns.attrs.put(Py.str(k), v));
            }
            ns.attrs.putAll(kw);
            return ns;
        });
        globals.vars.put("range", (Py.Callable) (a, kw) -> {
            long start = 0;
            long stop;
            long step = 1;
            if (a.size() == 1) {
                stop = Py.toLong(a.get(0));
            } else {
                start = Py.toLong(a.get(0));
                stop = Py.toLong(a.get(1));
                step = a.size() > 2 ? Py.toLong(a.get(2)) : 1;
            }
            List<Object> r = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                r.add(i);
            }
            return r;
        });
        globals.vars.put("dict", (Py.Callable) (a, kw) -> new LinkedHashMap<>(kw));
        Scope root = new Scope(globals);
        root.vars.putAll(variables);
        StringBuilder out = new StringBuilder();
        new Interpreter().exec(body, root, out);
        return out.toString();
    }

    private static Object arg(List<Object> a, Map<String, Object> kw, int i, String name) {
        if (i < a.size()) {
            return a.get(i);
        }
        if (kw.containsKey(name)) {
            return kw.get(name);
        }
        throw PyError.type("missing required argument '" + name + "'");
    }

    private static Object argOr(List<Object> a, Map<String, Object> kw, int i, String name, Object dflt) {
        return i < a.size() ? a.get(i) : kw.containsKey(name) ? kw.get(name) : dflt;
    }

    // ------------------------------------------------------------------ statements

    private void exec(List<Node> body, Scope scope, StringBuilder out) {
        for (Node n : body) {
            exec(n, scope, out);
        }
    }

    private void exec(Node n, Scope scope, StringBuilder out) {
        switch (n) {
            case Node.Text t -> out.append(t.text());
            case Node.Output o -> out.append(Py.str(eval(o.expr(), scope)));
            case Node.If i -> {
                for (int k = 0; k < i.conditions().size(); k++) {
                    if (Py.truthy(eval(i.conditions().get(k), scope))) {
                        exec(i.bodies().get(k), scope, out);
                        return;
                    }
                }
                exec(i.orElse(), scope, out);
            }
            case Node.For f -> execFor(f, scope, out);
            case Node.Set s -> {
                Object v = eval(s.value(), scope);
                if (s.attr() != null) {
                    Object ns = scope.lookup(s.targets().get(0));
                    if (!(ns instanceof Py.Namespace nsp)) {
                        throw new PyError("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
                    }
                    nsp.attrs.put(s.attr(), v);
                } else {
                    assign(scope, s.targets(), v);
                }
            }
            case Node.SetBlock s -> {
                StringBuilder sb = new StringBuilder();
                exec(s.body(), scope, sb);
                Object v = sb.toString();
                for (Node f : s.filters()) {
                    v = applyFilter((Node.Filter) f, v, scope);
                }
                scope.vars.put(s.target(), v);
            }
            case Node.Macro m -> scope.vars.put(m.name(), macro(m, scope));
            case Node.FilterBlock fb -> {
                StringBuilder sb = new StringBuilder();
                exec(fb.body(), scope, sb);
                Object v = sb.toString();
                for (Node f : fb.filters()) {
                    v = applyFilter((Node.Filter) f, v, scope);
                }
                out.append(Py.str(v));
            }
            case Node.Break b -> throw BREAK;
            case Node.Continue c -> throw CONTINUE;
            default -> throw new IllegalStateException("not a statement: " + n);
        }
    }

    private static void assign(Scope scope, List<String> targets, Object v) {
        if (targets.size() == 1) {
            scope.vars.put(targets.get(0), v);
            return;
        }
        List<Object> items = Py.iterate(v);
        if (items.size() != targets.size()) {
            throw new PyError("ValueError", items.size() < targets.size()
                    ? "not enough values to unpack (expected " + targets.size() + ", got " + items.size() + ")"
                    : "too many values to unpack (expected " + targets.size() + ")");
        }
        for (int i = 0; i < targets.size(); i++) {
            scope.vars.put(targets.get(i), items.get(i));
        }
    }

    private void execFor(Node.For f, Scope scope, StringBuilder out) {
        List<Object> all = Py.iterate(eval(f.iterable(), scope));
        List<Object> items = all;
        if (f.filter() != null) {
            items = new ArrayList<>();
            for (Object x : all) {
                Scope s = new Scope(scope);
                assign(s, f.targets(), x);
                if (Py.truthy(eval(f.filter(), s))) {
                    items.add(x);
                }
            }
        }
        if (items.isEmpty()) {
            exec(f.orElse(), scope, out);
            return;
        }
        int n = items.size();
        for (int i = 0; i < n; i++) {
            Scope s = new Scope(scope);
            Map<String, Object> loop = new LinkedHashMap<>();
            loop.put("index", (long) i + 1);
            loop.put("index0", (long) i);
            loop.put("revindex", (long) (n - i));
            loop.put("revindex0", (long) (n - i - 1));
            loop.put("first", i == 0);
            loop.put("last", i == n - 1);
            loop.put("length", (long) n);
            loop.put("depth", 1L);
            loop.put("depth0", 0L);
            loop.put("previtem", i > 0 ? items.get(i - 1) : new Py.Undefined("previtem"));
            loop.put("nextitem", i + 1 < n ? items.get(i + 1) : new Py.Undefined("nextitem"));
            final int idx = i;
            loop.put("cycle", (Py.Callable) (a, kw) -> a.isEmpty() ? new Py.Undefined("cycle") : a.get(idx % a.size()));
            s.vars.put("loop", new LoopObject(loop));
            assign(s, f.targets(), items.get(i));
            try {
                exec(f.body(), s, out);
            } catch (BreakSignal b) {
                break;
            } catch (ContinueSignal c) {
                // next item
            }
        }
    }

    /** The {@code loop} variable: attribute access only. */
    record LoopObject(Map<String, Object> attrs) {
    }

    private Py.Callable macro(Node.Macro m, Scope defining) {
        return (a, kw) -> {
            Scope s = new Scope(defining);
            for (int i = 0; i < m.params().size(); i++) {
                String p = m.params().get(i);
                Object v;
                if (i < a.size()) {
                    v = a.get(i);
                } else if (kw.containsKey(p)) {
                    v = kw.get(p);
                } else if (m.defaults().get(i) != null) {
                    v = eval(m.defaults().get(i), s);
                } else {
                    v = new Py.Undefined(p);
                }
                s.vars.put(p, v);
            }
            if (a.size() > m.params().size()) {
                throw PyError.type("macro '" + m.name() + "' takes not more than " + m.params().size()
                        + " argument(s)");
            }
            StringBuilder sb = new StringBuilder();
            exec(m.body(), s, sb);
            return sb.toString();
        };
    }

    // ------------------------------------------------------------------ expressions

    private Object eval(Node n, Scope scope) {
        switch (n) {
            case Node.Literal l -> {
                return l.value();
            }
            case Node.Name nm -> {
                return scope.lookup(nm.name());
            }
            case Node.ListLit l -> {
                List<Object> items = new ArrayList<>();
                for (Node x : l.items()) {
                    items.add(eval(x, scope));
                }
                return l.tuple() ? new Py.Tuple(items) : items;
            }
            case Node.DictLit d -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    m.put(eval(d.keys().get(i), scope), eval(d.values().get(i), scope));
                }
                return m;
            }
            case Node.Attr a -> {
                return getAttr(eval(a.obj(), scope), a.name());
            }
            case Node.Item it -> {
                return getItem(eval(it.obj(), scope), eval(it.key(), scope));
            }
            case Node.Slice sl -> {
                return slice(eval(sl.obj(), scope), sl.start() == null ? null : eval(sl.start(), scope),
                        sl.stop() == null ? null : eval(sl.stop(), scope),
                        sl.step() == null ? null : eval(sl.step(), scope));
            }
            case Node.Call c -> {
                Object fn = eval(c.fn(), scope);
                List<Object> args = new ArrayList<>();
                for (Node x : c.args()) {
                    args.add(eval(x, scope));
                }
                Map<String, Object> kw = new LinkedHashMap<>();
                for (int i = 0; i < c.kwNames().size(); i++) {
                    kw.put(c.kwNames().get(i), eval(c.kwValues().get(i), scope));
                }
                if (fn instanceof Py.Callable f) {
                    return f.call(args, kw);
                }
                if (fn instanceof Py.Undefined u) {
                    throw u.error();
                }
                throw PyError.type("'" + Py.typeName(fn) + "' object is not callable");
            }
            case Node.Filter f -> {
                return applyFilter(f, eval(f.operand(), scope), scope);
            }
            case Node.Test t -> {
                Object v = eval(t.operand(), scope);
                List<Object> args = new ArrayList<>();
                for (Node x : t.args()) {
                    args.add(eval(x, scope));
                }
                return test(t.name(), v, args) != t.negated();
            }
            case Node.Unary u -> {
                Object v = eval(u.operand(), scope);
                switch (u.op()) {
                    case "not" -> {
                        return !Py.truthy(v);
                    }
                    case "-" -> {
                        if (v instanceof Py.Undefined un) {
                            throw un.error();
                        }
                        if (v instanceof Double d) {
                            return -d;
                        }
                        if (Py.isInt(v)) {
                            return -Py.toLong(v);
                        }
                        throw PyError.type("bad operand type for unary -: '" + Py.typeName(v) + "'");
                    }
                    default -> {
                        return v;
                    }
                }
            }
            case Node.Binary b -> {
                if (b.op().equals("and")) {
                    Object l = eval(b.left(), scope);
                    return Py.truthy(l) ? eval(b.right(), scope) : l;
                }
                if (b.op().equals("or")) {
                    Object l = eval(b.left(), scope);
                    return Py.truthy(l) ? l : eval(b.right(), scope);
                }
                return binary(b.op(), eval(b.left(), scope), eval(b.right(), scope));
            }
            case Node.Compare c -> {
                Object l = eval(c.first(), scope);
                for (int i = 0; i < c.ops().size(); i++) {
                    Object r = eval(c.rest().get(i), scope);
                    boolean ok = switch (c.ops().get(i)) {
                        case "==" -> Py.eq(l, r);
                        case "!=" -> !Py.eq(l, r);
                        case "<" -> Py.compare(l, r, "<") < 0;
                        case ">" -> Py.compare(l, r, ">") > 0;
                        case "<=" -> Py.compare(l, r, "<=") <= 0;
                        case ">=" -> Py.compare(l, r, ">=") >= 0;
                        case "in" -> Py.contains(r, l);
                        default -> !Py.contains(r, l);
                    };
                    if (!ok) {
                        return false;
                    }
                    l = r;
                }
                return true;
            }
            case Node.CondExpr c -> {
                if (Py.truthy(eval(c.condition(), scope))) {
                    return eval(c.then(), scope);
                }
                return c.orElse() == null ? new Py.Undefined("the inline if-expression") : eval(c.orElse(), scope);
            }
            default -> throw new IllegalStateException("not an expression: " + n);
        }
    }

    private static Object binary(String op, Object l, Object r) {
        if (op.equals("~")) {
            return Py.str(l) + Py.str(r);
        }
        if (l instanceof Py.Undefined u) {
            throw u.error();
        }
        if (r instanceof Py.Undefined u) {
            throw u.error();
        }
        if (Py.isNumber(l) && Py.isNumber(r)) {
            boolean ints = Py.isInt(l) && Py.isInt(r);
            switch (op) {
                case "+" -> {
                    return ints ? (Object) (Py.toLong(l) + Py.toLong(r)) : Py.toDouble(l) + Py.toDouble(r);
                }
                case "-" -> {
                    return ints ? (Object) (Py.toLong(l) - Py.toLong(r)) : Py.toDouble(l) - Py.toDouble(r);
                }
                case "*" -> {
                    return ints ? (Object) (Py.toLong(l) * Py.toLong(r)) : Py.toDouble(l) * Py.toDouble(r);
                }
                case "/" -> {
                    if (Py.toDouble(r) == 0) {
                        throw new PyError("ZeroDivisionError", "division by zero");
                    }
                    return Py.toDouble(l) / Py.toDouble(r);
                }
                case "//" -> {
                    if (Py.toDouble(r) == 0) {
                        throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
                    }
                    return ints ? (Object) Math.floorDiv(Py.toLong(l), Py.toLong(r))
                            : Math.floor(Py.toDouble(l) / Py.toDouble(r));
                }
                case "%" -> {
                    if (Py.toDouble(r) == 0) {
                        throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
                    }
                    if (ints) {
                        return Math.floorMod(Py.toLong(l), Py.toLong(r));
                    }
                    double a = Py.toDouble(l);
                    double b = Py.toDouble(r);
                    return a - Math.floor(a / b) * b;
                }
                case "**" -> {
                    if (ints && Py.toLong(r) >= 0) {
                        long x = 1;
                        for (long i = 0; i < Py.toLong(r); i++) {
                            x *= Py.toLong(l);
                        }
                        return x;
                    }
                    return Math.pow(Py.toDouble(l), Py.toDouble(r));
                }
                default -> throw new IllegalStateException(op);
            }
        }
        if (op.equals("+")) {
            if (l instanceof String a && r instanceof String b) {
                return a + b;
            }
            if (l instanceof List<?> a && r instanceof List<?> b && !(l instanceof Py.Tuple) == !(r instanceof Py.Tuple)) {
                List<Object> x = new ArrayList<>(a);
                x.addAll(b);
                return l instanceof Py.Tuple ? new Py.Tuple(x) : x;
            }
            if (l instanceof String) {
                throw PyError.type("can only concatenate str (not \"" + Py.typeName(r) + "\") to str");
            }
            if (l instanceof List && !(l instanceof Py.Tuple)) {
                throw PyError.type("can only concatenate list (not \"" + Py.typeName(r) + "\") to list");
            }
        }
        if (op.equals("*")) {
            if (l instanceof String s && Py.isInt(r)) {
                return s.repeat((int) Math.max(0, Py.toLong(r)));
            }
            if (r instanceof String s && Py.isInt(l)) {
                return s.repeat((int) Math.max(0, Py.toLong(l)));
            }
            if (l instanceof List<?> a && Py.isInt(r)) {
                List<Object> x = new ArrayList<>();
                for (long i = 0; i < Py.toLong(r); i++) {
                    x.addAll(a);
                }
                return x;
            }
        }
        if (op.equals("%") && l instanceof String fmt) {
            return percentFormat(fmt, r instanceof Py.Tuple t ? t : List.of(r == null ? "None" : r));
        }
        throw PyError.type("unsupported operand type(s) for " + op + ": '" + Py.typeName(l) + "' and '"
                + Py.typeName(r) + "'");
    }

    private static String percentFormat(String fmt, List<?> args) {
        StringBuilder sb = new StringBuilder();
        int ai = 0;
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            switch (d) {
                case '%' -> sb.append('%');
                case 's' -> sb.append(Py.str(args.get(ai++)));
                case 'r' -> sb.append(Py.repr(args.get(ai++)));
                case 'd', 'i' -> sb.append(Py.toLong(args.get(ai++)));
                default -> throw new PyError("ValueError", "unsupported format character '" + d + "'");
            }
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ attributes and items

    static Object getAttr(Object obj, String name) {
        if (obj instanceof Py.Undefined u) {
            throw u.error();
        }
        Object method = method(obj, name);
        if (method != null) {
            return method;
        }
        if (obj instanceof Map<?, ?> m && m.containsKey(name)) {
            return m.get(name);
        }
        if (obj instanceof Py.Namespace ns && ns.attrs.containsKey(name)) {
            return ns.attrs.get(name);
        }
        if (obj instanceof LoopObject lo && lo.attrs().containsKey(name)) {
            return lo.attrs().get(name);
        }
        return Py.Undefined.missing(obj, name);
    }

    static Object getItem(Object obj, Object key) {
        if (obj instanceof Py.Undefined u) {
            throw u.error();
        }
        if (obj instanceof Map<?, ?> m) {
            if (m.containsKey(key)) {
                return m.get(key);
            }
            if (Py.isNumber(key)) {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (Py.eq(e.getKey(), key)) {
                        return e.getValue();
                    }
                }
            }
        } else if ((obj instanceof List || obj instanceof String || obj instanceof Py.Generator) && Py.isInt(key)) {
            if (obj instanceof Py.Generator) {
                throw PyError.type("'generator' object is not subscriptable");
            }
            List<Object> items = Py.iterate(obj);
            long i = Py.toLong(key);
            if (i < 0) {
                i += items.size();
            }
            if (i >= 0 && i < items.size()) {
                return items.get((int) i);
            }
            return Py.Undefined.missing(obj, key);
        }
        if (key instanceof String s) {
            return getAttr(obj, s);
        }
        return Py.Undefined.missing(obj, key);
    }

    private static Object slice(Object obj, Object start, Object stop, Object step) {
        if (obj instanceof Py.Undefined u) {
            throw u.error();
        }
        if (!(obj instanceof List || obj instanceof String)) {
            throw PyError.type("'" + Py.typeName(obj) + "' object is not subscriptable");
        }
        List<Object> items = Py.iterate(obj);
        int n = items.size();
        long st = step == null ? 1 : Py.toLong(step);
        if (st == 0) {
            throw new PyError("ValueError", "slice step cannot be zero");
        }
        long a;
        long b;
        if (st > 0) {
            a = start == null ? 0 : clamp(Py.toLong(start), n, 0, n);
            b = stop == null ? n : clamp(Py.toLong(stop), n, 0, n);
        } else {
            a = start == null ? n - 1 : clamp(Py.toLong(start), n, -1, n - 1);
            b = stop == null ? -1 : clamp(Py.toLong(stop), n, -1, n - 1);
        }
        List<Object> r = new ArrayList<>();
        for (long i = a; st > 0 ? i < b : i > b; i += st) {
            r.add(items.get((int) i));
        }
        if (obj instanceof String) {
            StringBuilder sb = new StringBuilder();
            r.forEach(x -> sb.append((String) x));
            return sb.toString();
        }
        return obj instanceof Py.Tuple ? new Py.Tuple(r) : r;
    }

    private static long clamp(long i, int n, long lo, long hi) {
        if (i < 0) {
            i += n;
        }
        return Math.max(lo, Math.min(hi, i));
    }

    /** Bound methods of str and dict that templates call (the immutable sandbox forbids mutating ones). */
    private static Object method(Object obj, String name) {
        if (obj instanceof String s) {
            return switch (name) {
                case "strip" -> (Py.Callable) (a, kw) -> Py.strip(s, chars(a), true, true);
                case "lstrip" -> (Py.Callable) (a, kw) -> Py.strip(s, chars(a), true, false);
                case "rstrip" -> (Py.Callable) (a, kw) -> Py.strip(s, chars(a), false, true);
                case "upper" -> (Py.Callable) (a, kw) -> s.toUpperCase(Locale.ROOT);
                case "lower" -> (Py.Callable) (a, kw) -> s.toLowerCase(Locale.ROOT);
                case "title" -> (Py.Callable) (a, kw) -> title(s);
                case "capitalize" -> (Py.Callable) (a, kw) -> capitalize(s);
                case "startswith" -> (Py.Callable) (a, kw) -> affix(s, a.get(0), true);
                case "endswith" -> (Py.Callable) (a, kw) -> affix(s, a.get(0), false);
                case "split" -> (Py.Callable) (a, kw) -> split(s, argOr(a, kw, 0, "sep", null),
                        Py.toLong(argOr(a, kw, 1, "maxsplit", -1L)));
                case "replace" -> (Py.Callable) (a, kw) -> replace(s, Py.str(a.get(0)), Py.str(a.get(1)),
                        a.size() > 2 ? Py.toLong(a.get(2)) : -1);
                case "find" -> (Py.Callable) (a, kw) -> (long) s.indexOf(Py.str(a.get(0)));
                case "count" -> (Py.Callable) (a, kw) -> (long) count(s, Py.str(a.get(0)));
                case "join" -> (Py.Callable) (a, kw) -> join(Py.iterate(a.get(0)), s);
                case "splitlines" -> (Py.Callable) (a, kw) -> new ArrayList<Object>(List.of(s.split("\n", -1)));
                case "isdigit" -> (Py.Callable) (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
                case "isspace" -> (Py.Callable) (a, kw) -> !s.isEmpty() && s.chars().allMatch(Py::isSpace);
                default -> null;
            };
        }
        if (obj instanceof Map<?, ?> m) {
            return switch (name) {
                case "get" -> (Py.Callable) (a, kw) -> {
                    Object k = a.get(0);
                    return m.containsKey(k) ? m.get(k) : a.size() > 1 ? a.get(1) : null;
                };
                case "items" -> (Py.Callable) (a, kw) -> items(m);
                case "keys" -> (Py.Callable) (a, kw) -> new ArrayList<Object>(m.keySet());
                case "values" -> (Py.Callable) (a, kw) -> new ArrayList<Object>(m.values());
                default -> null;
            };
        }
        return null;
    }

    private static String chars(List<Object> a) {
        return a.isEmpty() || a.get(0) == null ? null : Py.str(a.get(0));
    }

    private static List<Object> items(Map<?, ?> m) {
        List<Object> r = new ArrayList<>();
        m.forEach((k, v) -> r.add(Py.Tuple.of(k, v)));
        return r;
    }

    private static boolean affix(String s, Object x, boolean prefix) {
        if (x instanceof List<?> l) {
            for (Object o : l) {
                if (affix(s, o, prefix)) {
                    return true;
                }
            }
            return false;
        }
        if (!(x instanceof String t)) {
            throw PyError.type((prefix ? "startswith" : "endswith")
                    + " first arg must be str or a tuple of str, not " + Py.typeName(x));
        }
        return prefix ? s.startsWith(t) : s.endsWith(t);
    }

    private static int count(String s, String t) {
        if (t.isEmpty()) {
            return s.length() + 1;
        }
        int c = 0;
        for (int i = s.indexOf(t); i >= 0; i = s.indexOf(t, i + t.length())) {
            c++;
        }
        return c;
    }

    private static String replace(String s, String old, String neu, long max) {
        if (max < 0) {
            return s.replace(old, neu);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long k = 0; k < max; k++) {
            int i = s.indexOf(old, from);
            if (i < 0) {
                break;
            }
            sb.append(s, from, i).append(neu);
            from = i + old.length();
        }
        return sb.append(s.substring(from)).toString();
    }

    private static List<Object> split(String s, Object sep, long max) {
        List<Object> r = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && Py.isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    break;
                }
                if (max >= 0 && r.size() == max) {
                    r.add(Py.strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !Py.isSpace(s.charAt(j))) {
                    j++;
                }
                r.add(s.substring(i, j));
                i = j;
            }
            return r;
        }
        String t = Py.str(sep);
        if (t.isEmpty()) {
            throw new PyError("ValueError", "empty separator");
        }
        int from = 0;
        while (max < 0 || r.size() < max) {
            int i = s.indexOf(t, from);
            if (i < 0) {
                break;
            }
            r.add(s.substring(from, i));
            from = i + t.length();
        }
        r.add(s.substring(from));
        return r;
    }

    private static String join(List<Object> items, String sep) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            sb.append(i == 0 ? "" : sep).append(Py.str(items.get(i)));
        }
        return sb.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ filters

    private Object applyFilter(Node.Filter f, Object v, Scope scope) {
        List<Object> args = new ArrayList<>();
        for (Node x : f.args()) {
            args.add(eval(x, scope));
        }
        Map<String, Object> kw = new LinkedHashMap<>();
        for (int i = 0; i < f.kwNames().size(); i++) {
            kw.put(f.kwNames().get(i), eval(f.kwValues().get(i), scope));
        }
        return filter(f.name(), v, args, kw);
    }

    private static Object filter(String name, Object v, List<Object> a, Map<String, Object> kw) {
        switch (name) {
            case "tojson" -> {
                Object sep = argOr(a, kw, 2, "separators", null);
                return ChatJson.dumps(v, argOr(a, kw, 1, "indent", null), sep == null ? null : Py.iterate(sep),
                        Py.truthy(argOr(a, kw, 3, "sort_keys", false)));
            }
            case "trim" -> {
                return Py.strip(Py.str(v), a.isEmpty() ? null : Py.str(a.get(0)), true, true);
            }
            case "length", "count" -> {
                return (long) Py.len(v);
            }
            case "list" -> {
                return new ArrayList<>(Py.iterate(v));
            }
            case "lower" -> {
                return Py.str(v).toLowerCase(Locale.ROOT);
            }
            case "upper" -> {
                return Py.str(v).toUpperCase(Locale.ROOT);
            }
            case "capitalize" -> {
                return capitalize(Py.str(v));
            }
            case "title" -> {
                return title(Py.str(v));
            }
            case "string" -> {
                return Py.str(v);
            }
            case "safe", "e", "escape" -> {
                return name.equals("safe") ? v : Py.str(v).replace("&", "&amp;").replace("<", "&lt;")
                        .replace(">", "&gt;").replace("\"", "&#34;").replace("'", "&#39;");
            }
            case "replace" -> {
                return replace(Py.str(v), Py.str(a.get(0)), Py.str(a.get(1)),
                        a.size() > 2 ? Py.toLong(a.get(2)) : Py.toLong(kw.getOrDefault("count", -1L)));
            }
            case "default", "d" -> {
                boolean bool = Py.truthy(argOr(a, kw, 1, "boolean", false));
                if (v instanceof Py.Undefined || (bool && !Py.truthy(v))) {
                    return argOr(a, kw, 0, "default_value", "");
                }
                return v;
            }
            case "items" -> {
                if (v instanceof Py.Undefined) {
                    return List.of();
                }
                if (!(v instanceof Map<?, ?> m)) {
                    throw PyError.type("Can only get item pairs from a mapping.");
                }
                return items(m);
            }
            case "join" -> {
                List<Object> items = Py.iterate(v);
                Object attr = kw.get("attribute");
                if (attr != null) {
                    List<Object> x = new ArrayList<>();
                    for (Object o : items) {
                        x.add(attribute(o, attr));
                    }
                    items = x;
                }
                return join(items, Py.str(argOr(a, kw, 0, "d", "")));
            }
            case "first" -> {
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? new Py.Undefined("first") : items.get(0);
            }
            case "last" -> {
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? new Py.Undefined("last") : items.get(items.size() - 1);
            }
            case "reverse" -> {
                if (v instanceof String s) {
                    return new StringBuilder(s).reverse().toString();
                }
                List<Object> r = new ArrayList<>(Py.iterate(v));
                java.util.Collections.reverse(r);
                return new Py.Generator(r);
            }
            case "unique" -> {
                boolean cs = Py.truthy(argOr(a, kw, 0, "case_sensitive", false));
                Object attr = argOr(a, kw, 1, "attribute", null);
                List<Object> seen = new ArrayList<>();
                List<Object> r = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    Object key = attr == null ? o : attribute(o, attr);
                    if (!cs && key instanceof String s) {
                        key = s.toLowerCase(Locale.ROOT);
                    }
                    boolean dup = false;
                    for (Object k : seen) {
                        dup |= Py.eq(k, key);
                    }
                    if (!dup) {
                        seen.add(key);
                        r.add(o);
                    }
                }
                return new Py.Generator(r);
            }
            case "map" -> {
                List<Object> r = new ArrayList<>();
                if (kw.containsKey("attribute")) {
                    for (Object o : Py.iterate(v)) {
                        Object x = attribute(o, kw.get("attribute"));
                        if (x instanceof Py.Undefined && kw.containsKey("default")) {
                            x = kw.get("default");
                        }
                        r.add(x);
                    }
                } else {
                    if (a.isEmpty()) {
                        throw new PyError("FilterArgumentError", "map requires a filter argument");
                    }
                    String fname = Py.str(a.get(0));
                    List<Object> rest = a.subList(1, a.size());
                    for (Object o : Py.iterate(v)) {
                        r.add(filter(fname, o, rest, kw));
                    }
                }
                return new Py.Generator(r);
            }
            case "select", "reject" -> {
                List<Object> r = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    boolean ok = a.isEmpty() ? Py.truthy(o) : test(Py.str(a.get(0)), o, a.subList(1, a.size()));
                    if (ok == name.equals("select")) {
                        r.add(o);
                    }
                }
                return new Py.Generator(r);
            }
            case "selectattr", "rejectattr" -> {
                List<Object> r = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    Object x = attribute(o, a.get(0));
                    boolean ok = a.size() < 2 ? Py.truthy(x) : test(Py.str(a.get(1)), x, a.subList(2, a.size()));
                    if (ok == name.equals("selectattr")) {
                        r.add(o);
                    }
                }
                return new Py.Generator(r);
            }
            case "int" -> {
                try {
                    return v instanceof String s ? Long.parseLong(s.strip()) : Py.isNumber(v) ? Py.toLong(v)
                            : argOr(a, kw, 0, "default", 0L);
                } catch (NumberFormatException e) {
                    return argOr(a, kw, 0, "default", 0L);
                }
            }
            case "float" -> {
                try {
                    return v instanceof String s ? Double.parseDouble(s.strip()) : Py.isNumber(v) ? Py.toDouble(v)
                            : argOr(a, kw, 0, "default", 0.0);
                } catch (NumberFormatException e) {
                    return argOr(a, kw, 0, "default", 0.0);
                }
            }
            case "abs" -> {
                return v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Py.toLong(v));
            }
            case "sum" -> {
                Object acc = argOr(a, kw, 1, "start", 0L);
                for (Object o : Py.iterate(v)) {
                    Object attr = argOr(a, kw, 0, "attribute", null);
                    acc = binary("+", acc, attr == null ? o : attribute(o, attr));
                }
                return acc;
            }
            case "indent" -> {
                Object w = argOr(a, kw, 0, "width", 4L);
                String pad = w instanceof String s ? s : " ".repeat((int) Py.toLong(w));
                boolean firstLine = Py.truthy(argOr(a, kw, 1, "first", false));
                boolean blank = Py.truthy(argOr(a, kw, 2, "blank", false));
                String[] lines = Py.str(v).split("\n", -1);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < lines.length; i++) {
                    if (i > 0) {
                        sb.append('\n');
                    }
                    boolean doPad = (i > 0 || firstLine) && (blank || !lines[i].isEmpty());
                    sb.append(doPad ? pad : "").append(lines[i]);
                }
                return sb.toString();
            }
            case "format" -> {
                return percentFormat(Py.str(v), a);
            }
            case "wordcount" -> {
                return (long) split(Py.str(v), null, -1).size();
            }
            case "dictsort" -> {
                if (!(v instanceof Map<?, ?> m)) {
                    throw PyError.type("dictsort requires a mapping");
                }
                List<Object> r = items(m);
                r.sort((x, y) -> Py.compare(((List<?>) x).get(0), ((List<?>) y).get(0), "<"));
                return r;
            }
            case "sort" -> {
                List<Object> r = new ArrayList<>(Py.iterate(v));
                Object attr = argOr(a, kw, 2, "attribute", null);
                r.sort((x, y) -> Py.compare(attr == null ? x : attribute(x, attr), attr == null ? y : attribute(y,
                        attr), "<"));
                if (Py.truthy(argOr(a, kw, 0, "reverse", false))) {
                    java.util.Collections.reverse(r);
                }
                return r;
            }
            default -> throw new PyError("TemplateAssertionError", "No filter named '" + name + "'.");
        }
    }

    /** Jinja's attribute getter for map/selectattr/join: dotted paths, integer parts index. */
    private static Object attribute(Object o, Object attr) {
        if (!(attr instanceof String path)) {
            return getItem(o, attr);
        }
        Object x = o;
        for (String part : path.split("\\.")) {
            if (x instanceof Py.Undefined) {
                return x;
            }
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part)
                    : part;
            x = getItem(x, key);
        }
        return x;
    }

    // ------------------------------------------------------------------ tests

    private static boolean test(String name, Object v, List<Object> a) {
        switch (name) {
            case "defined" -> {
                return !(v instanceof Py.Undefined);
            }
            case "undefined" -> {
                return v instanceof Py.Undefined;
            }
            case "none" -> {
                return v == null;
            }
            case "string" -> {
                return v instanceof String;
            }
            case "number" -> {
                return Py.isNumber(v);
            }
            case "integer" -> {
                return v instanceof Long || v instanceof Integer;
            }
            case "float" -> {
                return v instanceof Double;
            }
            case "boolean" -> {
                return v instanceof Boolean;
            }
            case "true" -> {
                return Boolean.TRUE.equals(v);
            }
            case "false" -> {
                return Boolean.FALSE.equals(v);
            }
            case "mapping" -> {
                return v instanceof Map;
            }
            case "iterable" -> {
                return Py.isIterable(v);
            }
            case "sequence" -> {
                return v instanceof List || v instanceof String || v instanceof Map;
            }
            case "callable" -> {
                return v instanceof Py.Callable;
            }
            case "equalto", "eq", "==" -> {
                return Py.eq(v, a.get(0));
            }
            case "ne", "!=" -> {
                return !Py.eq(v, a.get(0));
            }
            case "sameas" -> {
                return v == a.get(0) || (v != null && Py.eq(v, a.get(0)) && (v instanceof Boolean || v == null));
            }
            case "in" -> {
                return Py.contains(a.get(0), v);
            }
            case "gt", ">", "greaterthan" -> {
                return Py.compare(v, a.get(0), ">") > 0;
            }
            case "ge", ">=" -> {
                return Py.compare(v, a.get(0), ">=") >= 0;
            }
            case "lt", "<", "lessthan" -> {
                return Py.compare(v, a.get(0), "<") < 0;
            }
            case "le", "<=" -> {
                return Py.compare(v, a.get(0), "<=") <= 0;
            }
            case "odd" -> {
                return Math.floorMod(Py.toLong(v), 2L) == 1;
            }
            case "even" -> {
                return Math.floorMod(Py.toLong(v), 2L) == 0;
            }
            case "divisibleby" -> {
                return Math.floorMod(Py.toLong(v), Py.toLong(a.get(0))) == 0;
            }
            case "lower" -> {
                String s = Py.str(v);
                return s.equals(s.toLowerCase(Locale.ROOT));
            }
            case "upper" -> {
                String s = Py.str(v);
                return s.equals(s.toUpperCase(Locale.ROOT));
            }
            default -> throw new PyError("TemplateRuntimeError", "No test named '" + name + "'.");
        }
    }

    // ------------------------------------------------------------------ strftime

    /** Python's strftime for the directives templates use (C locale). */
    static String strftime(String fmt, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            switch (d) {
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> sb.append(String.format("%02d", t.getMonthValue()));
                case 'd' -> sb.append(String.format("%02d", t.getDayOfMonth()));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'H' -> sb.append(String.format("%02d", t.getHour()));
                case 'I' -> sb.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format("%02d", t.getMinute()));
                case 'S' -> sb.append(String.format("%02d", t.getSecond()));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> sb.append(String.format("%03d", t.getDayOfYear()));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(d);
            }
        }
        return sb.toString();
    }

}
