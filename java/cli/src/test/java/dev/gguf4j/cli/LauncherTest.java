package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees from {@code bin/gguf4j} besides the command's own output: no log lines from the library or
 * the JVM, one progress line for the first build, and nothing from the ahead-of-time cache, stale or not.
 */
class LauncherTest {
    /** java.util.logging's console format starts each record with a line like "Dec 07, 2026 12:59:42 AM Cls m". */
    static final Pattern JUL_TIMESTAMP = Pattern.compile("(?m)^[A-Z][a-z]{2} \\d{1,2}, \\d{4} \\d{1,2}:\\d{2}:\\d{2}");
    /** Unified JVM logging: "[0.034s][error][aot] ...". */
    static final Pattern JVM_LOG = Pattern.compile("(?m)^\\[[\\d.]+s\\]\\[");

    static final Path LAUNCHER = Path.of(System.getProperty("user.dir")).resolve("../../bin/gguf4j").normalize();
    static final String JAVA = ProcessHandle.current().info().command().orElseThrow();

    record Result(int status, String out, String err) {
    }

    static Result exec(List<String> cmd, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("launcher", ".out");
        Path err = Files.createTempFile("launcher", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            int st = p.waitFor();
            return new Result(st, Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static void assertNoLogLines(Result r) {
        for (String s : List.of(r.out(), r.err())) {
            assertFalse(s.contains("INFO:"), s);
            assertFalse(JUL_TIMESTAMP.matcher(s).find(), s);
            assertFalse(JVM_LOG.matcher(s).find(), s);
        }
    }

    /** The library's INFO (backend choice) must not reach the console: Main's level must outlive a GC. */
    @Test
    void versionPrintsNoLogLines() throws Exception {
        Map<String, String> env = Map.of("GGUF4J_LOG", "");
        // A small heap makes the collections that used to drop the level on "dev.gguf4j" happen during startup.
        Result r = exec(List.of(JAVA, "--enable-native-access=ALL-UNNAMED", "-Xmx24m", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "--version"), env);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("gguf4j "), r.out());
        assertTrue(r.out().contains("backend: "), r.out());
        assertNoLogLines(r);
        assertEquals("", r.err());
    }

    /**
     * A native library that loads but is not this version's gguf4j (here libm: no g4j_abi_version; a stale
     * gguf4j-native jar is the same case with another ABI number) is an error naming the file and the way out, not a
     * run on the plain-Java backend with a warning: one line, no stack trace, exit 1.
     */
    @Test
    void unusableNativeLibraryIsAnErrorNotAFallback() throws Exception {
        Path libm = Path.of("/lib/x86_64-linux-gnu/libm.so.6");
        Assumptions.assumeTrue(Files.isRegularFile(libm), "needs " + libm);
        Result r = exec(List.of(JAVA, "--enable-native-access=ALL-UNNAMED", "-Dgguf4j.native.path=" + libm, "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "run", "-m",
                BundledModel.path().toString(), "-p", "Once", "-n", "2"), Map.of("GGUF4J_LOG", ""));
        assertEquals(1, r.status(), r.out() + r.err());
        assertEquals("", r.out());
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.getFirst().contains(libm + " does not export g4j_abi_version"), r.err());
        assertTrue(lines.getFirst().contains("gguf4j.backend=java"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void libraryLevelSurvivesGarbageCollection() {
        Assumptions.assumeFalse("info".equalsIgnoreCase(System.getenv("GGUF4J_LOG")), "GGUF4J_LOG=info is set");
        Main.quietLibraryLog();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        assertEquals(Level.WARNING, Logger.getLogger("dev.gguf4j").getLevel());
    }

    /** A copy of bin/gguf4j in a tree of its own, with a stand-in `mvn` first on the PATH. */
    static Map<String, String> fakeTree(Path dir, String mvnBody) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("root/bin"));
        Files.copy(LAUNCHER, bin.resolve("gguf4j"));
        Path fakeBin = Files.createDirectories(dir.resolve("fakebin"));
        Path mvn = fakeBin.resolve("mvn");
        Files.writeString(mvn, "#!/usr/bin/env bash\n" + mvnBody);
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        return Map.of("PATH", fakeBin + ":" + System.getenv("PATH"), "JAVA_HOME", System.getProperty("java.home"),
                "TMPDIR", Files.createDirectories(dir.resolve("tmp")).toString(), "GGUF4J_JAVA_OPTS", "");
    }

    @Test
    void failedFirstBuildShowsOneLineThenTheLogsPathAndItsEnd(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash");
        Map<String, String> env = fakeTree(dir, """
                for i in $(seq 1 3000); do echo "[INFO] noise line $i"; done
                echo "[ERROR] the thing that broke" >&2
                exit 1
                """);
        Result r = exec(List.of("bash", dir.resolve("root/bin/gguf4j").toString(), "--version"), env);
        assertEquals(1, r.status());
        assertEquals("", r.out());
        List<String> lines = r.err().lines().toList();
        assertTrue(lines.getFirst().matches("gguf4j: building \\(first run, about \\d+ minutes?\\)\\.\\.\\. log: .*"),
                r.err());
        String log = lines.getFirst().substring(lines.getFirst().indexOf("log: ") + 5);
        assertTrue(Files.readString(Path.of(log)).contains("noise line 1\n"), "the log keeps the whole output");
        assertTrue(r.err().contains("the build failed; the last lines of " + log), r.err());
        assertTrue(r.err().contains("[ERROR] the thing that broke"), r.err());
        assertFalse(r.err().contains("noise line 2900"), r.err());
        assertTrue(lines.size() < 30, r.err());
    }

    /**
     * Writes a jar whose dev.gguf4j.cli.Main prints its arguments (what the launcher runs), with the
     * dev.gguf4j.cli.AotTraining the launcher trains its cache on (here: Main with "run").
     */
    static void fakeCliJar(Path dir, Path jar, String greeting) throws IOException {
        Path pkg = Files.createDirectories(dir.resolve("src/dev/gguf4j/cli"));
        Path training = pkg.resolve("AotTraining.java");
        Files.writeString(training, """
                package dev.gguf4j.cli;
                public class AotTraining {
                    public static void main(String[] a) {
                        Main.main(new String[] {"run"});
                    }
                }
                """);
        Path src = pkg.resolve("Main.java");
        Files.writeString(src, """
                package dev.gguf4j.cli;
                public class Main {
                    public static void main(String[] a) {
                        System.out.println("%s " + String.join(" ", a));
                        java.util.List<String> l = new java.util.ArrayList<>();
                        for (int i = 0; i < 1000; i++) l.add(Integer.toString(i));
                    }
                }
                """.formatted(greeting));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                src.toString(), training.toString()));
        Files.createDirectories(jar.getParent());
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(os)) {
            for (String c : List.of("Main", "AotTraining")) {
                j.putNextEntry(new JarEntry("dev/gguf4j/cli/" + c + ".class"));
                j.write(Files.readAllBytes(classes.resolve("dev/gguf4j/cli/" + c + ".class")));
                j.closeEntry();
            }
        }
    }

    @Test
    void aheadOfTimeCacheIsMadeOnceAndAStaleOrBrokenOneStaysQuiet(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash");
        Assumptions.assumeTrue(Runtime.version().feature() >= 25, "AOTCacheOutput needs JDK 25");
        Path target = dir.resolve("root/java/cli/target");
        Path built = dir.resolve("built/gguf4j-cli.jar");
        fakeCliJar(dir.resolve("v1"), built, "fake");
        Map<String, String> env = fakeTree(dir, """
                mkdir -p java/cli/target/lib && cp "%s" java/cli/target/gguf4j-cli.jar
                """.formatted(built));
        List<String> cmd = new ArrayList<>(List.of("bash", dir.resolve("root/bin/gguf4j").toString(), "--version"));

        Result first = exec(cmd, env);
        assertEquals(0, first.status(), first.err());
        assertEquals("fake --version\n", first.out());
        assertTrue(first.err().contains("gguf4j: building (first run"), first.err());
        assertTrue(first.err().contains("gguf4j: making the start-up cache"), first.err());
        assertTrue(Files.size(target.resolve("gguf4j.aot")) > 0);
        try (var s = Files.list(dir.resolve("tmp"))) {
            assertEquals(0, s.count(), "the build log is removed after a good build");
        }

        Result second = exec(cmd, env);
        assertEquals(new Result(0, "fake --version\n", ""), second);

        // A rebuilt jar: the cache is made again, and until then nothing about it is printed.
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(target.resolve("gguf4j-cli.jar"));
        fakeCliJar(dir.resolve("v2"), target.resolve("gguf4j-cli.jar"), "fake2");
        // a rebuild comes later than the build: within the same second, with the same size (the jars differ by one
        // byte inside a compressed entry), neither the launcher's key nor the JVM's own check (both by size and
        // whole-second mtime) could tell them apart, and the test failed now and then on a fast machine
        Files.setLastModifiedTime(target.resolve("gguf4j-cli.jar"), java.nio.file.attribute.FileTime.fromMillis(
                before.toMillis() + 2000));
        Result rebuilt = exec(cmd, env);
        assertEquals("fake2 --version\n", rebuilt.out());
        assertTrue(rebuilt.err().startsWith("gguf4j: making the start-up cache"), rebuilt.err());
        assertEquals(new Result(0, "fake2 --version\n", ""), exec(cmd, env));

        // A cache the JVM cannot use (damaged, or from another JDK build): the JVM's errors stay off the console.
        Files.writeString(target.resolve("gguf4j.aot"), "not a cache");
        Result broken = exec(cmd, env);
        assertEquals(new Result(0, "fake2 --version\n", ""), broken);
        assertNoLogLines(broken);

        // GGUF4J_AOT=0: no cache flags at all.
        Map<String, String> off = new java.util.HashMap<>(env);
        off.put("GGUF4J_AOT", "0");
        Files.delete(target.resolve("gguf4j.aot.key"));
        assertEquals(new Result(0, "fake2 --version\n", ""), exec(cmd, off));
        assertFalse(Files.exists(target.resolve("gguf4j.aot.key")));
    }
}
