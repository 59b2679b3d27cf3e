package dev.gguf4j.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What the device cannot run is refused before anything is uploaded, in one line: every decoder preset offloads
 * whole now (no refusal for any split), and a block that calls an op the device lacks (the encoders' LayerNorm and
 * GELU) is named by the probe.
 */
class DeviceRefusalTest {

    @ParameterizedTest
    @EnumSource(value = Preset.class, names = {"GEMMA", "GEMMA2", "PHI3", "PHI35", "GRANITE", "LLAMA_YARN",
        "MIXTRAL", "QWEN2MOE"})
    void everyDecoderPresetOffloads(Preset p, @TempDir Path dir) throws Exception {
        Path model = dir.resolve(p.id + ".gguf");
        RandomModels.write(p, GgmlType.F16, model);
        try (GgufFile f = GgufFile.open(model)) {
            int n = Footprint.config(f).layers();
            for (int ngl = 1; ngl <= n + 1; ngl++) {
                assertEquals(Optional.empty(), Footprint.offloadRefusal(f, ngl, "the GPU"), p.id + " -ngl " + ngl);
            }
        }
    }

    @Test
    void anOpTheDeviceLacksIsNamedInOneLine(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("llama-yarn.gguf");
        RandomModels.write(Preset.LLAMA_YARN, GgmlType.F16, model);
        LlamaConfig c;
        try (GgufFile f = GgufFile.open(model)) {
            c = Footprint.config(f);
        }
        Architecture postNorm = new Architecture() { // a block written with the encoders' ops
            @Override
            public String name() {
                return "post-norm";
            }

            @Override
            public LlamaConfig config(String source, GgufMetadata md, int vocab) {
                return c;
            }

            @Override
            public List<TensorRole.Spec> layerTensors(LlamaConfig c) {
                return List.of();
            }

            @Override
            public void block(BlockOps o, int layer) {
                o.layerNorm(BlockOps.Act.X, layer, TensorRole.ATTN_NORM, TensorRole.ATTN_NORM, BlockOps.Act.X);
                o.gelu(BlockOps.Act.HB);
            }
        };
        String why = DeviceOps.unsupported(c, postNorm, "host", c.layers() - 1, false).orElseThrow();
        assertEquals(1, why.lines().count(), why);
        assertTrue(why.startsWith(c.architecture() + ": offloading its layers to host is not supported yet (the device"
                + " has no gelu, layerNorm)") && why.endsWith("run it on the CPU (--gpu-layers 0)"), why);
        assertEquals(Optional.empty(), DeviceOps.unsupported(c, postNorm, "host", c.layers(), false), "no layer");
    }
}
