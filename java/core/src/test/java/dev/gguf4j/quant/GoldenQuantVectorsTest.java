package dev.gguf4j.quant;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code golden/quant-vectors-v2.gguf} (ggml's reference quantizers via ggml_quantize_chunk, after
 * {@code ggml_init()}, llama.cpp c392e50): quantizing the input rows (with the case's imatrix, if any) must give
 * the golden bytes exactly, and dequantizing the golden bytes must give the golden floats bit for bit.
 */
class GoldenQuantVectorsTest {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static GgufFile file;
    /** "TYPE [imatrix]" -> {passed, total}, printed at the end as the per-type tally. */
    private static final Map<String, int[]> TALLY = new ConcurrentHashMap<>();

    @BeforeAll
    static void open() throws IOException {
        file = GgufFile.open(TestData.golden("quant-vectors-v2.gguf"));
    }

    @AfterAll
    static void close() {
        if (file != null) {
            file.close();
        }
        StringBuilder sb = new StringBuilder("golden quant vectors, passed/total per type:\n");
        new TreeMap<>(TALLY).forEach((k, v) -> sb.append(String.format("  %-16s %3d/%3d%n", k, v[0], v[1])));
        System.out.print(sb);
    }

    private static int caseCount() {
        return (int) file.metadata().getLong("golden.case_count");
    }

    @Test
    void coversTheTypesTheFileHas() {
        assertEquals(570, caseCount());
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        for (int n = 0; n < caseCount(); n++) {
            seen.add(typeOf(n));
        }
        assertEquals(EnumSet.of(GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
                GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K,
                GgmlType.Q6_K, GgmlType.IQ4_NL), seen);
    }

    @TestFactory
    Stream<DynamicTest> everyCase() {
        return IntStream.range(0, caseCount()).mapToObj(n -> {
            GgmlType type = typeOf(n);
            String dist = file.metadata().getString("case." + n + ".distribution");
            boolean imatrix = file.tensor("case." + n + ".imatrix").isPresent();
            String name = "case " + n + ": " + type + " " + dist + (imatrix ? " imatrix" : "");
            return DynamicTest.dynamicTest(name, () -> runCase(n, type, imatrix ? "imatrix" : ""));
        });
    }

    private static GgmlType typeOf(int n) {
        String t = file.metadata().getString("case." + n + ".type");
        return GgmlType.byName(t).orElseThrow(() -> new AssertionError("unknown type " + t));
    }

    private static void runCase(int n, GgmlType type, String variant) {
        String key = (type + " " + variant).trim();
        int[] tally = TALLY.computeIfAbsent(key, k -> new int[2]);
        synchronized (tally) {
            tally[1]++;
        }
        GgufTensor input = file.requireTensor("case." + n + ".input");
        GgufTensor quant = file.requireTensor("case." + n + ".quant");
        GgufTensor dequant = file.requireTensor("case." + n + ".dequant");
        Optional<GgufTensor> imatrix = file.tensor("case." + n + ".imatrix");
        assertEquals(type, quant.type());
        int nPerRow = (int) input.rowLength();
        int rows = (int) input.rows();

        float[] x = input.data().toArray(F32_LE);
        float[] qw = imatrix.map(t -> t.data().toArray(F32_LE)).orElse(null);
        if (qw != null) {
            assertEquals(nPerRow, qw.length);
        }
        byte[] expected = quant.data().toArray(JAVA_BYTE);
        TypeCodec codec = Codecs.of(type);

        List<String> problems = new ArrayList<>();
        byte[] actual = new byte[expected.length];
        codec.quantizeRows(x, 0, rows, nPerRow, qw, MemorySegment.ofArray(actual), 0);
        int diff = firstDifference(expected, actual);
        if (diff >= 0) {
            long rowBytes = type.bytesFor(nPerRow);
            int block = (int) (diff % rowBytes) / type.blockBytes();
            int blockStart = diff / type.blockBytes() * type.blockBytes();
            problems.add(String.format("quantize: first difference at byte %d (row %d, block %d, byte %d of the "
                    + "block)%n  expected %s%n  actual   %s", diff, diff / rowBytes, block, diff - blockStart,
                    hex(expected, blockStart, type.blockBytes()), hex(actual, blockStart, type.blockBytes())));
        }

        float[] golden = dequant.data().toArray(F32_LE);
        float[] y = new float[golden.length];
        for (int r = 0; r < rows; r++) {
            codec.dequantize(quant.data(), r * type.bytesFor(nPerRow), y, r * nPerRow, nPerRow);
        }
        for (int i = 0; i < y.length; i++) {
            if (Float.floatToRawIntBits(y[i]) != Float.floatToRawIntBits(golden[i])) {
                problems.add(String.format("dequantize: first difference at element %d (row %d, block %d): expected "
                        + "%s (0x%08x), got %s (0x%08x)", i, i / nPerRow, (i % nPerRow) / type.blockSize(), golden[i],
                        Float.floatToRawIntBits(golden[i]), y[i], Float.floatToRawIntBits(y[i])));
                break;
            }
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
        synchronized (tally) {
            tally[0]++;
        }
    }

    static int firstDifference(byte[] a, byte[] b) {
        int i = java.util.Arrays.mismatch(a, b);
        assertTrue(i < 0 || i < Math.min(a.length, b.length), "lengths differ");
        return i;
    }

    static String hex(byte[] b, int from, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < Math.min(b.length, from + len); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }
}
