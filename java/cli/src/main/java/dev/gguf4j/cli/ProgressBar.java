package dev.gguf4j.cli;

import dev.gguf4j.store.DownloadProgress;
import dev.gguf4j.store.ModelStore;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A download's progress on stderr: bytes, percentage, speed and time left. On a terminal one line redrawn in
 * place (at most ten times a second); otherwise (a log, a pipe) a line every {@link #LOG_INTERVAL_NANOS} and one
 * when the file is complete.
 */
final class ProgressBar implements DownloadProgress {
    static final long LOG_INTERVAL_NANOS = 5_000_000_000L;
    private static final int WIDTH = 24;

    private final PrintStream err;
    private final boolean terminal;
    private String file;
    private long lastLine;
    /** Whether a terminal line is drawn and not yet ended. */
    private boolean open;

    ProgressBar(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    /** Whether stderr is a terminal (the JVM can tell for its console only: both stdout and stderr then are). */
    static boolean stderrIsTerminal(PrintStream err) {
        java.io.Console c = System.console();
        return err == System.err && c != null && c.isTerminal();
    }

    @Override
    public synchronized void update(String name, long done, long total, long resumedFrom, long elapsedNanos) {
        boolean fresh = !name.equals(file);
        file = name;
        boolean finished = done >= total && elapsedNanos > 0 || done >= total && fresh;
        long now = System.nanoTime();
        if (!terminal && !fresh && !finished && now - lastLine < LOG_INTERVAL_NANOS) {
            return;
        }
        lastLine = now;
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? (done - resumedFrom) / seconds : 0;
        String eta = rate > 0 && done < total ? ", " + time((total - done) / rate) + " left" : "";
        String speed = rate > 0 ? String.format(Locale.ROOT, ", %s/s", ModelStore.human((long) rate)) : "";
        double pct = total > 0 ? 100.0 * done / total : 100;
        String line = String.format(Locale.ROOT, "gguf4j: %s %5.1f%% %s / %s%s%s", name, pct, ModelStore.human(done),
                ModelStore.human(total), speed, eta);
        if (terminal) {
            int filled = (int) Math.round(WIDTH * pct / 100);
            line = String.format(Locale.ROOT, "gguf4j: %s [%s%s] %5.1f%% %s / %s%s%s", name, "#".repeat(filled),
                    " ".repeat(WIDTH - filled), pct, ModelStore.human(done), ModelStore.human(total), speed, eta);
            err.print("\r\033[K" + line + (finished ? "\n" : ""));
            err.flush();
            open = !finished;
        } else {
            err.println(line);
        }
    }

    /** Prints {@code message} on its own line (ending a progress line drawn on a terminal first). */
    synchronized void message(String message) {
        if (open) {
            err.println();
            open = false;
        }
        err.println(message);
    }

    static String time(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
