package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.Backends;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufLoadException;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.internal.MemoryLock;
import dev.gguf4j.testing.TestData;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** LlamaOptions' useMmap / useMlock (llama-cpp-python's use_mmap / use_mlock). */
class LoadOptionsTest {

    /** mmap off reads the same bytes, so every logit is bit-identical (prompt of a llama.cpp golden file). */
    @ParameterizedTest
    @ValueSource(strings = {"kjv7m-Q4_K_M", "stories260K"})
    void mmapOffGivesIdenticalLogits(String name) throws Exception {
        int[] tokens;
        try (GgufFile g = GgufFile.open(TestData.golden(name + ".golden.gguf"))) {
            tokens = g.requireTensor("prompt.0.tokens").data().toArray(ValueLayout.JAVA_INT);
        }
        try (LlamaModel mapped = LlamaModel.load(TestData.model(name + ".gguf"), true, false);
                LlamaModel read = LlamaModel.load(TestData.model(name + ".gguf"), false, false);
                LlamaSession a = new LlamaSession(mapped, Backends.select(), 64, 2, LlamaSession.KvType.F16);
                LlamaSession b = new LlamaSession(read, Backends.select(), 64, 2, LlamaSession.KvType.F16)) {
            assertTrue(mapped.file().isMapped());
            assertFalse(read.file().isMapped());
            assertTrue(read.file().contents().isNative());
            assertEquals(-1, mapped.file().contents().mismatch(read.file().contents()));
            for (int i = 0; i < tokens.length; i++) {
                assertArrayEquals(a.forward(tokens[i]), b.forward(tokens[i]), name + " position " + i);
            }
            a.reset();
            b.reset();
            float[][] batch = b.forwardBatch(tokens, true);
            float[][] want = a.forwardBatch(tokens, true);
            for (int i = 0; i < tokens.length; i++) {
                assertArrayEquals(want[i], batch[i], name + " batch position " + i);
            }
        }
    }

    /** close() unmaps or frees at once: no tensor segment of a closed model is alive or readable. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void closeReleasesTheWeights(boolean mmap) throws Exception {
        LlamaModel m = LlamaModel.load(TestData.model("stories260K.gguf"), mmap, false);
        GgufTensor t = m.file().requireTensor("token_embd.weight");
        MemorySegment data = t.data();
        assertTrue(data.scope().isAlive());
        data.get(ValueLayout.JAVA_FLOAT, 0);
        m.close();
        assertFalse(data.scope().isAlive());
        assertFalse(m.file().contents().scope().isAlive());
        for (GgufTensor x : m.file().tensors()) {
            assertFalse(x.data().scope().isAlive(), x.name());
        }
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_FLOAT, 0));
        m.close(); // idempotent
    }

    /**
     * The huge-page advice on weights read into memory gives the arena's zero-filled pages back (MADV_DONTNEED):
     * the memory must still read as zeros and keep what is written after, huge pages or not (and the allocator's
     * own data next to it must survive: a bad range crashed the JVM with a heap corruption).
     */
    @Test
    void hugePageAdviceKeepsZeroedMemory() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            long size = (4L << 20) + 4097; // not whole pages: the partial last page is left alone
            MemorySegment seg = arena.allocate(size, 2L << 20);
            MemoryLock.adviseHugePages(seg);
            for (long at = 0; at < size; at += 4093) {
                assertEquals(0, seg.get(ValueLayout.JAVA_BYTE, at), "byte " + at);
            }
            seg.fill((byte) 3);
            for (long at = 0; at < size; at += 4093) {
                assertEquals(3, seg.get(ValueLayout.JAVA_BYTE, at), "byte " + at);
            }
        }
    }

    @Test
    void llamaHonoursTheOptions() throws Exception {
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withMmap(false).withMlock(false);
        assertFalse(o.useMmap());
        assertTrue(LlamaOptions.DEFAULTS.useMmap());
        assertFalse(LlamaOptions.DEFAULTS.useMlock());
        assertFalse(o.withSeed(3).withContextLength(16).withKvType(LlamaSession.KvType.F32).useMmap(), "kept");
        try (Llama l = Llama.load(TestData.model("stories260K.gguf"), o)) {
            assertFalse(l.model().file().isMapped());
            assertFalse(l.memoryLocked());
        }
    }

    /**
     * mlock on a 2.2 MB model (under the usual 8 MiB RLIMIT_MEMLOCK): locked, and the kernel counts it (VmLck),
     * until close(); or, where locking is not allowed at all, the documented warning text: errno and the limit.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void mlockLocksTheWeights(boolean mmap) throws Exception {
        Path model = TestData.root().resolve("tests/golden/qwen2-tiny-Q4_K_M.gguf");
        long before = vmLckKiB();
        try (LlamaModel m = LlamaModel.load(model, mmap, true)) {
            if (m.memoryLocked()) {
                assertTrue(m.lockFailure().isEmpty());
                if (before >= 0) {
                    long weightsKiB = (m.file().fileSize() - m.file().dataOffset()) / 1024;
                    assertTrue(vmLckKiB() - before >= weightsKiB, "VmLck grew by " + (vmLckKiB() - before)
                            + " KiB, weights are " + weightsKiB + " KiB");
                }
            } else {
                assertDocumentedFailure(m.lockFailure().orElseThrow());
            }
        }
        if (before >= 0) {
            assertEquals(before, vmLckKiB(), "close() unlocks");
        }
    }

    /** Bigger than RLIMIT_MEMLOCK: locked only if the process may exceed it (CAP_IPC_LOCK), else the message. */
    @Test
    void mlockOverTheLimitWarnsAndGoesOn() throws Exception {
        Path model = TestData.model("kjv7m-F32.gguf");
        long[] limit = MemoryLock.memlockLimit();
        try (LlamaModel m = LlamaModel.load(model, true, true);
                LlamaSession s = new LlamaSession(m, Backends.select(), 8, 1, LlamaSession.KvType.F16)) {
            System.out.printf("mlock of %d bytes with RLIMIT_MEMLOCK %s: %s%n", Files.size(model),
                    limit == null ? "?" : limit[0] + "/" + limit[1],
                    m.memoryLocked() ? "locked" : m.lockFailure().orElseThrow());
            if (!m.memoryLocked()) {
                assertDocumentedFailure(m.lockFailure().orElseThrow());
            }
            assertEquals(m.config().vocab(), s.forward(1).length, "the model works either way");
        }
    }

    /**
     * The failure path where the test runs privileged (root has CAP_IPC_LOCK, which lifts RLIMIT_MEMLOCK): the
     * same load in a child JVM without that capability (util-linux setpriv) must warn, say why, and go on.
     */
    @Test
    void mlockWithoutThePrivilegeGivesTheDocumentedMessage() throws Exception {
        long[] limit = MemoryLock.memlockLimit();
        Path model = TestData.model("kjv7m-F32.gguf");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")) && limit != null
                && limit[0] >= 0 && limit[0] < Files.size(model), "setpriv and a finite RLIMIT_MEMLOCK below 27 MB");
        Process p = new ProcessBuilder("/usr/bin/setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), LockProbe.class.getName(), model.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        org.junit.jupiter.api.Assumptions.assumeFalse(out.contains("setpriv:"), out); // no permission to drop caps
        for (String mode : new String[] {"mmap=true", "mmap=false"}) {
            assertTrue(out.contains(mode + " locked=false failure=mlock of "), out);
        }
        assertTrue(out.contains("ENOMEM (errno 12); RLIMIT_MEMLOCK is "), out);
        assertTrue(out.contains("WARNING") && out.contains("could not lock the weights in RAM, going on without"), out);
        assertTrue(out.contains("logits ok"), out);
    }

    /** Child of {@link #mlockWithoutThePrivilegeGivesTheDocumentedMessage}. */
    static final class LockProbe {
        public static void main(String[] args) throws Exception {
            for (boolean mmap : new boolean[] {true, false}) {
                try (LlamaModel m = LlamaModel.load(Path.of(args[0]), mmap, true);
                        LlamaSession s = new LlamaSession(m, dev.gguf4j.backend.JavaBackend.INSTANCE, 8, 1,
                                LlamaSession.KvType.F16)) {
                    System.out.println("mmap=" + mmap + " locked=" + m.memoryLocked() + " failure="
                            + m.lockFailure().orElse("none"));
                    if (s.forward(1).length == m.config().vocab()) {
                        System.out.println("logits ok");
                    }
                }
            }
        }
    }

    private static void assertDocumentedFailure(String msg) {
        if (MemoryLock.supported()) {
            assertTrue(msg.startsWith("mlock of "), msg);
            assertTrue(msg.contains("errno "), msg);
            assertTrue(msg.contains("RLIMIT_MEMLOCK is "), msg);
        } else {
            assertTrue(msg.contains("not supported"), msg);
        }
    }

    /** Without mmap the model must fit in memory: a file larger than MemAvailable fails before allocating. */
    @Test
    void noMmapTooBigForMemoryIsATypedError(@TempDir Path tmp) throws Exception {
        long available = -1;
        if (Files.isReadable(Path.of("/proc/meminfo"))) {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    available = Long.parseLong(line.trim().split("\\s+")[1]) * 1024;
                }
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(available > 0, "Linux MemAvailable");
        Path huge = tmp.resolve("huge.gguf");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(available + (1L << 30)); // sparse: no disk used
        }
        GgufLoadException e = assertThrows(GgufLoadException.class, () -> LlamaModel.load(huge, false, false));
        assertTrue(e.getMessage().contains("not enough memory") && e.getMessage().contains("MemAvailable"),
                e.getMessage());
        assertThrows(GgufFormatException.class, () -> LlamaModel.load(tmp.resolve("missing.gguf"), false, false));
    }

    /** Locked memory of this process in KiB (Linux VmLck), or -1. */
    private static long vmLckKiB() throws Exception {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmLck:")) {
                return Long.parseLong(line.trim().split("\\s+")[1]);
            }
        }
        return -1;
    }
}
