package dev.gguf4j.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link GgufWriter#fileSize()} against the size of the file the same declarations write. */
class GgufWriterFileSizeTest {
    @Test
    void sizeIsThatOfTheWrittenFile(@TempDir Path dir) throws Exception {
        for (long alignment : new long[] {32, 64, 4096}) {
            Path out = dir.resolve("a" + alignment + ".gguf");
            GgufWriter sizing = GgufWriter.sizing();
            long predictedByRealWriter;
            try (GgufWriter w = GgufWriter.create(out)) {
                for (GgufWriter x : new GgufWriter[] {w, sizing}) {
                    x.put("general.architecture", GgufValue.ofString("llama"));
                    x.put("general.alignment", GgufValue.ofUInt32(alignment));
                    x.put("tokenizer.ggml.tokens", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.STRING, new String[] {"a", "bé", "<s>"})));
                    x.put("some.floats", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.FLOAT32, new float[] {1, 2, 3})));
                    x.addTensor("t0", GgmlType.F32, 3, 5);
                    x.addTensor("t1", GgmlType.Q4_K, 256, 3);
                    x.addTensor("t2", GgmlType.Q8_0, 64);
                }
                predictedByRealWriter = w.fileSize();
                w.writeTensor("t0", MemorySegment.ofArray(new byte[4 * 15]));
                w.writeTensor("t1", MemorySegment.ofArray(new byte[(int) GgmlType.Q4_K.bytesFor(768)]));
                w.writeTensor("t2", MemorySegment.ofArray(new byte[(int) GgmlType.Q8_0.bytesFor(64)]));
                w.finish();
            }
            assertEquals(Files.size(out), predictedByRealWriter, "alignment " + alignment);
            assertEquals(Files.size(out), sizing.fileSize(), "alignment " + alignment);
        }
    }
}
