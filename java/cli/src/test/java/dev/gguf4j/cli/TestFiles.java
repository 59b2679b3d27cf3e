package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small inputs made from the bundled stories260K (no ../shared needed), and the checks every user error meets. */
final class TestFiles {
    private TestFiles() {
    }

    /** The bundled model, extracted as the CLI extracts it. */
    static Path bundled() {
        try {
            return BundledModel.path();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The bundled model with metadata changed: {@code changes} maps a key to its new value, or to null to remove
     * it; the tensors are copied as they are.
     */
    static Path withMetadata(Path out, Map<String, GgufValue> changes) throws IOException {
        try (GgufFile src = GgufFile.open(bundled()); GgufWriter w = GgufWriter.create(out)) {
            Map<String, GgufValue> md = new LinkedHashMap<>(src.metadata().asMap());
            changes.forEach((k, v) -> {
                if (v == null) {
                    md.remove(k);
                } else {
                    md.put(k, v);
                }
            });
            w.putAll(md);
            for (GgufTensor t : src.tensors()) {
                w.addTensor(t);
            }
            w.finish();
        }
        return out;
    }

    /** A user error: the status, one line on stderr containing each of {@code parts}, no Java internals. */
    static void assertOneLine(MainTest.Result r, int status, String... parts) {
        assertEquals(status, r.status(), r.err());
        assertEquals(1, r.err().lines().count(), "not one line:\n" + r.err());
        assertNoJavaInternals(r);
        for (String p : parts) {
            if (!r.err().contains(p)) {
                throw new AssertionError("'" + p + "' missing from: " + r.err());
            }
        }
    }

    /** No stack trace, exception class or internal error on stderr. */
    static void assertNoJavaInternals(MainTest.Result r) {
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception") || r.err().contains("internal error")
                || r.err().contains("java.") , "Java internals on stderr:\n" + r.err());
    }
}
