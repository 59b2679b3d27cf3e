package dev.gguf4j.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLoaderTest {

    @Test
    void missingExplicitLibraryNamesThePath(@TempDir Path dir) {
        Path p = dir.resolve("nope/libgguf4j.so");
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeLoader.load("gguf4j", Optional.of(p), Settings.NATIVE_PATH, dir, "test"));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void corruptedLibraryNamesThePath(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("libgguf4j.so");
        Files.writeString(p, "this is not a shared library\n");
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeLoader.load("gguf4j", Optional.of(p), Settings.NATIVE_PATH, dir, "test"));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains(Settings.NATIVE_PATH), e.getMessage());
    }

    @Test
    void libraryAbsentEverywhereListsEveryAttempt(@TempDir Path dir) {
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeLoader.load("gguf4j_does_not_exist", Optional.empty(), "x", dir, "test"));
        assertTrue(e.getMessage().contains("class path: no resource /dev/gguf4j/native/"), e.getMessage());
        assertTrue(e.getMessage().contains("java.library.path="), e.getMessage());
    }

    @Test
    void extractionIsReusedAndVerified(@TempDir Path dir) throws Exception {
        String res = "/dev/gguf4j/native/" + Platform.current() + "/libgguf4j.so";
        Path first = ResourceCache.extract(res, dir, "v", "p").orElseThrow();
        long mtime = Files.getLastModifiedTime(first).toMillis();
        Path again = ResourceCache.extract(res, dir, "v", "p").orElseThrow();
        assertTrue(first.equals(again) && Files.getLastModifiedTime(again).toMillis() == mtime, "not reused");
        Files.write(first, new byte[] {1, 2, 3}); // a corrupted cache entry is replaced
        Path fixed = ResourceCache.extract(res, dir, "v", "p").orElseThrow();
        assertTrue(Files.size(fixed) > 1000, "corrupted cache entry was not replaced");
    }

    @Test
    void badSettingIsAClearError() {
        Properties p = new Properties();
        p.setProperty(Settings.BACKEND, "gpu");
        Gguf4jException e = assertThrows(Gguf4jException.class, () -> Settings.from(p));
        assertTrue(e.getMessage().contains("gguf4j.backend=gpu") && e.getMessage().contains("cpu, cuda, java"),
                e.getMessage());
    }
}
