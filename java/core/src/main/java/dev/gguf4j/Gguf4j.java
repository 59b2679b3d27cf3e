package dev.gguf4j;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Library-wide facts: the version. */
public final class Gguf4j {
    private static final String VERSION = readVersion();

    private Gguf4j() {
    }

    /** gguf4j's version, e.g. 0.1.0-SNAPSHOT. */
    public static String version() {
        return VERSION;
    }

    private static String readVersion() {
        try (InputStream in = Gguf4j.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
