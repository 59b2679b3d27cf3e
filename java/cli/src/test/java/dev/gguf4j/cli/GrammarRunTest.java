package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gguf4j run --grammar / --grammar-file / --json-schema} on the bundled model, and their errors. */
class GrammarRunTest {
    @TempDir
    Path tmp;

    @Test
    void jsonSchemaInlineAndFromAFile() throws Exception {
        String schema = "{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\", \"maxLength\": 8},"
                + " \"n\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 9}}, \"required\": [\"name\", \"n\"]}";
        Path f = tmp.resolve("schema.json");
        Files.writeString(f, schema);
        for (String value : List.of(schema, f.toString())) {
            MainTest.Result r = MainTest.run("run", "-p", "Tom", "-n", "200", "--seed", "3", "-t", "1",
                    "--json-schema", value);
            assertEquals(0, r.status(), r.err());
            assertTrue(r.err().contains("finish reason stop"), r.err());
            String json = r.out().substring("Tom".length()).strip();
            Map<?, ?> m = assertInstanceOf(Map.class, ChatJson.parse(json, "output"), json);
            assertEquals(List.of("name", "n"), List.copyOf(m.keySet()), json);
            assertTrue(((String) m.get("name")).length() <= 8, json);
            long n = (Long) m.get("n");
            assertTrue(n >= 1 && n <= 9, json);
        }
    }

    @Test
    void grammarInlineAndFromAFile() throws Exception {
        String g = "root ::= (\"yes\" | \"no\") \", \" [a-z]{2,6} \".\"";
        Path f = tmp.resolve("g.gbnf");
        Files.writeString(f, g);
        for (List<String> flag : List.of(List.of("--grammar", g), List.of("--grammar-file", f.toString()))) {
            MainTest.Result r = MainTest.run("run", "-p", "Q:", "-n", "50", "--temp", "0", "-t", "1", flag.get(0),
                    flag.get(1));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().strip().matches("Q:(yes|no), [a-z]{2,6}\\."), r.out());
        }
    }

    @Test
    void badGrammarsAndSchemasAreOneLineErrors() throws Exception {
        MainTest.Result r = MainTest.run("run", "-p", "x", "--grammar", "root ::= \"a\" | (\"b\"");
        assertEquals(2, r.status(), r.err());
        assertEquals("gguf4j: run: --grammar: grammar: line 1, column 20: expected ')' to close the '(' at line 1,"
                + " column 16, found the end of the grammar", r.err().strip());
        Path f = tmp.resolve("bad.gbnf");
        Files.writeString(f, "root ::= item+\n\nitem ::= [a-z\n");
        r = MainTest.run("run", "-p", "x", "--grammar-file", f.toString());
        assertEquals(1, r.status(), r.err());
        assertEquals("gguf4j: error: --grammar-file " + f + ": grammar: line 3, column 10: unterminated character"
                + " class (no closing ']')", r.err().strip());
        r = MainTest.run("run", "-p", "x", "--json-schema", "{\"properties\": {\"a\": {\"type\": \"string\","
                + " \"pattern\": \"^x$\"}}}");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().startsWith("gguf4j: run: --json-schema: JSON schema: #/properties/a: 'pattern' is not"
                + " supported"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        r = MainTest.run("run", "-p", "x", "--json-schema", tmp.resolve("missing.json").toString());
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("missing.json"), r.err());
        r = MainTest.run("run", "-p", "x", "--grammar", "root ::= \"a\"", "--json-schema", "{}");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("only one of --grammar, --grammar-file and --json-schema"), r.err());
    }
}
