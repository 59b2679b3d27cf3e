package dev.gguf4j.quantize;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.internal.NativeCpu;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * libgguf4j's quantizer ({@code g4j_quantize_rows}, which {@link ModelQuantizer} uses when the library loaded)
 * against ggml's bytes: every case of {@code golden/quant-vectors-v2.gguf} (ggml_quantize_chunk of llama.cpp
 * c392e50) of a type it quantizes, in every kernel variant this CPU runs; and the whole pipeline with the Java
 * quantizers (the fallback) against llama-quantize's files, as LlamaQuantizeOutputTest does with the native ones.
 */
class NativeQuantizeTest {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static NativeCpu lib() {
        assumeTrue(CpuBackend.isAvailable(), "native library not loaded");
        return CpuBackend.get().library();
    }

    @Test
    void goldenQuantVectorsInEveryVariant() throws Exception {
        NativeCpu lib = lib();
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        List<String> problems = new ArrayList<>();
        int checked = 0;
        try (GgufFile file = GgufFile.open(TestData.golden("quant-vectors-v2.gguf")); Arena arena = Arena.ofConfined()) {
            int cases = (int) file.metadata().getLong("golden.case_count");
            for (int n = 0; n < cases; n++) {
                GgmlType type = GgmlType.byName(file.metadata().getString("case." + n + ".type")).orElseThrow();
                if (!lib.canQuantizeRows(GgmlType.F32, type)) {
                    continue;
                }
                seen.add(type);
                GgufTensor input = file.requireTensor("case." + n + ".input");
                byte[] expected = file.requireTensor("case." + n + ".quant").data().toArray(JAVA_BYTE);
                long nPerRow = input.rowLength();
                long rows = input.rows();
                MemorySegment x = arena.allocate(input.byteSize(), 64);
                x.copyFrom(input.data());
                MemorySegment qw = file.tensor("case." + n + ".imatrix").map(t -> {
                    MemorySegment s = arena.allocate(t.byteSize(), 64);
                    s.copyFrom(t.data());
                    return s;
                }).orElse(MemorySegment.NULL);
                MemorySegment out = arena.allocate(expected.length, 64);
                for (int isa = 0; isa < lib.isaCount(); isa++) {
                    if (!lib.isaAvailable(isa)) {
                        continue;
                    }
                    out.fill((byte) 0x5A);
                    long bad = lib.quantizeRows(isa, GgmlType.F32, x, nPerRow * 4, type, out, rows, nPerRow, qw);
                    assertEquals(-1, bad, "case " + n + ": finite input reported non-finite");
                    byte[] actual = out.toArray(JAVA_BYTE);
                    if (!java.util.Arrays.equals(expected, actual)) {
                        problems.add("case " + n + " " + type + " " + file.metadata().getString("case." + n
                                + ".distribution") + (qw.equals(MemorySegment.NULL) ? "" : " imatrix") + " variant "
                                + lib.isaName(isa) + ": first difference at byte "
                                + java.util.Arrays.mismatch(expected, actual));
                    }
                    checked++;
                }
            }
        }
        assertEquals(EnumSet.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K,
                GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.BF16), seen);
        assertTrue(problems.isEmpty(), problems.size() + " of " + checked + " differ:\n" + String.join("\n", problems));
    }

    @Test
    void nonFiniteInputIsReportedWithItsPlace() {
        NativeCpu lib = lib();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 2 * 512);
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 512 + 300, Float.NEGATIVE_INFINITY);
            MemorySegment out = arena.allocate(2 * GgmlType.Q4_K.bytesFor(512));
            assertEquals(512 + 300, lib.quantizeRows(lib.isa(), GgmlType.F32, x, 2048, GgmlType.Q4_K, out, 2, 512,
                    MemorySegment.NULL));
        }
    }

    /** The Java quantizers (used without the native library, or with gguf4j.backend=java) give the same files. */
    @ParameterizedTest
    @CsvSource({"kjv7m-F16, Q4_K_M", "kjv7m-F16, Q2_K", "kjv7m-F16, Q4_0"})
    void javaFallbackByteIdenticalToLlamaQuantize(String model, String type, @TempDir Path dir) throws Exception {
        Path src = TestData.model(model + ".gguf");
        Path golden = TestData.model(model.replace("-F16", "") + "-" + type + ".gguf");
        Path out = dir.resolve("out.gguf");
        boolean before = ModelQuantizer.nativeQuantize;
        ModelQuantizer.nativeQuantize = false;
        try {
            ModelQuantizer.quantize(src, out, QuantizeOptions.to(FileType.byQuantizeName(type).orElseThrow()).threads(2),
                    LlamaQuantizeOutputTest.typesOf(golden), new ModelQuantizer.Listener() { });
        } finally {
            ModelQuantizer.nativeQuantize = before;
        }
        LlamaQuantizeOutputTest.assertFilesEqual(golden, out);
    }

    /** A non-finite weight stops the native path with the same one-line message as the Java one. */
    @Test
    void nonFiniteTensorMessage(@TempDir Path dir) throws Exception {
        lib();
        Path src = dir.resolve("nan.gguf");
        float[] w = new float[256 * 4];
        w[256 + 17] = Float.NaN;
        try (var wr = dev.gguf4j.gguf.GgufWriter.create(src)) {
            wr.putAll(java.util.Map.of("general.architecture", dev.gguf4j.gguf.GgufValue.ofString("llama")));
            wr.addTensor("blk.0.ffn_up.weight", GgmlType.F32, new long[] {256, 4});
            wr.writeTensor("blk.0.ffn_up.weight", MemorySegment.ofArray(floatBytes(w)));
            wr.finish();
        }
        GgufTensor t;
        try (GgufFile in = GgufFile.open(src)) {
            t = in.requireTensor("blk.0.ffn_up.weight");
            ModelQuantizer.PlannedTensor p = new ModelQuantizer.PlannedTensor(t, GgmlType.Q4_K, true, "test",
                    GgmlType.Q4_K.bytesFor(t.elementCount()), null, QuantizeOptions.Search.REFERENCE);
            var pool = java.util.concurrent.Executors.newFixedThreadPool(1);
            try (Arena arena = Arena.ofShared()) {
                MemorySegment out = arena.allocate(p.bytes());
                Gguf4jException e = org.junit.jupiter.api.Assertions.assertThrows(Gguf4jException.class,
                        () -> ModelQuantizer.quantizeInto(p, out, pool, 1, new ModelQuantizer.Listener() { }));
                assertEquals("tensor 'blk.0.ffn_up.weight' row 1 column 17 is NaN: cannot quantize non-finite values",
                        e.getMessage());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static byte[] floatBytes(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }
}
