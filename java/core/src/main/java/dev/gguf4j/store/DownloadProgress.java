package dev.gguf4j.store;

/**
 * Told how a download goes: called when a file starts, then at most every {@link #INTERVAL_NANOS} while bytes
 * arrive, and once more when the file is complete ({@code done == total}). {@code resumedFrom} is what an earlier,
 * interrupted download had already written (counted in {@code done}, not in the speed).
 */
@FunctionalInterface
public interface DownloadProgress {
    long INTERVAL_NANOS = 100_000_000L;

    void update(String file, long done, long total, long resumedFrom, long elapsedNanos);

    DownloadProgress NONE = (file, done, total, resumedFrom, elapsedNanos) -> { };
}
