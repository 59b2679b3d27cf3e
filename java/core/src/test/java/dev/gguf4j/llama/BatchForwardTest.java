package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.backend.JavaBackend;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.testing.TestData;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Prompt processing in batches gives exactly the logits of token-by-token evaluation (the same kernels per
 * element, weights reused across the batch), on the native and the Java backend, for F32 and quantized models,
 * including batches that continue a session.
 */
class BatchForwardTest {

    @ParameterizedTest
    @CsvSource({"stories260K.gguf, native", "kjv7m-Q4_K_M.gguf, native", "kjv7m-Q8_0.gguf, native",
        "stories260K-pad256-Q4_0.gguf, java"})
    void batchEqualsSequential(String model, String backendName) throws Exception {
        Backend backend = backendName.equals("java") ? JavaBackend.INSTANCE : Backends.select();
        try (LlamaModel m = LlamaModel.load(TestData.model(model));
                LlamaSession seq = new LlamaSession(m, backend, 64, 2, LlamaSession.KvType.F16);
                LlamaSession bat = new LlamaSession(m, backend, 64, 2, LlamaSession.KvType.F16)) {
            SplittableRandom rnd = new SplittableRandom(5);
            int[] tokens = new int[23];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = rnd.nextInt(m.config().vocab());
            }
            float[][] want = new float[tokens.length][];
            for (int i = 0; i < tokens.length; i++) {
                want[i] = seq.forward(tokens[i]).clone();
            }
            // two batches: 17 tokens, then 6 more continuing the same cache
            float[][] first = bat.forwardBatch(java.util.Arrays.copyOfRange(tokens, 0, 17), true);
            float[][] second = bat.forwardBatch(java.util.Arrays.copyOfRange(tokens, 17, 23), true);
            assertEquals(17, first.length);
            assertEquals(6, second.length);
            for (int i = 0; i < tokens.length; i++) {
                assertArrayEquals(want[i], i < 17 ? first[i] : second[i - 17], model + " position " + i);
            }
            assertEquals(23, bat.position());
            float[] next = bat.forward(tokens[0]);
            assertArrayEquals(seq.forward(tokens[0]), next, "single token after batches");
        }
    }
}
