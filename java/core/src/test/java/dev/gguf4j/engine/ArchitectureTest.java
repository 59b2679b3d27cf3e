package dev.gguf4j.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.llama.ArchitectureException;
import dev.gguf4j.testing.TestData;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The architecture registry: a file whose architecture is not registered, or that lacks a tensor its
 * architecture requires, is an {@link ArchitectureException} naming the file, the architecture, the key or the
 * tensor, and the supported architectures; a tensor llama only may have (Q/K/V biases) qwen2 requires, as
 * llama.cpp's loaders do.
 */
class ArchitectureTest {

    /** {@code src} rewritten with {@code general.architecture = arch} (its keys renamed) minus the tensors dropped. */
    private static Path rewrite(Path src, Path out, String arch, Predicate<String> drop) throws Exception {
        try (GgufFile f = GgufFile.open(src); GgufWriter w = GgufWriter.create(out)) {
            String from = f.metadata().getString("general.architecture");
            f.metadata().asMap().forEach((key, v) -> w.put(key.startsWith(from + ".")
                    ? arch + key.substring(from.length()) : key, key.equals("general.architecture")
                    ? GgufValue.ofString(arch) : v));
            for (GgufTensor t : f.tensors()) {
                if (!drop.test(t.name())) {
                    w.addTensor(t);
                }
            }
            w.finish();
        }
        return out;
    }

    @Test
    void registryListsLlamaAndQwen2() {
        assertEquals(List.of("bert", "gemma", "gemma2", "granite", "llama", "nomic-bert", "phi3", "qwen2", "qwen2moe"),
                Architectures.names());
    }

    @Test
    void unsupportedArchitectureNamesKeyAndSupportedList(@TempDir Path tmp) throws Exception {
        Path m = rewrite(TestData.model("stories260K.gguf"), tmp.resolve("g.gguf"), "gemma9", n -> false);
        ArchitectureException e = assertThrows(ArchitectureException.class, () -> LlamaModel.load(m).close());
        assertEquals("gemma9", e.architecture());
        assertEquals(List.of("bert", "gemma", "gemma2", "granite", "llama", "nomic-bert", "phi3", "qwen2", "qwen2moe"),
                e.supported());
        assertEquals("general.architecture", e.field());
        assertTrue(e.getMessage().contains("g.gguf") && e.getMessage().contains("'gemma9'")
                && e.getMessage().contains("supported architectures: bert, gemma, gemma2, granite, llama, nomic-bert, phi3, qwen2, qwen2moe"), e.getMessage());
    }

    @Test
    void missingRequiredTensorIsNamed(@TempDir Path tmp) throws Exception {
        Path m = rewrite(TestData.model("stories260K.gguf"), tmp.resolve("m.gguf"), "llama",
                n -> n.equals("blk.1.ffn_up.weight"));
        ArchitectureException e = assertThrows(ArchitectureException.class, () -> LlamaModel.load(m).close());
        assertEquals("llama", e.architecture());
        assertTrue(e.getMessage().contains("blk.1.ffn_up.weight") && e.getMessage().contains("llama architecture")
                && e.getMessage().contains("supported architectures: bert, gemma, gemma2, granite, llama, nomic-bert, phi3, qwen2, qwen2moe"), e.getMessage());
    }

    /** stories260K has no Q/K/V biases: optional for llama, required for qwen2 (llama.cpp's llm_build_qwen2). */
    @Test
    void qwen2RequiresTheBiasesLlamaMayLack(@TempDir Path tmp) throws Exception {
        Path m = rewrite(TestData.model("stories260K.gguf"), tmp.resolve("q.gguf"), "qwen2", n -> false);
        ArchitectureException e = assertThrows(ArchitectureException.class, () -> LlamaModel.load(m).close());
        assertEquals("qwen2", e.architecture());
        assertTrue(e.getMessage().contains("blk.0.attn_q.bias"), e.getMessage());
        try (LlamaModel llama = LlamaModel.load(TestData.model("stories260K.gguf"))) {
            assertEquals("llama", llama.architecture().name());
            assertEquals(null, llama.vector(0, TensorRole.ATTN_Q_BIAS));
        }
    }

    /** phi3 (llama.cpp's loader): attn_qkv and output are required; the output is never tied to token_embd. */
    @Test
    void phi3RequiresFusedQkvAndOutput(@TempDir Path tmp) throws Exception {
        Path full = tmp.resolve("phi3.gguf");
        dev.gguf4j.testing.RandomModels.write(dev.gguf4j.testing.RandomModels.Preset.PHI3,
                dev.gguf4j.types.GgmlType.F16, full);
        for (String dropped : List.of("output.weight", "blk.2.attn_qkv.weight")) {
            Path m = rewrite(full, tmp.resolve("d.gguf"), "phi3", n -> n.equals(dropped));
            ArchitectureException e = assertThrows(ArchitectureException.class, () -> LlamaModel.load(m).close());
            assertEquals("phi3", e.architecture());
            assertTrue(e.getMessage().contains("'" + dropped + "'") && e.getMessage().contains("phi3 architecture"),
                    e.getMessage());
        }
    }
}
