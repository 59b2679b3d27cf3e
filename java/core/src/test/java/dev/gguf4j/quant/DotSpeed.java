package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * Rough single-thread speed of {@link DotKernels#matvec} (not a test): a 4096 x 4096 matrix-vector product per
 * weight type, in GB/s of weights read and ms per product (activation conversion included), timed in thread CPU
 * time so that other processes on a shared machine disturb it less.
 *
 * <p>{@code java -cp <main>:<test> dev.gguf4j.quant.DotSpeed [seconds per type]}
 */
public final class DotSpeed {
    private DotSpeed() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        int n = 4096;
        int rows = 4096;
        int distinct = 64;
        Random rnd = new Random(1);
        float[] src = new float[n * distinct];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) rnd.nextGaussian() * 0.02f;
        }
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] y = new float[rows];
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        System.out.printf("%-7s %10s %8s%n", "type", "GB/s", "ms");
        for (GgmlType type : DotKernels.supportedTypes()) {
            long rowBytes = type.bytesFor(n);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = arena.allocate(rowBytes * rows, 64);
                Codecs.of(type).quantizeRows(src, 0, distinct, n, null, w, 0);
                for (int r = distinct; r < rows; r += distinct) {
                    MemorySegment.copy(w, 0, w, r * rowBytes, rowBytes * distinct);
                }
                for (int i = 0; i < 3; i++) {
                    DotKernels.matvec(type, w, 0, rowBytes, rows, x, n, y, 0);
                }
                int iters = 0;
                long t0 = cpu.getCurrentThreadCpuTime();
                long t;
                do {
                    DotKernels.matvec(type, w, 0, rowBytes, rows, x, n, y, 0);
                    iters++;
                    t = cpu.getCurrentThreadCpuTime() - t0;
                } while (t < seconds * 1e9);
                double perCall = t / 1e9 / iters;
                System.out.printf("%-7s %10.2f %8.1f%n", type, rowBytes * rows / perCall / 1e9, perCall * 1e3);
            }
        }
    }
}
