package dev.gguf4j.cli;

import dev.gguf4j.llama.Completion;
import dev.gguf4j.llama.CompletionParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.grammar.Grammar;
import dev.gguf4j.grammar.GrammarException;
import dev.gguf4j.sampling.SamplingParams;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code gguf4j run}: generate text, streamed to stdout; model info and timings on stderr. */
final class RunCommand {
    static final String USAGE = """
            usage: gguf4j run [-m MODEL] [-p PROMPT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
                              [--repeat-penalty R] [--seed S] [-c CTX] [-t THREADS] [-ngl N|auto] [--stop S]...
                              [--no-mmap] [--mlock] [--grammar GBNF | --grammar-file FILE | --json-schema FILE|JSON]
              defaults: the bundled model, -n 256, llama.cpp's sampling defaults (temp 0.8, top-k 40, top-p 0.95,
              min-p 0.05, repeat-penalty 1.0), -c = prompt tokens + N (as llama-simple), -t = all cores
              -n 0 prints the prompt only; --temp <= 0 is greedy, --top-k <= 0 keeps every token (as llama.cpp)
              --no-mmap reads the weights into memory instead of mapping them; --mlock locks them in RAM
              (if it cannot, a warning names errno and RLIMIT_MEMLOCK and the run goes on, as llama.cpp)
              --grammar / --grammar-file: a GBNF grammar in llama.cpp's syntax (start rule root) the output must match;
              --json-schema: a JSON Schema (a file, or the JSON itself) the output must validate against
            """;

    private RunCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("run", argv);
        String model = null;
        String prompt = "";
        int n = 256;
        int ctx = 0;
        int threads = 0;
        int ngl = 0;
        boolean mmap = true;
        boolean mlock = false;
        SamplingParams sp = SamplingParams.DEFAULTS;
        long seed = -1;
        List<String> stop = new ArrayList<>();
        String grammarFlag = null;
        String grammarText = null;
        while (a.hasNext()) {
            String o = a.next();
            switch (o) {
                case "-m", "--model" -> model = a.value(o);
                case "-p", "--prompt" -> prompt = a.value(o);
                case "-n", "--n-predict" -> n = a.intValue(o, 0, Integer.MAX_VALUE);
                // llama.cpp: temp <= 0 is greedy, top-k <= 0 is off; NaN and infinities are refused
                case "--temp" -> sp = sp.withTemperature(a.floatValue(o, -Float.MAX_VALUE, Float.MAX_VALUE));
                case "--top-k" -> sp = sp.withTopK(a.intValue(o));
                case "--top-p" -> sp = sp.withTopP(a.floatValue(o, 0, 1));
                case "--min-p" -> sp = sp.withMinP(a.floatValue(o, 0, 1));
                case "--repeat-penalty" -> sp = sp.withRepeatPenalty(a.floatValue(o, Float.MIN_VALUE, Float.MAX_VALUE));
                case "--seed" -> seed = a.longValue(o);
                case "-c", "--ctx-size" -> ctx = a.intValue(o, 0, Integer.MAX_VALUE);
                case "-t", "--threads" -> threads = a.intValue(o, 0, Args.MAX_THREADS);
                case "-ngl", "--n-gpu-layers", "--gpu-layers" -> ngl = a.gpuLayersValue(o);
                case "--stop" -> {
                    String s = a.value(o);
                    if (s.isEmpty()) {
                        throw new Main.UsageException("run: --stop: the stop string is empty");
                    }
                    stop.add(s);
                }
                case "--grammar", "--grammar-file", "--json-schema", "-j" -> {
                    String v = a.value(o);
                    if (grammarFlag != null) {
                        throw new Main.UsageException("run: " + o + ": only one of --grammar, --grammar-file and"
                                + " --json-schema may be given (" + grammarFlag + " was)");
                    }
                    grammarFlag = o;
                    grammarText = v;
                }
                case "--no-mmap" -> mmap = false;
                case "--mlock" -> mlock = true;
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw a.unknown(o);
            }
        }
        if (seed >= 0) {
            sp = sp.withSeed(seed);
        } else {
            sp = sp.withSeed(System.nanoTime());
        }
        if (grammarFlag != null) {
            sp = sp.withGrammar(grammar(grammarFlag, grammarText));
        }
        Path path = BundledModel.resolve(model);
        LlamaOptions opts = LlamaOptions.DEFAULTS.withThreads(threads).withMmap(mmap).withMlock(mlock).withGpuLayers(ngl);
        // llama-simple's context: prompt + n, unless -c says otherwise (with -n 0, room for the prompt: nothing
        // is generated, the prompt is printed, as llama-simple). The prompt is counted by the loaded tokenizer.
        opts = ctx > 0 ? opts.withContextLength(ctx) : opts.withContextFor(prompt, n);
        Llama loaded;
        try {
            loaded = Llama.load(path, opts);
        } catch (dev.gguf4j.Gguf4jException e) {
            if (ngl == 0) {
                throw e;
            }
            throw new dev.gguf4j.Gguf4jException("-ngl " + Args.gpuLayersName(ngl) + ": " + e.getMessage(), e);
        }
        try (Llama llama = loaded) {
            err.printf(Locale.ROOT, "gguf4j: %s (%s, %d layers, dim %d, vocab %d), context %d, backend %s, load %.3f s%n",
                    path, llama.config().architecture(), llama.config().layers(), llama.config().dim(),
                    llama.config().vocab(), llama.contextLength(), llama.backend().description(), llama.loadSeconds());
            int trained = llama.config().contextLength();
            if (llama.contextLength() > trained) {
                // llama.cpp: "n_ctx_per_seq (...) > n_ctx_train (...) -- possible training context overflow"
                err.printf(Locale.ROOT, "gguf4j: warning: the context (%d tokens%s) exceeds the model's training"
                        + " context (%d, %s.context_length): text past %d tokens may degrade%n", llama.contextLength(),
                        ctx > 0 ? ", -c" : ": prompt + -n", trained, llama.config().architecture(), trained);
            }
            if (ngl != 0) {
                err.println("gguf4j: " + llama.offloadPlan().summary()
                        + llama.device().map(d -> " [" + d + "]").orElse(""));
            }
            out.print(prompt);
            out.flush();
            CompletionParams cp = CompletionParams.DEFAULTS.withMaxTokens(n).withStop(stop).withSampling(sp);
            Completion c = llama.complete(prompt, cp, chunk -> {
                out.print(chunk.text());
                out.flush();
            });
            out.println();
            Llama.Timings t = Llama.lastTimings();
            err.printf(Locale.ROOT, "gguf4j: prompt %d tokens in %.3f s (%.1f tokens/s), generated %d tokens in %.3f s"
                    + " (%.1f tokens/s), finish reason %s%n", t.promptTokens(), t.promptSeconds(),
                    t.promptTokensPerSecond(), t.generatedTokens(), t.generationSeconds(),
                    t.generationTokensPerSecond(), c.choices().getFirst().finishReason());
        }
        return 0;
    }

    /**
     * The grammar a flag names: {@code --grammar TEXT}, {@code --grammar-file FILE}, {@code --json-schema FILE|JSON}
     * (JSON when the value starts with '{' after white space, as llama.cpp's {@code -j} takes it, else a file).
     * Errors name the flag: a grammar's line and column, a schema's path and keyword.
     */
    static Grammar grammar(String flag, String value) throws IOException {
        boolean schema = !flag.startsWith("--grammar");
        boolean inline = flag.equals("--grammar") || (schema && value.stripLeading().startsWith("{"));
        String text = inline ? value : PathChecks.readUtf8(flag, value);
        String where = inline ? flag : flag + " " + value;
        try {
            return schema ? Grammar.fromJsonSchema(text) : Grammar.parse(text);
        } catch (GrammarException e) {
            if (inline) {
                throw new Main.UsageException("run: " + where + ": " + e.getMessage()); // a bad value: status 2
            }
            throw new dev.gguf4j.Gguf4jException(where + ": " + e.getMessage()); // a bad file: status 1
        }
    }
}
