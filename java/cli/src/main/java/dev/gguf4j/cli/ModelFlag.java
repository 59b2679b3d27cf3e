package dev.gguf4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The model a command runs: {@code -m FILE}, or {@code -hf REF} (llama.cpp's {@code -hf}/{@code -hfr}/{@code --hf-repo}:
 * a Hugging Face repository, pulled into the store when it is not there yet; {@code --offline} never pulls), or the
 * bundled model. A command takes it with one {@link #accept} line in its option loop and one {@link #resolve}.
 */
final class ModelFlag {
    /** What the usage texts say of it. */
    static final String USAGE = "[-m MODEL | -hf USER/REPO[:QUANT] [--offline]]";

    private final String command;
    private String path;
    private String hf;
    private boolean offline;

    ModelFlag(String command) {
        this.command = command;
    }

    /** Takes {@code option} (and its value from {@code a}) if it is one of the model's; false otherwise. */
    boolean accept(String option, Args a) {
        switch (option) {
            case "-m", "--model" -> path = a.value(option);
            case "-hf", "-hfr", "--hf-repo" -> hf = a.value(option);
            case "--offline" -> offline = true;
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The model file: -m's, the store's copy of -hf's (pulling it, with progress on {@code err}), or the bundled one. */
    Path resolve(PrintStream err) throws IOException {
        if (path != null && hf != null) {
            throw new Main.UsageException(command + ": -m and -hf both name a model; give one");
        }
        if (hf != null) {
            return StoreCommands.store(offline, err).resolve(hf);
        }
        if (offline) {
            throw new Main.UsageException(command + ": --offline goes with -hf REF (a model from the store)");
        }
        return BundledModel.resolve(path);
    }
}
