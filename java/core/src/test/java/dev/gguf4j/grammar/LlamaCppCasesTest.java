package dev.gguf4j.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gguf4j.chat.ChatJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Cases from llama.cpp c392e50's tests, kept as data in this folder's JSON files (extracted from
 * tests/test-grammar-integration.cpp and tests/test-json-schema-to-grammar.cpp: the grammars and schemas, the
 * strings and llama.cpp's verdicts on them, llama.cpp's expected grammar for each schema).
 */
class LlamaCppCasesTest {
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> cases(String name) throws IOException {
        return (List<Map<String, Object>>) ChatJson.parse(GrammarParserTest.resource(name), name);
    }

    /** Cases whose expected grammar in llama.cpp c392e50 is not the schema's language, and why. */
    static final Map<String, String> LLAMA_CPP_BUGS = Map.of("optional props with empty name",
            "the property \"\" gets the rule name 'root', so llama.cpp's root rule is an integer, not the object");

    /** test-grammar-integration.cpp: each grammar or schema accepts its passing strings and refuses the others. */
    @Test
    @SuppressWarnings("unchecked")
    void integrationCases() throws IOException {
        int grammars = 0;
        int schemas = 0;
        List<String> unsupported = new ArrayList<>();
        for (Map<String, Object> c : cases("llama-grammar-integration-cases.json")) {
            String name = (String) c.get("name");
            Grammar g;
            if (c.get("kind").equals("grammar")) {
                g = Grammar.parse((String) c.get("text"));
                grammars++;
            } else {
                try {
                    g = Grammar.fromJsonSchema((String) c.get("text"));
                } catch (UnsupportedSchemaException e) {
                    unsupported.add(name + " (" + e.feature() + ")");
                    continue;
                }
                schemas++;
            }
            for (String s : (List<String>) c.get("accept")) {
                assertTrue(g.matches(s), name + ": should accept " + s + "\n" + g);
            }
            for (String s : (List<String>) c.get("reject")) {
                assertTrue(!g.matches(s), name + ": should reject " + s + "\n" + g);
            }
        }
        System.out.println("llama.cpp integration cases: " + grammars + " grammars, " + schemas
                + " schemas checked; schemas with unsupported features: " + unsupported);
        assertEquals(11, grammars);
        assertTrue(schemas >= 20, "only " + schemas + " schema cases ran; unsupported: " + unsupported);
    }

    /**
     * test-json-schema-to-grammar.cpp: llama.cpp's expected grammar for each schema parses here; a schema llama.cpp
     * refuses is refused here; and for each schema converted here, random sentences of llama.cpp's grammar match
     * ours and ours match llama.cpp's (the same language, sampled), and ours validate against the schema.
     */
    @Test
    void conversionCases() throws IOException {
        SplittableRandom r = new SplittableRandom(7);
        int compared = 0;
        List<String> unsupported = new ArrayList<>();
        for (Map<String, Object> c : cases("llama-json-schema-to-grammar-cases.json")) {
            String name = (String) c.get("name");
            String schema = (String) c.get("schema");
            if (c.get("status").equals("FAILURE")) {
                assertThrows(GrammarException.class, () -> Grammar.fromJsonSchema(schema), name);
                continue;
            }
            Grammar expected = Grammar.parse((String) c.get("grammar"));
            if (LLAMA_CPP_BUGS.containsKey(name)) {
                continue; // its expected grammar parses (checked above); the language is not the schema's
            }
            Grammar ours;
            try {
                ours = Grammar.fromJsonSchema(schema);
            } catch (UnsupportedSchemaException e) {
                unsupported.add(name + " (" + e.feature() + ")");
                continue;
            }
            MiniSchemaValidator validator = new MiniSchemaValidator(schema);
            for (int i = 0; i < 12; i++) {
                String s = Sentences.sample(expected, r, 300);
                // ours may be stricter only where llama.cpp's sentence does not validate (e.g. "-08" for max -5)
                if (s != null && !ours.matches(s) && validator.validate(s) == null) {
                    fail(name + ": llama.cpp's grammar produced " + s + " which ours refuses:\n" + ours);
                }
                String t = Sentences.sample(ours, r, 300);
                if (t != null) {
                    if (!expected.matches(t)) {
                        fail(name + ": our grammar produced " + t + " which llama.cpp's refuses:\n" + ours);
                    }
                    assertNull(validator.validate(t), name + ": " + t);
                }
            }
            compared++;
        }
        System.out.println("llama.cpp conversion cases: " + compared + " compared; unsupported: " + unsupported);
        assertTrue(compared >= 30, "only " + compared + " compared; unsupported: " + unsupported);
    }
}
