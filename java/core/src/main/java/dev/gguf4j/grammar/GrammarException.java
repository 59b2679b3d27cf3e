package dev.gguf4j.grammar;

import dev.gguf4j.Gguf4jException;

/**
 * A grammar or JSON schema that cannot be used for constrained sampling: see {@link GrammarSyntaxException} (a
 * GBNF text that does not parse) and {@link UnsupportedSchemaException} (a JSON Schema feature that cannot be
 * turned into a grammar).
 */
public class GrammarException extends Gguf4jException {
    public GrammarException(String message) {
        super(message);
    }
}
