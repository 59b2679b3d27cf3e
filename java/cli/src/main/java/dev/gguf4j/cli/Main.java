package dev.gguf4j.cli;

import dev.gguf4j.Gguf4jException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** {@code gguf4j COMMAND [ARGS]}: the command-line entry point (bin/gguf4j runs it). */
public final class Main {
    static final String USAGE = """
            usage: gguf4j COMMAND [ARGS]
              --version                        version, native backend, CPU features, CUDA devices
              info [MODEL] [--tensors] [--json] model metadata (default MODEL: the bundled stories260K)
              quantize INPUT OUTPUT TYPE [...]  quantize a model like llama-quantize (quantize --help)
              run [-m MODEL] [-p PROMPT] [-n N] ...  generate text (run --help)
              tokenize [-m MODEL] (-p TEXT | -f FILE) [--ids] [--no-bos]
              chat [-m MODEL] [-sys TEXT] [--chat-template NAME|--chat-template-file FILE] [-n N] ...
                                               a conversation through the model's chat template (chat --help)
              chat-template (-m MODEL | --chat-template NAME | --chat-template-file FILE) --messages FILE.json
                            [--tools FILE.json] [--no-generation-prompt] [--bos S --eos S] [--var KEY=VALUE]
                                               print the prompt the chat template renders (chat-template --help)
              serve [-m MODEL] [--host H] [--port P] [-np N] [--api-key KEY] ...
                                               an OpenAI- and Ollama-compatible HTTP server (serve --help)
              perplexity [-m MODEL] -f FILE [-c 512] [-t N] [--chunks N]   llama-perplexity's PPL
                         [--kl-divergence-base FILE]   also save the log-probabilities (a KLD base)
              perplexity -m MODEL --kl-divergence --kl-divergence-base FILE   KL divergence from that base
              imatrix [-m MODEL] -f TEXT [-o imatrix.dat] [-c 512] [--chunks N] [--process-output]
                                               llama-imatrix's importance matrix (imatrix --help)
              calibrate -m MODEL -f TEXT [-o calibration.gguf]   GPTQ's calibration, saved for quantize
                                               --search better --calibration FILE (calibrate --help)
              embed [-m MODEL] (-p TEXT | -f FILE) [--pooling none|mean|cls|last] [--embd-normalize N]
                    [--embd-output-format json] [--truncate]   embeddings like llama-embedding (embed --help)
              ladder -m F16.gguf -f TEXT [--types Q8_0,Q6_K,...] [--imatrix F] [-o DIR]
                                               quantize to each type; size, PPL, KLD, tokens/s, chart (ladder --help)
              bench [-m MODEL] [-p 512] [-n 128] [-t 1,2] [-r 3] [-ngl 0,99|auto] [--json]
                                               llama-bench's pp/tg tokens/s
              fit [-m MODEL] [-c N] [--bandwidth GBPS] [--json]
                                               which quantizations fit this machine's RAM / GPU, est. tg t/s
              pull USER/REPO[:QUANT]           download a GGUF model from Hugging Face into the store (pull --help)
              list                             the models in the store: name, quantization, parameters, size, date
              show USER/REPO[:QUANT]           a stored model's architecture, context, quantization, chat template,
                                               licence and general.* metadata
              rm USER/REPO[:QUANT]...          remove a model from the store (without :QUANT, all of the repository)
              (run, chat, serve, perplexity, imatrix, fit, embed and bench take -hf USER/REPO[:QUANT] instead of -m:
               the model from the store, pulled first if it is not there; --offline: never download)
              (run, perplexity and bench also take --no-mmap: read the weights instead of mapping them, and
               --mlock: lock them in RAM, with a warning and no lock where RLIMIT_MEMLOCK forbids it; run and bench
               --no-repack: run from the mapped file, no weight copies at load (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K
               interleaved by 8 rows, the other types as they are, on huge pages); less load time, slower
               products; the same results but for the k-quants, then in ggml's arithmetic, not the copy's)
              help                             this text
              --debug COMMAND ...              stack traces on stderr (without it, a bug prints one line and writes
                                               its trace to ~/.cache/gguf4j/logs/crash-*.txt)
            """;

    private Main() {
    }

    /**
     * The library's parent logger, held here: java.util.logging keeps loggers only weakly, so a level set on a
     * logger nobody references is lost at the next garbage collection, and the library's INFO lines (with
     * JUL's timestamp line) would reach the console again.
     */
    private static final java.util.logging.Logger LIBRARY_LOG = java.util.logging.Logger.getLogger("dev.gguf4j");

    public static void main(String[] args) {
        quietLibraryLog();
        System.exit(run(args, System.out, System.err));
    }

    /**
     * The library logs its choices (backend, context cap) at INFO; the CLI prints what matters itself
     * (--version, run's header line), so it shows only the library's warnings unless GGUF4J_LOG=info.
     */
    static void quietLibraryLog() {
        if (!"info".equalsIgnoreCase(System.getenv("GGUF4J_LOG"))) {
            LIBRARY_LOG.setLevel(java.util.logging.Level.WARNING);
        }
    }

    /** Runs a command; returns the exit status (0 ok, 1 failed, 2 bad usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, System.in, out, err);
    }

    /** {@link #run(String[], PrintStream, PrintStream)} with {@code in} as the standard input (chat reads it). */
    static int run(String[] args, java.io.InputStream in, PrintStream out, PrintStream err) {
        // --debug (before the command): full stack traces on stderr instead of a trace file
        int first = 0;
        boolean debug = false;
        while (first < args.length && args[first].equals("--debug")) {
            debug = true;
            first++;
        }
        if (first == args.length) {
            err.print(USAGE);
            return 2;
        }
        String command = args[first];
        List<String> rest = Arrays.asList(args).subList(first + 1, args.length);
        try {
            return switch (command) {
                case "--version", "version" -> VersionCommand.run(out);
                case "info" -> InfoCommand.run(rest, out);
                case "run" -> RunCommand.run(rest, out, err);
                case "tokenize" -> TokenizeCommand.run(rest, out);
                case "chat-template" -> ChatTemplateCommand.run(rest, out, err);
                case "chat" -> ChatCommand.run(rest, in, out, err);
                case "serve" -> ServeCommand.run(rest, out, err);
                case "bench" -> BenchCommand.run(rest, out, err);
                case "perplexity" -> PerplexityCommand.run(rest, out, err);
                case "imatrix" -> ImatrixCommand.run(rest, out, err);
                case "calibrate" -> CalibrateCommand.run(rest, out, err);
                case "pull" -> StoreCommands.pull(rest, out, err);
                case "list", "ls" -> StoreCommands.list(rest, out);
                case "show" -> StoreCommands.show(rest, out);
                case "rm" -> StoreCommands.rm(rest, out);
                case "fit" -> FitCommand.run(rest, out, err);
                case "embed" -> EmbedCommand.run(rest, out, err);
                case "ladder" -> LadderCommand.run(rest, out, err);
                case "quantize" -> {
                    if (rest.contains("--help") || rest.contains("-h")) {
                        out.print(QuantizeCommand.USAGE);
                        yield 0;
                    }
                    yield QuantizeCommand.run(rest, out, err);
                }
                case "help", "--help", "-h" -> {
                    out.print(USAGE);
                    yield 0;
                }
                default -> throw new UsageException("unknown command '" + Errors.printable(command)
                        + "' (gguf4j help lists them)");
            };
        } catch (UsageException e) {
            err.println("gguf4j: " + Errors.oneLine(e.getMessage()));
            return 2;
        } catch (Gguf4jException e) {
            debugTrace(debug, e, err);
            err.println("gguf4j: error: " + Errors.oneLine(e.getMessage()));
            return 1;
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            debugTrace(debug, e, err);
            err.println("gguf4j: error: " + Errors.describe(e));
            return 1;
        } catch (OutOfMemoryError e) {
            debugTrace(debug, e, err);
            err.println("gguf4j: error: out of Java heap memory (" + Errors.oneLine(String.valueOf(e.getMessage()))
                    + "); give the JVM more with JAVA_OPTS=-Xmx...");
            return 1;
        } catch (RuntimeException | Error e) {
            return internalError(e, debug, args, err);
        }
    }

    /** A bug: one line on stderr and the whole trace in a file (or on stderr, with --debug); status 1. */
    static int internalError(Throwable e, boolean debug, String[] args, PrintStream err) {
        String what = e.getClass().getName() + ": " + Errors.oneLine(String.valueOf(e.getMessage()));
        if (debug) {
            e.printStackTrace(err);
            err.println("gguf4j: internal error: " + what);
        } else {
            err.println("gguf4j: internal error: " + what + "; full trace in " + Errors.writeTrace(e, args));
        }
        return 1;
    }

    private static void debugTrace(boolean debug, Throwable e, PrintStream err) {
        if (debug) {
            e.printStackTrace(err);
        }
    }

    /** Bad command-line arguments. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
