package dev.gguf4j.internal;

import java.util.Locale;

/** The platform part of classifier names and resource paths, e.g. {@code linux-x86_64}. */
public final class Platform {
    private Platform() {
    }

    /** e.g. linux-x86_64; null where gguf4j ships no native build. */
    public static String current() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macos" : os.startsWith("windows") ? "windows" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") || arch.equals("arm64") ? "aarch64" : arch;
        return o + "-" + a;
    }

    /** Resource folder of native libraries in the classifier jars. */
    public static String resourceDir(String platform) {
        return "/dev/gguf4j/native/" + platform + "/";
    }
}
