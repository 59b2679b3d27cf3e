package dev.gguf4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find ../shared (golden data from llama.cpp, models) and the repository root. */
public final class TestData {
    private TestData() {
    }

    /** The shared folder: {@code -Dgguf4j.test.shared} (set by Maven), else ../shared beside the checkout. */
    public static Path shared() {
        String p = System.getProperty("gguf4j.test.shared");
        Path path = p != null ? Path.of(p) : root().resolve("../shared");
        if (!Files.isDirectory(path)) {
            throw new IllegalStateException("shared test data not found at " + path.toAbsolutePath().normalize());
        }
        return path.normalize();
    }

    public static Path golden(String name) {
        return shared().resolve("golden").resolve(name);
    }

    public static Path model(String name) {
        return shared().resolve("models").resolve(name);
    }

    /** The repository root: {@code -Dgguf4j.test.root}, else found by walking up to native/include. */
    public static Path root() {
        String p = System.getProperty("gguf4j.test.root");
        if (p != null) {
            return Path.of(p);
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("native/include"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("repository root not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
