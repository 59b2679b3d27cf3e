package dev.gguf4j.bench;

import dev.gguf4j.quant.Codecs;
import dev.gguf4j.quant.TypeCodec;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The fixed input of the quantization benchmarks, so that a peer harness (ggml) can quantize exactly the same
 * floats: a {@value #ROWS} x {@value #COLS} F32 matrix (1 MiB) of N(0,1) values and {@value #COLS} positive
 * importance weights (log-normal), both from one seeded xorshift64* generator with Box-Muller through
 * {@link StrictMath}, so the numbers do not depend on the JDK or the CPU.
 *
 * <p>{@code java -cp gguf4j-bench.jar dev.gguf4j.bench.BenchInput FILE} writes the matrix, then the weights, as
 * raw little-endian float32 ({@code (ROWS+1)*COLS} floats) and prints, per type and with/without the weights, an
 * FNV-1a 64 hash of the quantized matrix, which a harness that quantizes the same file with ggml can compare.
 */
public final class BenchInput {
    public static final int ROWS = 64;
    public static final int COLS = 4096;
    public static final long SEED = 0x9E3779B97F4A7C15L;

    private BenchInput() {
    }

    /** xorshift64* (Vigna), 53-bit doubles in [0, 1). */
    private static final class Rng {
        private long s;

        Rng(long seed) {
            s = seed == 0 ? 1 : seed;
        }

        long nextLong() {
            s ^= s >>> 12;
            s ^= s << 25;
            s ^= s >>> 27;
            return s * 0x2545F4914F6CDD1DL;
        }

        double nextDouble() {
            return (nextLong() >>> 11) * 0x1.0p-53;
        }

        /** Box-Muller, one value per pair of uniforms (the cosine branch). */
        double nextGaussian() {
            double u1 = 1.0 - nextDouble(); // (0, 1]
            double u2 = nextDouble();
            return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
        }
    }

    /** The matrix, row-major, {@code ROWS*COLS} floats. */
    public static float[] matrix() {
        Rng rng = new Rng(SEED);
        float[] m = new float[ROWS * COLS];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) rng.nextGaussian();
        }
        return m;
    }

    /** The importance weights, {@code COLS} positive floats: exp(N(0,1)). */
    public static float[] importance() {
        Rng rng = new Rng(SEED ^ 0x5DEECE66DL);
        float[] w = new float[COLS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) StrictMath.exp(rng.nextGaussian());
        }
        return w;
    }

    /** FNV-1a 64 over {@code n} bytes of {@code seg}. */
    static long fnv1a(MemorySegment seg, long n) {
        long h = 0xcbf29ce484222325L;
        for (long i = 0; i < n; i++) {
            h ^= seg.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            h *= 0x100000001b3L;
        }
        return h;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: BenchInput FILE   (writes the benchmark input, prints output hashes)");
            System.exit(2);
        }
        float[] m = matrix();
        float[] w = importance();
        ByteBuffer buf = ByteBuffer.allocate((m.length + w.length) * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(m).put(w);
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
        System.out.printf("wrote %s: %d x %d F32 matrix + %d importance weights%n", args[0], ROWS, COLS, COLS);
        try (Arena arena = Arena.ofConfined()) {
            for (String name : QuantizeBenchmark.TYPES) {
                GgmlType type = GgmlType.valueOf(name);
                for (boolean imatrix : new boolean[] {false, true}) {
                    String hash;
                    try {
                        TypeCodec codec = Codecs.of(type);
                        long rowBytes = type.bytesFor(COLS);
                        MemorySegment dst = arena.allocate(rowBytes * ROWS, 64);
                        for (int r = 0; r < ROWS; r++) {
                            codec.quantize(m, r * COLS, COLS, imatrix ? w : null, dst, r * rowBytes);
                        }
                        hash = String.format("%016x", fnv1a(dst, rowBytes * ROWS));
                    } catch (RuntimeException e) {
                        hash = "unsupported (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
                    }
                    System.out.printf("%-7s imatrix=%-5s %s%n", name, imatrix, hash);
                }
            }
        }
    }
}
