package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufValue;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hyper-parameters as llama.cpp reads them (llama-model.cpp, c392e50): defaults, RoPE scaling keys, refusals. */
class LlamaConfigTest {
    private static Map<String, GgufValue> base() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.ofString("llama"));
        m.put("llama.context_length", GgufValue.ofUInt32(2048));
        m.put("llama.embedding_length", GgufValue.ofUInt32(256));
        m.put("llama.block_count", GgufValue.ofUInt32(2));
        m.put("llama.feed_forward_length", GgufValue.ofUInt32(512));
        m.put("llama.attention.head_count", GgufValue.ofUInt32(8));
        m.put("llama.attention.head_count_kv", GgufValue.ofUInt32(2));
        m.put("llama.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
        return m;
    }

    private static LlamaConfig config(Map<String, GgufValue> m) {
        return LlamaConfig.from("test.gguf", new GgufMetadata("test.gguf", m), 100);
    }

    @Test
    void defaultsAsLlamaCpp() {
        LlamaConfig c = config(base());
        assertEquals(32, c.headDim());
        assertEquals(64, c.kvDim());
        assertEquals(32, c.ropeDim());
        assertEquals(10000.0f, c.ropeTheta());
        assertEquals(1.0f, c.ropeFreqScale());
        assertFalse(c.ropeNeox());
    }

    @Test
    void linearScalingFactorGivesItsInverse() {
        Map<String, GgufValue> m = base();
        m.put("llama.rope.scaling.type", GgufValue.ofString("linear"));
        m.put("llama.rope.scaling.factor", GgufValue.ofFloat32(4.0f));
        assertEquals(0.25f, config(m).ropeFreqScale());
        Map<String, GgufValue> old = base();
        old.put("llama.rope.scale_linear", GgufValue.ofFloat32(2.0f)); // the older key, no type: linear
        assertEquals(0.5f, config(old).ropeFreqScale());
        Map<String, GgufValue> none = base();
        none.put("llama.rope.scaling.type", GgufValue.ofString("none"));
        none.put("llama.rope.scaling.factor", GgufValue.ofFloat32(8.0f));
        assertEquals(1.0f, config(none).ropeFreqScale());
        Map<String, GgufValue> zero = base();
        zero.put("llama.rope.scaling.factor", GgufValue.ofFloat32(0.0f)); // 0: no scaling
        assertEquals(1.0f, config(zero).ropeFreqScale());
    }

    @Test
    void unsupportedScalingIsRefusedNamingKeyAndValue() {
        Map<String, GgufValue> m = base();
        m.put("llama.rope.scaling.type", GgufValue.ofString("longrope"));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("llama.rope.scaling.type") && e.getMessage().contains("longrope")
                && e.getMessage().contains("test.gguf"), e.getMessage());
        Map<String, GgufValue> neg = base();
        neg.put("llama.rope.scaling.factor", GgufValue.ofFloat32(-2.0f));
        e = assertThrows(GgufFormatException.class, () -> config(neg));
        assertTrue(e.getMessage().contains("llama.rope.scaling.factor") && e.getMessage().contains("-2.0"), e.getMessage());
    }

    @Test
    void badRopeDimensionIsRefused() {
        Map<String, GgufValue> m = base();
        m.put("llama.rope.dimension_count", GgufValue.ofUInt32(33));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("llama.rope.dimension_count") && e.getMessage().contains("33"), e.getMessage());
    }

    /**
     * run (LlamaConfig) and quantize (QuantPolicy.Model) refuse broken shapes with one check, the same message:
     * the file, the key, the value and llama.cpp's limit.
     */
    @Test
    void runAndQuantizeShareTheShapeChecks() {
        Object[][] cases = {
            {"llama.block_count", GgufValue.ofUInt32(0), "[1, 512]"},
            {"llama.block_count", GgufValue.ofUInt32(2_000_000_000L), "[1, 512]"},
            {"llama.block_count", GgufValue.ofInt32(-1), "[1, 512]"},
            {"llama.attention.head_count", GgufValue.ofUInt32(0), "[1, 256]"},
            {"llama.attention.head_count", GgufValue.ofUInt32(3), "does not divide llama.embedding_length 256"},
            {"llama.attention.head_count_kv", GgufValue.ofUInt32(3), "does not divide llama.attention.head_count 8"},
            {"llama.context_length", GgufValue.ofUInt32(0), "[1, 2147483647]"},
            {"llama.rope.dimension_count", GgufValue.ofUInt32(64), "[2, head size 32]"},
            {"llama.expert_count", GgufValue.ofUInt32(1000), "[0, 256]"},
        };
        for (Object[] c : cases) {
            Map<String, GgufValue> m = base();
            m.put((String) c[0], (GgufValue) c[1]);
            GgufFormatException run = assertThrows(GgufFormatException.class, () -> config(m), c[0] + "=" + c[1]);
            GgufFormatException quantize = assertThrows(GgufFormatException.class,
                    () -> dev.gguf4j.quantize.QuantPolicy.Model.of("test.gguf", new GgufMetadata("test.gguf", m)));
            assertEquals(run.getMessage(), quantize.getMessage());
            assertTrue(run.getMessage().startsWith("test.gguf: " + c[0] + ": ") && run.getMessage().contains((String) c[2]),
                    run.getMessage());
        }
        // attention-free architectures have no heads (llama.cpp's converters write 0): quantize takes them
        Map<String, GgufValue> mamba = new LinkedHashMap<>();
        mamba.put("general.architecture", GgufValue.ofString("mamba"));
        mamba.put("mamba.block_count", GgufValue.ofUInt32(2));
        mamba.put("mamba.context_length", GgufValue.ofUInt32(1048576));
        mamba.put("mamba.embedding_length", GgufValue.ofUInt32(256));
        mamba.put("mamba.attention.head_count", GgufValue.ofUInt32(0));
        assertEquals(0, dev.gguf4j.quantize.QuantPolicy.Model.of("m.gguf", new GgufMetadata("m.gguf", mamba)).nHead());
    }
}
