package dev.gguf4j.gguf;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufTestSupport.Img;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** GgufFile against hand-built broken files (one defect each) and against every real file in ../shared. */
class GgufFileTest {
    private static final int T_UINT8 = 0;
    private static final int T_UINT32 = 4;
    private static final int T_STRING = 8;
    private static final int T_ARRAY = 9;
    private static final int T_UINT64 = 10;
    private static final int F32 = 0;
    private static final int Q4_0 = 2;

    @TempDir
    Path tmp;

    // ------------------------------------------------------------------------------------ header

    @Test
    void wrongMagic() {
        byte[] b = Img.header(3, 0, 0).toArray();
        b[3] = 'X';
        assertFormatError(b, "magic", "0x58554747", "GGUF");
        assertFormatError(new byte[0], "magic", "needs 4 bytes", "file ends at 0");
        assertFormatError("GGU".getBytes(), "magic", "needs 4 bytes");
    }

    @Test
    void version1IsRefused() {
        assertFormatError(Img.header(1, 0, 0).toArray(), "version", "1 is not supported");
    }

    @Test
    void unknownVersionsAreRefused() {
        assertFormatError(Img.header(4, 0, 0).toArray(), "version", "4 is not supported");
        assertFormatError(Img.header(0, 0, 0).toArray(), "version", "0 is not supported");
    }

    @Test
    void bigEndianVersionIsRecognised() {
        // Version 3 written big-endian reads as 0x03000000 little-endian.
        assertFormatError(Img.header(0x0300_0000L, 0, 0).toArray(), "version", "50331648", "big-endian");
    }

    @Test
    void version2IsRead() {
        try (GgufFile f = GgufTestSupport.read(Img.header(2, 0, 0).toArray())) {
            assertEquals(2, f.version());
        }
    }

    @Test
    void truncatedHeader() {
        byte[] full = Img.header(3, 0, 0).toArray();
        assertFormatError(java.util.Arrays.copyOf(full, 6), "version", "needs 4 bytes at offset 4", "ends at 6");
        assertFormatError(java.util.Arrays.copyOf(full, 12), "tensor_count", "needs 8 bytes at offset 8");
        assertFormatError(java.util.Arrays.copyOf(full, 23), "metadata_kv_count", "needs 8 bytes at offset 16",
                "ends at 23");
    }

    @ParameterizedTest
    @ValueSource(longs = {-1L, Long.MAX_VALUE, 1L << 32, Integer.MAX_VALUE, 1000})
    void hugeKvCount(long count) {
        assertFormatError(Img.header(3, 0, count).toArray(), "metadata_kv_count", Long.toUnsignedString(count),
                "cannot fit in the 0 bytes left");
    }

    @ParameterizedTest
    @ValueSource(longs = {-1L, Long.MIN_VALUE, 1L << 40, 2})
    void hugeTensorCount(long count) {
        byte[] b = Img.header(3, count, 0).zeros(40).toArray();
        assertFormatError(b, "tensor_count", Long.toUnsignedString(count), "cannot fit in the 40 bytes left");
    }

    // ------------------------------------------------------------------------------------ metadata

    @Test
    void unknownValueType() {
        assertFormatError(Img.header(3, 0, 1).kv("my.key", 13).u32(0).toArray(), "metadata 'my.key'",
                "unknown value type 13");
        assertFormatError(Img.header(3, 0, 1).kv("my.key", -1).u32(0).toArray(), "unknown value type 4294967295");
        assertFormatError(Img.header(3, 0, 1).kv("arr", T_ARRAY).u32(77).u64(0).toArray(), "metadata 'arr'",
                "unknown array element type 77");
    }

    @Test
    void invalidUtf8() {
        byte[] key = {'a', (byte) 0xc3, 0x28}; // a lead byte followed by a non-continuation byte
        byte[] b = Img.header(3, 0, 1).u64(key.length).bytes(key).u32(T_UINT8).u8(1).toArray();
        assertFormatError(b, "metadata key #0", "not valid UTF-8", "malformed at byte 1 of 3", "(61 c3 28)");
        byte[] v = Img.header(3, 0, 1).kv("k", T_STRING).u64(2).bytes(new byte[] {(byte) 0xff, 'x'}).toArray();
        assertFormatError(v, "metadata 'k'", "not valid UTF-8", "byte 0 of 2", "(ff 78)");
        byte[] s = Img.header(3, 0, 1).kv("k", T_ARRAY).u32(T_STRING).u64(2).str("ok")
                .u64(3).bytes(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}) // a UTF-16 surrogate as UTF-8
                .toArray();
        assertFormatError(s, "metadata 'k'[1]", "not valid UTF-8", "(ed a0 80)");
    }

    @Test
    void duplicateKey() {
        byte[] b = Img.header(3, 0, 2).kv("general.name", T_STRING).str("a").kv("general.name", T_STRING).str("b")
                .toArray();
        assertFormatError(b, "metadata 'general.name'", "duplicate key");
    }

    @Test
    void hugeLengths() {
        assertFormatError(Img.header(3, 0, 1).u64(-1).zeros(16).toArray(), "metadata key #0", "string length "
                + Long.toUnsignedString(-1), "exceeds the 16 bytes left");
        assertFormatError(Img.header(3, 0, 1).kv("s", T_STRING).u64(1L << 33).zeros(4).toArray(), "metadata 's'",
                "string length 8589934592", "exceeds the 4 bytes left");
        assertFormatError(Img.header(3, 0, 1).kv("a", T_ARRAY).u32(T_UINT64).u64(5).zeros(39).toArray(),
                "metadata 'a' array length", "5 entries cannot fit in the 39 bytes left", "8 bytes each");
        assertFormatError(Img.header(3, 0, 1).kv("a", T_ARRAY).u32(T_ARRAY).u64(Long.MAX_VALUE).toArray(),
                "metadata 'a' array length", Long.toString(Long.MAX_VALUE));
    }

    @Test
    void boolMustBe0Or1() {
        assertFormatError(Img.header(3, 0, 1).kv("b", 7).u8(2).toArray(), "metadata 'b'", "bool value 2");
    }

    @Test
    void nestedArraysDeeperThanTheLimit() {
        assertFormatError(nestedImage(GgufFile.MAX_ARRAY_DEPTH + 1), "metadata 'deep'", "nest deeper than 8");
        try (GgufFile f = GgufTestSupport.read(nestedImage(GgufFile.MAX_ARRAY_DEPTH))) {
            GgufValue.GgufArray a = f.metadata().getArray("deep");
            for (int d = 1; d < GgufFile.MAX_ARRAY_DEPTH; d++) {
                a = ((GgufValue.GgufArray[]) a.values())[0];
            }
            assertArrayEquals(new long[] {42}, (long[]) a.values());
        }
    }

    /** An array nested {@code depth} deep (depth 1: a plain array of UINT8). */
    private static byte[] nestedImage(int depth) {
        Img b = Img.header(3, 0, 1).kv("deep", T_ARRAY);
        for (int d = 1; d < depth; d++) {
            b.u32(T_ARRAY).u64(1);
        }
        return b.u32(T_UINT8).u64(1).u8(42).toArray();
    }

    // ------------------------------------------------------------------------------------ alignment

    @ParameterizedTest
    @ValueSource(longs = {0, 3, 48, 0x8000_0001L})
    void alignmentMustBeAPowerOfTwo(long alignment) {
        byte[] b = Img.header(3, 0, 1).kv(GgufFile.ALIGNMENT_KEY, T_UINT32).u32(alignment).toArray();
        assertFormatError(b, "general.alignment", alignment + " is not a power of two");
    }

    @Test
    void alignmentMustBeUint32() {
        byte[] b = Img.header(3, 0, 1).kv(GgufFile.ALIGNMENT_KEY, T_UINT64).u64(32).toArray();
        assertFormatError(b, "general.alignment", "UINT64", "expected UINT32");
    }

    // ------------------------------------------------------------------------------------ tensor infos

    /** A file with one KV (alignment 32 by default) and the given tensor infos, then {@code dataBytes} of data. */
    private static byte[] withTensors(int dataBytes, Img... infos) {
        Img b = Img.header(3, infos.length, 1).kv("general.architecture", T_STRING).str("llama");
        for (Img i : infos) {
            b.bytes(i.toArray());
        }
        return b.pad(32).zeros(dataBytes).toArray();
    }

    private static Img info(String name, int type, long offset, long... ne) {
        return new Img().tensor(name, type, offset, ne);
    }

    @Test
    void validTensorsAreRead() {
        byte[] b = withTensors(96, info("a", F32, 0, 4, 2), info("b", Q4_0, 64, 32));
        try (GgufFile f = GgufTestSupport.read(b)) {
            GgufTensor a = f.requireTensor("a");
            assertEquals(32, a.byteSize());
            assertArrayEquals(new long[] {4, 2}, a.shape());
            assertEquals(18, f.requireTensor("b").byteSize());
            assertEquals(64, f.requireTensor("b").offset());
            assertEquals(64, f.requireTensor("b").data().address() - f.requireTensor("a").data().address());
        }
    }

    @Test
    void duplicateTensorName() {
        assertFormatError(withTensors(64, info("w", F32, 0, 4), info("w", F32, 32, 4)), "tensor 'w'",
                "duplicate tensor name");
    }

    @Test
    void tensorNameTooLong() {
        String name = "n".repeat(64);
        assertFormatError(withTensors(64, info(name, F32, 0, 4)), "tensor '" + name + "'", "64 bytes long",
                "limit is 63");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 5, -1})
    void nDimsOutOfRange(int nDims) {
        Img i = new Img().str("w").u32(nDims);
        for (int d = 0; d < Math.max(0, nDims); d++) {
            i.u64(1);
        }
        i.u32(F32).u64(0);
        assertFormatError(withTensors(64, i), "tensor 'w'", "n_dims " + Integer.toUnsignedString(nDims),
                "outside [1, 4]");
    }

    @Test
    void negativeOrOverflowingDims() {
        assertFormatError(withTensors(64, info("w", F32, 0, 4, -1)), "tensor 'w'", "ne[1] = 18446744073709551615",
                "exceeds");
        assertFormatError(withTensors(64, info("w", F32, 0, 1L << 32, 1L << 32)), "tensor 'w'",
                "[4294967296, 4294967296]", "overflows 64 bits");
        assertFormatError(withTensors(64, info("w", F32, 0, 1L << 62)), "tensor 'w'", "overflows 64 bits");
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5, 31, 40, 99, -1})
    void unknownGgmlType(int id) {
        assertFormatError(withTensors(64, info("w", id, 0, 32)), "tensor 'w'", "unknown ggml type id "
                + Integer.toUnsignedString(id));
    }

    @Test
    void rowLengthNotAMultipleOfTheBlockSize() {
        assertFormatError(withTensors(64, info("q", Q4_0, 0, 33, 2)), "tensor 'q'", "ne[0] = 33", "Q4_0",
                "block size 32");
        assertFormatError(withTensors(256, info("k", GgmlType.Q6_K.id(), 0, 128)), "tensor 'k'", "ne[0] = 128",
                "256");
    }

    @Test
    void misalignedOffset() {
        assertFormatError(withTensors(64, info("w", F32, 16, 4)), "tensor 'w'", "offset 16",
                "multiple of the alignment 32");
        assertFormatError(withTensors(64, info("w", F32, -32, 4)), "tensor 'w'", "offset 18446744073709551584");
    }

    @Test
    void tensorPastTheEndOfTheFile() {
        assertFormatError(withTensors(31, info("w", F32, 0, 8)), "tensor 'w'", "[0, +32)", "past the end",
                "31 bytes");
        assertFormatError(withTensors(64, info("w", F32, 96, 1)), "tensor 'w'", "[96, +4)", "64 bytes");
        assertFormatError(withTensors(64, info("w", F32, Long.MAX_VALUE - 31, 1)), "tensor 'w'");
        // No data section at all: the header ends off the alignment and the file ends with it.
        byte[] b = Img.header(3, 1, 0).tensor("w", F32, 0, 1).toArray();
        assertFormatError(b, "data section", "beyond the end of the file");
    }

    @Test
    void overlappingTensors() {
        assertFormatError(withTensors(96, info("a", F32, 0, 16), info("b", F32, 32, 4)), "tensor 'b'",
                "offset 32", "overlaps tensor 'a'", "[0, 64)");
        // Overlap is found whatever the declaration order.
        assertFormatError(withTensors(96, info("b", F32, 32, 4), info("a", F32, 0, 16)), "overlaps tensor 'a'");
        // Same offset twice.
        assertFormatError(withTensors(64, info("a", F32, 0, 4), info("b", F32, 0, 4)), "overlaps");
    }

    @Test
    void tensorsMayBeOutOfOrderAndEmpty() {
        byte[] b = withTensors(96, info("late", F32, 64, 4), info("early", F32, 0, 4), info("empty", F32, 32, 0));
        try (GgufFile f = GgufTestSupport.read(b)) {
            assertEquals(List.of("late", "early", "empty"), f.tensors().stream().map(GgufTensor::name).toList());
            assertEquals(0, f.requireTensor("empty").data().byteSize());
        }
    }

    @Test
    void missingTensorIsNamed() {
        try (GgufFile f = GgufTestSupport.read(withTensors(0))) {
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> f.requireTensor("output.weight"));
            assertTrue(e.getMessage().contains("output.weight"));
        }
    }

    @Test
    void missingFile() {
        GgufFormatException e = assertThrows(GgufFormatException.class,
                () -> GgufFile.open(tmp.resolve("nope.gguf")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    // ------------------------------------------------------------------------------------ real files

    @TestFactory
    Stream<DynamicTest> everySharedFileOpensWithConsistentTensors() {
        List<Path> files = new ArrayList<>(GgufTestSupport.ggufFiles("models"));
        files.addAll(GgufTestSupport.ggufFiles("golden"));
        files.addAll(GgufTestSupport.ggufFiles("golden/tokenizer"));
        assertTrue(files.size() >= 30, "shared files found: " + files.size());
        return files.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> {
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(3, f.version());
                assertEquals(Files.size(p), f.fileSize());
                if (!f.tensors().isEmpty()) { // gguf-py's vocab-only files end unpadded after the metadata
                    assertEquals(0, f.dataOffset() % f.alignment());
                }
                long expectedOffset = 0; // llama.cpp lays tensors out in info order, each padded to the alignment
                for (GgufTensor t : f.tensors()) {
                    long bytes = t.type().bytesFor(t.elementCount());
                    assertEquals(bytes, t.byteSize(), t.name());
                    assertEquals(bytes, t.data().byteSize(), t.name());
                    assertEquals(expectedOffset, t.offset(), t.name());
                    assertTrue(t.dims() >= 1 && t.dims() <= 4, t.name());
                    if (bytes > 0) {
                        t.data().get(ValueLayout.JAVA_BYTE, 0);
                        t.data().get(ValueLayout.JAVA_BYTE, bytes - 1);
                    }
                    expectedOffset += (bytes + f.alignment() - 1) / f.alignment() * f.alignment();
                }
                if (!f.tensors().isEmpty()) {
                    assertEquals(f.fileSize(), f.dataOffset() + expectedOffset, "file ends after the last tensor");
                }
            }
        }));
    }

    @Test
    void stories260KHasTheKnownShape() throws IOException {
        try (GgufFile f = GgufFile.open(TestData.model("stories260K.gguf"))) {
            assertEquals("llama", f.metadata().getString("general.architecture"));
            assertEquals(48, f.tensors().size());
            GgufTensor emb = f.requireTensor("token_embd.weight");
            assertEquals(GgmlType.F32, emb.type());
            assertArrayEquals(new long[] {64, 512}, emb.shape());
            assertEquals(512, f.metadata().getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(5, f.metadata().getLong("llama.block_count"));
        }
    }

    /** A sparse file over 2 GiB: offsets and slices past 2^31 work, and a value near the end reads back. */
    @Test
    void readsPast2GiB() throws IOException {
        Path p = tmp.resolve("sparse.gguf");
        long bigElems = (1L << 31) + (1L << 20) + 32; // I8: one byte each, so the next tensor starts past 2 GiB
        Img header = Img.header(3, 2, 1).kv("general.architecture", T_STRING).str("sparse")
                .tensor("big", GgmlType.I8.id(), 0, bigElems)
                .tensor("tail", F32, bigElems, 4, 2)
                .pad(32);
        byte[] h = header.toArray();
        long tailAt = h.length + bigElems;
        long size = tailAt + 32;
        ByteBuffer tail = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 8; i++) {
            tail.putFloat(i + 0.5f);
        }
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(size);
            raf.write(h);
            raf.seek(tailAt);
            raf.write(tail.array());
        } catch (IOException e) {
            Assumptions.abort("the filesystem refused a " + size + "-byte sparse file: " + e);
        }
        try (GgufFile f = GgufFile.open(p)) {
            GgufTensor big = f.requireTensor("big");
            assertEquals(bigElems, big.byteSize());
            assertEquals(0, big.data().get(ValueLayout.JAVA_BYTE, bigElems - 1));
            GgufTensor t = f.requireTensor("tail");
            assertEquals(bigElems, t.offset());
            assertTrue(f.dataOffset() + t.offset() > Integer.MAX_VALUE);
            float[] v = t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            assertArrayEquals(new float[] {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f}, v);
            assertEquals(size, f.fileSize());
        } finally {
            Files.deleteIfExists(p);
        }
    }

    @Test
    void closeReleasesTheMapping() throws IOException {
        Path p = TestData.model("stories260K.gguf");
        GgufFile f = GgufFile.open(p);
        GgufTensor t = f.tensors().get(0);
        t.data().get(ValueLayout.JAVA_BYTE, 0);
        f.close();
        assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0));
        f.close(); // idempotent
    }

    // ------------------------------------------------------------------------------------ helpers

    static GgufFormatException assertFormatError(byte[] image, String... fragments) {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufTestSupport.read(image));
        String m = e.getMessage();
        assertTrue(m.startsWith("test.gguf: "), m);
        assertAll(Stream.of(fragments).map(f -> () -> assertTrue(m.contains(f), "'" + f + "' missing from: " + m)));
        return e;
    }
}
