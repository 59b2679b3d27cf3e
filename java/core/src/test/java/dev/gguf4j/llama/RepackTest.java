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
            long copied = 0; // the other types' plain copies (the output's Q6_K or Q8_0)
            int oddRows = 0;
            for (Weight w : weights(plain)) {
                assertNull(w.repacked());
                if (w.type() == GgmlType.Q4_0) {
                    want += (w.rows() + 7L) / 8 * 8 * (w.cols() / 32) * 18;
                    oddRows += w.rows() % 8 != 0 ? 1 : 0;
                } else {
                    copied += w.rows() * w.rowBytes();
                }
            }
            assertTrue(want > 0, modelName + " has Q4_0 matrices");
            assertEquals(want + copied, packed.repack(cpu), modelName + ": bytes repacked and copied");
            assertEquals(want + copied, packed.repackedBytes());
            assertEquals(want, packed.repackedExtraBytes(), "untied: only the Q4_0 layout adds to the file");
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

    /**
     * Every other type gets a copy of the file's bytes at load by default (Llama.load, mmap on: LlamaModel.repack's
     * COPY, on huge pages), which batches and generation both read, and none with withRepack(false)
     * ({@code --no-repack}): logits bit for bit the same at 1 and 2 threads, over a prompt batch and then
     * single-token steps. The copies' size is every matrix's bytes in the file (the embedding table, untied here,
     * is only gathered and not copied), none of it on top of the file's pages (released); without mmap the
     * weights are in memory already and nothing is copied.
     */
    @ParameterizedTest
    @ValueSource(strings = {"kjv7m-Q4_K_M.gguf", "kjv7m-Q8_0.gguf", "kjv7m-Q6_K.gguf", "kjv7m-F16.gguf"})
    void copiedWeightsGiveIdenticalLogits(String modelName) throws Exception {
        Path path = TestData.model(modelName);
        assumeTrue(CpuBackend.isAvailable(), "native library not loaded");
        CpuBackend cpu = CpuBackend.get();
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(2).withContextLength(32);
        try (Llama fromFile = Llama.load(path, o.withRepack(false)); Llama copied = Llama.load(path, o)) {
            assumeTrue(copied.backend() instanceof CpuBackend, "the CPU backend runs the models");
            long want = 0;
            java.util.Set<GgmlType> types = java.util.EnumSet.noneOf(GgmlType.class);
            for (Weight w : weights(fromFile.model())) {
                assertTrue(w.data().isMapped(), w.name() + " is read from the mapped file with --no-repack");
                assertNull(w.repacked(), w.name());
                want += w.rows() * w.rowBytes();
                types.add(w.type());
            }
            assertTrue(!types.contains(GgmlType.Q4_0), modelName + " has no Q4_0 matrices: " + types);
            assertEquals(0, fromFile.repackedBytes());
            assertEquals(want, copied.repackedBytes(), modelName + ": bytes copied");
            assertEquals(0, copied.repackedExtraBytes(), modelName + ": the copies replace the file's pages");
            for (Weight w : weights(copied.model())) {
                assertTrue(!w.data().isMapped(), w.name() + " is read from the copy");
                assertNull(w.repacked(), w.name());
            }
            System.out.printf("%s: %d bytes of %s copied onto huge pages in %.1f ms%n", modelName, want, types,
                    copied.model().repackNanos() / 1e6);
            int[] prompt = new int[KernelVariantsTest.PROMPT];
            SplittableRandom rnd = new SplittableRandom(7);
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = rnd.nextInt(fromFile.config().vocab());
            }
            KernelVariantsTest.Run ref = KernelVariantsTest.Run.of(fromFile.model(), cpu, prompt, null, 1, false);
            for (int threads = 1; threads <= 2; threads++) {
                KernelVariantsTest.Run got = KernelVariantsTest.Run.of(copied.model(), cpu, prompt, ref.tokens(),
                        threads, false);
                for (int i = 0; i < ref.logits().size(); i++) {
                    assertArrayEquals(ref.logits().get(i), got.logits().get(i), modelName + " step " + i + ", "
                            + threads + " thread(s): the huge-page copy and the mapped file must agree bit for bit");
                }
            }
        }
        try (Llama inMemory = Llama.load(path, o.withMmap(false))) {
            assertEquals(0, inMemory.repackedBytes(), modelName + " without mmap: on huge pages already, no copy");
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
