package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.TestData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code gguf4j run} against llama-simple's output (llama.cpp c392e50) on the bundled model. */
class RunCommandTest {

    /** Greedy, 200 tokens: stdout is llama-simple's stdout less its "<s>" BOS piece and the space after it. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void greedyTextEqualsLlamaSimple(int prompt) throws Exception {
        Path golden = TestData.golden("stories260K.golden.gguf");
        String text;
        String want;
        try (GgufFile g = GgufFile.open(golden)) {
            text = g.metadata().getString("prompt." + prompt + ".text");
            want = g.metadata().getString("prompt." + prompt + ".llama_simple_stdout");
        }
        assertTrue(want.startsWith("<s> "), want);
        MainTest.Result r = MainTest.run("run", "-p", text, "-n", "200", "--temp", "0", "-t", "2");
        assertEquals(0, r.status(), r.err());
        assertEquals(want.substring(4), r.out());
        assertTrue(r.err().contains("tokens/s") && r.err().contains("finish reason length"), r.err());
    }

    /** --no-mmap and --mlock change how the weights are held, not the text (llama-simple's, greedy). */
    @Test
    void noMmapAndMlockGiveTheSameText() throws Exception {
        Path golden = TestData.golden("stories260K.golden.gguf");
        String text;
        String want;
        try (GgufFile g = GgufFile.open(golden)) {
            text = g.metadata().getString("prompt.0.text");
            want = g.metadata().getString("prompt.0.llama_simple_stdout");
        }
        MainTest.Result r = MainTest.run("run", "-p", text, "-n", "200", "--temp", "0", "-t", "2", "--no-mmap",
                "--mlock");
        assertEquals(0, r.status(), r.err());
        assertEquals(want.substring(4), r.out());
        MainTest.Result pp = MainTest.run("perplexity", "--no-mmap", "--mlock", "-c", "2", "--chunks", "1", "-f",
                TestData.model("kjv7m-test.txt").toString());
        assertEquals(0, pp.status(), pp.err());
        MainTest.Result b = MainTest.run("bench", "--no-mmap", "--mlock", "-p", "4", "-n", "2", "-r", "1", "-t", "1");
        assertEquals(0, b.status(), b.err());
    }

    @Test
    void gpuLayersWithoutGpuIsAnError() {
        assumeFalse(dev.gguf4j.backend.CudaBackend.isAvailable(), "a CUDA device is present");
        MainTest.Result r = MainTest.run("run", "-p", "Hi", "-n", "2", "-ngl", "99");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("-ngl 99") && r.err().contains("there is no usable GPU: "),
                r.err());
    }

    @Test
    void gpuLayersAutoWithoutGpuRunsOnTheCpu() {
        assumeFalse(dev.gguf4j.backend.CudaBackend.isAvailable(), "a CUDA device is present");
        MainTest.Result r = MainTest.run("run", "-p", "Once upon a time", "-n", "12", "--temp", "0", "-t", "1", "-ngl",
                "auto");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("Once upon a time, there was a little girl named Lily"), r.out());
        assertTrue(r.err().contains("gpu layers auto -> 0 (CPU only: no usable GPU"), r.err());
    }

    @Test
    void badGpuLayerCountsAreUsageErrors() {
        MainTest.Result r = MainTest.run("run", "-p", "Hi", "-ngl", "-3");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("expected a layer count (>= 0, -1 for everything) or auto"), r.err());
    }

    /** The whole offload path from the CLI, on the host device (-Dgguf4j.device=host): same text as the CPU. */
    @Test
    void offloadedRunAndBenchOnTheHostDevice() {
        System.setProperty("gguf4j.device", "host");
        try {
            MainTest.Result cpu = MainTest.run("run", "-p", "Once upon a time", "-n", "30", "--temp", "0", "-t", "1");
            for (String ngl : new String[] {"2", "6", "auto"}) {
                MainTest.Result r = MainTest.run("run", "-p", "Once upon a time", "-n", "30", "--temp", "0", "-t", "1",
                        "-ngl", ngl);
                assertEquals(0, r.status(), r.err());
                assertEquals(cpu.out(), r.out(), "-ngl " + ngl);
                assertTrue(r.err().contains("gpu layers " + ngl + " -> " + (ngl.equals("2") ? "2" : "6")), r.err());
            }
            MainTest.Result b = MainTest.run("bench", "-p", "8", "-n", "4", "-r", "1", "-t", "1", "-ngl", "0,2", "--json");
            assertEquals(0, b.status(), b.err());
            assertTrue(b.out().contains("\"n_gpu_layers\": 0") || b.out().contains("\"n_gpu_layers\":0"), b.out());
            assertTrue(b.out().contains("\"n_gpu_layers\": 2") || b.out().contains("\"n_gpu_layers\":2"), b.out());
            assertTrue(b.out().contains("cpu,host"), b.out());
        } finally {
            System.clearProperty("gguf4j.device");
        }
    }

    @Test
    void tokenizeIdsLikeLlamaTokenize() {
        // llama-tokenize -m stories260K.gguf -p "Once upon a time" --ids  ->  [1, 403, 407, 261, 378]
        MainTest.Result r = MainTest.run("tokenize", "-p", "Once upon a time", "--ids");
        assertEquals(0, r.status(), r.err());
        assertEquals("[1, 403, 407, 261, 378]", r.out().trim());
        r = MainTest.run("tokenize", "-p", "Once upon a time", "--ids", "--no-bos");
        assertEquals("[403, 407, 261, 378]", r.out().trim());
    }
}
