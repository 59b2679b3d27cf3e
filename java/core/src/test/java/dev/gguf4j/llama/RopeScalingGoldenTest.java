package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RoPE scaling against llama.cpp (c392e50): stories260K with linear scaling (rope.scaling.factor 2.5, so
 * freq_scale 0.4) and Llama-3-style per-frequency divisors (rope_freqs.weight = 1, 1.75, 4, 12.5) both at once.
 * The model is rebuilt here from ../shared and must be byte-identical (SHA-256) to the file llama.cpp evaluated
 * for tests/golden/stories260K-ropescaled.golden.gguf (recipe: docs/golden-data.md). F32 weights, F16 KV cache:
 * the worst position is 2.7e-4 of its logit range (the unscaled model: 1.4e-4; the slower-turning pairs keep
 * more of the F16 cache's rounding in play), so the bound is 4e-4; top-1 everywhere, and greedy agrees but for
 * near-ties: at token 87 of the second prompt llama.cpp's top two are 2.1e-4 of the range apart, less than the
 * two sides' own difference, and which one wins depends on float summation order (llama.cpp's SIMD width; ours
 * is the same on every variant since float rows are summed in one order).
 * A wrong scaling formula (the factor ignored, or applied as a multiplier) moves the logits by tenths of the range.
 */
class RopeScalingGoldenTest {
    static final float FACTOR = 2.5f;
    static final float[] FREQ_FACTORS = {1.0f, 1.75f, 4.0f, 12.5f};

    /** stories260K.gguf plus the two scaling keys and the rope_freqs.weight tensor, appended last. */
    static void write(Path src, Path out) throws Exception {
        try (GgufFile f = GgufFile.open(src); GgufWriter w = GgufWriter.create(out); Arena arena = Arena.ofConfined()) {
            w.putAll(f.metadata());
            w.put("llama.rope.scaling.type", GgufValue.ofString("linear"));
            w.put("llama.rope.scaling.factor", GgufValue.ofFloat32(FACTOR));
            for (GgufTensor t : f.tensors()) {
                w.addTensor(t);
            }
            MemorySegment ff = arena.allocate(4L * FREQ_FACTORS.length);
            for (int i = 0; i < FREQ_FACTORS.length; i++) {
                ff.setAtIndex(ValueLayout.JAVA_FLOAT, i, FREQ_FACTORS[i]);
            }
            w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {FREQ_FACTORS.length},
                    GgufWriter.TensorSource.of(ff));
            w.finish();
        }
    }

    @Test
    void scaledRopeMatchesLlamaCpp(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("stories260K-ropescaled.gguf");
        write(TestData.model("stories260K.gguf"), model);
        try (GgufFile g = GgufFile.open(TestData.root().resolve("tests/golden/stories260K-ropescaled.golden.gguf"))) {
            assertEquals(g.metadata().getString("golden.model_sha256"), Qwen2GoldenTest.sha256(model),
                    "the rebuilt model is the file llama.cpp evaluated");
            try (LlamaModel m = LlamaModel.load(model)) {
                assertEquals(1.0f / FACTOR, m.config().ropeFreqScale());
                assertNotNull(m.ropeFreqs());
            }
            GoldenLogitsTest.check("stories260K-ropescaled", g, model, LlamaSession.KvType.F16, 4e-4, false);
        }
    }
}
