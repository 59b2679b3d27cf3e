package dev.gguf4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The repository's copy of part of ../shared ({@code tests/data/SHA256SUMS}: SHA-256 and the path as in ../shared)
 * is whole, small, and byte-identical to ../shared, so a test that reads it tests what it would on ../shared.
 */
class InRepoDataTest {
    private static final long MAX_BYTES = 4L << 20;

    static Map<String, String> manifest() throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(TestData.inRepo().resolve("SHA256SUMS"))) {
            String[] f = line.split(" +", 2);
            m.put(f[1], f[0]);
        }
        return m;
    }

    private static Path file(String path) {
        return path.startsWith("models/") ? TestData.model(path.substring(7)) : TestData.golden(path.substring(7));
    }

    @Test
    void everyFileIsListedWholeAndSmall() throws Exception {
        Map<String, String> m = manifest();
        TreeSet<String> present = new TreeSet<>();
        try (Stream<Path> s = Files.walk(TestData.inRepo())) {
            s.filter(Files::isRegularFile).forEach(p -> present.add(TestData.inRepo().relativize(p).toString()));
        }
        present.remove("SHA256SUMS");
        TreeSet<String> listed = new TreeSet<>(m.keySet());
        listed.remove("models/stories260K.gguf"); // the CLI's bundled model, not copied
        assertEquals(listed, present, "tests/data against tests/data/SHA256SUMS");
        long total = 0;
        for (var e : m.entrySet()) {
            Path p = file(e.getKey());
            assertTrue(p.startsWith(TestData.root()), e.getKey() + " is read from " + p + ", not from the repository");
            assertEquals(e.getValue(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(p))), e.getKey());
            total += Files.size(p);
        }
        assertTrue(total <= MAX_BYTES, "the in-repository test data is " + total + " bytes, over " + MAX_BYTES);
    }

    @Test
    void identicalToShared() throws Exception {
        Path shared = TestData.shared();
        for (String path : manifest().keySet()) {
            assertArrayEquals(Files.readAllBytes(shared.resolve(path)), Files.readAllBytes(file(path)), path);
        }
    }
}
