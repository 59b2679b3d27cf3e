package dev.gguf4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --search better} against llama-quantize's own Q4_K_M of the padded stories model (c392e50): the same
 * tensors, types, shapes, sizes and metadata (plus {@link ModelQuantizer#SEARCH_KEY}), so the same mixture and
 * file type; different k-quant bytes; and the default search still writes no such key (its bytes are held to
 * llama-quantize's by LlamaQuantizeOutputTest).
 */
class BetterSearchQuantizeTest {

    @Test
    void sameLayoutAsLlamaQuantizeWithTheKey(@TempDir Path dir) throws Exception {
        Path src = TestData.model("stories260K-pad256.gguf");
        Path golden = TestData.model("stories260K-pad256-Q4_K_M.gguf");
        Path out = dir.resolve("better.gguf");
        ModelQuantizer.quantize(src, out, QuantizeOptions.to(FileType.MOSTLY_Q4_K_M).threads(2)
                .search(QuantizeOptions.Search.BETTER), ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() { });
        try (GgufFile g = GgufFile.open(golden); GgufFile o = GgufFile.open(out)) {
            Map<String, String> expected = new LinkedHashMap<>();
            g.metadata().asMap().forEach((k, v) -> expected.put(k, v.summary()));
            Map<String, String> actual = new LinkedHashMap<>();
            o.metadata().asMap().forEach((k, v) -> actual.put(k, v.summary()));
            assertEquals(ModelQuantizer.SEARCH_VALUE, o.metadata().getString(ModelQuantizer.SEARCH_KEY));
            actual.remove(ModelQuantizer.SEARCH_KEY);
            assertEquals(expected, actual);
            assertEquals(g.tensors().size(), o.tensors().size());
            int differing = 0;
            for (GgufTensor gt : g.tensors()) {
                GgufTensor ot = o.requireTensor(gt.name());
                assertEquals(gt.type(), ot.type(), gt.name());
                assertArrayEquals(gt.shape(), ot.shape(), gt.name());
                assertEquals(gt.byteSize(), ot.byteSize(), gt.name());
                if (gt.data().mismatch(ot.data()) >= 0) {
                    differing++;
                    assertTrue(gt.type().isQuantized(), gt.name() + " (" + gt.type() + ") changed");
                }
            }
            assertTrue(differing > 0, "the search changed nothing");
            // the tensor data is as big as llama-quantize's: only the one metadata entry adds bytes
            assertTrue(Files.size(out) - Files.size(golden) < 128, Files.size(out) + " vs " + Files.size(golden));
        }
    }

    @Test
    void referenceSearchWritesNoKey(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("ref.gguf");
        ModelQuantizer.quantize(TestData.model("stories260K-pad256.gguf"), out, QuantizeOptions.to(FileType.MOSTLY_Q6_K)
                .threads(2), ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() { });
        try (GgufFile o = GgufFile.open(out)) {
            assertFalse(o.metadata().findString(ModelQuantizer.SEARCH_KEY).isPresent());
        }
    }
}
