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
              chat-template (-m MODEL | --chat-template NAME | --chat-template-file FILE) --messages FILE.json
                            [--tools FILE.json] [--no-generation-prompt] [--bos S --eos S] [--var KEY=VALUE]
                                               print the prompt the chat template renders (chat-template --help)
              perplexity [-m MODEL] -f FILE [-c 512] [-t N] [--chunks N]   llama-perplexity's PPL
              bench [-m MODEL] [-p 512] [-n 128] [-t 1,2] [-r 3] [-ngl 0,99|auto] [--json]
                                               llama-bench's pp/tg tokens/s
              (run, perplexity and bench also take --no-mmap: read the weights instead of mapping them, and
               --mlock: lock them in RAM, with a warning and no lock where RLIMIT_MEMLOCK forbids it)
              help                             this text
            """;

    private Main() {
    }

    public static void main(String[] args) {
        // The library logs its backend choice at INFO; the CLI prints what matters itself (--version, run's
        // header line), so it shows only warnings unless GGUF4J_LOG=info.
        if (!"info".equalsIgnoreCase(System.getenv("GGUF4J_LOG"))) {
            java.util.logging.Logger.getLogger("dev.gguf4j").setLevel(java.util.logging.Level.WARNING);
        }
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command; returns the exit status (0 ok, 1 failed, 2 bad usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(USAGE);
            return 2;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            return switch (args[0]) {
                case "--version", "version" -> VersionCommand.run(out);
                case "info" -> InfoCommand.run(rest, out);
                case "run" -> RunCommand.run(rest, out, err);
                case "tokenize" -> TokenizeCommand.run(rest, out);
                case "chat-template" -> ChatTemplateCommand.run(rest, out, err);
                case "bench" -> BenchCommand.run(rest, out, err);
                case "perplexity" -> PerplexityCommand.run(rest, out, err);
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
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            err.println("gguf4j: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (Gguf4jException e) {
            err.println("gguf4j: error: " + e.getMessage());
            return 1;
        } catch (java.io.IOException e) {
            err.println("gguf4j: error: " + e);
            return 1;
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
