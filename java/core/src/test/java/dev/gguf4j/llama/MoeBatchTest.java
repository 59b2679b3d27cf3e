package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mixture-of-experts layers keep the determinism rule (docs/determinism.md): a batch groups its tokens by expert
 * (each expert's rows multiplied once for all the tokens routed to it), yet every token's logits are bit-identical
 * to token-by-token evaluation, whatever the batch split and the thread count (1 or 2), on F16 and Q4_K_M weights.
 */
class MoeBatchTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"MIXTRAL, F16", "MIXTRAL, Q4_K_M", "QWEN2MOE, F16", "QWEN2MOE, Q4_K_M"})
    void batchesAndThreadsGiveTheSameBits(Preset p, String type, @TempDir Path dir) throws Exception {
        Path model = RandomModels.writeAs(p, type, dir);
        Backend backend = Backends.select();
        try (LlamaModel m = LlamaModel.load(model)) {
            SplittableRandom rnd = new SplittableRandom(7);
            int[] tokens = new int[40];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = rnd.nextInt(m.config().vocab());
            }
            float[][] want = new float[tokens.length][];
            try (LlamaSession seq = new LlamaSession(m, backend, 64, 1, LlamaSession.KvType.F16)) {
                for (int i = 0; i < tokens.length; i++) {
                    want[i] = seq.forward(tokens[i]).clone();
                }
            }
            for (int threads = 1; threads <= 2; threads++) {
                try (LlamaSession one = new LlamaSession(m, backend, 64, threads, LlamaSession.KvType.F16);
                        LlamaSession split = new LlamaSession(m, backend, 64, threads, LlamaSession.KvType.F16)) {
                    float[][] all = one.forwardBatch(tokens, true);
                    float[][] a = split.forwardBatch(Arrays.copyOfRange(tokens, 0, 7), true);
                    float[][] b = split.forwardBatch(Arrays.copyOfRange(tokens, 7, 40), true);
                    for (int i = 0; i < tokens.length; i++) {
                        String at = p.id + " " + type + " " + threads + " thread(s), position " + i;
                        assertArrayEquals(want[i], all[i], at + " (one batch of 40)");
                        assertArrayEquals(want[i], i < 7 ? a[i] : b[i - 7], at + " (batches of 7 and 33)");
                    }
                }
            }
        }
    }
}
