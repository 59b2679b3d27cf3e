package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gguf4j.backend.Accelerators;
import dev.gguf4j.backend.CudaAccelerator;
import dev.gguf4j.backend.CudaBackend;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.TestData;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GPU layer offload on a real CUDA device: the logits of every split (N = 1, half, all layers, everything) against
 * the CPU path, and top-1 at every step. Skipped, with the CUDA probe's reason, where there is no GPU.
 *
 * <p>Tolerance: the CUDA matmuls quantize activations to Q8_1 where llama.cpp's CUDA backend does (the CPU uses
 * the weight type's vec_dot_type), and sum in another order: GoldenLogitsTest's tolerances against llama.cpp
 * (3e-4 of the logit range for F16/F32 weights, 1.5e-2 for quantized ones) apply here too.
 */
class OffloadCudaTest {
    @BeforeEach
    void needsGpu() {
        assumeTrue(CudaBackend.isAvailable(), () -> "no CUDA device: " + CudaBackend.unavailabilityCause()
                .map(Throwable::getMessage).orElse("?"));
    }

    static List<String> goldens() {
        return List.of("stories260K.golden.gguf", "kjv7m-F16.golden.gguf", "kjv7m-Q4_K_M.golden.gguf",
                "kjv7m-Q8_0.golden.gguf");
    }

    @ParameterizedTest
    @MethodSource("goldens")
    void cudaSplitsMatchTheCpuPath(String golden) throws Exception {
        String model;
        int[] prompt;
        try (GgufFile g = GgufFile.open(TestData.golden(golden))) {
            model = g.metadata().getString("golden.model_file");
            prompt = g.requireTensor("prompt.0.tokens").data().toArray(ValueLayout.JAVA_INT);
        }
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(2).withContextLength(prompt.length + 16).withBatchSize(4);
        List<float[]> cpu;
        int n;
        try (Llama llama = Llama.load(TestData.model(model), o)) {
            n = llama.config().layers();
            cpu = OffloadTest.run(llama, prompt);
        }
        CudaAccelerator gpu = CudaAccelerator.open(0);
        double tol = GoldenLogitsTest.tolerance(golden);
        for (int ngl : new int[] {1, Math.max(1, n / 2), n, -1}) {
            try (Llama llama = Llama.load(TestData.model(model), o.withGpuLayers(ngl), () -> Accelerators.Probe.of(gpu))) {
                List<float[]> dev = OffloadTest.run(llama, prompt);
                double worst = 0;
                for (int i = 0; i < cpu.size(); i++) {
                    float[] want = cpu.get(i);
                    float[] got = dev.get(i);
                    double range = GoldenLogitsTest.range(want);
                    double d = 0;
                    for (int j = 0; j < want.length; j++) {
                        d = Math.max(d, Math.abs(want[j] - got[j]));
                    }
                    worst = Math.max(worst, d / range);
                    assertEquals(GoldenLogitsTest.argmax(want), GoldenLogitsTest.argmax(got), golden + " -ngl " + ngl
                            + " step " + i + " top-1");
                }
                System.out.printf("%s -ngl %d: worst max|Δ|/range vs CPU %.2e%n", golden, ngl, worst);
                assertTrue(worst < tol, golden + " -ngl " + ngl + ": " + worst);
            }
        }
    }
}
