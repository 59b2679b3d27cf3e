package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * Rough single-thread throughput of every codec (not a test; a JMH module can replace it). Prints MB/s of F32
 * consumed by quantize (without and with importance weights) and of F32 produced by dequantize.
 *
 * <p>{@code java -cp <main>:<test> dev.gguf4j.quant.QuantSpeed [seconds per measurement]}
 */
public final class QuantSpeed {
    private QuantSpeed() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        int nPerRow = 4096;
        int rows = 64;
        float[] x = new float[nPerRow * rows];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() * 0.02f;
        }
        float[] qw = new float[nPerRow];
        for (int i = 0; i < nPerRow; i++) {
            qw[i] = (float) r.nextDouble() + 0.01f;
        }
        System.out.printf("%-7s %12s %12s %12s%n", "type", "quant MB/s", "imatrix MB/s", "dequant MB/s");
        for (GgmlType type : GgmlType.values()) {
            if (!Codecs.supports(type)) {
                continue;
            }
            TypeCodec c = Codecs.of(type);
            MemorySegment q = MemorySegment.ofArray(new byte[(int) type.bytesFor(x.length)]);
            double plain = Double.NaN;
            double weighted = Double.NaN;
            if (c.canQuantize()) {
                plain = rate(seconds, x.length, () -> c.quantizeRows(x, 0, rows, nPerRow, null, q, 0));
                weighted = rate(seconds, x.length, () -> c.quantizeRows(x, 0, rows, nPerRow, qw, q, 0));
            }
            float[] y = new float[x.length];
            double de = rate(seconds, x.length, () -> c.dequantize(q, 0, y, 0, y.length));
            System.out.printf("%-7s %12.1f %12.1f %12.1f%n", type, plain, weighted, de);
        }
    }

    /** MB/s of F32 (4 bytes per element), after a warm-up of the same length. */
    private static double rate(double seconds, int elements, Runnable op) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        while (System.nanoTime() < warmEnd) {
            op.run();
        }
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long iterations = 0;
        long now;
        do {
            op.run();
            iterations++;
            now = System.nanoTime();
        } while (now < end);
        return iterations * elements * 4.0 / 1e6 / ((now - start) / 1e9);
    }
}
