package dev.gguf4j.cli;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.grammar.Grammar;
import dev.gguf4j.grammar.GrammarException;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.sampling.SamplingParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The generation flags {@code run} and {@code chat} share, as llama.cpp spells them: sampling, seed, context,
 * threads, GPU layers, stop strings, mmap and mlock, and the grammar that constrains the output ({@code --grammar},
 * {@code --grammar-file}, {@code --json-schema}).
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
    private String grammarFlag;
    private String grammarValue;
    private Grammar grammar;

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
            case "--grammar", "--grammar-file", "--json-schema", "-j" -> {
                String v = a.value(o);
                if (grammarFlag != null) {
                    throw new Main.UsageException(command + ": " + o + ": only one of --grammar, --grammar-file and"
                            + " --json-schema may be given (" + grammarFlag + " was)");
                }
                grammarFlag = o;
                grammarValue = v;
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

    /**
     * The sampling settings, with --seed or else a seed from the clock, and the grammar if one was given (read and
     * parsed on the first call: a bad grammar or schema is an error naming the flag).
     */
    SamplingParams sampling() {
        if (grammarFlag != null && grammar == null) {
            try {
                grammar = grammar(command, grammarFlag, grammarValue);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sampling.withSeed(seed >= 0 ? seed : System.nanoTime()).withGrammar(grammar);
    }

    /**
     * The grammar a flag names: {@code --grammar TEXT}, {@code --grammar-file FILE}, {@code --json-schema FILE|JSON}
     * (JSON when the value starts with '{' after white space, as llama.cpp's {@code -j} takes it, else a file).
     * Errors name the flag: a grammar's line and column, a schema's path and keyword; a bad value on the command
     * line is a usage error (status 2), a bad file a failure (status 1).
     */
    static Grammar grammar(String command, String flag, String value) throws IOException {
        boolean schema = !flag.startsWith("--grammar");
        boolean inline = flag.equals("--grammar") || (schema && value.stripLeading().startsWith("{"));
        String text = inline ? value : PathChecks.readUtf8(flag, value);
        try {
            return schema ? Grammar.fromJsonSchema(text) : Grammar.parse(text);
        } catch (GrammarException e) {
            if (inline) {
                throw new Main.UsageException(command + ": " + flag + ": " + e.getMessage());
            }
            throw new Gguf4jException(flag + " " + value + ": " + e.getMessage());
        }
    }

    /** Threads, mmap, mlock, weight copies at load (--no-repack), GPU layers (the context: the command's). */
    LlamaOptions options() {
        return LlamaOptions.DEFAULTS.withThreads(threads).withMmap(mmap).withMlock(mlock).withRepack(repack).withGpuLayers(ngl);
    }
}
