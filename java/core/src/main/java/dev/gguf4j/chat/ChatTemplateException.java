package dev.gguf4j.chat;

import dev.gguf4j.Gguf4jException;

/**
 * A chat template failed: it does not parse ({@code TemplateSyntaxError}, with line and column), it raised
 * ({@code raise_exception} gives {@code TemplateError} with the template's own message), or it did something Python
 * would refuse ({@code TypeError}, {@code UndefinedError}, ...). {@link #getMessage()} reads as transformers reports
 * the same failure: {@code "TypeError: 'NoneType' object is not iterable"}.
 */
public class ChatTemplateException extends Gguf4jException {
    private final String errorType;
    private final String templateMessage;

    public ChatTemplateException(String errorType, String templateMessage) {
        super(errorType + ": " + templateMessage);
        this.errorType = errorType;
        this.templateMessage = templateMessage;
    }

    /** The Python/Jinja exception class name transformers would report, e.g. {@code TemplateError}, {@code TypeError}. */
    public String errorType() {
        return errorType;
    }

    /** The message alone, without the type: for {@code raise_exception(msg)} exactly {@code msg}. */
    public String templateMessage() {
        return templateMessage;
    }

    /** True when the template itself called {@code raise_exception}. */
    public boolean raisedByTemplate() {
        return errorType.equals("TemplateError");
    }

    /** The template does not parse; the message names the line and column. */
    public static final class Syntax extends ChatTemplateException {
        private final int line;
        private final int column;

        public Syntax(String message, int line, int column) {
            super("TemplateSyntaxError", message + " (line " + line + ", column " + column + ")");
            this.line = line;
            this.column = column;
        }

        public int line() {
            return line;
        }

        public int column() {
            return column;
        }
    }
}
