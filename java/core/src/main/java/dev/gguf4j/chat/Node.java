package dev.gguf4j.chat;

import java.util.List;

/** The template's syntax tree: statements render text, expressions compute values. */
sealed interface Node {
    int line();

    // ---- statements
    record Text(int line, String text) implements Node {
    }

    record Output(int line, Node expr) implements Node {
    }

    record If(int line, List<Node> conditions, List<List<Node>> bodies, List<Node> orElse) implements Node {
    }

    record For(int line, List<String> targets, Node iterable, Node filter, List<Node> body, List<Node> orElse)
            implements Node {
    }

    /** {@code set a = v}, {@code set a, b = v} or {@code set ns.attr = v} (then {@code attr} is non-null). */
    record Set(int line, List<String> targets, String attr, Node value) implements Node {
    }

    record SetBlock(int line, String target, List<Node> filters, List<Node> body) implements Node {
    }

    record Macro(int line, String name, List<String> params, List<Node> defaults, List<Node> body) implements Node {
    }

    /** {@code filter} blocks; the filters are {@link Filter} nodes whose operand is null. */
    record FilterBlock(int line, List<Node> filters, List<Node> body) implements Node {
    }

    record Break(int line) implements Node {
    }

    record Continue(int line) implements Node {
    }

    // ---- expressions
    record Literal(int line, Object value) implements Node {
    }

    record Name(int line, String name) implements Node {
    }

    record ListLit(int line, List<Node> items, boolean tuple) implements Node {
    }

    record DictLit(int line, List<Node> keys, List<Node> values) implements Node {
    }

    record Attr(int line, Node obj, String name) implements Node {
    }

    record Item(int line, Node obj, Node key) implements Node {
    }

    record Slice(int line, Node obj, Node start, Node stop, Node step) implements Node {
    }

    record Call(int line, Node fn, List<Node> args, List<String> kwNames, List<Node> kwValues) implements Node {
    }

    record Filter(int line, Node operand, String name, List<Node> args, List<String> kwNames, List<Node> kwValues)
            implements Node {
    }

    record Test(int line, Node operand, String name, List<Node> args, boolean negated) implements Node {
    }

    record Unary(int line, String op, Node operand) implements Node {
    }

    record Binary(int line, String op, Node left, Node right) implements Node {
    }

    record Compare(int line, Node first, List<String> ops, List<Node> rest) implements Node {
    }

    record CondExpr(int line, Node then, Node condition, Node orElse) implements Node {
    }
}
