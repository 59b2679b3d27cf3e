package dev.gguf4j.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gguf4j.Settings;
import dev.gguf4j.internal.NativeCpu;
import dev.gguf4j.internal.NativeException;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Every native kernel variant this CPU runs, for every type it supports, against the plain-Java backend (ggml's
 * mul_mat semantics: activations converted to the type's vec_dot_type, then the same dot) and against the scalar
 * reference, on random rows of awkward lengths.
 */
class NativeKernelTest {
    private static final int[] LENGTHS = {0, 1, 7, 31, 32, 33, 64, 96, 255, 256, 288, 1000, 4096 + 32, 11008};

    /**
     * Which weight types the backend supports is the library's answer (g4j_vec_dot_type), not a Java list: it
     * answers for the types {@link #variantsMatchJavaAndScalar} covers and no other, each with the vec_dot_type
     * the Java reference converts activations to (ggml-cpu's type_traits_cpu, {@code ActivationQuantizer}).
     */
    @Test
    void supportedTypesAreTheLibrarysAnswerAndAgreeWithTheJavaTable() {
        java.util.Set<GgmlType> covered = java.util.EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
                GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K,
                GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS);
        CpuBackend cpu = CpuBackend.get();
        for (GgmlType t : GgmlType.values()) {
            assertEquals(covered.contains(t), cpu.supports(t), t.toString());
            if (cpu.supports(t)) {
                assertEquals(dev.gguf4j.quant.ActivationQuantizer.forWeights(t).type(), cpu.activationType(t),
                        t.toString());
            } else {
                assertEquals(null, cpu.activationType(t), t.toString());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K",
        "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
    void variantsMatchJavaAndScalar(GgmlType type) {
        NativeCpu lib = CpuBackend.get().library();
        Random rnd = new Random(42 + type.id());
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int n : LENGTHS) {
                if (n % type.blockSize() != 0) {
                    continue;
                }
                float[] w = new float[n];
                MemorySegment x = arena.allocate(JAVA_FLOAT, Math.max(1, n));
                for (int i = 0; i < n; i++) {
                    w[i] = (float) rnd.nextGaussian();
                    x.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
                }
                MemorySegment row = arena.allocate(Math.max(1, type.bytesFor(n)));
                Codecs.of(type).quantize(w, 0, n, null, row, 0);
                float[] deq = new float[n];
                Codecs.of(type).dequantize(row, 0, deq, 0, n);
                double mag = 0;
                for (int i = 0; i < n; i++) {
                    mag += Math.abs(deq[i] * x.getAtIndex(JAVA_FLOAT, i));
                }
                double tol = 1e-6 + (n + 8) * 1.2e-7 * mag;
                float java = JavaBackend.INSTANCE.dot(type, row, x, n);
                float scalar = lib.vecDot(0, type, n, row, x);
                for (int isa = 0; isa < lib.isaCount(); isa++) {
                    if (!lib.isaAvailable(isa)) {
                        continue;
                    }
                    float got = lib.vecDot(isa, type, n, row, x);
                    assertEquals(java, got, tol, lib.isaName(isa) + " " + type + " n=" + n + " vs Java");
                    assertEquals(scalar, got, tol, lib.isaName(isa) + " " + type + " n=" + n + " vs scalar");
                    checked++;
                }
            }
        }
        assertTrue(checked > 0);
    }

    @Test
    void matvecEqualsRowDots() {
        CpuBackend cpu = CpuBackend.get();
        int rows = 5;
        int cols = 96;
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            long rowBytes = GgmlType.Q8_0.bytesFor(cols);
            MemorySegment w = arena.allocate(rowBytes * rows);
            MemorySegment x = arena.allocate(JAVA_FLOAT, cols);
            for (int r = 0; r < rows; r++) {
                float[] f = new float[cols];
                for (int i = 0; i < cols; i++) {
                    f[i] = (float) rnd.nextGaussian();
                }
                Codecs.of(GgmlType.Q8_0).quantize(f, 0, cols, null, w, r * rowBytes);
            }
            for (int i = 0; i < cols; i++) {
                x.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
            }
            MemorySegment y = arena.allocate(JAVA_FLOAT, rows);
            cpu.matvec(GgmlType.Q8_0, w, rowBytes, rows, cols, x, y);
            for (int r = 0; r < rows; r++) {
                assertEquals(cpu.dot(GgmlType.Q8_0, w.asSlice(r * rowBytes), x, cols), y.getAtIndex(JAVA_FLOAT, r));
            }
        }
    }

    @Test
    void nativeErrorsAreTypedAndSpecific() {
        NativeCpu lib = CpuBackend.get().library();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(1024);
            NativeException e = assertThrows(NativeException.class, () -> lib.vecDot(-1, GgmlType.Q8_0, 33, buf, buf));
            assertTrue(e.getMessage().contains("G4J_E_INVALID_ARGUMENT") && e.getMessage().contains("33"), e.getMessage());
            e = assertThrows(NativeException.class, () -> lib.vecDot(-1, GgmlType.IQ2_XXS, 256, buf, buf));
            assertTrue(e.getMessage().contains("iq2_xxs"), e.getMessage());
            e = assertThrows(NativeException.class, () -> lib.vecDot(99, GgmlType.Q8_0, 32, buf, buf));
            assertTrue(e.getMessage().contains("G4J_E_UNSUPPORTED_ISA"), e.getMessage());
        }
    }

    /**
     * gguf4j.backend=cuda once ran every matmul on the plain-Java fallback (the CUDA "backend" computed nothing):
     * now it is refused with one line pointing at GPU layers, with or without a GPU.
     */
    @Test
    void forcedCudaIsRefusedWithOneLine() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.select(Settings.BackendChoice.CUDA));
        assertTrue(e.getMessage().startsWith("gguf4j.backend=cuda: ") && e.getMessage().contains("--gpu-layers")
                && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void autoPicksTheNativeCpuBackend() {
        assertEquals("cpu", Backends.select(Settings.BackendChoice.AUTO).name());
        assertEquals("java", Backends.select(Settings.BackendChoice.JAVA).name());
    }
}
