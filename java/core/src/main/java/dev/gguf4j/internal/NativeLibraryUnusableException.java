package dev.gguf4j.internal;

/**
 * A native library that was found and loaded but cannot be used as asked: another gguf4j version's library (ABI
 * mismatch), not a gguf4j library at all, or an instruction set forced with {@code gguf4j.isa} that the CPU lacks.
 * Unlike a library that is simply absent for this platform, automatic backend selection does not fall back to the
 * plain-Java backend over this (a mixed-version install would otherwise run 20 times slower with only a log line
 * to show for it): it is an error naming the file and both versions.
 */
public class NativeLibraryUnusableException extends NativeLibraryException {
    public NativeLibraryUnusableException(String message) {
        super(message);
    }

    public NativeLibraryUnusableException(String message, Throwable cause) {
        super(message, cause);
    }
}
