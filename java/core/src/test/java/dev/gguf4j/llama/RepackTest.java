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
 * Q4_0 and Q8_0 weights repacked at load (the CPU backend's r8 copy, rows interleaved by 8, read by every matrix
 * product) give the same logits, bit for bit, as the file's layout, under every kernel variant this CPU runs, at 1
 * and 2 threads, over a batch (a prompt) and then single-token steps: the copy moves bytes, it does not change a
 * sum. The copy's size is the matrices' with rows rounded up to 8, and over the mapped file it replaces the file's
 * pages (the models are untied).
 */
class RepackTest {

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-pad256-Q4_0.gguf", "kjv7m-Q4_0.gguf", "kjv7m-Q8_0.gguf"})
    void interleavedCopyGivesIdenticalLogits(String modelName) throws Exception {
        Path path = TestData.model(modelName);
        assumeTrue(CpuBackend.isAvailable(), "native library not loaded");
        CpuBackend cpu = CpuBackend.get();
        try (LlamaModel plain = LlamaModel.load(path); LlamaModel packed = LlamaModel.load(path)) {
            long want = 0;
            long copied = 0; // the other types' plain copies (an output of another type)
            int oddRows = 0;
            java.util.Set<GgmlType> interleaved = java.util.EnumSet.noneOf(GgmlType.class);
            for (Weight w : weights(plain)) {
                assertNull(w.repacked());
                if (w.type() == GgmlType.Q4_0 || w.type() == GgmlType.Q8_0) {
                    // the layout as gguf4j.h states it: 8 rows' blocks of 32 (2 + 16 or 32 bytes each)
                    want += (w.rows() + 7L) / 8 * 8 * (w.cols() / 32) * (w.type() == GgmlType.Q4_0 ? 18 : 34);
                    oddRows += w.rows() % 8 != 0 ? 1 : 0;
                    interleaved.add(w.type());
                } else {
                    copied += w.rows() * w.rowBytes();
                }
            }
            assertTrue(want > 0, modelName + " has Q4_0 or Q8_0 matrices");
            assertEquals(want + copied, packed.repack(cpu), modelName + ": bytes repacked and copied");
            assertEquals(want + copied, packed.repackedBytes());
            assertEquals(0, packed.repackedExtraBytes(), "untied and mapped: the copies replace the file's pages");
            for (Weight w : weights(packed)) {
                assertEquals(interleaved.contains(w.type()), w.repacked() != null, w.name());
            }
            System.out.printf("%s: %d bytes of %s repacked, %d matrices with rows not a multiple of 8%n", modelName,
                    want, interleaved, oddRows);
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
                                + ", " + threads + " thread(s): the interleaved copy and the file must agree bit for bit");
                    }
                }
            }
        }
        // without mmap the weights are the model's own memory, which stays: the copy is on top of it
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withContextLength(32).withMmap(false);
        try (Llama inMemory = Llama.load(path, o)) {
            assumeTrue(inMemory.backend() instanceof CpuBackend, "the CPU backend runs the models");
            assertTrue(inMemory.repackedBytes() > 0, modelName + " without mmap: interleaved all the same");
            assertEquals(inMemory.repackedBytes(), inMemory.repackedExtraBytes(), modelName + " without mmap");
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
    @ValueSource(strings = {"kjv7m-Q4_K_M.gguf", "kjv7m-Q6_K.gguf", "kjv7m-F16.gguf"})
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
            assertTrue(!types.contains(GgmlType.Q4_0) && !types.contains(GgmlType.Q8_0),
                    modelName + " has no Q4_0 or Q8_0 matrices (interleaved instead): " + types);
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
                assertEquals(repack && (w.type() == GgmlType.Q4_0 || w.type() == GgmlType.Q8_0), w.repacked() != null,
                        w.name()); // the r8 copy
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
