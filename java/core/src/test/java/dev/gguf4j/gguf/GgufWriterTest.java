package dev.gguf4j.gguf;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufValue.GgufArray;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GgufWriterTest {
    @TempDir
    Path tmp;

    // ------------------------------------------------------------------------------------ against llama.cpp's files

    /**
     * Every model and golden file in ../shared was written by llama.cpp (gguf_write_to_file) or gguf-py: a copy made
     * by the writer being byte-identical proves the layout (order, padding, offsets, value encodings) matches theirs.
     */
    @TestFactory
    Stream<DynamicTest> copiesEveryLlamaCppFileByteForByte() {
        List<Path> files = new ArrayList<>(GgufTestSupport.ggufFiles("models"));
        files.addAll(GgufTestSupport.ggufFiles("golden"));
        assertFalse(files.isEmpty());
        return files.stream().map(src -> DynamicTest.dynamicTest(src.getFileName().toString(), () -> {
            Path out = tmp.resolve("copy.gguf");
            try (GgufFile f = GgufFile.open(src)) {
                GgufWriter.copy(f, out);
            }
            assertIdenticalFiles(src, out);
            Files.delete(out);
        }));
    }

    /**
     * The tokenizer files are gguf-py vocab-only files: gguf-py writes the header and metadata and stops, with no
     * padding after them. The writer, like llama.cpp's gguf_write_to_file, always pads the header to the alignment
     * (the data section starts there even when it is empty), so the copy is the original plus fewer than
     * {@code alignment} zero bytes; the metadata read back is identical.
     */
    @TestFactory
    Stream<DynamicTest> copiesVocabOnlyFilesUpToTrailingPadding() {
        return GgufTestSupport.ggufFiles("golden/tokenizer").stream()
                .map(src -> DynamicTest.dynamicTest(src.getFileName().toString(), () -> {
                    Path out = tmp.resolve("copy.gguf");
                    try (GgufFile f = GgufFile.open(src)) {
                        assertEquals(0, f.tensors().size());
                        GgufWriter.copy(f, out);
                        try (GgufFile g = GgufFile.open(out)) {
                            assertSameContent(f, g);
                        }
                    }
                    byte[] a = Files.readAllBytes(src);
                    byte[] b = Files.readAllBytes(out);
                    assertEquals((a.length + 31) / 32 * 32, b.length);
                    assertEquals(-1, java.util.Arrays.mismatch(a, 0, a.length, b, 0, a.length), "prefix differs");
                    for (int i = a.length; i < b.length; i++) {
                        assertEquals(0, b[i], "padding byte " + i);
                    }
                    Files.delete(out);
                }));
    }

    // ------------------------------------------------------------------------------------ round trips

    @Test
    void roundTripsEveryValueTypeAndTensorLayout() throws IOException {
        Map<String, GgufValue> md = everyValueType();
        List<TestTensor> ts = sampleTensors(new Random(1));
        Path out = tmp.resolve("all.gguf");
        try (GgufWriter w = GgufWriter.create(out)) {
            w.putAll(md);
            for (TestTensor t : ts) {
                w.addTensor(t.name, t.type, t.shape);
            }
            for (TestTensor t : ts) {
                w.writeTensor(t.name, MemorySegment.ofArray(t.data));
            }
            w.finish();
        }
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(3, f.version());
            assertEquals(new ArrayList<>(md.entrySet()), new ArrayList<>(f.metadata().asMap().entrySet()));
            // Raw bits survive, not just Float.equals' canonical NaN.
            assertEquals(0x7fc0_0001, Float.floatToRawIntBits((Float) f.metadata().require("f32.nan").value()));
            assertEquals(0x7ff0_0000_0000_0abcL,
                    Double.doubleToRawLongBits((Double) f.metadata().require("f64.snan").value()));
            assertTensors(ts, f, 32);
            assertEquals(0, f.fileSize() % 32);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 64, 256, 4096})
    void honoursGeneralAlignment(int alignment) throws IOException {
        List<TestTensor> ts = sampleTensors(new Random(alignment));
        Path out = tmp.resolve("aligned.gguf");
        try (GgufWriter w = GgufWriter.create(out)) {
            w.put("general.architecture", GgufValue.ofString("test"));
            for (TestTensor t : ts) {
                w.addTensor(t.name, t.type, t.shape.clone(), GgufWriter.TensorSource.of(MemorySegment.ofArray(t.data)));
            }
            w.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt32(alignment)); // may come after the tensors
            assertEquals(alignment, w.alignment());
            w.finish();
        }
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(alignment, f.alignment());
            assertEquals(0, f.dataOffset() % alignment);
            assertEquals(0, f.fileSize() % alignment);
            assertTensors(ts, f, alignment);
        }
    }

    /** Data written through every path: chunked sources, byte[]/float[]/mapped/native segments, lazy sources. */
    @Test
    void acceptsDataFromEveryKindOfSource() throws IOException {
        Random r = new Random(7);
        float[] floats = new float[100_003];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = r.nextFloat();
        }
        byte[] big = new byte[400_000]; // larger than the writer's buffer
        r.nextBytes(big);
        Path mappedFile = tmp.resolve("mapped.bin");
        Files.write(mappedFile, big);
        Path out = tmp.resolve("sources.gguf");
        try (Arena arena = Arena.ofConfined();
                FileChannel ch = FileChannel.open(mappedFile, StandardOpenOption.READ)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, big.length, arena);
            MemorySegment nativeSeg = arena.allocate(1000);
            nativeSeg.fill((byte) 0x5a);
            try (GgufWriter w = GgufWriter.create(out)) {
                w.addTensor("floats", GgmlType.F32, floats.length);
                w.addTensor("mapped", GgmlType.I8, new long[] {big.length}, GgufWriter.TensorSource.of(mapped));
                w.addTensor("chunked", GgmlType.I8, big.length);
                w.addTensor("native", GgmlType.I8, new long[] {1000}, GgufWriter.TensorSource.of(nativeSeg));
                w.addTensor("stream", GgmlType.I8, 1000);
                // Heap segment over a float[]: cannot be viewed as a ByteBuffer, so the writer stages it.
                w.writeTensor("floats", MemorySegment.ofArray(floats));
                // "mapped" has a source and is written before "chunked".
                w.writeTensor("chunked", sink -> {
                    int pos = 0;
                    while (pos < big.length) {
                        int n = Math.min(big.length - pos, 1 + r.nextInt(150_000));
                        ByteBuffer bb = ByteBuffer.wrap(big, pos, n);
                        while (bb.hasRemaining()) {
                            sink.write(bb);
                        }
                        pos += n;
                    }
                });
                w.writeTensor("stream", sink -> {
                    try (var os = java.nio.channels.Channels.newOutputStream(sink)) { // closing it is harmless
                        for (int i = 0; i < 1000; i++) {
                            os.write(i);
                        }
                    }
                });
                w.finish();
            }
        }
        try (GgufFile f = GgufFile.open(out)) {
            assertArrayEquals(floats, f.requireTensor("floats").data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED));
            assertArrayEquals(big, f.requireTensor("mapped").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(big, f.requireTensor("chunked").data().toArray(ValueLayout.JAVA_BYTE));
            byte[] fives = new byte[1000];
            java.util.Arrays.fill(fives, (byte) 0x5a);
            assertArrayEquals(fives, f.requireTensor("native").data().toArray(ValueLayout.JAVA_BYTE));
            byte[] seq = new byte[1000];
            for (int i = 0; i < 1000; i++) {
                seq[i] = (byte) i;
            }
            assertArrayEquals(seq, f.requireTensor("stream").data().toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** read(write(x)) then write again gives the same bytes: nothing is lost or normalised on the way. */
    @Test
    void rewritingWhatWasReadIsByteIdentical() throws IOException {
        Path a = tmp.resolve("a.gguf");
        Path b = tmp.resolve("b.gguf");
        List<TestTensor> ts = sampleTensors(new Random(3));
        try (GgufWriter w = GgufWriter.create(a)) {
            w.putAll(everyValueType());
            for (TestTensor t : ts) {
                w.addTensor(t.name, t.type, t.shape, GgufWriter.TensorSource.of(MemorySegment.ofArray(t.data)));
            }
            w.finish();
        }
        try (GgufFile f = GgufFile.open(a)) {
            GgufWriter.copy(f, b);
        }
        assertIdenticalFiles(a, b);
    }

    @Test
    void writesAFileWithoutTensors() throws IOException {
        Path out = tmp.resolve("empty.gguf");
        try (GgufWriter w = GgufWriter.create(out)) {
            w.finish();
        }
        byte[] b = Files.readAllBytes(out);
        assertEquals(32, b.length); // 24-byte header padded to 32, as gguf_write_to_file does
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(0, f.metadata().size());
            assertEquals(0, f.tensors().size());
        }
    }

    // ------------------------------------------------------------------------------------ errors

    @Test
    void refusesBadTensorDeclarations() throws IOException {
        try (GgufWriter w = GgufWriter.create(tmp.resolve("bad.gguf"))) {
            w.addTensor("w", GgmlType.F32, 4);
            assertWriteError(() -> w.addTensor("w", GgmlType.F16, 8), "tensor 'w'", "duplicate tensor name",
                    "#0");
            String long64 = "x".repeat(64);
            assertWriteError(() -> w.addTensor(long64, GgmlType.F32, 1), "tensor '" + long64 + "'", "64 bytes",
                    "limit is 63");
            String multibyte = "é".repeat(32); // 32 chars, 64 bytes of UTF-8
            assertWriteError(() -> w.addTensor(multibyte, GgmlType.F32, 1), "64 bytes", "63");
            w.addTensor("x".repeat(63), GgmlType.F32, 1); // exactly at the limit
            assertWriteError(() -> w.addTensor("bad\ud800", GgmlType.F32, 1), "tensor 'bad", "unpaired surrogate",
                    "U+D800");
            assertWriteError(() -> w.addTensor("s0", GgmlType.F32), "tensor 's0'", "0 dimensions", "1 to 4");
            assertWriteError(() -> w.addTensor("s5", GgmlType.F32, 1, 2, 3, 4, 5), "tensor 's5'", "5 dimensions",
                    "[1, 2, 3, 4, 5]", "1 to 4");
            assertWriteError(() -> w.addTensor("neg", GgmlType.F32, 4, -2), "tensor 'neg'", "ne[1] = -2",
                    "negative");
            assertWriteError(() -> w.addTensor("q", GgmlType.Q4_0, 33, 2), "tensor 'q'", "ne[0] = 33", "Q4_0",
                    "block size 32");
            assertWriteError(() -> w.addTensor("k", GgmlType.Q4_K, 128), "tensor 'k'", "ne[0] = 128", "256");
            assertWriteError(() -> w.addTensor("huge", GgmlType.F32, 1L << 40, 1L << 40), "tensor 'huge'",
                    "overflows 64 bits");
            assertWriteError(() -> w.addTensor(null, GgmlType.F32, 1), "tensor #", "name is null");
            assertWriteError(() -> w.addTensor("t", null, 1), "tensor 't'", "type is null");
            assertEquals(2, w.tensorCount()); // refused declarations left nothing behind
            w.writeTensor("w", MemorySegment.ofArray(new byte[16]));
            w.writeTensor("x".repeat(63), MemorySegment.ofArray(new byte[4]));
            w.finish();
        }
    }

    @Test
    void refusesBadMetadata() throws IOException {
        try (GgufWriter w = GgufWriter.create(tmp.resolve("bad.gguf"))) {
            w.put("a", GgufValue.ofUInt32(1));
            assertWriteError(() -> w.put("a", GgufValue.ofString("x")), "metadata 'a'", "duplicate key", "1");
            assertWriteError(() -> w.put("u8", new GgufValue(GgufValueType.UINT8, 256L)), "metadata 'u8'",
                    "value 256", "UINT8", "[0, 255]");
            assertWriteError(() -> w.put("i8", new GgufValue(GgufValueType.INT8, 128L)), "value 128", "[-128, 127]");
            assertWriteError(() -> w.put("u32", new GgufValue(GgufValueType.UINT32, -1L)), "value -1",
                    "[0, 4294967295]");
            assertWriteError(() -> w.put("int", new GgufValue(GgufValueType.INT32, 5)), "metadata 'int'",
                    "must be a Long", "Integer");
            assertWriteError(() -> w.put("arr", GgufValue.ofArray(new GgufArray(GgufValueType.UINT16,
                    new long[] {1, 70000}))), "metadata 'arr'[1]", "value 70000", "[0, 65535]");
            assertWriteError(() -> w.put("arr", GgufValue.ofArray(new GgufArray(GgufValueType.FLOAT32,
                    new double[] {1}))), "metadata 'arr'", "float[]", "double[]");
            assertWriteError(() -> w.put("strs", GgufValue.ofArray(new GgufArray(GgufValueType.STRING,
                    new String[] {"a", null}))), "metadata 'strs'[1]", "null");
            assertWriteError(() -> w.put("s", GgufValue.ofString("x\udc00")), "metadata 's'", "U+DC00");
            assertWriteError(() -> w.put("key\ud800", GgufValue.ofString("x")), "unpaired surrogate");
            assertWriteError(() -> w.put("n", null), "metadata 'n'", "null");
            assertWriteError(() -> w.put("deep", GgufValue.ofArray(nested(9))), "metadata 'deep'",
                    "deeper than 8");
            w.put("deep8", GgufValue.ofArray(nested(8))); // exactly the reader's limit
            assertWriteError(() -> w.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt32(48)), "general.alignment",
                    "48 is not a power of two");
            assertWriteError(() -> w.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt32(0)), "0 is not a power of two");
            assertWriteError(() -> w.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt64(64)), "general.alignment",
                    "UINT64", "expected UINT32");
            assertEquals(32, w.alignment());
            w.finish();
        }
    }

    @Test
    void wrongByteCountsFailAndDeleteThePartialFile() throws IOException {
        Path out = tmp.resolve("short.gguf");
        GgufWriter w = GgufWriter.create(out);
        w.put("general.name", GgufValue.ofString("x"));
        w.addTensor("a", GgmlType.F32, 4);
        w.addTensor("b", GgmlType.Q8_0, 32, 2);
        w.writeTensor("a", MemorySegment.ofArray(new byte[16]));
        GgufWriteException e = assertWriteError(() -> w.writeTensor("b", MemorySegment.ofArray(new byte[60])),
                "tensor 'b'", "wrote 60 bytes", "Q8_0 [32, 2] = 68 bytes");
        assertEquals("tensor 'b'", e.field());
        assertEquals(out.toString(), e.target());
        assertFalse(Files.exists(out), "partial file deleted");
        assertWriteError(() -> w.finish(), "the writer is closed", "writing failed");
        w.close(); // quiet after a failure

        Path out2 = tmp.resolve("long.gguf");
        try (GgufWriter w2 = GgufWriter.create(out2)) {
            w2.addTensor("a", GgmlType.F16, 3);
            assertWriteError(() -> w2.writeTensor("a", sink -> {
                sink.write(ByteBuffer.allocate(4));
                sink.write(ByteBuffer.allocate(4));
            }), "tensor 'a'", "more than the declared 6 bytes", "4 written, then 4 more");
        }
        assertFalse(Files.exists(out2));

        Path out3 = tmp.resolve("lazy.gguf");
        try (GgufWriter w3 = GgufWriter.create(out3)) {
            w3.addTensor("a", GgmlType.I32, new long[] {2}, GgufWriter.TensorSource.of(MemorySegment.ofArray(
                    new byte[7])));
            assertWriteError(w3::finish, "tensor 'a'", "wrote 7 bytes", "I32 [2] = 8 bytes");
        }
        assertFalse(Files.exists(out3));
    }

    @Test
    void sourceExceptionsPropagateAndDeleteThePartialFile() throws IOException {
        Path out = tmp.resolve("throws.gguf");
        try (GgufWriter w = GgufWriter.create(out)) {
            w.addTensor("a", GgmlType.F32, 4);
            IOException boom = new IOException("disk on fire");
            IOException e = assertThrows(IOException.class, () -> w.writeTensor("a", sink -> {
                throw boom;
            }));
            assertSame(boom, e);
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void enforcesTheOrderOfOperations() throws IOException {
        Path out = tmp.resolve("order.gguf");
        try (GgufWriter w = GgufWriter.create(out)) {
            w.addTensor("a", GgmlType.F32, 1);
            w.addTensor("b", GgmlType.F32, new long[] {1}, GgufWriter.TensorSource.of(MemorySegment.ofArray(
                    new byte[4])));
            w.addTensor("c", GgmlType.F32, 1);
            MemorySegment four = MemorySegment.ofArray(new byte[4]);
            assertWriteError(() -> w.writeTensor("c", four), "tensor 'c'", "out of order", "tensor #0 'a'");
            assertWriteError(() -> w.writeTensor("zz", four), "tensor 'zz'", "never declared");
            assertWriteError(() -> w.writeTensor("b", four), "tensor 'b'", "declared with a data source");
            assertWriteError(w::finish, "tensor 'a'", "never written", "#0 of 3");
            w.writeTensor("a", four);
            assertWriteError(() -> w.writeTensor("a", four), "tensor 'a'", "already been written");
            assertWriteError(() -> w.put("late", GgufValue.ofBool(true)), "metadata 'late'", "cannot be added");
            assertWriteError(() -> w.addTensor("late", GgmlType.F32, 1), "tensor 'late'", "cannot be added");
            w.writeTensor("c", four); // writes "b" from its source first
            w.finish();
            assertWriteError(w::finish, "the writer is closed");
        }
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(List.of(0L, 32L, 64L), f.tensors().stream().map(GgufTensor::offset).toList());
        }
    }

    @Test
    void closingBeforeFinishDeletesTheFileAndSaysSo() throws IOException {
        Path out = tmp.resolve("unfinished.gguf");
        GgufWriter w = GgufWriter.create(out);
        w.addTensor("a", GgmlType.F32, 1);
        w.addTensor("b", GgmlType.F32, 1);
        w.writeTensor("a", MemorySegment.ofArray(new byte[4]));
        assertTrue(Files.exists(out));
        assertWriteError(w::close, "closed before finish()", "tensor #1 'b'", "deleted");
        assertFalse(Files.exists(out));
        w.close(); // second close is quiet
    }

    @Test
    void copyRefusesToOverwriteItsSource() throws IOException {
        Path src = tmp.resolve("self.gguf");
        try (GgufWriter w = GgufWriter.create(src)) {
            w.put("k", GgufValue.ofString("v"));
            w.finish();
        }
        try (GgufFile f = GgufFile.open(src)) {
            assertWriteError(() -> GgufWriter.copy(f, src), "is the source file");
            assertEquals("v", f.metadata().getString("k"));
        }
    }

    /**
     * create() empties an existing file only when it has content (an empty one is not truncated, which on ext4
     * would make close() start the writeback of the whole output): a longer file is replaced completely, and an
     * empty one is simply written. The source is gguf-py's qwen2-tiny (tests/golden), so the copies must equal it.
     */
    @Test
    void replacesALongerOrEmptyExistingFileCompletely() throws IOException {
        Path src = dev.gguf4j.testing.TestData.root().resolve("tests/golden/qwen2-tiny-F16.gguf");
        Path longer = tmp.resolve("longer.gguf");
        byte[] junk = new byte[(int) Files.size(src) + 123_457];
        java.util.Arrays.fill(junk, (byte) 0x5a);
        Files.write(longer, junk);
        Path empty = Files.createFile(tmp.resolve("empty.gguf"));
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter.copy(f, longer);
            GgufWriter.copy(f, empty);
        }
        assertIdenticalFiles(src, longer);
        assertIdenticalFiles(src, empty);
    }

    // ------------------------------------------------------------------------------------ helpers

    static GgufWriteException assertWriteError(Executable call, String... fragments) {
        GgufWriteException e = assertThrows(GgufWriteException.class, call);
        String m = e.getMessage();
        assertAll(Stream.of(fragments).map(f -> () -> assertTrue(m.contains(f), "'" + f + "' missing from: " + m)));
        return e;
    }

    static void assertIdenticalFiles(Path expected, Path actual) throws IOException {
        try (Arena arena = Arena.ofConfined();
                FileChannel a = FileChannel.open(expected, StandardOpenOption.READ);
                FileChannel b = FileChannel.open(actual, StandardOpenOption.READ)) {
            assertEquals(a.size(), b.size(), "file size");
            MemorySegment x = a.map(FileChannel.MapMode.READ_ONLY, 0, a.size(), arena);
            MemorySegment y = b.map(FileChannel.MapMode.READ_ONLY, 0, b.size(), arena);
            assertEquals(-1, x.mismatch(y), "first differing byte");
        }
    }

    /** Same metadata (order, types, values) and same tensors (order, names, types, shapes, bytes). */
    static void assertSameContent(GgufFile expected, GgufFile actual) {
        assertEquals(new ArrayList<>(expected.metadata().asMap().entrySet()),
                new ArrayList<>(actual.metadata().asMap().entrySet()));
        assertEquals(expected.tensors().size(), actual.tensors().size());
        for (int i = 0; i < expected.tensors().size(); i++) {
            GgufTensor e = expected.tensors().get(i);
            GgufTensor a = actual.tensors().get(i);
            assertEquals(e.name(), a.name());
            assertEquals(e.type(), a.type(), e.name());
            assertArrayEquals(e.shape(), a.shape(), e.name());
            assertEquals(-1, e.data().mismatch(a.data()), e.name());
        }
    }

    record TestTensor(String name, GgmlType type, long[] shape, byte[] data) {
    }

    /** Tensors of assorted types and shapes, sizes not multiples of any alignment, empty ones, odd names. */
    static List<TestTensor> sampleTensors(Random r) {
        List<TestTensor> ts = new ArrayList<>();
        Object[][] specs = {
            {"f32", GgmlType.F32, new long[] {3, 5}},
            {"f16", GgmlType.F16, new long[] {7}},
            {"empty", GgmlType.F32, new long[] {0}},
            {"q4_0", GgmlType.Q4_0, new long[] {64, 2}},
            {"q8_0.4d", GgmlType.Q8_0, new long[] {32, 1, 1, 3}},
            {"empty.q", GgmlType.Q4_K, new long[] {0, 3}},
            {"q4_K", GgmlType.Q4_K, new long[] {256}},
            {"i32", GgmlType.I32, new long[] {1}},
            {"mxfp4", GgmlType.MXFP4, new long[] {32, 3}},
            {"ünïcode.名前.🦙", GgmlType.BF16, new long[] {5, 1, 2}},
            {"n".repeat(63), GgmlType.I8, new long[] {33}},
        };
        for (Object[] s : specs) {
            GgmlType type = (GgmlType) s[1];
            long[] shape = (long[]) s[2];
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            byte[] data = new byte[(int) type.bytesFor(n)];
            r.nextBytes(data);
            ts.add(new TestTensor((String) s[0], type, shape, data));
        }
        return ts;
    }

    static void assertTensors(List<TestTensor> ts, GgufFile f, long alignment) {
        assertEquals(ts.size(), f.tensors().size());
        long offset = 0;
        for (int i = 0; i < ts.size(); i++) {
            TestTensor t = ts.get(i);
            GgufTensor g = f.tensors().get(i);
            assertEquals(t.name, g.name());
            assertEquals(t.type, g.type(), t.name);
            assertArrayEquals(t.shape, g.shape(), t.name);
            assertEquals(offset, g.offset(), t.name + " offset");
            assertArrayEquals(t.data, g.data().toArray(ValueLayout.JAVA_BYTE), t.name);
            offset += (t.data.length + alignment - 1) / alignment * alignment;
        }
        assertEquals(f.dataOffset() + offset, f.fileSize(), "file ends after the last tensor's padding");
    }

    static GgufArray nested(int depth) {
        GgufArray a = new GgufArray(GgufValueType.UINT8, new long[] {(long) depth});
        for (int d = 1; d < depth; d++) {
            a = new GgufArray(GgufValueType.ARRAY, new GgufArray[] {a});
        }
        return a;
    }

    /** Every value type with edge values, empty strings and arrays, nested arrays, unicode keys. */
    static LinkedHashMap<String, GgufValue> everyValueType() {
        LinkedHashMap<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.ofString("test"));
        m.put("u8.min", new GgufValue(GgufValueType.UINT8, 0L));
        m.put("u8.max", new GgufValue(GgufValueType.UINT8, 255L));
        m.put("i8.min", new GgufValue(GgufValueType.INT8, -128L));
        m.put("i8.max", new GgufValue(GgufValueType.INT8, 127L));
        m.put("u16.max", new GgufValue(GgufValueType.UINT16, 65535L));
        m.put("i16.min", new GgufValue(GgufValueType.INT16, -32768L));
        m.put("u32.max", new GgufValue(GgufValueType.UINT32, 0xffff_ffffL));
        m.put("i32.min", new GgufValue(GgufValueType.INT32, (long) Integer.MIN_VALUE));
        m.put("u64.max", new GgufValue(GgufValueType.UINT64, -1L));
        m.put("i64.min", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE));
        m.put("f32.nan", GgufValue.ofFloat32(Float.intBitsToFloat(0x7fc0_0001)));
        m.put("f32.negzero", GgufValue.ofFloat32(-0.0f));
        m.put("f32.inf", GgufValue.ofFloat32(Float.NEGATIVE_INFINITY));
        m.put("f64.pi", new GgufValue(GgufValueType.FLOAT64, Math.PI));
        m.put("f64.snan", new GgufValue(GgufValueType.FLOAT64, Double.longBitsToDouble(0x7ff0_0000_0000_0abcL)));
        m.put("bool.t", GgufValue.ofBool(true));
        m.put("bool.f", GgufValue.ofBool(false));
        m.put("str.empty", GgufValue.ofString(""));
        m.put("str.unicode", GgufValue.ofString("héllo ✓ 𝄞 名前 \u0000 nul"));
        m.put("général.名前.🦙", GgufValue.ofString("unicode key"));
        m.put("", GgufValue.ofString("empty key"));
        for (GgufValueType t : GgufValueType.values()) {
            Object empty = switch (t) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> new long[0];
                case FLOAT32 -> new float[0];
                case FLOAT64 -> new double[0];
                case BOOL -> new boolean[0];
                case STRING -> new String[0];
                case ARRAY -> new GgufArray[0];
            };
            m.put("arr.empty." + t, GgufValue.ofArray(new GgufArray(t, empty)));
        }
        m.put("arr.u8", GgufValue.ofArray(new GgufArray(GgufValueType.UINT8, new long[] {0, 1, 255})));
        m.put("arr.i8", GgufValue.ofArray(new GgufArray(GgufValueType.INT8, new long[] {-128, 0, 127})));
        m.put("arr.u16", GgufValue.ofArray(new GgufArray(GgufValueType.UINT16, new long[] {0, 65535})));
        m.put("arr.i16", GgufValue.ofArray(new GgufArray(GgufValueType.INT16, new long[] {-32768, 32767})));
        m.put("arr.u32", GgufValue.ofArray(new GgufArray(GgufValueType.UINT32, new long[] {0, 0xffff_ffffL})));
        m.put("arr.i32", GgufValue.ofArray(new GgufArray(GgufValueType.INT32, new long[] {-1, Integer.MAX_VALUE})));
        m.put("arr.u64", GgufValue.ofArray(new GgufArray(GgufValueType.UINT64, new long[] {-1, 0, Long.MAX_VALUE})));
        m.put("arr.i64", GgufValue.ofArray(new GgufArray(GgufValueType.INT64, new long[] {Long.MIN_VALUE, 7})));
        m.put("arr.f32", GgufValue.ofArray(new GgufArray(GgufValueType.FLOAT32,
                new float[] {1.5f, Float.NaN, -0.0f, Float.MIN_VALUE})));
        m.put("arr.f64", GgufValue.ofArray(new GgufArray(GgufValueType.FLOAT64, new double[] {Double.MAX_VALUE, -1})));
        m.put("arr.bool", GgufValue.ofArray(new GgufArray(GgufValueType.BOOL, new boolean[] {true, false, true})));
        m.put("arr.str", GgufValue.ofArray(new GgufArray(GgufValueType.STRING,
                new String[] {"", "a", "▁the", "<0x0A>", "😀", "x".repeat(1000)})));
        m.put("arr.nested", GgufValue.ofArray(new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
            new GgufArray(GgufValueType.UINT8, new long[] {1, 2}),
            new GgufArray(GgufValueType.STRING, new String[] {"x", ""}),
            new GgufArray(GgufValueType.FLOAT32, new float[0]),
            new GgufArray(GgufValueType.ARRAY, new GgufArray[] {new GgufArray(GgufValueType.BOOL, new boolean[0])}),
        })));
        m.put("arr.deep8", GgufValue.ofArray(nested(8)));
        return m;
    }
}
