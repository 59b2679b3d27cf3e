package dev.gguf4j.llama;

import dev.gguf4j.testing.RandomModels.Preset;
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
}
