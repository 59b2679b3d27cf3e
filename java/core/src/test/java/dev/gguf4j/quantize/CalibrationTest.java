package dev.gguf4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A calibration saved by {@link Calibration#save} ({@code gguf4j calibrate}) and given to quantize in place of its
 * text: the file is the same as when the text is given (the forward pass is skipped, nothing else changes), and a
 * file of another kind or of another model is refused in one line naming it.
 */
class CalibrationTest {
    static final int CTX = 128;
    static final int CHUNKS = 6;

    private static Path text(Path dir) throws Exception {
        Path t = dir.resolve("cal.txt");
        List<String> lines = Files.readAllLines(TestData.model("kjv7m-test.txt"));
        Files.write(t, lines.subList(0, 120));
        return t;
    }

    private static List<String> notes(QuantizeOptions o, Path in, Path out) throws Exception {
        List<String> notes = new ArrayList<>();
        ModelQuantizer.quantize(in, out, o, ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() {
            @Override
            public void note(String line) {
                notes.add(line);
            }
        });
        return notes;
    }

    @Test
    void savedCalibrationGivesTheSameFileAsItsText(@TempDir Path dir) throws Exception {
        Path model = TestData.model("kjv7m-F16.gguf");
        Path text = text(dir);
        Path cal = dir.resolve("kjv.calibration.gguf");
        Calibration.Factors saved = Calibration.save(model, text, CTX, CHUNKS, 2, cal, line -> { });
        assertEquals(CHUNKS, saved.chunks());
        // 6 layers x (q/k/v, attn_output, gate/up, ffn_down) + output.weight
        assertEquals(25, saved.factors().size());
        assertEquals("blk.3.attn_q.weight", saved.owners().get("blk.3.attn_k.weight"));

        Calibration.Factors read = Calibration.load(cal);
        assertEquals(saved.owners(), read.owners());
        assertEquals(saved.factors().keySet(), read.factors().keySet());
        for (String k : saved.factors().keySet()) {
            assertArrayEquals(saved.factors().get(k), read.factors().get(k), k);
        }
        assertEquals(saved.model(), read.model());
        assertEquals((long) CHUNKS * CTX, read.tokens());

        Path fromText = dir.resolve("text.gguf");
        Path fromFile = dir.resolve("file.gguf");
        List<String> a = notes(QuantizeOptions.to(FileType.MOSTLY_Q4_K_M).threads(2).search(QuantizeOptions.Search.BETTER)
                .calibration(text, CTX, CHUNKS), model, fromText);
        List<String> b = notes(QuantizeOptions.to(FileType.MOSTLY_Q4_K_M).threads(2).search(QuantizeOptions.Search.BETTER)
                .calibration(cal), model, fromFile);
        assertArrayEquals(Files.readAllBytes(fromText), Files.readAllBytes(fromFile));
        assertTrue(b.stream().anyMatch(l -> l.contains("read from " + cal)), b.toString());
        assertTrue(a.stream().anyMatch(l -> l.contains("GPTQ for 43 tensors")), a.toString());
        assertTrue(a.stream().anyMatch(l -> l.contains("alone (no activations) for token_embd.weight")), a.toString());
        try (GgufFile q = GgufFile.open(fromFile)) {
            assertEquals(ModelQuantizer.SEARCH_VALUE_GPTQ, q.metadata().getString(ModelQuantizer.SEARCH_KEY));
        }
        // and GPTQ changed the bytes: not the reference quantizer's file
        Path ref = dir.resolve("ref.gguf");
        notes(QuantizeOptions.to(FileType.MOSTLY_Q4_K_M).threads(2), model, ref);
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(ref), Files.readAllBytes(fromFile)));
    }

    @Test
    void aModelIsNotACalibration(@TempDir Path dir) throws Exception {
        Path model = TestData.model("kjv7m-F16.gguf");
        Gguf4jException e = assertThrows(Gguf4jException.class, () -> notes(QuantizeOptions.to(FileType.MOSTLY_Q4_K_M)
                .search(QuantizeOptions.Search.BETTER).calibration(model), model, dir.resolve("o.gguf")));
        assertEquals(model + ": a GGUF file, but not a calibration made by gguf4j calibrate"
                + " (gguf4j.calibration.kind is missing, expected 'gptq-factor')", e.getMessage());
        assertFalse(Files.exists(dir.resolve("o.gguf")));
    }

    @Test
    void aCalibrationOfAnotherModelIsRefused(@TempDir Path dir) throws Exception {
        // stories260K-pad256's matrices are 256 wide as kjv7m's, but its ffn_down is 256 wide, kjv7m's 768
        Path other = TestData.model("stories260K-pad256.gguf");
        Path text = TestData.model("stories260K-pad256.imatrix-calibration.txt");
        Path cal = dir.resolve("stories.calibration.gguf");
        Calibration.save(other, text, 64, 2, 2, cal, line -> { });
        Path model = TestData.model("kjv7m-F16.gguf");
        Gguf4jException e = assertThrows(Gguf4jException.class, () -> notes(QuantizeOptions.to(FileType.MOSTLY_Q4_K_M)
                .search(QuantizeOptions.Search.BETTER).calibration(cal), model, dir.resolve("o.gguf")));
        assertTrue(e.getMessage().startsWith("--calibration " + cal + ": its factor for "), e.getMessage());
        assertTrue(e.getMessage().contains("a calibration of another model"), e.getMessage());
        assertTrue(e.getMessage().endsWith("than kjv7m-F16.gguf"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void tooShortATextIsOneLine(@TempDir Path dir) throws Exception {
        Path model = TestData.model("kjv7m-F16.gguf"); // outside the lambda: without ../shared the test is skipped
        Path t = dir.resolve("short.txt");
        Files.writeString(t, "In the beginning");
        Gguf4jException e = assertThrows(Gguf4jException.class, () -> Calibration.save(model, t, CTX, 4, 2,
                dir.resolve("c.gguf"), line -> { }));
        assertTrue(e.getMessage().startsWith(t + ": the text tokenizes to "), e.getMessage());
        assertFalse(Files.exists(dir.resolve("c.gguf")));
    }
}
