package dev.gguf4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The quantizing pipeline against llama-quantize's own outputs (../shared/models, llama.cpp c392e50): with the
 * per-tensor types taken from the golden file (the policy has its own test), our file must equal
 * llama-quantize's byte for byte: metadata order and values, tensor order, data, padding.
 */
class LlamaQuantizeOutputTest {

    /** Types exactly as the golden output has them, to test the pipeline apart from the policy. */
    static ModelQuantizer.TypeChooser typesOf(Path golden) {
        return (in, ordered, o, im) -> {
            try (GgufFile g = GgufFile.open(golden)) {
                List<ModelQuantizer.Choice> out = new ArrayList<>();
                for (GgufTensor t : ordered) {
                    out.add(new ModelQuantizer.Choice(g.requireTensor(t.name()).type(), "as in " + golden.getFileName()));
                }
                return out;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    @ParameterizedTest
    @CsvSource({"stories260K-pad256, Q8_0", "stories260K-pad256, Q6_K", "stories260K-pad256, Q4_K_M",
        "stories260K-pad256, Q4_0", "kjv7m-F16, Q8_0", "kjv7m-F16, Q6_K", "kjv7m-F16, Q4_K_M", "kjv7m-F16, Q4_0",
        "kjv7m-F16, Q3_K_M", "kjv7m-F16, Q2_K"})
    void byteIdenticalToLlamaQuantize(String model, String type, @TempDir Path dir) throws Exception {
        Path src = TestData.model(model + ".gguf");
        Path golden = TestData.model(model.replace("-F16", "") + "-" + type + ".gguf");
        Path out = dir.resolve("out.gguf");
        ModelQuantizer.quantize(src, out, QuantizeOptions.to(FileType.byQuantizeName(type).orElseThrow()).threads(2),
                typesOf(golden), new ModelQuantizer.Listener() { });
        assertFilesEqual(golden, out);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(out), files.toList(), "temporary files left behind");
        }
    }

    /**
     * The repository's own case (runs without ../shared): {@code tests/golden/qwen2-tiny-F16.gguf} through
     * llama.cpp's type policy to Q4_K_M must equal {@code qwen2-tiny-Q4_K_M.gguf}, which llama-quantize (c392e50)
     * made from it (docs/golden-data.md).
     */
    @Test
    void inRepositoryCaseByteIdenticalToLlamaQuantize(@TempDir Path dir) throws Exception {
        Path golden = TestData.root().resolve("tests/golden");
        Path out = dir.resolve("out.gguf");
        ModelQuantizer.quantize(golden.resolve("qwen2-tiny-F16.gguf"), out, QuantizeOptions.to(FileType.MOSTLY_Q4_K_M)
                .threads(2), ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() { });
        assertFilesEqual(golden.resolve("qwen2-tiny-Q4_K_M.gguf"), out);
    }

    @Test
    void withImatrixMatchesLlamaQuantize(@TempDir Path dir) throws Exception {
        Path src = TestData.model("stories260K-pad256.gguf");
        Path golden = TestData.model("stories260K-pad256-Q4_K_M-imatrix.gguf");
        Path out = dir.resolve("out.gguf");
        Path imatrix = TestData.model("stories260K-pad256.imatrix");
        ModelQuantizer.quantize(src, out, QuantizeOptions.to(FileType.MOSTLY_Q4_K_M).threads(2).imatrix(imatrix),
                typesOf(golden), new ModelQuantizer.Listener() { });
        try (GgufFile g = GgufFile.open(golden); GgufFile o = GgufFile.open(out)) {
            // llama-quantize records the imatrix path as typed ("pad256.imatrix" there); everything else is equal
            assertEquals(imatrix.toString(), o.metadata().getString("quantize.imatrix.file"));
            Map<String, GgufValue> want = new java.util.LinkedHashMap<>(g.metadata().asMap());
            Map<String, GgufValue> got = new java.util.LinkedHashMap<>(o.metadata().asMap());
            want.remove("quantize.imatrix.file");
            got.remove("quantize.imatrix.file");
            assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()));
            assertEquals(want, got);
            assertEquals(g.tensors().stream().map(GgufTensor::name).toList(),
                    o.tensors().stream().map(GgufTensor::name).toList(), "tensor order");
            for (GgufTensor t : g.tensors()) {
                GgufTensor mine = o.requireTensor(t.name());
                assertEquals(t.type(), mine.type(), t.name());
                assertArrayEquals(t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        mine.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), t.name() + " data");
            }
        }
    }

    @Test
    void refusesToOverwriteItsInput(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("m.gguf");
        Path q8 = TestData.model("stories260K-pad256-Q8_0.gguf");
        Files.copy(TestData.model("stories260K-pad256.gguf"), src);
        Gguf4jException e = assertThrows(Gguf4jException.class, () -> ModelQuantizer.quantize(src, src,
                QuantizeOptions.to(FileType.MOSTLY_Q8_0), typesOf(q8),
                new ModelQuantizer.Listener() { }));
        assertTrue(e.getMessage().contains("must not be the input"), e.getMessage());
    }

    @Test
    void failedRunLeavesNoOutput(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.gguf");
        Path src = TestData.model("stories260K-pad256.gguf"); // outside assertThrows: a skip must stay a skip
        Path q8 = TestData.model("stories260K-pad256-Q8_0.gguf");
        ModelQuantizer.TypeChooser failing = (in, ordered, o, im) -> {
            List<ModelQuantizer.Choice> c = new ArrayList<>(typesOf(q8)
                    .choose(in, ordered, o, im));
            return c;
        };
        ModelQuantizer.Listener boom = new ModelQuantizer.Listener() {
            @Override
            public void tensorStarted(int index, ModelQuantizer.PlannedTensor t) {
                if (index == 10) {
                    throw new IllegalStateException("simulated failure mid-way");
                }
            }
        };
        assertThrows(IllegalStateException.class, () -> ModelQuantizer.quantize(src, out, QuantizeOptions.to(FileType.MOSTLY_Q8_0), failing, boom));
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "partial files left behind");
        }
    }

    static void assertFilesEqual(Path want, Path got) throws Exception {
        byte[] a = Files.readAllBytes(want);
        byte[] b = Files.readAllBytes(got);
        if (!java.util.Arrays.equals(a, b)) {
            int i = java.util.Arrays.mismatch(a, b);
            try (GgufFile g = GgufFile.open(want); GgufFile o = GgufFile.open(got)) {
                String where = i < g.dataOffset() ? "header/metadata" : "data";
                for (GgufTensor t : g.tensors()) {
                    long s = g.dataOffset() + t.offset();
                    if (i >= s && i < s + t.byteSize()) {
                        where = "tensor " + t.name() + " (" + t.type() + ") byte " + (i - s);
                    }
                }
                throw new AssertionError(got + " differs from " + want + " at byte " + i + " (" + where + "), sizes "
                        + a.length + " vs " + b.length);
            }
        }
    }
}
