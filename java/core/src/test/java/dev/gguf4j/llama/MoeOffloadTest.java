package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.HostAccelerator;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mixture-of-experts layers on a device (the host accelerator: the device ops with the CPU path's kernels): with
 * every layer and the output offloaded, or only some layers, the logits of a prompt batch and of the greedy
 * tokens after it are the CPU path's bit for bit (Mixtral's renormalised top-k, qwen2moe's sigmoid-gated shared
 * expert), on F16 and Q4_K_M weights; the experts are uploaded once and the session's device memory is freed.
 */
class MoeOffloadTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"MIXTRAL, F16", "MIXTRAL, Q4_K_M", "QWEN2MOE, F16", "QWEN2MOE, Q4_K_M"})
    void offloadedExpertsGiveTheCpuLogitsBitForBit(Preset p, String type, @TempDir Path dir) throws Exception {
        Path model = RandomModels.writeAs(p, type, dir);
        // repack off: the CPU's k-quant layers then run ggml's vec_dot arithmetic, which the device kernels share;
        // with the interleaved copy (the default) they run its own arithmetic (gguf4j.h, g4j_matmat_r8; RepackTest),
        // so a split would differ from the CPU path by float rounding in those layers
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(2).withContextLength(64).withRepack(false);
        int[] prompt = new int[9];
        List<float[]> want;
        try (Llama cpu = OffloadTest.load(model, o.withGpuLayers(0), OffloadTest.host(OffloadTest.GIB))) {
            SplittableRandom rnd = new SplittableRandom(11);
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = rnd.nextInt(cpu.config().vocab());
            }
            want = OffloadTest.run(cpu, prompt);
        }
        for (int ngl : new int[] {-1, 2}) {
            HostAccelerator acc = OffloadTest.host(4 * OffloadTest.GIB);
            try (Llama dev = OffloadTest.load(model, o.withGpuLayers(ngl), acc)) {
                long weights = acc.usedBytes();
                assertTrue(weights > 0, "the experts were uploaded");
                List<float[]> got = OffloadTest.run(dev, prompt);
                assertEquals(want.size(), got.size());
                for (int i = 0; i < want.size(); i++) {
                    assertArrayEquals(want.get(i), got.get(i), p.id + " " + type + " -ngl " + ngl + ": logits "
                            + i + (i < prompt.length ? " (prompt batch)" : " (one token)"));
                }
                assertEquals(weights, acc.usedBytes(), "the session's device memory is freed");
            }
            assertEquals(0, acc.usedBytes());
        }
    }
}
