package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.HostAccelerator;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The architectures beyond llama's block on a device (the host accelerator: the device ops with the CPU path's
 * kernels): gemma (embedding and query scale, GELU gating, head size 128 != n_embd / n_head), gemma2 (attention
 * soft-cap, sliding window on even layers, post norms, final logit soft-cap), phi3 (fused qkv / gate-up views,
 * sliding window), phi3.5 (LongRoPE: the short factors at context 64, the long ones at 512, attn_factor), granite
 * (embedding, residual, attention and logit multipliers) and llama with YaRN. With every layer and the output
 * offloaded, and with a split starting at an odd layer (so gemma2's device layers begin with an unwindowed one),
 * the logits of a prompt (in batches of 4) and of 12 greedy tokens after it are the CPU path's bit for bit, on F16
 * and Q4_K_M weights (F16 KV cache, and F32 for the windowed ones), and the session's device memory is freed.
 */
class ArchitectureOffloadTest {

    @ParameterizedTest(name = "{0} {1} context {2} cache {3}")
    @CsvSource({"GEMMA, F16, 64, F16", "GEMMA, Q4_K_M, 64, F16", "GEMMA2, F16, 64, F16", "GEMMA2, F16, 64, F32",
        "GEMMA2, Q4_K_M, 64, F16", "PHI3, F16, 64, F16", "PHI3, F16, 64, F32", "PHI3, Q4_K_M, 64, F16",
        "PHI35, F16, 64, F16", "PHI35, F16, 512, F16", "PHI35, Q4_K_M, 512, F16", "GRANITE, F16, 64, F16",
        "GRANITE, Q4_K_M, 64, F16", "LLAMA_YARN, F16, 64, F16", "LLAMA_YARN, Q4_K_M, 64, F16"})
    void offloadedLayersGiveTheCpuLogitsBitForBit(Preset p, String type, int context, LlamaSession.KvType kv,
            @TempDir Path dir) throws Exception {
        Path model = RandomModels.writeAs(p, type, dir);
        // repack off: the CPU's k-quant layers then run ggml's vec_dot arithmetic, which the device kernels share;
        // with the interleaved copy (the default) they run its own arithmetic (gguf4j.h, g4j_matmat_r8; RepackTest),
        // so a split would differ from the CPU path by float rounding in those layers
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(2).withContextLength(context).withBatchSize(4)
                .withKvType(kv).withRepack(false);
        int[] prompt = new int[9];
        List<float[]> want;
        int layers;
        try (Llama cpu = OffloadTest.load(model, o.withGpuLayers(0), OffloadTest.host(OffloadTest.GIB))) {
            layers = cpu.config().layers();
            SplittableRandom rnd = new SplittableRandom(11);
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = rnd.nextInt(cpu.config().vocab());
            }
            want = OffloadTest.run(cpu, prompt);
        }
        for (int ngl : new int[] {-1, layers / 2 + 1, 1}) {
            HostAccelerator acc = OffloadTest.host(OffloadTest.GIB);
            try (Llama dev = OffloadTest.load(model, o.withGpuLayers(ngl), acc)) {
                long weights = acc.usedBytes();
                assertTrue(weights > 0, "the layers were uploaded");
                List<float[]> got = OffloadTest.run(dev, prompt);
                assertEquals(want.size(), got.size());
                for (int i = 0; i < want.size(); i++) {
                    assertArrayEquals(want.get(i), got.get(i), p.id + " " + type + " context " + context + " " + kv + " -ngl "
                            + ngl + ": logits " + i + (i < prompt.length ? " (prompt batch)" : " (one token)"));
                }
                assertEquals(weights, acc.usedBytes(), "the session's device memory is freed");
            }
            assertEquals(0, acc.usedBytes());
        }
    }
}
