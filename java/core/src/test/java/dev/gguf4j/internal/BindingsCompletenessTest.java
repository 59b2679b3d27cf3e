package dev.gguf4j.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.internal.bindings.GgufCudaNative;
import dev.gguf4j.internal.bindings.GgufNative;
import dev.gguf4j.testing.TestData;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Fails when a header declares a function the committed bindings lack: rerun native/jextract.sh. */
class BindingsCompletenessTest {
    private static final Pattern DECL = Pattern.compile("\\b(g4j_[a-z0-9_]+)\\s*\\(");

    static Set<String> declared(Path header) throws Exception {
        String text = Files.readString(header).replaceAll("(?s)/\\*.*?\\*/", "");
        Set<String> names = new TreeSet<>();
        Matcher m = DECL.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    static void check(Path header, Class<?> bindings) throws Exception {
        Set<String> have = Arrays.stream(bindings.getMethods()).map(Method::getName).collect(Collectors.toSet());
        Set<String> want = declared(header);
        assertTrue(want.size() > 3, "parsed too few declarations from " + header + ": " + want);
        List<String> missing = want.stream().filter(n -> !have.contains(n)).toList();
        assertTrue(missing.isEmpty(), header + " declares " + missing + " but " + bindings.getSimpleName()
                + " lacks them: regenerate with native/jextract.sh");
    }

    @Test
    void cpuHeader() throws Exception {
        check(TestData.root().resolve("native/include/gguf4j.h"), GgufNative.class);
    }

    @Test
    void cudaHeader() throws Exception {
        check(TestData.root().resolve("cuda/include/gguf4j_cuda.h"), GgufCudaNative.class);
    }
}
