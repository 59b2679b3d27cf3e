package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mapped model file cut short between two completions: the next one fails with a message naming the file and
 * both sizes, before any kernel reads the lost pages (which would kill the JVM with SIGBUS). The file is cut only
 * while nothing runs. With mmap off the file is not read again, so the same cut changes nothing.
 */
class TruncatedModelTest {
    static final CompletionParams PARAMS = CompletionParams.DEFAULTS.withMaxTokens(8)
            .withSampling(SamplingParams.greedy());

    @Test
    void shrunkenMappedFileIsACleanError(@TempDir Path dir) throws Exception {
        Path copy = Files.copy(TestData.model("stories260K.gguf"), dir.resolve("model.gguf"));
        long size = Files.size(copy);
        try (Llama llama = Llama.load(copy, LlamaOptions.DEFAULTS.withThreads(1))) {
            String first = llama.complete("Once upon a time", PARAMS).text();
            assertTrue(first.length() > 0);
            try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                ch.truncate(size / 2);
            }
            Gguf4jException e = assertThrows(Gguf4jException.class, () -> llama.complete("Once upon a time", PARAMS));
            assertTrue(e.getMessage().startsWith(copy.toString()) && e.getMessage().contains("shrank from " + size
                    + " to " + size / 2 + " bytes") && e.getMessage().contains("--no-mmap"), e.getMessage());
            assertEquals(0, llama.liveGenerations());
            // a session used directly fails the same way on its first step
            try (LlamaSession s = llama.newSession()) {
                assertThrows(Gguf4jException.class, () -> s.forward(1));
            }
        }
    }

    @Test
    void noMmapIsImmune(@TempDir Path dir) throws Exception {
        Path copy = Files.copy(TestData.model("stories260K.gguf"), dir.resolve("model.gguf"));
        try (Llama llama = Llama.load(copy, LlamaOptions.DEFAULTS.withThreads(1).withMmap(false))) {
            String first = llama.complete("Once upon a time", PARAMS).text();
            try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                ch.truncate(0);
            }
            assertEquals(first, llama.complete("Once upon a time", PARAMS).text());
        }
    }
}
