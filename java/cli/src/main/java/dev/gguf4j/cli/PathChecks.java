package dev.gguf4j.cli;

import dev.gguf4j.Gguf4jException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The files a command names, checked before any work starts, so that a missing file, a directory or a folder
 * that cannot be written is one clear line (naming the option and the path) rather than a failure half-way.
 */
final class PathChecks {
    private PathChecks() {
    }

    /** A path given on the command line; {@code what} names it in messages (e.g. "-m", "-f", "INPUT"). */
    static Path path(String what, String given) {
        try {
            if (given.isEmpty()) {
                throw new Main.UsageException(what + ": the path is empty");
            }
            return Path.of(given);
        } catch (InvalidPathException e) {
            throw new Main.UsageException(what + " " + Errors.printable(given) + ": not a valid path ("
                    + e.getReason() + ")");
        }
    }

    /** An existing, readable regular file (or a fifo/device: anything but a directory). */
    static Path readableFile(String what, String given) {
        return readableFile(what, path(what, given));
    }

    static Path readableFile(String what, Path p) {
        String name = what + " " + p;
        if (Files.isDirectory(p)) {
            throw new Gguf4jException(name + ": is a directory, not a file");
        }
        if (!Files.exists(p)) {
            throw new Gguf4jException(name + ": does not exist");
        }
        if (!Files.isReadable(p)) {
            throw new Gguf4jException(name + ": cannot be read (permission denied)");
        }
        return p;
    }

    /**
     * A file to create: not a directory, in an existing folder this process may write (a temporary file goes
     * there first, then is renamed).
     */
    static Path writableOutput(String what, String given) {
        Path p = path(what, given);
        String name = what + " " + p;
        if (Files.isDirectory(p)) {
            throw new Gguf4jException(name + ": is a directory; give a file name");
        }
        Path dir = p.toAbsolutePath().normalize().getParent();
        if (dir == null || !Files.exists(dir)) {
            throw new Gguf4jException(name + ": the folder " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new Gguf4jException(name + ": " + dir + " is not a folder");
        }
        if (!Files.isWritable(dir)) {
            throw new Gguf4jException(name + ": cannot write in the folder " + dir + " (permission denied)");
        }
        if (Files.exists(p) && !Files.isRegularFile(p)) {
            throw new Gguf4jException(name + ": exists and is not a regular file");
        }
        return p;
    }

    /**
     * A text file as UTF-8; bytes that are not UTF-8 are refused with the file and the offset of the first one.
     */
    static String readUtf8(String what, String given) throws IOException {
        Path p = readableFile(what, given);
        byte[] bytes = Files.readAllBytes(p);
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) {
            r = dec.flush(out);
        }
        if (r.isError()) {
            throw new Gguf4jException(what + " " + p + ": not UTF-8 text: invalid byte 0x"
                    + String.format("%02x", bytes[Math.min(in.position(), bytes.length - 1)] & 0xff) + " at offset "
                    + in.position());
        }
        return out.flip().toString();
    }
}
