package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every case of ../shared/golden/quant-vectors.gguf against ggml itself (an initialised ggml at llama.cpp
 * c392e50; tests/golden/*.tsv, made as docs/golden-data.md says): our to_float of the golden quant bytes, and
 * our quantization of the golden input (with its imatrix), must hash the same as ggml's.
 */
class GgmlOracleHashesTest {

    @Test
    void dequantizeAndQuantizeHashLikeGgml() throws Exception {
        List<String> failures = new ArrayList<>();
        int checked = 0;
        List<String[]> dequant = rows("dequant-sha256.tsv");
        List<String[]> requant = rows("ggml-requant-sha256.tsv");
        assertEquals(570, dequant.size());
        assertEquals(570, requant.size());
        try (GgufFile f = GgufFile.open(TestData.golden("quant-vectors.gguf"))) {
            for (int i = 0; i < 570; i++) {
                String[] d = dequant.get(i);
                String[] q = requant.get(i);
                int c = Integer.parseInt(d[0]);
                GgmlType type = GgmlType.byName(d[1]).orElseThrow();
                GgufTensor quant = f.requireTensor("case." + c + ".quant");
                GgufTensor input = f.requireTensor("case." + c + ".input");
                int n = (int) input.elementCount();
                int perRow = (int) input.rowLength();
                TypeCodec codec = Codecs.of(type);

                float[] deq = new float[n];
                codec.dequantize(quant.data(), 0, deq, 0, n);
                ByteBuffer bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(deq);
                if (!sha256(bb.array()).equals(d[4])) {
                    failures.add("case " + c + " " + type + ": to_float differs from ggml");
                }

                float[] in = input.data().toArray(ValueLayout.JAVA_FLOAT);
                float[] imatrix = f.tensor("case." + c + ".imatrix").map(t -> t.data().toArray(ValueLayout.JAVA_FLOAT))
                        .orElse(null);
                byte[] out = new byte[(int) type.bytesFor(n)];
                codec.quantizeRows(in, 0, n / perRow, perRow, imatrix, MemorySegment.ofArray(out), 0);
                if (!sha256(out).equals(q[4])) {
                    failures.add("case " + c + " " + type + (imatrix != null ? " +imatrix" : "")
                            + ": quantized bytes differ from ggml_quantize_chunk");
                }
                checked++;
            }
        }
        assertEquals(570, checked);
        assertTrue(failures.isEmpty(), failures.size() + " mismatches, first: " + failures.subList(0, Math.min(10,
                failures.size())));
    }

    private static List<String[]> rows(String file) throws Exception {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(TestData.root().resolve("tests/golden").resolve(file))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                out.add(line.split("\t"));
            }
        }
        return out;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
