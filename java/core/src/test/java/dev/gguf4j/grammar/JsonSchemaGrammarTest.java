package dev.gguf4j.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** JSON Schema to grammar: what is refused (path and keyword named), and sampled sentences that validate. */
class JsonSchemaGrammarTest {
    @ParameterizedTest
    @CsvSource(delimiterString = "~~", quoteCharacter = '`', value = {
            "{\"type\": \"string\", \"pattern\": \"^a+$\"}~~#~~pattern",
            "{\"properties\": {\"a\": {\"type\": \"number\", \"minimum\": 0}}}~~#/properties/a~~minimum",
            "{\"properties\": {\"a/b\": {\"not\": {}}}}~~#/properties/a~1b~~not",
            "{\"type\": \"array\", \"items\": {\"type\": \"integer\"}, \"uniqueItems\": true}~~#~~uniqueItems",
            "{\"$defs\": {\"x\": {\"type\": \"string\", \"format\": \"email\"}}, \"$ref\": \"#/$defs/x\"}~~#/$defs/x/format~~format",
            "{\"$ref\": \"https://example.com/s.json\"}~~#/$ref~~$ref",
            "{\"$ref\": \"#/$defs/missing\"}~~#/$ref~~$ref",
            "{\"type\": \"thing\"}~~#/type~~type",
            "{\"allOf\": [{\"type\": \"object\"}]}~~#~~allOf",
            "{\"type\": \"array\", \"minItems\": 3, \"maxItems\": 2}~~#/maxItems~~maxItems",
            "{\"type\": \"integer\", \"minimum\": 5, \"maximum\": 4}~~#~~minimum",
            "false~~#~~false",
    })
    void unsupportedFeaturesNameThePathAndKeyword(String schema, String path, String feature) {
        UnsupportedSchemaException e = assertThrows(UnsupportedSchemaException.class,
                () -> Grammar.fromJsonSchema(schema));
        assertEquals(path, e.path(), e.getMessage());
        assertEquals(feature, e.feature(), e.getMessage());
        assertTrue(e.getMessage().startsWith("JSON schema: " + path + ": "), e.getMessage());
    }

    @Test
    void malformedJsonIsAnError() {
        GrammarException e = assertThrows(GrammarException.class, () -> Grammar.fromJsonSchema("{\"type\": }"));
        assertTrue(e.getMessage().contains("line 1, column 10"), e.getMessage());
    }

    @Test
    void sampledSentencesValidate() {
        String[] schemas = {
            "{\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"string\", \"format\": \"uuid\"},"
                    + " \"when\": {\"type\": \"string\", \"format\": \"date-time\"}, \"at\": {\"format\": \"time\"},"
                    + " \"n\": {\"type\": \"integer\", \"exclusiveMinimum\": -20, \"maximum\": 1234},"
                    + " \"x\": {\"type\": [\"number\", \"null\"]}, \"k\": {\"const\": {\"a\": [1, \"\\\\\\\"\"]}}},"
                    + " \"required\": [\"id\", \"n\"], \"additionalProperties\": {\"type\": \"boolean\"}}",
            "{\"$defs\": {\"node\": {\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"integer\"},"
                    + " \"kids\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/node\"}, \"maxItems\": 2}},"
                    + " \"required\": [\"v\"]}}, \"$ref\": \"#/$defs/node\"}",
            "{\"oneOf\": [{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}, {\"type\": \"array\","
                    + " \"prefixItems\": [{\"type\": \"boolean\"}, {\"enum\": [\"x\", 1, null]}]}]}",
            "{\"type\": \"array\", \"items\": {\"type\": \"integer\", \"minimum\": -5, \"maximum\": 5},"
                    + " \"minItems\": 2, \"maxItems\": 4}",
        };
        SplittableRandom r = new SplittableRandom(1);
        for (String schema : schemas) {
            Grammar g = Grammar.fromJsonSchema(schema);
            MiniSchemaValidator v = new MiniSchemaValidator(schema);
            int n = 0;
            for (int i = 0; i < 60; i++) {
                String s = Sentences.sample(g, r, 400);
                if (s != null) {
                    assertNull(v.validate(s), s + "\n" + g);
                    n++;
                }
            }
            assertTrue(n > 20, schema);
        }
        Grammar ints = Grammar.fromJsonSchema(schemas[3]);
        assertTrue(ints.matches("[-5, 0, 5]"));
        assertFalse(ints.matches("[-6, 0]"));
        assertFalse(ints.matches("[-0, 1]"));
        assertFalse(ints.matches("[1]"));
        assertFalse(ints.matches("[1,2,3,4,5]"));
    }
}
