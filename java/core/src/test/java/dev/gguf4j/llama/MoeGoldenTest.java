package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mixture-of-experts models against llama.cpp (c392e50): the {@code mixtral} (llama with 8 experts, 2 used,
 * renormalised weights) and {@code qwen2moe} (16 experts, 4 used, not renormalised, a sigmoid-gated shared expert)
 * random models, F32 weights with an F32 KV cache, F16, and Q4_K_M (this project's quantizer, whose output must hash
 * as llama-quantize's did), as {@link ArchitectureGoldenTest} checks every architecture.
 */
class MoeGoldenTest {

    static Stream<Arguments> cases() {
        return Stream.of(Preset.MIXTRAL, Preset.QWEN2MOE).flatMap(p -> Arrays.stream(
                ArchitectureGoldenTest.Variant.values()).map(v -> Arguments.of(p, v)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesLlamaCpp(Preset p, ArchitectureGoldenTest.Variant v, @TempDir Path dir) throws Exception {
        new ArchitectureGoldenTest().matchesLlamaCpp(p, v, dir);
    }

    /**
     * A file with experts but no expert_used_count (llama.cpp asserts), or a qwen2moe file without experts
     * (llama.cpp: "n_expert must be > 0"), is refused at load in one line naming the key.
     */
    @ParameterizedTest(name = "{0} {1}={2}")
    @org.junit.jupiter.params.provider.CsvSource({"MIXTRAL, llama.expert_used_count, 0",
        "QWEN2MOE, qwen2moe.expert_count, 0"})
    void badExpertCountsAreOneLine(Preset p, String key, long value, @TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.gguf");
        RandomModels.write(p, GgmlType.F16, good);
        Path bad = dir.resolve("bad.gguf");
        try (GgufFile g = GgufFile.open(good); GgufWriter w = GgufWriter.create(bad)) {
            // no experts: no used experts either (else the used count is out of its range first)
            String used = key.replace("expert_count", "expert_used_count");
            g.metadata().asMap().forEach((k, v) -> w.put(k, k.equals(key) ? GgufValue.ofUInt32(value)
                    : k.equals(used) ? GgufValue.ofUInt32(0) : v));
            for (GgufTensor t : g.tensors()) {
                w.addTensor(t.name(), t.type(), t.shape(), GgufWriter.TensorSource.of(t.data()));
            }
            w.finish();
        }
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> LlamaModel.load(bad).close());
        assertTrue(e.getMessage().contains(key), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
}
