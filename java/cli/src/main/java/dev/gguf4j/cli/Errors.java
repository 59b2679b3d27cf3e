package dev.gguf4j.cli;

import dev.gguf4j.Gguf4j;
import dev.gguf4j.Settings;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How the CLI words failures: one line that names the file and says what went wrong, never a class name. */
final class Errors {
    private Errors() {
    }

    /** An I/O failure as one line: the file it concerns, then what happened. */
    static String describe(Throwable e) {
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            e = u.getCause();
        }
        if (e instanceof FileSystemException f) {
            String file = f.getFile() == null ? "" : f.getFile() + (f.getOtherFile() == null ? "" : " -> "
                    + f.getOtherFile()) + ": ";
            String what = switch (f) {
                case NoSuchFileException x -> "no such file or directory";
                case AccessDeniedException x -> "permission denied";
                case FileAlreadyExistsException x -> "already exists";
                case NotDirectoryException x -> "not a directory";
                case DirectoryNotEmptyException x -> "directory not empty";
                default -> f.getReason() != null ? f.getReason() : "input/output error";
            };
            return oneLine(file + what);
        }
        String m = e.getMessage();
        return oneLine(m == null || m.isBlank() ? "input/output error" : m);
    }

    /** Messages are printed on one line: newlines and control characters become spaces. */
    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        s.strip().codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        return b.toString();
    }

    /** A command-line word as it may be echoed back: control characters escaped, at most 80 characters. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> {
            if (Character.isISOControl(c)) {
                b.append(String.format(Locale.ROOT, "\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return s.codePointCount(0, s.length()) > 80 ? b + "..." : b.toString();
    }

    /**
     * Writes an internal error's trace (with the version and the command line) to
     * {@code <cache dir>/logs/crash-<time>-<pid>.txt} (the system temporary directory if that fails); returns where.
     */
    static String writeTrace(Throwable e, String[] args) {
        StringWriter sw = new StringWriter();
        PrintWriter pw = new PrintWriter(sw);
        pw.println("gguf4j " + Gguf4j.version() + ", Java " + Runtime.version() + ", " + System.getProperty("os.name")
                + " " + System.getProperty("os.arch"));
        pw.println("command line: gguf4j " + String.join(" ", args));
        e.printStackTrace(pw);
        pw.flush();
        String name = "crash-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-"
                + ProcessHandle.current().pid() + ".txt";
        String dirProp = System.getProperty("gguf4j.crash.dir");
        Path[] dirs = {dirProp != null ? Path.of(dirProp) : Settings.fromSystemProperties().cacheDir().resolve("logs"),
                Path.of(System.getProperty("java.io.tmpdir"))};
        for (Path dir : dirs) {
            try {
                Files.createDirectories(dir);
                Path f = Files.createTempFile(dir, name.substring(0, name.length() - 4) + "-", ".txt");
                Files.writeString(f, sw.toString(), StandardCharsets.UTF_8);
                return f.toString();
            } catch (IOException | RuntimeException ignored) {
                // try the next place
            }
        }
        return "(nowhere: no writable directory; rerun with gguf4j --debug)";
    }
}
