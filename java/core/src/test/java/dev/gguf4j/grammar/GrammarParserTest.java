package dev.gguf4j.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GBNF parsing: llama.cpp's grammar files, our own grammars with accept/reject strings, and the errors. */
class GrammarParserTest {
    static String resource(String name) throws IOException {
        try (InputStream in = GrammarParserTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Every {@code grammars/*.gbnf} of llama.cpp (c392e50) parses. The files are llama.cpp's and not in this
     * repository: {@code -Dgguf4j.llama.grammars=DIR} (e.g. a llama.cpp checkout's grammars folder) runs this test.
     */
    @Test
    void llamaCppGrammarFilesParse() throws IOException {
        String dir = System.getProperty("gguf4j.llama.grammars");
        Assumptions.assumeTrue(dir != null, "llama.cpp's grammars/*.gbnf not given: run with"
                + " -Dgguf4j.llama.grammars=/path/to/llama.cpp/grammars");
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of(dir))) {
            files = s.filter(p -> p.toString().endsWith(".gbnf")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no .gbnf files in " + dir);
        for (Path f : files) {
            Grammar g = Grammar.parse(Files.readString(f));
            assertEquals("root", g.rootRule(), f.toString());
        }
        // and they constrain: a sample sentence of each (written for these files) matches, a broken one does not
        for (String[] c : new String[][] {
                {"json.gbnf", "{\"a\": [1, -2.5e3, true, null, \"x\\u00e9\"]}", "{\"a\": [1,]}"},
                {"json_arr.gbnf", "[\n{\"a\": 1},\n\"b\"]", "[{\"a\": 1}]"},
                {"arithmetic.gbnf", "1+2*(y-3)= x\n", "x = 1+\n"},
                {"chess.gbnf", "1. e4 e5\n2. Nf3 Nc6\n", "1. e4 e5\n"},
                {"list.gbnf", "- one\n- two\n", "- one"},
                {"japanese.gbnf", "こんにちは 世界", "hello"},
                {"english.gbnf", "Hello, world!", "Hello  world"},
                {"c.gbnf", "int main(){return 0;}", "int main(){return 0}"}}) {
            Path f = Path.of(dir, c[0]);
            if (Files.exists(f)) {
                Grammar g = Grammar.parse(Files.readString(f));
                assertTrue(g.matches(c[1]), c[0] + " should match " + c[1]);
                assertFalse(g.matches(c[2]), c[0] + " should not match " + c[2]);
            }
        }
    }

    @Test
    void ownJsonGrammar() throws IOException {
        Grammar g = Grammar.parse(resource("json.gbnf"));
        for (String ok : List.of("{}", " [ ] ", "0", "-0.5e+10", "\"\\u00E9\\n\"", "{\"a\":{\"b\":[1,2,{}]}}",
                "\"日本語\"", "[true,false,null]")) {
            assertTrue(g.matches(ok), ok);
        }
        for (String bad : List.of("{", "01", "[1,]", "{\"a\"}", "\"\\x\"", "'a'", "\"a\nb\"", "tru", "1.", "-")) {
            assertFalse(g.matches(bad), bad);
        }
    }

    @Test
    void ownArithmeticGrammar() throws IOException {
        Grammar g = Grammar.parse(resource("arithmetic.gbnf"));
        assertTrue(g.matches("x = 1 + 2\n"));
        assertTrue(g.matches("area = (w+1)*h/2\ny = x\n"));
        assertFalse(g.matches("x = 1 +\n"));
        assertFalse(g.matches("x = 1 + 2"));
        assertFalse(g.matches("X = 1\n"));
    }

    @Test
    void ownListGrammar() throws IOException {
        Grammar g = Grammar.parse(resource("list.gbnf"));
        assertTrue(g.matches("- milk\n- eggs\n"));
        assertTrue(g.matches("- 日本\n"));
        assertFalse(g.matches(""));
        assertFalse(g.matches("- a\n- b\n- c\n- d\n- e\n- f\n"));
        assertFalse(g.matches("- a\u2028b\n"));
        assertFalse(g.matches("-\n"));
    }

    /** llama.cpp's tests/test-grammar-integration.cpp and test-grammar-parser.cpp: grammars that must fail. */
    @Test
    void llamaCppFailureCases() {
        // missing root
        GrammarSyntaxException e = assertThrows(GrammarSyntaxException.class, () -> Grammar.parse("""
                rot ::= expr
                expr ::= term ("+" term)*
                term ::= number
                number ::= [0-9]+"""));
        assertTrue(e.getMessage().contains("no 'root' rule"), e.getMessage());
        // missing reference
        e = assertThrows(GrammarSyntaxException.class, () -> Grammar.parse("""
                root ::= expr
                expr ::= term ("+" term)*
                term ::= numero
                number ::= [0-9]+"""));
        assertEquals("grammar: line 3, column 10: undefined rule 'numero'", e.getMessage());
        // left recursion
        for (String g : List.of("root ::= \"a\" | root \"a\"", "root ::= asdf\nasdf ::= \"a\" | asdf \"a\"\n",
                "root ::= asdf\nasdf ::= \"a\" | foo \"b\"\nfoo ::= \"c\" | asdf \"d\" | \"e\"",
                "root ::= asdf\nasdf ::= \"a\" | foo \"b\"\nfoo ::= \"c\" | empty asdf \"d\" | \"e\"\n"
                        + "empty ::= \"blah\" | ")) {
            e = assertThrows(GrammarSyntaxException.class, () -> Grammar.parse(g), g);
            assertTrue(e.getMessage().contains("left recursion"), e.getMessage());
        }
        assertThrows(GrammarSyntaxException.class, () -> Grammar.parse("root ::= \"a\"{,}\""));
        assertThrows(GrammarSyntaxException.class, () -> Grammar.parse("root ::= \"a\"{,10}\""));
    }

    @ParameterizedTest
    @CsvSource(delimiterString = "~~", quoteCharacter = '`', value = {
            "root ::= \"abc~~1~~10~~unterminated string literal",
            "root ::= [a-z~~1~~10~~unterminated character class",
            "root ::= x\\nx ::= \"a\" )~~2~~11~~expected a symbol, '|', or the end of the line, found ')'",
            "root ::= (\"a\" \"b\"~~1~~18~~expected ')' to close the '(' at line 1, column 10",
            "root := \"a\"~~1~~6~~expected '::=' after the rule name 'root'",
            "root ::= \"\\q\"~~1~~11~~unknown escape '\\q'",
            "root ::= [\\x4]~~1~~14~~expected 2 hex digits",
            "root ::= \"a\"{2,1}~~1~~16~~the repetition's maximum 1 is below its minimum 2",
            "root ::= \"a\"{x}~~1~~14~~expected a number in the repetition",
            "\\n\\n  root ::= * \"a\"~~3~~12~~'*' must follow a symbol",
            "root ::= [z-a]~~1~~13~~the range's end 'a' comes before its start 'z'",
            "root ::= \"a\"\\n@ ::= \"b\"~~2~~1~~expected a rule name, found '@'",
            "root ::= ünknown~~1~~10~~expected a symbol, '|', or the end of the line, found 'ü'",
    })
    void syntaxErrorsNameLineAndColumn(String grammar, int line, int column, String message) {
        String g = grammar.replace("\\n", "\n");
        GrammarSyntaxException e = assertThrows(GrammarSyntaxException.class, () -> Grammar.parse(g));
        assertEquals(line, e.line(), e.getMessage());
        assertEquals(column, e.column(), e.getMessage());
        assertTrue(e.getMessage().startsWith("grammar: line " + line + ", column " + column + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void syntaxFeatures() {
        Grammar g = Grammar.parse("""
                # comment
                root ::= greeting ( " " name )? "!"{1,3}  # trailing comment
                greeting ::= "hi" |
                    "hello"
                name ::= [A-Z] [a-z]* | "\\u00e9\\U0001F600\\x41" | [^\\x00-\\x7F]
                """);
        assertTrue(g.matches("hi!"));
        assertTrue(g.matches("hello Bob!!!"));
        assertTrue(g.matches("hi é😀A!"));
        assertTrue(g.matches("hi 日!"));
        assertFalse(g.matches("hi bob!"));
        assertFalse(g.matches("hi!!!!"));
        assertFalse(g.matches("hi"));
        Grammar any = Grammar.parse("root ::= \"<\" .{2} \">\"");
        assertTrue(any.matches("<日本>"));
        assertFalse(any.matches("<日>"));
    }
}
