package dev.gguf4j.grammar;

/**
 * A GBNF grammar that does not parse (or cannot be used: an undefined rule, no root rule, left recursion). The
 * message names the line and column (1-based, counted in characters) and what was expected there.
 */
public final class GrammarSyntaxException extends GrammarException {
    private final int line;
    private final int column;

    public GrammarSyntaxException(int line, int column, String message) {
        super("grammar: line " + line + ", column " + column + ": " + message);
        this.line = line;
        this.column = column;
    }

    /** 1-based line of the error. */
    public int line() {
        return line;
    }

    /** 1-based column (in characters) of the error. */
    public int column() {
        return column;
    }
}
