package dev.gguf4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.opentest4j.TestAbortedException;

/**
 * Where tests find their data: the repository's own copy of a few shared files ({@code tests/data}, the same
 * layout as ../shared), ../shared itself (golden data from llama.cpp, models), and the repository root.
 *
 * <p>A file in {@code tests/data} is always read from there (it is byte-identical to the shared one,
 * {@code InRepoDataTest}), so the core checks run on the repository's copy in every clone. Anything else comes
 * from ../shared; without ../shared a test asking for it is skipped (aborted with {@link #SKIP_MARKER}), and
 * {@link SkippedDataReport} prints one line per run listing the skipped test classes.
 */
public final class TestData {
    /** Begins the message of every skip for missing shared data ({@link SkippedDataReport} looks for it). */
    public static final String SKIP_MARKER = "[gguf4j: needs ../shared] ";
    /** The bundled default model: the repository has it once, as the CLI's resource. */
    static final String BUNDLED_MODEL = "java/cli/src/main/resources/dev/gguf4j/cli/stories260K.gguf";

    private TestData() {
    }

    /** Where ../shared is looked for: {@code -Dgguf4j.test.shared} (set by Maven), else ../shared beside the checkout. */
    public static Path sharedLocation() {
        String p = System.getProperty("gguf4j.test.shared");
        return (p != null ? Path.of(p) : root().resolve("../shared")).toAbsolutePath().normalize();
    }

    public static boolean hasShared() {
        return Files.isDirectory(sharedLocation());
    }

    /** The shared folder; the calling test is skipped when there is none. */
    public static Path shared() {
        if (!hasShared()) {
            throw skip("../shared");
        }
        return sharedLocation();
    }

    /** The repository's copy of part of ../shared. */
    public static Path inRepo() {
        return root().resolve("tests/data");
    }

    /** {@code golden/name}: the repository's copy if it has one, else ../shared's (skipping without it). */
    public static Path golden(String name) {
        return find("golden", name);
    }

    /** {@code models/name}: the repository's copy if it has one, else ../shared's (skipping without it). */
    public static Path model(String name) {
        return find("models", name);
    }

    /**
     * The files in {@code golden/dir} whose names end with {@code suffix}, sorted: ../shared's when present,
     * else the repository's copies (never empty: a test over none is skipped).
     */
    public static List<Path> goldenFiles(String dir, String suffix) {
        Path base = (hasShared() ? sharedLocation() : inRepo()).resolve("golden").resolve(dir);
        List<Path> files = List.of();
        if (Files.isDirectory(base)) {
            try (Stream<Path> s = Files.list(base)) {
                files = s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (files.isEmpty() && !hasShared()) {
            throw skip("golden/" + dir + "/*" + suffix);
        }
        return files.stream().map(p -> Files.isRegularFile(inRepo().resolve("golden").resolve(dir)
                .resolve(p.getFileName())) ? inRepo().resolve("golden").resolve(dir).resolve(p.getFileName()) : p)
                .toList();
    }

    private static Path find(String dir, String name) {
        Path local = dir.equals("models") && name.equals("stories260K.gguf") ? root().resolve(BUNDLED_MODEL)
                : inRepo().resolve(dir).resolve(name);
        if (Files.isRegularFile(local)) {
            return local;
        }
        if (hasShared()) {
            return sharedLocation().resolve(dir).resolve(name);
        }
        if (Files.isDirectory(local)) {
            return local;
        }
        throw skip(dir + "/" + name);
    }

    private static TestAbortedException skip(String what) {
        return new TestAbortedException(SKIP_MARKER + what + ": not in tests/data, and ../shared not found at "
                + sharedLocation());
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
