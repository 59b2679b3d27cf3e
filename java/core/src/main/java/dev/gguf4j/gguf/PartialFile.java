package dev.gguf4j.gguf;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;

/**
 * The temporary file a whole output is written to before it is renamed into place: {@code .NAME.PID.RANDOM.partial}
 * beside {@code NAME}, where PID is the writing process. A run that is killed (SIGKILL, a crash, power loss) leaves
 * it behind; the next {@link #create} for the same output removes every such file whose process is gone, and never
 * one whose process is still running (another run writing the same output). The file is created as
 * {@link Files#createFile} creates files, so its mode, and the output's after the rename, follows the umask
 * (0644 under umask 022), as llama-quantize's output does.
 *
 * <p>Liveness is checked by process id on this machine: a directory shared with another machine (NFS) may hold
 * another machine's partial files, which this machine cannot tell from its own dead ones.
 */
public final class PartialFile {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SUFFIX = ".partial";

    private PartialFile() {
    }

    /**
     * Removes the stale partial files of {@code out} (see the class comment), then creates and returns a new,
     * empty one for this process in {@code out}'s directory.
     */
    public static Path create(Path out) throws IOException {
        Path target = out.toAbsolutePath().normalize();
        removeStale(target);
        long pid = ProcessHandle.current().pid();
        byte[] r = new byte[6];
        for (int attempt = 0; ; attempt++) {
            RANDOM.nextBytes(r);
            Path p = target.resolveSibling("." + target.getFileName() + "." + pid + "." + HexFormat.of().formatHex(r)
                    + SUFFIX);
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /** Moves the finished partial file {@code partial} to {@code out}, atomically where the file system can. */
    public static void commit(Path partial, Path out) throws IOException {
        try {
            Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Deletes the partial files of {@code out} whose writing process is no longer running; returns those
     * deleted. Files that vanish meanwhile, or cannot be deleted, are skipped.
     */
    public static List<Path> removeStale(Path out) throws IOException {
        Path target = out.toAbsolutePath().normalize();
        List<Path> removed = new ArrayList<>();
        String prefix = "." + target.getFileName() + ".";
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(target.getParent(),
                p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(SUFFIX))) {
            for (Path p : dir) {
                OptionalLong pid = writer(p, target);
                if (pid.isPresent() && pid.getAsLong() != ProcessHandle.current().pid()
                        && ProcessHandle.of(pid.getAsLong()).isEmpty()) {
                    try {
                        if (Files.deleteIfExists(p)) {
                            removed.add(p);
                        }
                    } catch (IOException e) {
                        // not ours to insist on: leave it
                    }
                }
            }
        }
        return removed;
    }

    /**
     * The process id in {@code partial}'s name if it is a partial file of {@code out} as {@link #create} names them
     * ({@code .NAME.PID.HEX.partial}); empty for any other name.
     */
    public static OptionalLong writer(Path partial, Path out) {
        String name = partial.getFileName().toString();
        String prefix = "." + out.getFileName() + ".";
        if (!name.startsWith(prefix) || !name.endsWith(SUFFIX)) {
            return OptionalLong.empty();
        }
        String middle = name.substring(prefix.length(), name.length() - SUFFIX.length());
        int dot = middle.indexOf('.');
        if (dot <= 0 || dot == middle.length() - 1 || middle.indexOf('.', dot + 1) >= 0) {
            return OptionalLong.empty();
        }
        String pid = middle.substring(0, dot);
        String random = middle.substring(dot + 1);
        if (pid.length() > 18 || !pid.chars().allMatch(c -> c >= '0' && c <= '9')
                || !random.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Long.parseLong(pid));
    }
}
