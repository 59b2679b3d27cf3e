package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A split model as llama-gguf-split writes it ({@code tests/golden/split}: stories260K-pad256-Q4_K_M in three files,
 * {@code llama-gguf-split --split --split-max-tensors 20}) loads from its first file and computes what llama.cpp
 * computes for the unsplit model (its golden logits and greedy tokens).
 */
class SplitModelTest {
    static Path split(int i) {
        return TestData.root().resolve("tests/golden/split/stories260K-pad256-Q4_K_M-0000" + i + "-of-00003.gguf");
    }

    @Test
    void loadsAndMatchesLlamaCpp() throws Exception {
        try (GgufFile g = GgufFile.open(TestData.golden("stories260K-pad256-Q4_K_M.golden.gguf"))) {
            GoldenLogitsTest.check("stories260K-pad256-Q4_K_M.golden.gguf", g, split(1));
        }
        try (LlamaModel m = LlamaModel.load(split(1), false, false)) { // read into memory: every file
            assertEquals(3, m.file().parts().size());
            assertEquals(48, m.file().tensors().size());
        }
    }

    @Test
    void errorsAsLlamaCppGivesThem(@TempDir Path tmp) throws Exception {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> LlamaModel.load(split(2)));
        assertTrue(e.getMessage().contains("split.no: 1: a split model loads from its first file"), e.getMessage());
        // a part missing
        Path first = Files.copy(split(1), tmp.resolve("m-00001-of-00003.gguf"));
        Files.copy(split(2), tmp.resolve("m-00002-of-00003.gguf"));
        e = assertThrows(GgufFormatException.class, () -> LlamaModel.load(first));
        assertTrue(e.getMessage().contains("m-00003-of-00003.gguf: file: does not exist"), e.getMessage());
        // parts out of order
        Files.copy(split(2), tmp.resolve("m-00003-of-00003.gguf"));
        e = assertThrows(GgufFormatException.class, () -> LlamaModel.load(first));
        assertTrue(e.getMessage().contains("m-00003-of-00003.gguf: split.no: 1, expected 2"), e.getMessage());
        // renamed so that the others cannot be found
        Path renamed = Files.copy(split(1), tmp.resolve("model.gguf"));
        e = assertThrows(GgufFormatException.class, () -> LlamaModel.load(renamed));
        assertTrue(e.getMessage().contains("split.count: 3: the file name does not end in -00001-of-00003.gguf"),
                e.getMessage());
    }
}
