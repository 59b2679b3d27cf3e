package dev.gguf4j.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** File choice over file names as real GGUF repositories name them (bartowski, unsloth, Qwen, TheBloke). */
class QuantChoiceTest {
    private static List<QuantChoice.RepoFile> files(String... paths) {
        return java.util.Arrays.stream(paths).map(p -> new QuantChoice.RepoFile(p, 10, Optional.of("0".repeat(64)), ""))
                .toList();
    }

    private static String choose(String ref, List<QuantChoice.RepoFile> files) {
        return QuantChoice.choose(ModelRef.parse(ref), files).model().first();
    }

    @Test
    void labels() {
        assertEquals("Q4_K_M", QuantChoice.label("Llama-3.2-1B-Instruct-Q4_K_M.gguf"));
        assertEquals("Q4_K_M", QuantChoice.label("qwen2.5-0.5b-instruct-q4_k_m.gguf"));
        assertEquals("Q5_K_S", QuantChoice.label("mistral-7b-instruct-v0.2.Q5_K_S.gguf"));
        assertEquals("IQ4_XS", QuantChoice.label("Meta-Llama-3-8B-Instruct-IQ4_XS.gguf"));
        assertEquals("Q8_0", QuantChoice.label("Q8_0/Model-Q8_0-00001-of-00002.gguf"));
        assertEquals("BF16", QuantChoice.label("gemma-2-2b-it-BF16.gguf"));
        assertEquals("Q4_K_XL", QuantChoice.label("Qwen3-8B-UD-Q4_K_XL.gguf"));
        assertEquals("", QuantChoice.label("model.gguf"));
    }

    @Test
    void defaultIsQ4KMThenQ4ThenFirst() {
        List<QuantChoice.RepoFile> all = files("README.md", "m-IQ4_XS.gguf", "m-Q2_K.gguf", "m-Q4_0.gguf",
                "m-Q4_K_M.gguf", "m-Q8_0.gguf", "mmproj-m-f16.gguf");
        QuantChoice.Choice c = QuantChoice.choose(ModelRef.parse("u/m-GGUF"), all);
        assertEquals("m-Q4_K_M.gguf", c.model().first());
        assertEquals("Q4_K_M, the default", c.reason());
        QuantChoice.Choice q4 = QuantChoice.choose(ModelRef.parse("u/m-GGUF"), files("m-Q2_K.gguf", "m-Q4_0.gguf",
                "m-Q8_0.gguf"));
        assertEquals("m-Q4_0.gguf", q4.model().first());
        assertTrue(q4.reason().contains("no Q4_K_M") && q4.reason().contains("first Q4"), q4.reason());
        QuantChoice.Choice first = QuantChoice.choose(ModelRef.parse("u/m-GGUF"), files("mmproj-f16.gguf",
                "m-Q8_0.gguf", "m-f16.gguf"));
        assertEquals("m-Q8_0.gguf", first.model().first());
        assertTrue(first.reason().contains("first GGUF file"), first.reason());
    }

    @Test
    void explicitQuantCaseInsensitiveAndPrefix() {
        List<QuantChoice.RepoFile> all = files("m-Q4_0.gguf", "m-Q4_K_M.gguf", "m-Q4_K_S.gguf", "m-Q8_0.gguf");
        assertEquals("m-Q8_0.gguf", choose("u/m:q8_0", all));
        assertEquals("m-Q4_K_S.gguf", choose("hf.co/u/m:Q4_K_S", all));
        assertEquals("m-Q4_K_M.gguf", choose("u/m:q4", all)); // llama.cpp's ":q4" example: Q4_K_M among the Q4s
        assertEquals("m-Q4_K_M.gguf", choose("u/m:q4_k", all));
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> choose("u/m:Q5_K_M", all));
        assertTrue(e.getMessage().contains("no GGUF file for Q5_K_M") && e.getMessage()
                .contains("Q4_0, Q4_K_M, Q4_K_S, Q8_0"), e.getMessage());
    }

    @Test
    void splitModelsAreOneModelOfAllParts() {
        List<QuantChoice.RepoFile> all = files("Q8_0/m-Q8_0-00002-of-00002.gguf", "Q8_0/m-Q8_0-00001-of-00002.gguf",
                "Q4_K_M/m-Q4_K_M-00001-of-00003.gguf", "Q4_K_M/m-Q4_K_M-00002-of-00003.gguf",
                "Q4_K_M/m-Q4_K_M-00003-of-00003.gguf", "m-Q2_K-00001-of-00002.gguf"); // Q2_K's part 2 is missing
        QuantChoice.Choice c = QuantChoice.choose(ModelRef.parse("u/m"), all);
        assertEquals(List.of("Q4_K_M/m-Q4_K_M-00001-of-00003.gguf", "Q4_K_M/m-Q4_K_M-00002-of-00003.gguf",
                "Q4_K_M/m-Q4_K_M-00003-of-00003.gguf"), c.model().parts().stream().map(QuantChoice.RepoFile::path)
                .toList());
        assertEquals(2, QuantChoice.choose(ModelRef.parse("u/m:Q8_0"), all).model().parts().size());
        assertThrows(ModelStoreException.class, () -> choose("u/m:Q2_K", all));
    }

    @Test
    void noGguf() {
        ModelStoreException e = assertThrows(ModelStoreException.class,
                () -> choose("u/m", files("README.md", "model.safetensors", "config.json")));
        assertTrue(e.getMessage().contains("u/m: the repository has no GGUF model file"), e.getMessage());
    }

    @Test
    void refs() {
        assertEquals("hf.co/u/m:latest", ModelRef.parse("u/m").toString());
        assertEquals("hf.co/u/m:Q4_K_M", ModelRef.parse("hf.co/u/m:q4_k_m").toString());
        assertEquals("hf.co/u/m:Q8_0", ModelRef.parse("https://huggingface.co/u/m:Q8_0").toString());
        assertEquals("hf.co/u/m:latest", ModelRef.parse("u/m:latest").toString());
        for (String bad : new String[] {"u", "u/m/x", "u/m:", "u/../m", "/m", "u/m:Q4 K"}) {
            ModelStoreException e = assertThrows(ModelStoreException.class, () -> ModelRef.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("model reference '" + bad + "'"), e.getMessage());
        }
    }
}
