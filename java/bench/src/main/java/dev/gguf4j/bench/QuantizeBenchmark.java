package dev.gguf4j.bench;

import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.internal.NativeCpu;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.quant.TypeCodec;
import dev.gguf4j.types.GgmlType;
import dev.gguf4j.types.UnsupportedTypeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread speed of the quantizers over the fixed 1 MiB input of {@link BenchInput} (64 rows x 4096 F32) into a preallocated off-heap segment.
 *
 * <p>One operation quantizes the whole matrix, i.e. 1 MiB of F32 input, so the throughput score in ops/s is
 * directly MiB/s of F32 input. {@code impl=java}: the Java reference quantizers ({@code Codecs.of(type).quantize},
 * one row at a time); {@code impl=native}: libgguf4j's {@code g4j_quantize_rows} (the auto-selected variant) over
 * the whole matrix, as {@code gguf4j quantize} calls it (types it lacks fail in setup). {@code imatrix=true} passes the importance weights of {@link BenchInput}; F16,
 * BF16 and Q8_0 ignore them (as ggml does), so for those the two rows measure the same thing.
 *
 * <p>A type without a Java quantizer fails in setup with {@link UnsupportedTypeException}: JMH reports that
 * parameter combination as failed and goes on with the others.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(1)
public class QuantizeBenchmark {

    /** The types benchmarked by default (the {@code type} parameter); keep in step with the annotation. */
    static final String[] TYPES = {
        "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
        "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"
    };

    @Param({"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    public String type;

    @Param({"false", "true"})
    public boolean imatrix;

    @Param({"java", "native"})
    public String impl;

    private NativeCpu lib;
    private GgmlType ggmlType;
    private MemorySegment nativeSrc;
    private MemorySegment nativeImportance;

    private float[] src;
    private float[] importance;
    private TypeCodec codec;
    private long rowBytes;
    private Arena arena;
    private MemorySegment dst;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        codec = Codecs.of(t); // UnsupportedTypeException: no codec at all
        if (!codec.canQuantize()) {
            throw new UnsupportedTypeException(t, "quantization");
        }
        src = BenchInput.matrix();
        importance = imatrix ? BenchInput.importance() : null;
        rowBytes = t.bytesFor(BenchInput.COLS);
        arena = Arena.ofShared();
        dst = arena.allocate(rowBytes * BenchInput.ROWS, 64);
        ggmlType = t;
        if (impl.equals("native")) {
            lib = CpuBackend.get().library();
            if (!lib.canQuantizeRows(GgmlType.F32, t)) {
                throw new UnsupportedTypeException(t, "native quantization");
            }
            nativeSrc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, src);
            nativeImportance = importance == null ? MemorySegment.NULL
                    : arena.allocateFrom(ValueLayout.JAVA_FLOAT, importance);
        }
        quantizeMatrix(); // a quantizer that is still a stub throws here, before any timing
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** Quantizes the 64 x 4096 matrix row by row: one op = 1 MiB of F32 input. */
    @Benchmark
    public MemorySegment quantizeMatrix() {
        if (lib != null) {
            lib.quantizeRows(lib.isa(), GgmlType.F32, nativeSrc, 4L * BenchInput.COLS, ggmlType, dst, BenchInput.ROWS,
                    BenchInput.COLS, nativeImportance);
            return dst;
        }
        final TypeCodec c = codec;
        final float[] s = src;
        final float[] w = importance;
        final MemorySegment d = dst;
        final int cols = BenchInput.COLS;
        for (int r = 0; r < BenchInput.ROWS; r++) {
            c.quantize(s, r * cols, cols, w, d, r * rowBytes);
        }
        return d;
    }
}
