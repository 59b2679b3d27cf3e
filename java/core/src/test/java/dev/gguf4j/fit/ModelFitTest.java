package dev.gguf4j.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.Backends;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ModelFit} against independent data: the sizes of files llama-quantize wrote (../shared) and of files
 * the quantizer writes, the KV cache a session really allocates and llama.cpp's formula for it.
 */
class ModelFitTest {
    /** A machine with no GPU, 10 GB/s, and the given RAM. */
    static ModelFit.Machine machine(long ram, Optional<ModelFit.Gpu> gpu) {
        return new ModelFit.Machine(ram, "test", gpu, gpu.isPresent() ? "test GPU" : "none (test)", 10, 20, 2, "given");
    }

    static Map<String, ModelFit.Row> byType(ModelFit.Report r) {
        return r.rows().stream().filter(x -> !x.thisFile()).collect(Collectors.toMap(ModelFit.Row::type,
                Function.identity()));
    }

    @Test
    void predictedSizesAreThoseOfLlamaQuantizeOutputs() throws Exception {
        ModelFit.Report r = ModelFit.plan(TestData.model("kjv7m-F16.gguf"), 256, machine(1L << 40, Optional.empty()));
        Map<String, ModelFit.Row> rows = byType(r);
        for (String type : new String[] {"Q8_0", "Q6_K", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K"}) {
            Path golden = TestData.model("kjv7m-" + type + ".gguf");
            assertEquals(Files.size(golden), rows.get(type).fileBytes(), type + " against " + golden);
        }
        assertEquals(Files.size(TestData.model("kjv7m-F16.gguf")), r.rows().get(0).fileBytes());
        assertTrue(r.rows().get(0).thisFile());
        // Q2_K_S needs an importance matrix: skipped, with the reason
        assertTrue(r.skipped().stream().anyMatch(s -> s.type().equals("Q2_K_S") && s.reason().contains("importance")),
                r.skipped().toString());
    }

    @ParameterizedTest
    @EnumSource(value = FileType.class, names = {"MOSTLY_BF16", "MOSTLY_Q4_0", "MOSTLY_Q5_1", "MOSTLY_Q8_0",
        "MOSTLY_Q2_K", "MOSTLY_Q3_K_S", "MOSTLY_Q4_K_M", "MOSTLY_Q5_K_M", "MOSTLY_Q6_K", "MOSTLY_IQ4_NL"})
    void predictedSizesAreThoseOfWrittenFiles(FileType type, @TempDir Path dir) throws Exception {
        for (RandomModels.Preset preset : new RandomModels.Preset[] {RandomModels.Preset.LLAMA_YARN,
            RandomModels.Preset.GEMMA}) {
            Path in = dir.resolve(preset.id + ".gguf");
            RandomModels.write(preset, GgmlType.F16, in);
            Path out = dir.resolve(preset.id + "-" + type.quantizeName() + ".gguf");
            ModelQuantizer.quantize(in, out, QuantizeOptions.to(type).threads(2), ModelQuantizer.LLAMA_POLICY,
                    new ModelQuantizer.Listener() { });
            ModelFit.Report r = ModelFit.plan(in, 64, machine(1L << 40, Optional.empty()));
            assertEquals(Files.size(out), byType(r).get(type.quantizeName()).fileBytes(), preset.id + " " + type);
        }
    }

    @Test
    void kvBytesAreWhatTheSessionAllocates() throws Exception {
        Path model = TestData.model("kjv7m-Q8_0.gguf");
        int ctx = 200;
        ModelFit.Report r = ModelFit.plan(model, ctx, machine(1L << 40, Optional.empty()));
        long allocated;
        try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS.withContextLength(ctx).withThreads(1));
                LlamaSession s = llama.newSession()) {
            allocated = s.kvCacheBytes();
        }
        assertEquals(allocated, r.rows().get(0).kvBytes());
        // llama.cpp's F16 cache: 2 (K and V) x layers x context x kv heads x head size x 2 bytes
        try (GgufFile f = GgufFile.open(model)) {
            long layers = f.metadata().findLong("llama.block_count").orElseThrow();
            long heads = f.metadata().findLong("llama.attention.head_count").orElseThrow();
            long kvHeads = f.metadata().findLong("llama.attention.head_count_kv").orElseThrow();
            long embd = f.metadata().findLong("llama.embedding_length").orElseThrow();
            assertEquals(2 * layers * ctx * kvHeads * (embd / heads) * 2, allocated);
        }
    }

    @Test
    void aQuantizedFileIsOneRow() throws Exception {
        Path model = TestData.model("kjv7m-Q4_K_M.gguf");
        ModelFit.Report r = ModelFit.plan(model, 128, machine(1L << 40, Optional.empty()));
        assertEquals(1, r.rows().size());
        ModelFit.Row row = r.rows().get(0);
        assertEquals("Q4_K_M", row.type());
        assertEquals(Files.size(model), row.fileBytes());
        assertEquals(row.fileBytes() + row.repackBytes() + row.kvBytes() + row.computeBytes(), row.totalBytes());
        assertTrue(row.fitsRam());
        assertEquals(-1, row.gpuLayers());
        // a token reads every matrix but the embedding table (untied), and the KV cache
        assertTrue(row.bytesPerToken() < row.fileBytes() && row.bytesPerToken() > row.kvBytes());
        assertEquals(20e9 / row.bytesPerToken(), row.tgAllThreads(), 1e-9);
        assertTrue(r.verdict().startsWith("fits in RAM with -c 128") && r.verdict().endsWith("no GPU found"),
                r.verdict());
        ModelFit.Report small = ModelFit.plan(model, 128, machine(row.totalBytes() - 1, Optional.empty()));
        assertFalse(small.rows().get(0).fitsRam());
        assertTrue(small.verdict().startsWith("does not fit in RAM"), small.verdict());
    }

    @Test
    void copiesThatReplaceTheFilesPagesAreNotCounted() throws Exception {
        // LlamaModel.repack's copies (Q4_0, Q8_0 and the k-quants interleaved, the other types as they are)
        // replace the mapped file's pages in these untied models: the weights are counted once, plus what an
        // interleaved copy holds beyond them (Q4_K's unpacked scales and mins: 32 bytes per 8 rows and 256
        // columns), as much as a real load reports
        for (String name : List.of("kjv7m-Q4_0.gguf", "kjv7m-Q8_0.gguf", "kjv7m-Q6_K.gguf", "kjv7m-Q4_K_M.gguf")) {
            ModelFit.Report r = ModelFit.plan(TestData.model(name), 64, machine(1L << 40, Optional.empty()));
            long loaded;
            try (dev.gguf4j.llama.Llama l = dev.gguf4j.llama.Llama.load(TestData.model(name),
                    dev.gguf4j.llama.LlamaOptions.DEFAULTS.withThreads(1).withContextLength(16))) {
                loaded = l.repackedExtraBytes();
            }
            assertEquals(loaded, r.rows().get(0).repackBytes(), name);
            assertEquals(name.contains("Q4_K"), loaded > 0, name + ": " + loaded);
        }
    }

    @Test
    void gpuLayersFollowFreeMemory() throws Exception {
        Path model = TestData.model("kjv7m-F16.gguf");
        ModelFit.Gpu big = new ModelFit.Gpu("big", 80L << 30, 80L << 30, t -> true);
        ModelFit.Report r = ModelFit.plan(model, 256, machine(1L << 40, Optional.of(big)));
        for (ModelFit.Row row : r.rows()) {
            assertTrue(row.fullGpuOffload(), row.toString());
            assertEquals(7, row.gpuLayers());
        }
        assertTrue(r.verdict().contains("full GPU offload possible for F32 (-ngl 7)"), r.verdict());
        ModelFit.Gpu none = new ModelFit.Gpu("small", 400L << 20, 1L << 30, t -> true); // less than the margin
        ModelFit.Report s = ModelFit.plan(model, 256, machine(1L << 40, Optional.of(none)));
        assertTrue(s.rows().stream().allMatch(x -> x.gpuLayers() == 0), s.rows().toString());
        ModelFit.Gpu noKQuants = new ModelFit.Gpu("no k-quants", 80L << 30, 80L << 30, t -> !t.name().endsWith("_K"));
        ModelFit.Row q4km = byType(ModelFit.plan(model, 256, machine(1L << 40, Optional.of(noKQuants)))).get("Q4_K_M");
        assertEquals(0, q4km.gpuLayers());
    }

    @Test
    void architecturesTheGpuCannotRunGetNoLayers(@TempDir Path dir) throws Exception {
        // an encoder runs on the CPU only (its embeddings): no layers on the GPU
        Path model = dir.resolve("bert.gguf");
        dev.gguf4j.testing.RandomEncoders.write(dev.gguf4j.testing.RandomEncoders.Preset.BERT, GgmlType.F16, model);
        ModelFit.Gpu big = new ModelFit.Gpu("big", 80L << 30, 80L << 30, t -> true);
        ModelFit.Report r = ModelFit.plan(model, 64, machine(1L << 40, Optional.of(big)));
        assertTrue(r.rows().stream().allMatch(x -> x.gpuLayers() == 0), r.rows().toString());
        // the reason, in the engine's words
        assertTrue(r.verdict().contains("no GPU offload: bert: offloading its layers to the GPU is not supported yet (an"
                + " encoder"),
                r.verdict());
    }

    @Test
    void gemma2FitsOnTheGpu(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("gemma2.gguf");
        RandomModels.write(RandomModels.Preset.GEMMA2, GgmlType.F16, model);
        ModelFit.Gpu big = new ModelFit.Gpu("big", 80L << 30, 80L << 30, t -> true);
        ModelFit.Report r = ModelFit.plan(model, 64, machine(1L << 40, Optional.of(big)));
        assertTrue(r.rows().stream().allMatch(x -> x.gpuLayers() == 27), r.rows().toString());
    }

    @Test
    void contextIsChecked() throws Exception {
        Path model = TestData.model("kjv7m-Q8_0.gguf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelFit.plan(model, 257, machine(1L << 40, Optional.empty())));
        assertTrue(e.getMessage().contains("257") && e.getMessage().contains("[1, 256]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelFit.plan(model, 0));
        assertEquals(256, ModelFit.plan(model, 0, machine(1L << 40, Optional.empty())).contextLength());
    }

    @Test
    void probeMeasuresBandwidth() {
        ModelFit.Machine m = ModelFit.probe(OptionalDouble.empty());
        assertTrue(m.ramAvailableBytes() > 0, m.toString());
        if (Backends.select().name().equals("cpu")) {
            assertTrue(m.bandwidthOneThread() > 0.1 && m.bandwidthAllThreads() > 0.1, m.toString());
        }
        assertEquals(7.5, ModelFit.probe(OptionalDouble.of(7.5)).bandwidthAllThreads());
    }
}
