package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.testing.TestData;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Generation allocates nothing per token on the thread that drives it: the matrix-vector products, the activation
 * conversion, attention and the worker dispatch reuse the session's buffers and prebuilt tasks. Measured with the
 * JVM's per-thread allocation counter over 300 tokens after 600 tokens of warm-up (so the JIT has compiled the
 * forward pass); the bound allows for a stray object now and then (the JIT, a resize), not for per-call garbage
 * (before this was fixed: 2.9–5.3 KB per token).
 */
class GenerationAllocationTest {

    @ParameterizedTest
    @CsvSource({"stories260K.gguf, 1", "kjv7m-Q4_K_M.gguf, 2"})
    void forwardAllocatesNothingPerToken(String model, int threads) throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Llama llama = Llama.load(TestData.model(model),
                LlamaOptions.DEFAULTS.withThreads(threads).withContextLength(1024));
                LlamaSession s = llama.newSession()) {
            for (int i = 0; i < 600; i++) {
                if (s.position() == s.contextLength()) {
                    s.reset();
                }
                s.forward(1 + i % 200);
            }
            s.reset();
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 300; i++) {
                s.forward(1 + i % 200);
            }
            double perToken = (mx.getCurrentThreadAllocatedBytes() - before) / 300.0;
            System.out.printf("%s, %d threads: %.2f bytes allocated per token%n", model, threads, perToken);
            assertTrue(perToken < 64, model + ": " + perToken + " bytes allocated per token");
        }
    }
}
