package dev.gguf4j.cli;

import dev.gguf4j.quantize.Calibration;
import dev.gguf4j.quantize.QuantizeOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code gguf4j calibrate}: GPTQ's calibration of a model on a text, saved for {@code quantize --search better
 * --calibration FILE} (the way an imatrix file is made once and given to llama-quantize): quantizing from it skips
 * the forward pass over the text.
 */
final class CalibrateCommand {
    static final String USAGE = """
            usage: gguf4j calibrate -m MODEL -f TEXT [-o calibration.gguf] [-c %d] [--chunks %d] [-t N]
              GPTQ's calibration for quantize --search better --calibration FILE: runs TEXT through MODEL (the
              unquantized model you will quantize) and saves, for every weight's input, the factor GPTQ needs
              (a GGUF file; about 2 x the sum of n^2 bytes over the distinct inputs of n columns)
              -f TEXT        calibration text (UTF-8), like the model's use; needs at least -c tokens
              -o FILE        output (default calibration.gguf)
              -c N           tokens per chunk (default %d)
              --chunks N     at most N chunks (default %d)
              -t N           threads (default: all cores)
            """.formatted(QuantizeOptions.CALIBRATION_CTX, QuantizeOptions.CALIBRATION_CHUNKS,
            QuantizeOptions.CALIBRATION_CTX, QuantizeOptions.CALIBRATION_CHUNKS);

    private CalibrateCommand() {
    }

    static int run(List<String> argv, PrintStream out, PrintStream err) throws IOException {
        if (argv.contains("--help") || argv.contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Args a = new Args("calibrate", argv);
        String model = null;
        String file = null;
        String output = "calibration.gguf";
        int ctx = QuantizeOptions.CALIBRATION_CTX;
        int chunks = QuantizeOptions.CALIBRATION_CHUNKS;
        int threads = Runtime.getRuntime().availableProcessors();
        while (a.hasNext()) {
            String o = a.next();
            switch (o) {
                case "-m", "--model" -> model = a.value(o);
                case "-f", "--file" -> file = a.value(o);
                case "-o", "--output-file" -> output = a.value(o);
                case "-c", "--ctx-size" -> ctx = a.intValue(o, 2, 1 << 20);
                case "--chunks" -> chunks = a.intValue(o, 1, 1 << 20);
                case "-t", "--threads" -> threads = a.intValue(o, 1, 4096);
                default -> throw a.unknown(o);
            }
        }
        if (model == null) {
            throw new Main.UsageException("calibrate: give the model with -m FILE (the unquantized one)");
        }
        if (file == null) {
            throw new Main.UsageException("calibrate: give the calibration text with -f FILE");
        }
        Path modelPath = PathChecks.readableFile("-m", model);
        Path text = PathChecks.readableFile("-f", file);
        Path outPath = PathChecks.writableOutput("-o", output);
        long t0 = System.nanoTime();
        Calibration.Factors f = Calibration.save(modelPath, text, ctx, chunks, threads, outPath,
                line -> err.println("gguf4j calibrate: " + line));
        err.printf(Locale.ROOT, "gguf4j calibrate: wrote %d factors (%d chunks of %d tokens) to %s in %.1f s%n",
                f.factors().size(), f.chunks(), f.ctx(), outPath, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
