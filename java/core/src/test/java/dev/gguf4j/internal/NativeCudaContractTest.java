package dev.gguf4j.internal;

import static dev.gguf4j.internal.bindings.GgufCudaNative.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gguf4j.Gguf4j;
import dev.gguf4j.Settings;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The device-op bindings against whatever libgguf4j_cuda loads (the cuda jar, or -Dgguf4j.native.cudaPath), GPU
 * or not: every op the offload uses links, and refuses a NULL context with G4J_E_INVALID_ARGUMENT naming the
 * function instead of crashing. Skipped, with the loader's reason, where the library is absent.
 */
class NativeCudaContractTest {
    @Test
    void everyOpLinksAndChecksItsContext() {
        Settings s = Settings.fromSystemProperties();
        NativeLoader.Loaded loaded;
        try {
            loaded = NativeLoader.load("gguf4j_cuda", s.cudaLibrary(), Settings.CUDA_PATH, s.cacheDir(), Gguf4j.version());
        } catch (NativeLibraryException e) {
            assumeTrue(false, "no libgguf4j_cuda: " + e.getMessage());
            return;
        }
        assertEquals(G4J_CUDA_ABI_VERSION(), g4j_cuda_abi_version(), loaded.toString());
        // the library's matmul types: every type the CPU has a dot kernel for, and no other (gguf4j_cuda.h)
        for (dev.gguf4j.types.GgmlType t : dev.gguf4j.types.GgmlType.values()) {
            assertEquals(dev.gguf4j.quant.DotKernels.supports(t), g4j_cuda_matmul_supports(t.id()) != 0, t.toString());
        }
        MemorySegment n = MemorySegment.NULL;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check("g4j_cuda_mem_info", g4j_cuda_mem_info(n, out, out));
            check("g4j_cuda_alloc", g4j_cuda_alloc(n, 16, out));
            check("g4j_cuda_matmul", g4j_cuda_matmul(n, 0, n, 1, 1, 4, 1, n, 1, n, 1));
            check("g4j_cuda_rms_norm", g4j_cuda_rms_norm(n, 1, 1, n, n, 1e-5f, n));
            check("g4j_cuda_add", g4j_cuda_add(n, 1, n, n, n));
            check("g4j_cuda_add_bias", g4j_cuda_add_bias(n, 1, 1, n, n));
            check("g4j_cuda_swiglu", g4j_cuda_swiglu(n, 1, n, n, n));
            check("g4j_cuda_scale_add", g4j_cuda_scale_add(n, 1, 1f, n, 0, n));
            check("g4j_cuda_geglu", g4j_cuda_geglu(n, 1, n, n, n));
            check("g4j_cuda_soft_cap", g4j_cuda_soft_cap(n, 1, 1f, n, n));
            check("g4j_cuda_rope", g4j_cuda_rope(n, 0, 1, 1, 2, 2, n, 1e4f, 1f, 0f, 1f, 0f, 0f, n, n));
            check("g4j_cuda_attention", g4j_cuda_attention(n, 1, 1, n, 4, 1, 1, 2, n, n, n, n, n, 1f, 0f, 0, n));
            check("g4j_cuda_argmax", g4j_cuda_argmax(n, 1, n, n));
            check("g4j_cuda_upload", g4j_cuda_upload(n, n, n, 4));
            check("g4j_cuda_download", g4j_cuda_download(n, n, n, 4));
            check("g4j_cuda_synchronize", g4j_cuda_synchronize(n));
            check("g4j_cuda_graph_begin", g4j_cuda_graph_begin(n));
            g4j_cuda_ctx_destroy(n); // a no-op
        }
    }

    private static void check(String function, int status) {
        String msg = g4j_cuda_last_error().getString(0);
        assertEquals(1, status, function + " with a NULL context: " + msg);
        assertTrue(msg.contains(function), function + ": " + msg);
    }
}
