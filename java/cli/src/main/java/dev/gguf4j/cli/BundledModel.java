package dev.gguf4j.cli;

import dev.gguf4j.Gguf4j;
import dev.gguf4j.Gguf4jException;
import dev.gguf4j.Settings;
import dev.gguf4j.internal.ResourceCache;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The model every command uses when none is given: Karpathy's stories260K (MIT licence, 1.2 MB), shipped in
 * this jar and extracted once to the cache directory.
 */
final class BundledModel {
    static final String RESOURCE = "/dev/gguf4j/cli/stories260K.gguf";

    private BundledModel() {
    }

    static Path path() throws IOException {
        return ResourceCache.extract(RESOURCE, Settings.fromSystemProperties().cacheDir(), Gguf4j.version(), "models")
                .orElseThrow(() -> new Gguf4jException("the bundled model " + RESOURCE + " is missing from the class path"));
    }

    /** The model named on the command line, or the bundled one. */
    static Path resolve(String given) throws IOException {
        return given != null ? PathChecks.readableFile("model", given) : path();
    }
}
