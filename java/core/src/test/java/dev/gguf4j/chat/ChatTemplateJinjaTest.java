package dev.gguf4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Jinja features one by one against Jinja2 itself: {@code jinja-cases.json} was written by {@code jinja-cases.py}
 * (Jinja2 3.1.6 configured as transformers configures it) — whitespace control, loops, filters, tests, string and
 * dict methods, number formatting, Python error messages and syntax errors.
 */
class ChatTemplateJinjaTest {
    @TestFactory
    @SuppressWarnings("unchecked")
    Stream<DynamicTest> jinja2Cases() throws IOException {
        String json;
        try (InputStream in = getClass().getResourceAsStream("jinja-cases.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Object> all = (Map<String, Object>) ChatJson.parse(json, "jinja-cases.json");
        Map<String, Object> vars = (Map<String, Object>) all.get("variables");
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (Object o : (List<Object>) all.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            String template = (String) c.get("template");
            tests.add(DynamicTest.dynamicTest("case " + i++ + ": " + template.lines().findFirst().orElse(""), () -> {
                if (c.containsKey("syntax_error_line")) {
                    ChatTemplateException.Syntax e = assertThrows(ChatTemplateException.Syntax.class,
                            () -> ChatTemplate.parse(template));
                    assertEquals(((Long) c.get("syntax_error_line")).intValue(), e.line(), e.getMessage());
                    assertTrue(e.getMessage().contains("line " + e.line() + ", column "), e.getMessage());
                } else if (c.containsKey("error")) {
                    ChatTemplateException e = assertThrows(ChatTemplateException.class,
                            () -> ChatTemplate.parse(template).render(vars));
                    assertEquals(c.get("error"), e.getMessage());
                } else {
                    assertEquals(c.get("expected"), ChatTemplate.parse(template).render(vars));
                }
            }));
        }
        return tests.stream();
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.parse("{{ raise_exception('Only user and assistant roles') }}").render(Map.of()));
        assertTrue(e.raisedByTemplate());
        assertEquals("Only user and assistant roles", e.templateMessage());
    }

    @Test
    void badArgumentsAreTemplateErrorsNotJavaExceptions() {
        for (String t : List.of("{{ range('a') }}", "{{ 'x'.startswith() }}", "{{ [1] | join(none) }}x",
                "{{ 'a' | replace('a') }}", "{{ none | abs }}", "{{ 5 | indent(none) }}")) {
            try {
                ChatTemplate.parse(t).render(Map.of());
            } catch (ChatTemplateException expected) {
                continue;
            }
        }
    }

    @Test
    void strftimeNowFormatsPythonDirectives() {
        String out = ChatTemplate.parse("{{ strftime_now('%d %b %Y') }}").render(Map.of());
        assertTrue(out.matches("\\d\\d [A-Z][a-z][a-z] \\d{4}"), out);
    }
}
