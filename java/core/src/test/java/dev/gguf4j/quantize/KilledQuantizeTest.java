package dev.gguf4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.PartialFile;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quantize run killed with SIGKILL in the middle of writing leaves its {@code .OUT.PID.RANDOM.partial}; the next
 * run for the same output removes it (its process is gone), leaves alone one whose process is alive, and writes
 * the output with the mode the umask gives (0644 under 022), as llama-quantize does. Real child JVMs, real signals.
 */
class KilledQuantizeTest {
    static final String INPUT = "stories260K-pad256.gguf";
    static final String GOLDEN = "stories260K-pad256-Q8_0.gguf"; // llama-quantize's output for the same run

    /** The child: quantizes args[0] to args[1] as Q8_0; with args[2] "hang", stops for good at the 6th tensor. */
    public static void main(String[] args) throws Exception {
        boolean hang = args.length > 2 && args[2].equals("hang");
        ModelQuantizer.quantize(Path.of(args[0]), Path.of(args[1]), QuantizeOptions.to(FileType.MOSTLY_Q8_0).threads(1),
                ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() {
                    @Override
                    public void tensorStarted(int index, ModelQuantizer.PlannedTensor t) {
                        if (hang && index == 5) {
                            System.out.println("writing");
                            System.out.flush();
                            try {
                                Thread.sleep(Long.MAX_VALUE);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }
                });
    }

    static ProcessBuilder child(String shellPrefix, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("gguf4j."))
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KilledQuantizeTest.class.getName()));
        cmd.addAll(List.of(args));
        if (shellPrefix != null) { // sh -c 'PREFIX; exec "$@"' sh CMD...
            List<String> sh = new ArrayList<>(List.of("sh", "-c", shellPrefix + "; exec \"$@\"", "sh"));
            sh.addAll(cmd);
            return new ProcessBuilder(sh);
        }
        return new ProcessBuilder(cmd);
    }

    static List<Path> partials(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".partial")).sorted().toList();
        }
    }

    @Test
    void secondRunRemovesWhatAKilledRunLeftAndHonoursTheUmask(@TempDir Path dir) throws Exception {
        Path in = TestData.model(INPUT);
        Path out = dir.resolve("out.gguf");

        // 1. a run killed with SIGKILL while writing
        Process killed = child(null, in.toString(), out.toString(), "hang").redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(killed.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            StringBuilder log = new StringBuilder();
            while ((line = r.readLine()) != null && !line.equals("writing")) {
                log.append(line).append('\n');
            }
            assertEquals("writing", line, "the child never started writing: " + log);
            killed.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(killed.waitFor(30, TimeUnit.SECONDS));
        }
        assertFalse(Files.exists(out));
        List<Path> left = partials(dir);
        assertEquals(1, left.size(), left.toString());
        assertEquals(killed.pid(), PartialFile.writer(left.getFirst(), out).orElseThrow(), left.toString());
        assertTrue(Files.size(left.getFirst()) > 0, "nothing was written before the kill");

        // 2. a partial file of a process that is alive (another run writing the same output) must stay
        Process alive = new ProcessBuilder("sleep", "120").start();
        Path live = dir.resolve(".out.gguf." + alive.pid() + ".0123456789ab.partial");
        Files.writeString(live, "another run is writing this");
        // and files that are not ours by name stay too: an older naming, a different output
        Path otherNames = Files.writeString(dir.resolve(".out.gguf.1234567.partial"), "x");
        Path otherOutput = Files.writeString(dir.resolve(".out.gguf.1.1." + killed.pid() + ".00.partial"), "x");
        try {
            // 3. the next run, under umask 022
            Process second = child("umask 022", in.toString(), out.toString()).redirectErrorStream(true).start();
            String log = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(second.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, second.exitValue(), log);
        } finally {
            alive.destroyForcibly();
        }
        assertArrayEquals(Files.readAllBytes(TestData.model(GOLDEN)), Files.readAllBytes(out), out + " differs from " + GOLDEN);
        assertFalse(Files.exists(left.getFirst()), "the killed run's partial file is still there");
        assertTrue(Files.exists(live) && Files.exists(otherNames) && Files.exists(otherOutput),
                "a partial file that was not stale was removed");
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)),
                "the output's mode under umask 022");
    }

    /** In this JVM, under whatever umask it has: the output gets the mode any newly created plain file gets. */
    @Test
    void outputModeIsAPlainNewFilesMode(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.gguf");
        ModelQuantizer.quantize(TestData.model(INPUT), out, QuantizeOptions.to(FileType.MOSTLY_Q8_0).threads(2),
                ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() { });
        Path probe = Files.createFile(dir.resolve("probe"));
        assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(probe)),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        assertEquals(List.of(), partials(dir));
    }

    @Test
    void partialNamesCarryTheWritersPid() {
        Path out = Path.of("/m/out.gguf");
        assertEquals(42, PartialFile.writer(Path.of("/m/.out.gguf.42.a1b2c3d4e5f6.partial"), out).orElseThrow());
        for (String other : new String[] {".out.gguf.42.partial", ".out.gguf.x.a1.partial", ".out.gguf.42.a1.b2.partial",
            ".out.gguf.42.XYZ.partial", ".out.gguf.42..partial", ".other.gguf.42.a1.partial", ".out.gguf.42.a1.tmp",
            ".out.gguf..a1.partial"}) {
            assertTrue(PartialFile.writer(Path.of("/m/" + other), out).isEmpty(), other);
        }
    }
}
