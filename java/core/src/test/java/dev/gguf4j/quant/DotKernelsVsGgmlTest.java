package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.types.GgmlType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DotKernels against ggml-cpu itself: {@code ggml-dot.txt} was written by a small C program (not in this
 * repository) statically linked against llama.cpp c392e50's {@code build-static} libraries, a
 * {@code GGML_NATIVE=ON} build: {@code libggml-cpu.a} compiled with {@code -march=native} on an AVX-512 x86-64
 * (so its AVX2/AVX-512 code paths, F16C and FMA are used, as when llama.cpp's golden logits were computed) and
 * {@code libggml-base.a} without {@code -march}. Made with:
 * <pre>
 *   gcc -O2 -std=gnu11 -ffp-contract=off -I/opt/llama.cpp/ggml/include jdot.c \
 *       build-static/ggml/src/libggml-cpu.a build-static/ggml/src/libggml-base.a \
 *       -fopenmp -lstdc++ -lm -lpthread -o jdot &amp;&amp; ./jdot &gt; ggml-dot.txt   # also writes xq/*.bin
 *   cmake -S llama.cpp -B build-generic -DCMAKE_C_COMPILER=cc-generic.sh -DCMAKE_CXX_COMPILER=cxx-generic.sh \
 *       -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF -DGGML_OPENMP=OFF -DGGML_LLAMAFILE=OFF \
 *       -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-ffp-contract=off -DCMAKE_CXX_FLAGS=-ffp-contract=off
 *   cmake --build build-generic --target ggml-cpu ggml-base
 *   gcc -O2 -std=gnu11 -ffp-contract=off -DGENERIC -I/opt/llama.cpp/ggml/include jdot.c \
 *       build-generic/ggml/src/libggml-cpu.a build-generic/ggml/src/libggml-base.a -lstdc++ -lm -lpthread \
 *       -o jdot-generic &amp;&amp; ./jdot-generic &gt;&gt; ggml-dot.txt
 * </pre>
 * ({@code cc-generic.sh}: {@code exec gcc -march=x86-64 "$@"} with {@code -msse4.2} removed from the arguments;
 * {@code cxx-generic.sh} the same with g++. The C sources were kept outside this repository, in
 * {@code /opt/g4j-jdot} on the machine that made the file.)
 *
 * <p>After {@code ggml_init} (fp16 table) and {@code ggml_cpu_init}, for each weight type T it quantizes the 12
 * rows of {@link DotInputs#weightRow} with {@code ggml_quantize_chunk(T, ..., imatrix = NULL)}, replaces rows
 * 8..11 of the quantized types with {@link DotInputs#randomRow random bytes} (every level and sub-scale bit
 * pattern), converts each of the 5 {@link DotInputs#activation} vectors with
 * {@code ggml_get_type_traits_cpu(vec_dot_type)->from_float} (into a zeroed buffer) and calls
 * {@code ggml_get_type_traits_cpu(T)->vec_dot(4096, &s, 0, row, 0, xq, 0, 1)} per row.
 * Lines: {@code w T crc(weights)}, {@code x T kind vec_dot_type crc(converted x)},
 * {@code d T kind bits(dot row 0) .. bits(dot row 11)}. The same program built with {@code -DGENERIC} and linked
 * against a second build of the same commit with ggml-cpu's scalar code paths (CMake with
 * {@code GGML_NATIVE=OFF}, {@code -ffp-contract=off}, and a compiler wrapper dropping the {@code -msse4.2} that
 * ggml's CMake always adds on x86, so plain x86-64: no SSE3+, no FMA; no OpenMP, no llamafile) reads the
 * activations the native build converted and adds {@code g T kind bits(dot row 0) ..}: ggml's generic
 * {@code vec_dot} on the same operands.
 *
 * <p>Asserted: our weight rows are those bytes (Codecs is byte-exact), our converted activations are
 * byte-identical to ggml's {@code from_float}, our dots are bit-identical to the generic {@code vec_dot}s (a NaN
 * may differ in payload), and they are within float-reordering error of ggml's SIMD
 * dots: |ours - ggml| &lt;= 1e-6 * sum |w_i x_i| (over the dequantized row and activation; the largest seen is
 * about 3e-7, for Q4_1). Both NaN counts as agreement, and so does ggml NaN with ours infinite: an infinite x
 * makes a Q8_0/Q8_1 block scale infinite ({@code d = max/127}, {@code id = 0}); ggml's SIMD kernels multiply
 * that scale by per-lane partial sums, some of them 0, and get {@code inf * 0 = NaN}, where the generic code
 * (and ours) multiplies the whole block's nonzero sum and gets an infinity.
 */
class DotKernelsVsGgmlTest {
    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0,
        GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
        GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS};
    private static final double TOLERANCE = 1e-6;

    private static final Map<String, String[]> LINES = new HashMap<>();

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = DotKernelsVsGgmlTest.class.getResourceAsStream("ggml-dot.txt")) {
            assertTrue(in != null, "ggml-dot.txt not on the test class path");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null;) {
                String[] f = line.split(" ");
                String key = f[0] + " " + f[1] + (f[0].equals("w") ? "" : " " + f[2]);
                LINES.put(key, f);
            }
        }
    }

    private static String crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return String.format("%08x", c.getValue());
    }

    @Test
    void dotsAreBitExactWithGgmlsGenericCode() {
        List<String> failures = new ArrayList<>();
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : TYPES) {
                String name = type.ggmlName();
                long rowBytes = type.bytesFor(DotInputs.N);
                MemorySegment w = arena.allocate(rowBytes * DotInputs.ROWS);
                DotInputs.weights(type, w);
                ActivationQuantizer aq = DotKernels.activationQuantizer(type);
                for (int k = 0; k < DotInputs.KINDS.length; k++) {
                    String[] gl = LINES.get("g " + name + " " + DotInputs.KINDS[k]);
                    assertTrue(gl != null, "no generic line for " + name + " " + DotInputs.KINDS[k]);
                    QuantizedActivation xq = aq.quantize(DotInputs.activation(k), 0, DotInputs.N);
                    for (int r = 0; r < DotInputs.ROWS; r++) {
                        float ours = DotKernels.dotPrepared(type, w, r * rowBytes, xq);
                        int theirs = Integer.parseUnsignedInt(gl[3 + r], 16);
                        checked++;
                        if (Float.floatToRawIntBits(ours) != theirs
                                && !(Float.isNaN(ours) && Float.isNaN(Float.intBitsToFloat(theirs)))) {
                            failures.add(String.format("%s %s row %d: ours %08x, ggml generic %08x", name,
                                    DotInputs.KINDS[k], r, Float.floatToRawIntBits(ours), theirs));
                        }
                    }
                }
            }
        }
        assertEquals(TYPES.length * DotInputs.KINDS.length * DotInputs.ROWS, checked);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void activationsAndDotsAgreeWithGgml() {
        List<String> report = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        report.add(String.format("%-7s %-5s %-10s %-11s %-13s %-9s %-12s %s", "type", "x->", "x bytes",
                "exact dots", "exact finite", "ours inf", "max |diff|/S", "max rel diff"));
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : TYPES) {
                String name = type.ggmlName();
                long rowBytes = type.bytesFor(DotInputs.N);
                MemorySegment w = arena.allocate(rowBytes * DotInputs.ROWS);
                DotInputs.weights(type, w);
                float[][] rows = new float[DotInputs.ROWS][];
                for (int r = 0; r < DotInputs.ROWS; r++) {
                    rows[r] = new float[DotInputs.N];
                    Codecs.of(type).dequantize(w, r * rowBytes, rows[r], 0, DotInputs.N);
                }
                assertEquals(LINES.get("w " + name)[2], crc(w.toArray(ValueLayout.JAVA_BYTE)),
                        name + ": weight rows differ from ggml_quantize_chunk's");
                int exact = 0;
                int nonFinite = 0;
                int exactFinite = 0;
                int finite = 0;
                int total = 0;
                int sameBytes = 0;
                double maxScaled = 0;
                double maxRel = 0;
                ActivationQuantizer aq = DotKernels.activationQuantizer(type);
                for (int k = 0; k < DotInputs.KINDS.length; k++) {
                    String kind = DotInputs.KINDS[k];
                    String[] xl = LINES.get("x " + name + " " + kind);
                    String[] dl = LINES.get("d " + name + " " + kind);
                    QuantizedActivation xq = aq.quantize(DotInputs.activation(k), 0, DotInputs.N);
                    assertEquals(xl[3], xq.type().ggmlName(), name + ": vec_dot_type");
                    if (xl[4].equals(crc(xq.toByteArray()))) {
                        sameBytes++;
                    } else {
                        failures.add(name + " " + kind + ": converted activation bytes differ from ggml's");
                    }
                    float[] xd = new float[DotInputs.N];
                    xq.dequantize(xd, 0);
                    for (int r = 0; r < DotInputs.ROWS; r++) {
                        float ours = DotKernels.dotPrepared(type, w, r * rowBytes, xq);
                        float theirs = Float.intBitsToFloat(Integer.parseUnsignedInt(dl[3 + r], 16));
                        total++;
                        if (Float.floatToRawIntBits(ours) == Float.floatToRawIntBits(theirs)
                                || (Float.isNaN(ours) && Float.isNaN(theirs))) {
                            exact++;
                            if (Float.isFinite(theirs)) {
                                exactFinite++;
                                finite++;
                            }
                            continue;
                        }
                        if (Float.isNaN(theirs) && Float.isInfinite(ours)) {
                            nonFinite++;
                            continue; // an infinite activation scale: see the class comment
                        }
                        if (Float.isFinite(theirs)) {
                            finite++;
                        }
                        double scale = 0;
                        for (int i = 0; i < DotInputs.N; i++) {
                            scale += Math.abs((double) rows[r][i] * xd[i]);
                        }
                        double diff = Math.abs((double) ours - theirs);
                        double scaled = diff / scale;
                        maxScaled = Math.max(maxScaled, scaled);
                        maxRel = Math.max(maxRel, diff / Math.abs((double) theirs));
                        if (!(scaled <= TOLERANCE)) {
                            failures.add(String.format(Locale.ROOT, "%s %s row %d: ours %s, ggml %s (|diff|/S %.3g)",
                                    name, kind, r, ours, theirs, scaled));
                        }
                    }
                }
                report.add(String.format(Locale.ROOT, "%-7s %-5s %-10s %-11s %-13s %-9s %-12.3g %.3g", name,
                        aq.type().ggmlName(), sameBytes + "/" + DotInputs.KINDS.length + " same",
                        exact + "/" + total, exactFinite + "/" + finite, nonFinite > 0 ? nonFinite + " inf" : "",
                        maxScaled, maxRel));
            }
        }
        System.out.println("DotKernels vs ggml-cpu (S = sum |w_i x_i|; NaN == NaN counts as exact):");
        report.forEach(System.out::println);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
}
