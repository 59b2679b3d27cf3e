package dev.gguf4j.grammar;

/**
 * A JSON Schema that cannot be turned into a grammar: the message names the schema path (a JSON Pointer such as
 * {@code #/properties/tags}) and the feature (keyword or value) that is not supported, or says the schema is not
 * valid JSON.
 */
public final class UnsupportedSchemaException extends GrammarException {
    private final String path;
    private final String feature;

    public UnsupportedSchemaException(String path, String feature, String message) {
        super("JSON schema: " + path + ": " + message);
        this.path = path;
        this.feature = feature;
    }

    /** Where in the schema: a JSON Pointer, {@code #} for the root. */
    public String path() {
        return path;
    }

    /** The keyword (or value) not supported. */
    public String feature() {
        return feature;
    }
}
