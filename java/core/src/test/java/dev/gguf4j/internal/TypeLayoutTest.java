package dev.gguf4j.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gguf4j.backend.CpuBackend;
import dev.gguf4j.types.GgmlType;
import org.junit.jupiter.api.Test;

/** Java's type table against the C library's block structs (sizeof), type by type. */
class TypeLayoutTest {

    @Test
    void everyJavaTypeMatchesTheCStructs() {
        NativeCpu lib = CpuBackend.get().library();
        for (GgmlType t : GgmlType.values()) {
            assertArrayEquals(new long[] {t.blockSize(), t.blockBytes()}, lib.typeLayout(t.id()), t.toString());
        }
    }

    @Test
    void cKnowsNoTypeJavaLacks() {
        NativeCpu lib = CpuBackend.get().library();
        for (int id = 0; id < 64; id++) {
            if (GgmlType.byId(id).isEmpty()) {
                int finalId = id;
                NativeException e = assertThrows(NativeException.class, () -> lib.typeLayout(finalId));
                assertEquals(2, e.status(), e.getMessage()); // G4J_E_UNSUPPORTED_TYPE
            }
        }
    }
}
