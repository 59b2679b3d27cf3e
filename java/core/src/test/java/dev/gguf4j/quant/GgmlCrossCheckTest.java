package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks against {@code ggml-crosscheck.txt}, which {@code docs/oracles/ggml-crosscheck.c} made with llama.cpp's
 * libggml-base at c392e50, built without -march, with its fp16 table initialised (as in every real program):
 * <ul>
 *   <li>{@code case}: every golden input quantized to its type (with its imatrix) and dequantized (the same as
 *       quant-vectors-v2.gguf holds); plus IQ4_XS on the IQ4_NL inputs and the legacy types with synthetic
 *       weights;</li>
 *   <li>{@code edge}: 18 kinds of odd rows (NaN, infinities, denormals, zeros, -0, FLT_MAX, ties ...) through
 *       every quantizable type, with no imatrix and with positive, sparse and all-zero imatrices;</li>
 *   <li>{@code bytes}: random blocks (random f16 scales included: NaN, Inf, subnormal) through every
 *       dequantizer, Q8_K included.</li>
 * </ul>
 * Each line holds CRC-32s of ggml's quantized bytes and of its dequantized floats' raw bits.
 */
class GgmlCrossCheckTest {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final String[] KINDS = {"normal", "nan1", "pinf1", "ninf1", "denormal", "zeros", "negzeros",
        "onedenormal", "huge", "nearmax", "allnan", "halfnan", "tiny", "outlier", "payloadnan", "infs", "mixedinf",
        "halves"};
    static final String[] IMATRIX_KINDS = {"none", "positive", "sparse", "zero"};

    private static List<String[]> lines;

    @BeforeAll
    static void load() throws IOException {
        lines = new ArrayList<>();
        try (InputStream in = GgmlCrossCheckTest.class.getResourceAsStream("ggml-crosscheck.txt")) {
            assertTrue(in != null, "ggml-crosscheck.txt not on the test class path");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null;) {
                lines.add(line.split(" "));
            }
        }
    }

    /** The shared golden inputs (quant-vectors-v2.gguf); the other checks need nothing from ../shared. */
    @Test
    void goldenInputsWithInitialisedTable() throws IOException {
        try (GgufFile golden = GgufFile.open(TestData.golden("quant-vectors-v2.gguf"))) {
            goldenInputs(golden);
        }
    }

    private static void goldenInputs(GgufFile golden) {
        Tally t = new Tally();
        for (String[] l : lines) {
            if (!l[0].equals("case")) {
                continue;
            }
            int n = Integer.parseInt(l[1]);
            GgmlType type = GgmlType.byName(l[2]).orElseThrow();
            GgufTensor input = golden.requireTensor("case." + n + ".input");
            float[] x = input.data().toArray(F32_LE);
            float[] qw = switch (l[3]) {
                case "none" -> null;
                case "case" -> golden.requireTensor("case." + n + ".imatrix").data().toArray(F32_LE);
                case "synthetic" -> CrossCheckInputs.imatrix(1, (int) input.rowLength());
                default -> throw new AssertionError(l[3]);
            };
            t.check("case " + n, type, l[3], x, (int) input.rows(), (int) input.rowLength(), qw, l[4], l[5], false);
        }
        t.report(960);
    }

    @Test
    void edgeRows() {
        Tally t = new Tally();
        for (String[] l : lines) {
            if (!l[0].equals("edge")) {
                continue;
            }
            int kind = List.of(KINDS).indexOf(l[1]);
            int imatrix = List.of(IMATRIX_KINDS).indexOf(l[3]);
            GgmlType type = GgmlType.byName(l[2]).orElseThrow();
            float[] x = CrossCheckInputs.row(kind, 512);
            float[] qw = imatrix == 0 ? null : CrossCheckInputs.imatrix(imatrix, 512);
            // payloadnan mixes two different NaNs. Where they meet in one operation IEEE 754 leaves open which
            // one propagates; x86 takes the first operand, and gcc, C2, C1 and the interpreter do not all order
            // operands alike, so the surviving NaN's sign (hence a NaN scale's sign) and payload (which
            // nearest_int turns into a level) can differ from ggml's. C2 matches gcc on all of these rows.
            t.check("edge " + l[1], type, l[3], x, 1, 512, qw, l[4], l[5], l[1].equals("payloadnan"));
        }
        t.report(846);
    }

    @Test
    void randomBlocks() {
        Tally t = new Tally();
        for (String[] l : lines) {
            if (!l[0].equals("bytes")) {
                continue;
            }
            GgmlType type = GgmlType.byName(l[1]).orElseThrow();
            int n = 4096;
            byte[] q = CrossCheckInputs.randomBytes(type, (int) type.bytesFor(n));
            float[] y = new float[n];
            Codecs.of(type).dequantize(MemorySegment.ofArray(q), 0, y, 0, n);
            t.count(type.toString(), "random", crc(y).equals(l[2]) ? null : "bytes " + type + ": dequant crc "
                    + crc(y) + ", ggml " + l[2]);
        }
        t.report(15);
    }

    /** Per-type pass counts and the failures, reported together. */
    static final class Tally {
        final Map<String, int[]> counts = new TreeMap<>();
        final List<String> failures = new ArrayList<>();
        int total;

        void check(String what, GgmlType type, String imatrix, float[] x, int rows, int nPerRow, float[] qw,
                String crcQ, String crcD, boolean nanOrderOpen) {
            TypeCodec codec = Codecs.of(type);
            byte[] q = new byte[(int) type.bytesFor((long) rows * nPerRow)];
            codec.quantizeRows(x, 0, rows, nPerRow, qw, MemorySegment.ofArray(q), 0);
            if (nanOrderOpen && !crc(q).equals(crcQ)) {
                byte[] flipped = flipNanHalfSigns(type, q);
                String how = crc(flipped).equals(crcQ) ? "NaN sign" : "NaN payload";
                System.out.println("  (" + what + " " + type + " imatrix " + imatrix + ": differs from ggml in the "
                        + how + " where two different NaNs met; not specified by IEEE 754)");
                count(type.toString(), imatrix, null);
                return;
            }
            float[] y = new float[rows * nPerRow];
            MemorySegment qs = MemorySegment.ofArray(q);
            for (int r = 0; r < rows; r++) {
                codec.dequantize(qs, r * type.bytesFor(nPerRow), y, r * nPerRow, nPerRow);
            }
            String failure = null;
            if (!crc(q).equals(crcQ)) {
                failure = what + " " + type + " imatrix " + imatrix + ": quantized bytes differ from ggml's";
            } else if (!crc(y).equals(crcD)) {
                failure = what + " " + type + " imatrix " + imatrix + ": dequantized floats differ from ggml's";
            }
            count(type.toString(), imatrix, failure);
        }

        void count(String type, String variant, String failure) {
            int[] c = counts.computeIfAbsent(type + " " + variant, k -> new int[2]);
            c[1]++;
            total++;
            if (failure == null) {
                c[0]++;
            } else {
                failures.add(failure);
            }
        }

        void report(int expectedTotal) {
            StringBuilder sb = new StringBuilder();
            counts.forEach((k, c) -> sb.append(String.format("  %-22s %3d/%3d%n", k, c[0], c[1])));
            System.out.print(sb);
            assertEquals(expectedTotal, total, "number of checks");
            assertTrue(failures.isEmpty(), failures.size() + " differ from ggml:\n"
                    + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));
        }
    }

    /** Byte offsets of the f16 fields in one block of each type. */
    static int[] halfFields(GgmlType type) {
        return switch (type) {
            case F16, Q4_0, Q5_0, Q8_0, IQ4_NL, IQ4_XS -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
    }

    /** {@code q} with the sign of every NaN f16 scale field flipped. */
    static byte[] flipNanHalfSigns(GgmlType type, byte[] q) {
        byte[] f = q.clone();
        for (int b = 0; b < f.length; b += type.blockBytes()) {
            for (int off : halfFields(type)) {
                int h = (f[b + off] & 0xFF) | (f[b + off + 1] & 0xFF) << 8;
                if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) {
                    f[b + off + 1] ^= (byte) 0x80;
                }
            }
        }
        return f;
    }

    static String crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return String.format("%08x", c.getValue());
    }

    static String crc(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : f) {
            b.putInt(Float.floatToRawIntBits(v));
        }
        return crc(b.array());
    }
}
