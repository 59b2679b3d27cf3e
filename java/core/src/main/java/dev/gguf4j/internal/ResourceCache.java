package dev.gguf4j.internal;

import dev.gguf4j.Gguf4jException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Extracts class-path resources (native libraries, the bundled model) to a versioned cache directory:
 * {@code <cacheDir>/<version>/<platform>/<sha256 prefix>/<file name>}.
 *
 * <p>Safe for several JVMs at once: each writes a private temporary file beside the target and moves it in
 * atomically; a file already in place is reused only if its SHA-256 matches the resource's.
 */
public final class ResourceCache {
    private ResourceCache() {
    }

    /** The extracted file of {@code resource}, or empty if the class path has no such resource. */
    public static java.util.Optional<Path> extract(String resource, Path cacheDir, String version, String platform)
            throws IOException {
        byte[] bytes;
        try (InputStream in = ResourceCache.class.getResourceAsStream(resource)) {
            if (in == null) {
                return java.util.Optional.empty();
            }
            bytes = in.readAllBytes();
        }
        String sha = sha256(bytes);
        String fileName = resource.substring(resource.lastIndexOf('/') + 1);
        Path dir = cacheDir.resolve(version).resolve(platform).resolve(sha.substring(0, 16));
        Path target = dir.resolve(fileName);
        if (Files.isRegularFile(target) && sha.equals(sha256(Files.readAllBytes(target)))) {
            return java.util.Optional.of(target);
        }
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, fileName + ".", ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE, StandardOpenOption.SYNC)) {
                out.write(bytes);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        if (!sha.equals(sha256(Files.readAllBytes(target)))) {
            throw new IOException("checksum mismatch after extracting " + resource + " to " + target);
        }
        return java.util.Optional.of(target);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new Gguf4jException("SHA-256 is not available in this JVM", e);
        }
    }
}
