package dev.gguf4j.cli;

import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;

/**
 * The generation flags {@code run} and {@code chat} share, as llama.cpp spells them: sampling, seed, context,
 * threads, GPU layers, stop strings, mmap and mlock.
 */
final class GenerationFlags {
    private final String command;
    private SamplingParams sampling = SamplingParams.DEFAULTS;
    private long seed = -1;
    int ctx;
    int threads;
    int ngl;
    boolean mmap = true;
    boolean mlock;
    boolean repack = true;
    final List<String> stop = new ArrayList<>();

    GenerationFlags(String command) {
        this.command = command;
    }

    /** Takes option {@code o} (and its value) if it is one of these flags; false if it is not. */
    boolean accept(String o, Args a) {
        switch (o) {
            // llama.cpp: temp <= 0 is greedy, top-k <= 0 is off; NaN and infinities are refused
            case "--temp" -> sampling = sampling.withTemperature(a.floatValue(o, -Float.MAX_VALUE, Float.MAX_VALUE));
            case "--top-k" -> sampling = sampling.withTopK(a.intValue(o));
            case "--top-p" -> sampling = sampling.withTopP(a.floatValue(o, 0, 1));
            case "--min-p" -> sampling = sampling.withMinP(a.floatValue(o, 0, 1));
            case "--repeat-penalty" -> sampling = sampling.withRepeatPenalty(a.floatValue(o, Float.MIN_VALUE,
                    Float.MAX_VALUE));
            case "--seed" -> seed = a.longValue(o);
            case "-c", "--ctx-size" -> ctx = a.intValue(o, 0, Integer.MAX_VALUE);
            case "-t", "--threads" -> threads = a.intValue(o, 0, Args.MAX_THREADS);
            case "-ngl", "--n-gpu-layers", "--gpu-layers" -> ngl = a.gpuLayersValue(o);
            case "--stop" -> {
                String s = a.value(o);
                if (s.isEmpty()) {
                    throw new Main.UsageException(command + ": --stop: the stop string is empty");
                }
                stop.add(s);
            }
            case "--no-mmap" -> mmap = false;
            case "--mlock" -> mlock = true;
            case "--no-repack" -> repack = false;
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The sampling settings, with --seed or else a seed from the clock. */
    SamplingParams sampling() {
        return sampling.withSeed(seed >= 0 ? seed : System.nanoTime());
    }

    /** Threads, mmap, mlock, Q4_0 repacking and GPU layers (the context is the command's to choose). */
    LlamaOptions options() {
        return LlamaOptions.DEFAULTS.withThreads(threads).withMmap(mmap).withMlock(mlock).withRepack(repack).withGpuLayers(ngl);
    }
}
