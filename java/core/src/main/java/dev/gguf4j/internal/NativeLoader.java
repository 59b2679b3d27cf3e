package dev.gguf4j.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds and loads one of gguf4j's native libraries, in this order:
 * <ol>
 *   <li>an explicit path from a system property (if set, it is the only place tried: a wrong path is an error);</li>
 *   <li>the classifier jar on the class path, extracted by {@link ResourceCache};</li>
 *   <li>{@code java.library.path} ({@code System.loadLibrary}).</li>
 * </ol>
 * Libraries are loaded with {@code System.load} from this class, so the generated bindings (same class loader)
 * resolve their symbols through {@code SymbolLookup.loaderLookup()}.
 */
public final class NativeLoader {
    private NativeLoader() {
    }

    /** Where a library was loaded from. */
    public record Loaded(Path path, String origin) {
        @Override
        public String toString() {
            return path + " (" + origin + ")";
        }
    }

    /**
     * Loads {@code lib<baseName>.so}.
     *
     * @param explicit     the path given by {@code propertyName}, if any
     * @param propertyName the system property that names an explicit path, for messages
     */
    public static Loaded load(String baseName, Optional<Path> explicit, String propertyName, Path cacheDir,
            String version) {
        String fileName = System.mapLibraryName(baseName);
        if (explicit.isPresent()) {
            Path p = explicit.get().toAbsolutePath();
            if (!Files.isRegularFile(p)) {
                throw new NativeLibraryException(propertyName + "=" + explicit.get() + ": no such file");
            }
            try {
                System.load(p.toString());
                return new Loaded(p, "system property " + propertyName);
            } catch (UnsatisfiedLinkError e) {
                throw new NativeLibraryException("cannot load " + p + " (from " + propertyName + "): " + e.getMessage(), e);
            }
        }
        List<String> attempts = new ArrayList<>();
        String platform = Platform.current();
        String resource = Platform.resourceDir(platform) + fileName;
        try {
            Optional<Path> extracted = ResourceCache.extract(resource, cacheDir, version, platform);
            if (extracted.isPresent()) {
                try {
                    System.load(extracted.get().toString());
                    return new Loaded(extracted.get(), "class path resource " + resource);
                } catch (UnsatisfiedLinkError e) {
                    attempts.add("class path resource " + resource + " extracted to " + extracted.get() + ": "
                            + e.getMessage());
                }
            } else {
                attempts.add("class path: no resource " + resource + " (is the " + classifierHint(baseName, platform)
                        + " jar a dependency?)");
            }
        } catch (IOException e) {
            attempts.add("class path resource " + resource + ": extraction to " + cacheDir + " failed: " + e);
        }
        try {
            System.loadLibrary(baseName);
            return new Loaded(Path.of(fileName), "java.library.path");
        } catch (UnsatisfiedLinkError e) {
            attempts.add("java.library.path=" + System.getProperty("java.library.path") + ": " + e.getMessage());
        }
        throw new NativeLibraryException("cannot load " + fileName + "; tried:\n  - " + String.join("\n  - ", attempts));
    }

    private static String classifierHint(String baseName, String platform) {
        return "gguf4j-native:" + platform + (baseName.endsWith("_cuda") ? "-cuda" : "");
    }
}
