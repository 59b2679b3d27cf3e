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
 * Weights repacked at load into the CPU backend's r8 copy (rows interleaved by 8, read by every matrix product):
 * Q4_0, Q8_0, Q4_K, Q5_K and Q6_K. The copy's size is what gguf4j.h states for each type, and over the mapped file
 * it replaces the file's pages (the models are untied). Q4_0 and Q8_0 keep their arithmetic: the logits are the
 * file layout's bit for bit, under every kernel variant this CPU runs. The k-quants get the copy's own arithmetic
 * (one exact integer per row, column and super-block; gguf4j.h, g4j_matmat_r8), which is the same bits in every
 * variant, scalar included, and at 1 and 2 threads; against the file layout (ggml's vec_dot arithmetic) the logits
 * differ by float rounding only, held to KernelVariantsTest's tolerance.
 */
class RepackTest {

    /** gguf4j.h's r8 geometry: elements per block, bytes per group of 8 rows and block. */
    static long r8Bytes(GgmlType t, long rows, long cols) {
        long groups = (rows + 7) / 8;
        return switch (t) {
            case Q4_0 -> groups * (cols / 32) * 8 * 18;
            case Q8_0 -> groups * (cols / 32) * 8 * 34;
            case Q4_K -> groups * (cols / 256) * 1184;
            case Q5_K -> groups * (cols / 256) * 1440;
            case Q6_K -> groups * (cols / 256) * 1680;
            default -> throw new IllegalArgumentException(t + " has no r8 layout");
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-pad256-Q4_0.gguf", "kjv7m-Q4_0.gguf", "kjv7m-Q8_0.gguf", "kjv7m-Q4_K_M.gguf",
        "kjv7m-Q6_K.gguf", "kjv7m-Q3_K_M.gguf"})
    void interleavedCopy(String modelName) throws Exception {
        Path path = TestData.model(modelName);
        assumeTrue(CpuBackend.isAvailable(), "native library not loaded");
        CpuBackend cpu = CpuBackend.get();
        try (LlamaModel plain = LlamaModel.load(path); LlamaModel packed = LlamaModel.load(path)) {
            long want = 0;
            long copied = 0; // the other types' plain copies
            long over = 0; // what the interleaved copies hold beyond the file's bytes
            int oddRows = 0;
            java.util.Set<GgmlType> interleaved = java.util.EnumSet.noneOf(GgmlType.class);
            for (Weight w : weights(plain)) {
                assertNull(w.repacked());
                if (cpu.repackKind(w.type()) == dev.gguf4j.backend.Backend.Repack.INTERLEAVED) {
                    want += r8Bytes(w.type(), w.rows(), w.cols());
                    over += Math.max(0, r8Bytes(w.type(), w.rows(), w.cols()) - w.rows() * w.rowBytes());
                    oddRows += w.rows() % 8 != 0 ? 1 : 0;
                    interleaved.add(w.type());
                } else {
                    copied += w.rows() * w.rowBytes();
                }
            }
            assertTrue(want > 0, modelName + " has interleaved matrices");
            assertEquals(want + copied, packed.repack(cpu), modelName + ": bytes repacked and copied");
            assertEquals(want + copied, packed.repackedBytes());
            assertEquals(over, packed.repackedExtraBytes(), "untied and mapped: the copies replace the file's pages,"
                    + " and add what they hold beyond them");
            for (Weight w : weights(packed)) {
                assertEquals(interleaved.contains(w.type()), w.repacked() != null, w.name());
            }
            boolean sameArithmetic = interleaved.stream().allMatch(t -> t == GgmlType.Q4_0 || t == GgmlType.Q8_0);
            assertEquals(sameArithmetic, packed.repackKeepsBits(), modelName + ": what the load log and summary say");
            // every matrix an interleaved k-quant (no Q4_0 / Q8_0, and no Q3_K of the file layout, whose vec_dot
            // arithmetic is each variant's own)
            boolean onlyKQuants = weights(plain).stream().allMatch(w -> w.type() == GgmlType.Q4_K
                    || w.type() == GgmlType.Q5_K || w.type() == GgmlType.Q6_K);
            System.out.printf("%s: %d bytes of %s repacked, %d matrices with rows not a multiple of 8%n", modelName,
                    want, interleaved, oddRows);
            int[] prompt = new int[KernelVariantsTest.PROMPT];
            SplittableRandom rnd = new SplittableRandom(5);
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = rnd.nextInt(plain.config().vocab());
            }
            KernelVariantsTest.Run first = null;
            for (String v : cpu.kernelVariants()) {
                CpuBackend b = cpu.withKernelVariant(v);
                KernelVariantsTest.Run ref = KernelVariantsTest.Run.of(plain, b, prompt, null, 1, false);
                KernelVariantsTest.Run one = KernelVariantsTest.Run.of(packed, b, prompt, ref.tokens(), 1, false);
                KernelVariantsTest.Run two = KernelVariantsTest.Run.of(packed, b, prompt, ref.tokens(), 2, false);
                double worst = 0;
                int flips = 0;
                for (int i = 0; i < ref.logits().size(); i++) {
                    assertArrayEquals(one.logits().get(i), two.logits().get(i), v + " " + modelName + " step " + i
                            + ": the interleaved copy at 1 and 2 threads must agree bit for bit");
                    if (sameArithmetic) {
                        assertArrayEquals(ref.logits().get(i), one.logits().get(i), v + " " + modelName + " step " + i
                                + ": Q4_0 / Q8_0's interleaved copy and the file must agree bit for bit");
                    }
                    float[] f = ref.logits().get(i), c = one.logits().get(i);
                    double d = 0;
                    for (int j = 0; j < f.length; j++) {
                        d = Math.max(d, Math.abs(f[j] - c[j]));
                    }
                    worst = Math.max(worst, d / GoldenLogitsTest.range(f));
                    int a = GoldenLogitsTest.argmax(f), z = GoldenLogitsTest.argmax(c);
                    if (a != z) {
                        assertTrue((c[z] - c[a]) / GoldenLogitsTest.range(c) < GoldenLogitsTest.NEAR_TIE, v + " "
                                + modelName + " step " + i + ": top token " + z + " vs the file layout's " + a);
                        flips++;
                    }
                }
                System.out.printf("%s %s: interleaved copy vs file layout, worst max|Δ|/range %.2e, %d near-tie"
                        + " flips%n", modelName, v, worst, flips);
                assertTrue(worst <= 1.5e-2 && flips <= 2, v + " " + modelName + ": " + worst + ", " + flips + " flips");
                if (onlyKQuants) { // the k-quants' r8 arithmetic is one definition in every variant
                    if (first == null) {
                        first = one;
                    }
                    for (int i = 0; i < first.logits().size(); i++) {
                        assertArrayEquals(first.logits().get(i), one.logits().get(i), v + " " + modelName + " step "
                                + i + ": the k-quants' interleaved arithmetic must give every variant the same bits");
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
    @ValueSource(strings = {"kjv7m-F16.gguf", "kjv7m-F32.gguf"})
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
            assertTrue(types.stream().allMatch(t -> cpu.repackKind(t) == dev.gguf4j.backend.Backend.Repack.COPY),
                    modelName + " has no matrices of an interleaved type: " + types);
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
                assertEquals(repack && CpuBackend.get().repackKind(w.type()) == dev.gguf4j.backend.Backend.Repack.INTERLEAVED,
                        w.repacked() != null, w.name()); // the r8 copy
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
