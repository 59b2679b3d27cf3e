package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.Weight;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Q4_0 weights repacked at load (the CPU backend's q4_0_r8 copy, read by generation) give the same logits, bit for
 * bit, as the file's layout, under every kernel variant this CPU runs, at 1 and 2 threads (a batch over a prompt,
 * which reads the file either way, then single-token steps, which read the copy): the copy moves bytes, it does not
 * change a sum. The copy's size is the Q4_0 matrices' with rows rounded up to 8.
 */
class RepackTest {

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-pad256-Q4_0.gguf", "kjv7m-Q4_0.gguf"})
    void repackedQ4_0GivesIdenticalLogits(String modelName) throws Exception {
        Path path = TestData.model(modelName);
        assumeTrue(CpuBackend.isAvailable(), "native library not loaded");
        CpuBackend cpu = CpuBackend.get();
        try (LlamaModel plain = LlamaModel.load(path); LlamaModel packed = LlamaModel.load(path)) {
            long want = 0;
            int oddRows = 0;
            for (Weight w : weights(plain)) {
                assertNull(w.repacked());
                if (w.type() == GgmlType.Q4_0) {
                    want += (w.rows() + 7L) / 8 * 8 * (w.cols() / 32) * 18;
                    oddRows += w.rows() % 8 != 0 ? 1 : 0;
                }
            }
            assertTrue(want > 0, modelName + " has Q4_0 matrices");
            assertEquals(want, packed.repack(cpu), modelName + ": bytes repacked");
            assertEquals(want, packed.repackedBytes());
            for (Weight w : weights(packed)) {
                if (w.type() == GgmlType.Q4_0) {
                    assertNotNull(w.repacked(), w.name());
                } else {
                    assertNull(w.repacked(), w.name());
                }
            }
            System.out.printf("%s: %d bytes of Q4_0 repacked, %d matrices with rows not a multiple of 8%n", modelName,
                    want, oddRows);
            int[] prompt = new int[KernelVariantsTest.PROMPT];
            SplittableRandom rnd = new SplittableRandom(5);
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = rnd.nextInt(plain.config().vocab());
            }
            for (String v : cpu.kernelVariants()) {
                CpuBackend b = cpu.withKernelVariant(v);
                KernelVariantsTest.Run ref = KernelVariantsTest.Run.of(plain, b, prompt, null, 1, false);
                for (int threads = 1; threads <= 2; threads++) {
                    KernelVariantsTest.Run got = KernelVariantsTest.Run.of(packed, b, prompt, ref.tokens(), threads,
                            false);
                    for (int i = 0; i < ref.logits().size(); i++) {
                        assertArrayEquals(ref.logits().get(i), got.logits().get(i), v + " " + modelName + " step " + i
                                + ", " + threads + " thread(s): repacked and plain Q4_0 must agree bit for bit");
                    }
                }
            }
        }
    }

    /** Llama.load repacks by default (CPU only) and not with withRepack(false); closing frees the copy. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void optionTurnsRepackingOnAndOff(boolean repack) throws Exception {
        Path path = TestData.model("kjv7m-Q4_0.gguf");
        assumeTrue(CpuBackend.isAvailable(), "native library not loaded");
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withContextLength(32).withRepack(repack);
        assertEquals(repack, o.repack());
        assertTrue(LlamaOptions.DEFAULTS.repack());
        try (Llama llama = Llama.load(path, o)) {
            assertEquals(repack, llama.model().repackedBytes() > 0);
            for (Weight w : weights(llama.model())) {
                assertEquals(repack && w.type() == GgmlType.Q4_0, w.repacked() != null, w.name());
            }
        }
    }

    private static java.util.List<Weight> weights(LlamaModel m) {
        java.util.List<Weight> out = new java.util.ArrayList<>();
        for (int l = 0; l < m.config().layers(); l++) {
            out.addAll(m.weights(l));
        }
        out.add(m.output());
        return out;
    }
}
