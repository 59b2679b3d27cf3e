package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code gguf4j run --temp 0} on the random-weight models of the architectures beyond llama (RandomModels
 * presets, rebuilt byte for byte as ArchitectureGoldenTest checks) prints what llama.cpp c392e50's llama-simple
 * printed for them ({@code prompt.i.llama_simple_stdout} in tests/golden: {@code llama-simple -n 32}, an F16 KV
 * cache), less its "&lt;s&gt; " BOS piece; and {@code info} names the architecture.
 */
class ArchitectureRunTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"GEMMA, F32, F32-kvf32", "GEMMA, F16, F16", "GEMMA2, F32, F32-kvf32", "GEMMA2, F16, F16",
            "PHI3, F32, F32-kvf32", "PHI3, F16, F16", "GRANITE, F32, F32-kvf32", "GRANITE, F16, F16",
            "MIXTRAL, F32, F32-kvf32", "QWEN2MOE, F32, F32-kvf32", "QWEN2MOE, F16, F16"})
    // not mixtral F16: its prompt 1 parts from llama-simple at token 14, a near-tie of 3.7e-5 of the logit range
    // (MoeGoldenTest reports it), where F16 rounding differences decide
    void greedyTextEqualsLlamaSimple(Preset p, GgmlType type, String golden, @TempDir Path dir) throws Exception {
        Path model = dir.resolve(p.id + "-" + type + ".gguf");
        RandomModels.write(p, type, model);
        MainTest.Result info = MainTest.run("info", model.toString());
        assertEquals(0, info.status(), info.err());
        assertTrue(info.out().contains("\"" + p.arch + "\""), info.out());
        try (GgufFile g = GgufFile.open(TestData.root().resolve("tests/golden/" + p.id + "-" + golden
                + ".golden.gguf"))) {
            int prompts = (int) g.metadata().getLong("golden.prompt_count");
            for (int i = 0; i < prompts; i++) {
                String text = g.metadata().getString("prompt." + i + ".text");
                long[] v = (long[]) g.metadata().getArray("prompt." + i + ".llama_simple_stdout").values();
                byte[] simple = new byte[v.length];
                for (int j = 0; j < v.length; j++) {
                    simple[j] = (byte) v[j];
                }
                String want = new String(simple, StandardCharsets.UTF_8);
                assertTrue(want.startsWith("<s> " + text), want);
                MainTest.Result r = MainTest.run("run", "-m", model.toString(), "-p", text, "-n", "32", "--temp", "0",
                        "-t", "2");
                assertEquals(0, r.status(), r.err());
                assertEquals(want.substring(4), r.out(), p.id + " " + type + " prompt " + i);
            }
        }
    }
}
