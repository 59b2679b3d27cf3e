package dev.gguf4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CpuMath's silu and soft_max against ggml's own outputs, bit for bit: tests/golden/ggml-math/ggml-math.txt, made by
 * make-ggml-math-goldens.sh there with libggml of llama.cpp c392e50 built for AVX2 (ggml_silu over 4096 inputs
 * from the flush-to-zero and overflow ranges to ordinary values; ggml_soft_max of whole rows, with the scalar
 * tail, and ggml_soft_max_ext of rows whose columns outside a window are masked, as the attention's are).
 */
class CpuMathGgmlTest {
    static final Path GOLDEN = TestData.root().resolve("tests/golden/ggml-math/ggml-math.txt");

    static float f(String hex) {
        return Float.intBitsToFloat(Integer.parseUnsignedInt(hex, 16));
    }

    static List<String[]> lines(String kind) throws IOException {
        return Files.readAllLines(GOLDEN).stream().map(l -> l.split(" ")).filter(l -> l[0].equals(kind)).toList();
    }

    @Test
    void siluIsGgmlsBitForBit() throws IOException {
        List<String[]> rows = lines("silu");
        assertEquals(4096, rows.size());
        float[] x = new float[rows.size()];
        float[] one = new float[rows.size()];
        float[] out = new float[rows.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = f(rows.get(i)[1]);
            one[i] = 1.0f;
        }
        CpuMath.swiglu(x, 0, one, 0, out, 0, x.length);
        int wrong = 0;
        String first = null;
        for (int i = 0; i < x.length; i++) {
            float want = f(rows.get(i)[2]);
            if (Float.floatToRawIntBits(out[i]) != Float.floatToRawIntBits(want)) {
                wrong++;
                first = first != null ? first : "silu(" + x[i] + ") = " + out[i] + ", ggml " + want;
            }
        }
        assertEquals(0, wrong, wrong + " of " + x.length + " differ from ggml; first: " + first);
    }

    @Test
    void softmaxIsGgmlsBitForBit() throws IOException {
        List<String[]> rows = lines("softmax");
        assertTrue(rows.size() >= 50, "rows: " + rows.size());
        for (String[] r : rows) {
            int n = Integer.parseInt(r[1]);
            int from = Integer.parseInt(r[2]);
            int to = Integer.parseInt(r[3]);
            boolean masked = r[4].equals("1");
            float[] s = new float[n];
            for (int i = 0; i < n; i++) {
                s[i] = f(r[5 + i]);
            }
            CpuMath.softmax(s, from, to, masked);
            for (int i = from; i < to; i++) {
                float want = f(r[5 + n + i]);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(s[i]),
                        "softmax of " + n + " columns, [" + from + ", " + to + ") " + (masked ? "masked" : "whole")
                                + ": column " + i + " is " + s[i] + ", ggml " + want);
            }
            for (int i = 0; i < n; i++) {
                if (i < from || i >= to) {
                    assertEquals(0.0f, f(r[5 + n + i]), "ggml's masked column " + i);
                }
            }
        }
    }
}
