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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real thing: every quantized tensor of the shared {@code llama-quantize} outputs (ggml with its fp16 table
 * initialised, as any real program has it) must come out byte for byte when this package quantizes the
 * source model's tensor to the same type, with the same importance matrix where one was used.
 */
class LlamaQuantizeOutputsTest {

    @ParameterizedTest(name = "{1} from {0}")
    @CsvSource({
        "stories260K-pad256.gguf, stories260K-pad256-Q8_0.gguf, ",
        "stories260K-pad256.gguf, stories260K-pad256-Q6_K.gguf, ",
        "stories260K-pad256.gguf, stories260K-pad256-Q4_K_M.gguf, ",
        "stories260K-pad256.gguf, stories260K-pad256-Q4_0.gguf, ",
        "stories260K-pad256.gguf, stories260K-pad256-Q4_K_M-imatrix.gguf, stories260K-pad256.imatrix",
        "kjv7m-F16.gguf, kjv7m-Q8_0.gguf, ",
        "kjv7m-F16.gguf, kjv7m-Q6_K.gguf, ",
        "kjv7m-F16.gguf, kjv7m-Q4_K_M.gguf, ",
        "kjv7m-F16.gguf, kjv7m-Q4_0.gguf, ",
        "kjv7m-F16.gguf, kjv7m-Q3_K_M.gguf, ",
        "kjv7m-F16.gguf, kjv7m-Q2_K.gguf, ",
    })
    void matchesLlamaQuantize(String source, String output, String imatrixFile) throws IOException {
        Map<String, float[]> imatrix = imatrixFile == null ? Map.of()
                : readLegacyImatrix(TestData.model(imatrixFile));
        Map<GgmlType, int[]> counts = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int weighted = 0;
        try (GgufFile src = GgufFile.open(TestData.model(source)); GgufFile out = GgufFile.open(TestData.model(output))) {
            for (GgufTensor q : out.tensors()) {
                GgmlType type = q.type();
                if (type == GgmlType.F32) {
                    continue;
                }
                GgufTensor s = src.requireTensor(q.name());
                assertEquals(List.of(toList(s.shape())), List.of(toList(q.shape())), q.name());
                int nPerRow = (int) s.rowLength();
                int rows = (int) s.rows();
                float[] x = new float[nPerRow * rows];
                TypeCodec from = Codecs.of(s.type());
                for (int r = 0; r < rows; r++) {
                    from.dequantize(s.data(), r * s.rowBytes(), x, r * nPerRow, nPerRow);
                }
                float[] qw = imatrix.get(q.name());
                if (qw != null) {
                    assertEquals(nPerRow, qw.length, q.name());
                    weighted++;
                }
                byte[] actual = new byte[(int) q.byteSize()];
                Codecs.of(type).quantizeRows(x, 0, rows, nPerRow, qw, MemorySegment.ofArray(actual), 0);
                byte[] expected = q.data().toArray(JAVA_BYTE);
                int[] c = counts.computeIfAbsent(type, t -> new int[2]);
                c[1]++;
                int diff = GoldenQuantVectorsTest.firstDifference(expected, actual);
                if (diff < 0) {
                    c[0]++;
                } else {
                    int bb = type.blockBytes();
                    failures.add(String.format("%s %s: first difference at byte %d (row %d, block %d)%n  expected %s"
                            + "%n  actual   %s", q.name(), type, diff, diff / q.rowBytes(),
                            (diff % q.rowBytes()) / bb, GoldenQuantVectorsTest.hex(expected, diff / bb * bb, bb),
                            GoldenQuantVectorsTest.hex(actual, diff / bb * bb, bb)));
                }
            }
        }
        StringBuilder sb = new StringBuilder(output + ":");
        counts.forEach((t, c) -> sb.append(' ').append(t).append(' ').append(c[0]).append('/').append(c[1]));
        if (imatrixFile != null) {
            sb.append(" (").append(weighted).append(" tensors with imatrix)");
        }
        System.out.println(sb);
        if (imatrixFile != null) {
            assertTrue(weighted > 0, "no tensor used the imatrix");
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " tensors differ:\n" + String.join("\n", failures));
        }
    }

    private static List<Long> toList(long[] a) {
        List<Long> l = new ArrayList<>();
        for (long v : a) {
            l.add(v);
        }
        return l;
    }

    /** llama.cpp's legacy imatrix file, each entry divided by its call count as llama-quantize does. */
    static Map<String, float[]> readLegacyImatrix(Path path) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        int entries = b.getInt();
        Map<String, float[]> m = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            byte[] name = new byte[b.getInt()];
            b.get(name);
            int ncall = b.getInt();
            float[] v = new float[b.getInt()];
            for (int j = 0; j < v.length; j++) {
                v[j] = b.getFloat();
                if (ncall > 0) {
                    v[j] /= ncall;
                }
            }
            m.put(new String(name, StandardCharsets.UTF_8), v);
        }
        return m;
    }
}
