package dev.gguf4j.cli;

import java.util.ArrayList;
import java.util.List;

/** A small option parser: {@code -x VALUE}, {@code --long VALUE}, flags; errors are usage errors. */
final class Args {
    private final String command;
    private final List<String> args;
    private int i;

    Args(String command, List<String> args) {
        this.command = command;
        this.args = new ArrayList<>(args);
    }

    boolean hasNext() {
        return i < args.size();
    }

    String next() {
        return args.get(i++);
    }

    String value(String option) {
        if (i >= args.size()) {
            throw new Main.UsageException(command + ": " + option + " needs a value");
        }
        return args.get(i++);
    }

    int intValue(String option) {
        String v = value(option);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(command + ": " + option + " " + v + ": expected a whole number");
        }
    }

    /** {@code -ngl}'s value: a whole number (-1 = everything) or "auto" ({@code LlamaOptions.GPU_LAYERS_AUTO}). */
    int gpuLayersValue(String option) {
        return parseGpuLayers(command, option, value(option));
    }

    static int parseGpuLayers(String command, String option, String v) {
        if (v.equalsIgnoreCase("auto")) {
            return dev.gguf4j.llama.LlamaOptions.GPU_LAYERS_AUTO;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < -1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new Main.UsageException(command + ": " + option + " " + v + ": expected a layer count (>= 0, -1 for"
                    + " everything) or auto");
        }
    }

    /** How {@link #gpuLayersValue} values print: the number, or "auto". */
    static String gpuLayersName(int n) {
        return n == dev.gguf4j.llama.LlamaOptions.GPU_LAYERS_AUTO ? "auto" : String.valueOf(n);
    }

    long longValue(String option) {
        String v = value(option);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(command + ": " + option + " " + v + ": expected a whole number");
        }
    }

    float floatValue(String option) {
        String v = value(option);
        try {
            return Float.parseFloat(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(command + ": " + option + " " + v + ": expected a number");
        }
    }

    Main.UsageException unknown(String a) {
        return new Main.UsageException(command + ": unknown argument '" + a + "'");
    }
}
