package dev.gguf4j.cli;

import dev.gguf4j.llama.Completion;
import dev.gguf4j.llama.CompletionParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.llama.Timings;
import dev.gguf4j.sampling.SamplingParams;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@code gguf4j run}: generate text, streamed to stdout; model info and timings on stderr. */
final class RunCommand {
    static final String USAGE = """
            usage: gguf4j run [-m MODEL | -hf USER/REPO[:QUANT] [--offline]]
                              [-p PROMPT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
                              [--repeat-penalty R] [--seed S] [-c CTX] [-t THREADS] [-ngl N|auto] [--stop S]...
                              [--no-mmap] [--mlock] [--no-repack]
                              [--grammar GBNF | --grammar-file FILE | --json-schema FILE|JSON]
              defaults: the bundled model, -n 256, llama.cpp's sampling defaults (temp 0.8, top-k 40, top-p 0.95,
              min-p 0.05, repeat-penalty 1.0), -c = prompt tokens + N (as llama-simple), -t = all cores
              -n 0 prints the prompt only; --temp <= 0 is greedy, --top-k <= 0 keeps every token (as llama.cpp)
              --no-mmap reads the weights into memory instead of mapping them; --mlock locks them in RAM
              (if it cannot, a warning names errno and RLIMIT_MEMLOCK and the run goes on, as llama.cpp)
              --no-repack runs from the mapped file: no copies of the weights made at load (Q4_0, Q8_0, Q4_K,
              Q5_K and Q6_K with rows interleaved by 8, the other types as they are, on huge pages, each replacing
              the file's pages); less load time, slower products; the same output except for the k-quants, which
              then compute with ggml's arithmetic (llama.cpp's bits per product) instead of the copy's
              (docs/determinism.md)
              --grammar / --grammar-file: a GBNF grammar in llama.cpp's syntax (start rule root) the output must match;
              --json-schema: a JSON Schema (a file, or the JSON itself) the output must validate against
            """;

    private RunCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args("run", argv);
        ModelFlag model = new ModelFlag("run");
        String prompt = "";
        int n = 256;
        GenerationFlags f = new GenerationFlags("run");
        while (a.hasNext()) {
            String o = a.next();
            if (model.accept(o, a)) {
                continue;
            }
            if (f.accept(o, a)) {
                continue;
            }
            switch (o) {
                case "-p", "--prompt" -> prompt = a.value(o);
                case "-n", "--n-predict" -> n = a.intValue(o, 0, Integer.MAX_VALUE);
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw a.unknown(o);
            }
        }
        SamplingParams sp = f.sampling();
        int ctx = f.ctx;
        int ngl = f.ngl;
        List<String> stop = f.stop;
        Path path = model.resolve(err);
        LlamaOptions opts = f.options();
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
            if (llama.repackSummary() != null) {
                err.println("gguf4j: " + llama.repackSummary());
            }
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
            Timings t = c.timings();
            err.printf(Locale.ROOT, "gguf4j: prompt %d tokens in %.3f s (%.1f tokens/s), generated %d tokens in %.3f s"
                    + " (%.1f tokens/s), finish reason %s%n", t.promptTokens(), t.promptSeconds(),
                    t.promptTokensPerSecond(), t.generatedTokens(), t.generationSeconds(),
                    t.generationTokensPerSecond(), c.choices().getFirst().finishReason());
        }
        return 0;
    }
}
