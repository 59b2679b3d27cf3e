package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Perplexity of the trained model on its held-out text against llama.cpp's quality ladder
 * (../shared/golden/kjv7m-llama.cpp-quality.md: llama-perplexity -c 256 on kjv7m-test.txt, c392e50).
 */
class PerplexityTest {

    @ParameterizedTest
    @CsvSource({"kjv7m-F16.gguf, 26.5778", "kjv7m-Q4_K_M.gguf, 26.701089", "kjv7m-Q2_K.gguf, 28.085144"})
    void matchesLlamaPerplexity(String model, double want) throws Exception {
        String text = Files.readString(TestData.model("kjv7m-test.txt"));
        try (Llama llama = Llama.load(TestData.model(model), LlamaOptions.DEFAULTS.withThreads(2).withContextLength(256))) {
            int[] tokens = llama.tokenizer().encode(text, true, false);
            Perplexity.Result r = Perplexity.compute(llama, tokens, 256, -1);
            System.out.printf("%s: PPL %.6f ± %.5f over %d chunks (llama.cpp %.6f)%n", model, r.ppl(), r.error(),
                    r.chunks(), want);
            // the same tokens and chunks; differences come only from float summation order (and the near-ties
            // of 8-bit activation rounding on quantized models): well under 1e-4 relative
            assertEquals(want, r.ppl(), want * 1e-4, model);
        }
    }
}
