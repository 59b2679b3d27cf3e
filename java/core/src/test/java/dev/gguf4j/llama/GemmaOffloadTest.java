package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Accelerators;
import dev.gguf4j.backend.HostAccelerator;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The device op set has no GELU gating, scale or soft-capped / sliding-window attention yet: offloading a gemma or
 * gemma2 layer (or only gemma2's soft-capped output layer) is refused before anything is uploaded, in one line
 * naming the architecture, the device and what it lacks; -ngl 0 still runs.
 */
class GemmaOffloadTest {

    @ParameterizedTest
    @EnumSource(value = Preset.class, names = {"GEMMA", "GEMMA2"})
    void offloadingIsRefusedInOneLine(Preset p, @TempDir Path dir) throws Exception {
        Path model = dir.resolve(p.id + ".gguf");
        RandomModels.write(p, GgmlType.F16, model);
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withContextLength(32);
        for (int ngl : new int[] {1, -1}) {
            HostAccelerator acc = OffloadTest.host(1L << 30);
            Gguf4jException e = assertThrows(Gguf4jException.class, () -> Llama.load(model, o.withGpuLayers(ngl),
                    () -> Accelerators.Probe.of(acc)).close());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertTrue(e.getMessage().startsWith(p.arch + ": offloading its layers to " + acc.name()
                    + " is not supported yet") && e.getMessage().contains("gegluTanh")
                    && e.getMessage().contains("--gpu-layers 0"), e.getMessage());
            assertEquals(0, acc.usedBytes(), "nothing was uploaded");
        }
        try (Llama llama = Llama.load(model, o.withGpuLayers(0), () -> Accelerators.Probe.of(
                OffloadTest.host(1L << 30)))) {
            assertEquals(p.arch, llama.config().architecture());
        }
    }
}
