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

    /** ggml's GGML_MAX_N_THREADS: the most worker threads -t may ask for. */
    static final int MAX_THREADS = 512;

    String value(String option) {
        if (i >= args.size()) {
            throw new Main.UsageException(command + ": " + option + " needs a value");
        }
        return args.get(i++);
    }

    int intValue(String option) {
        return intValue(option, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** A whole number in [min, max]; the message names the option, the value and the range. */
    int intValue(String option, int min, int max) {
        String v = value(option);
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new Main.UsageException(command + ": " + option + " " + Errors.printable(v) + ": expected a whole number"
                    + range(min, max));
        }
        if (n < min || n > max) {
            throw new Main.UsageException(command + ": " + option + " " + v + ": must be" + range(min, max));
        }
        return (int) n;
    }

    private static String range(int min, int max) {
        return min == Integer.MIN_VALUE && max == Integer.MAX_VALUE ? " (32 bits)" : " in [" + min + ", " + max + "]";
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
            throw new Main.UsageException(command + ": " + option + " " + Errors.printable(v) + ": expected a layer count (>= 0, -1 for"
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
            throw new Main.UsageException(command + ": " + option + " " + Errors.printable(v) + ": expected a whole number");
        }
    }

    /** A finite number in [min, max]; the message names the option, the value and the range. */
    float floatValue(String option, float min, float max) {
        String v = value(option);
        float f;
        try {
            f = Float.parseFloat(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(command + ": " + option + " " + Errors.printable(v) + ": expected a number"
                    + range(min, max));
        }
        if (!Float.isFinite(f) || f < min || f > max) {
            throw new Main.UsageException(command + ": " + option + " " + v + ": expected a finite number"
                    + range(min, max));
        }
        return f;
    }

    private static String range(float min, float max) {
        if (min == -Float.MAX_VALUE && max == Float.MAX_VALUE) {
            return "";
        }
        if (max == Float.MAX_VALUE) {
            return min == Float.MIN_VALUE ? " > 0" : " >= " + min;
        }
        return " in [" + fmt(min) + ", " + fmt(max) + "]";
    }

    private static String fmt(float f) {
        return f == (long) f ? Long.toString((long) f) : Float.toString(f);
    }

    Main.UsageException unknown(String a) {
        return new Main.UsageException(command + ": unknown argument '" + Errors.printable(a) + "'");
    }
}
