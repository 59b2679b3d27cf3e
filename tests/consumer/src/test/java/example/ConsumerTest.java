package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gguf4j.backend.Backend;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What a user gets from the two dependencies alone: the native kernel loads from the jar and computes. */
class ConsumerTest {

    @Test
    void nativeKernelLoadsFromTheClassifierJar() {
        assertTrue(CpuBackend.isAvailable(), () -> "native library did not load: " + CpuBackend.unavailabilityCause());
        assertEquals("cpu", Backends.select().name());
        String where = CpuBackend.get().library().loaded().origin();
        assertTrue(where.startsWith("class path resource /dev/gguf4j/native/linux-x86_64/"), where);
    }

    @Test
    void nativeKernelComputesLlamaCppsQ8_0Cases() throws Exception {
        // llama.cpp's Q8_0 golden cases: ggml quantized `input` to `quant`. Q8_0 stores x as d*q with
        // d = amax/127 per block of 32 and |x - d*q| <= d/2, so dot(quant, v) must lie within
        // sum |v_i| * d_i/2 of dot(input, v), computed here from the golden input alone.
        Path shared = Path.of(System.getProperty("gguf4j.test.shared", "../../../shared"));
        if (!Files.isDirectory(shared)) { // this project has no test-support classes: it says so itself, once
            System.out.println("gguf4j: ../shared not found at " + shared.toAbsolutePath().normalize() + ": skipped "
                    + "ConsumerTest.nativeKernelComputesLlamaCppsQ8_0Cases (needs llama.cpp's golden quant vectors); "
                    + "put the shared data beside the checkout (../shared) or pass -Dgguf4j.shared=DIR to Maven");
        }
        assumeTrue(Files.isDirectory(shared), "../shared not found at " + shared);
        Backend backend = Backends.select();
        Path golden = shared.resolve("golden/quant-vectors-v2.gguf");
        try (GgufFile f = GgufFile.open(golden); Arena arena = Arena.ofConfined()) {
            int checked = 0;
            for (int c = 0; c < f.metadata().getLong("golden.case_count"); c++) {
                if (!f.metadata().getString("case." + c + ".type").equalsIgnoreCase("q8_0")) {
                    continue;
                }
                GgufTensor q = f.requireTensor("case." + c + ".quant");
                GgufTensor in = f.requireTensor("case." + c + ".input");
                int n = (int) q.rowLength();
                MemorySegment v = arena.allocate(ValueLayout.JAVA_FLOAT, n);
                for (int i = 0; i < n; i++) {
                    v.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i * 0.37));
                }
                double exact = 0;
                double bound = 1e-6;
                for (int b = 0; b < n / 32; b++) {
                    double amax = 0;
                    for (int i = b * 32; i < b * 32 + 32; i++) {
                        amax = Math.max(amax, Math.abs(in.data().getAtIndex(ValueLayout.JAVA_FLOAT, i)));
                    }
                    for (int i = b * 32; i < b * 32 + 32; i++) {
                        double vi = v.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                        exact += in.data().getAtIndex(ValueLayout.JAVA_FLOAT, i) * vi;
                        // rounding of q (d/2), of d to f16 (2^-11 relative, or a subnormal step of 2^-24 that
                        // tiny blocks round to), and float accumulation
                        bound += Math.abs(vi) * (amax / 127 * 0.5 + amax * 1e-3 + 127 * 0x1p-24) + Math.abs(exact) * 1e-6;
                    }
                }
                float got = backend.dot(GgmlType.Q8_0, q.data(), v, n);
                assertEquals(exact, got, bound, "case " + c + " (" + f.metadata().getString("case." + c + ".distribution") + ")");
                checked++;
            }
            assertTrue(checked > 0, "no Q8_0 cases in " + golden);
        }
    }
}
