package dev.gguf4j.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32;

/**
 * Extracts class-path resources (native libraries, the bundled model) to a versioned cache directory:
 * {@code <cacheDir>/<version>/<platform>/<content key>/<file name>}, where the content key is the resource's
 * CRC-32 and length in hex (a name per content, so two builds of one version do not share a file).
 *
 * <p>Safe for several JVMs at once: each writes a private temporary file beside the target and moves it in
 * atomically; a file already in place is reused only if its bytes equal the resource's, and a file just written
 * is compared again. Byte comparison instead of a cryptographic hash: the resource is in memory anyway, equality
 * is the stronger check, and on a cold JVM two SHA-256 passes over the 0.6 MB CPU library cost about 0.1 s of
 * interpreted code on every start (docs/benchmarks.md, "Cold start"); zlib's CRC-32 is native.
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
        String fileName = resource.substring(resource.lastIndexOf('/') + 1);
        Path dir = cacheDir.resolve(version).resolve(platform).resolve(contentKey(bytes));
        Path target = dir.resolve(fileName);
        if (sameContent(target, bytes)) {
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
        if (!sameContent(target, bytes)) {
            throw new IOException("the file differs from the resource after extracting " + resource + " to " + target);
        }
        return java.util.Optional.of(target);
    }

    /** CRC-32 and length, in hex: the cache directory's name for this content. */
    static String contentKey(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        HexFormat hex = HexFormat.of(); // not String.format: its first use costs a cold JVM tens of ms
        return hex.toHexDigits((int) crc.getValue()) + hex.toHexDigits(bytes.length);
    }

    private static boolean sameContent(Path file, byte[] bytes) throws IOException {
        return Files.isRegularFile(file) && Files.size(file) == bytes.length
                && Arrays.equals(Files.readAllBytes(file), bytes);
    }
}
