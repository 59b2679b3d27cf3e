package dev.gguf4j.gguf;

import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a little-endian GGUF version 3 file, streaming tensor data to disk so that a model larger than memory can
 * be written.
 *
 * <p>Use it in two phases:
 * <ol>
 *   <li><b>Declare</b> the metadata ({@link #put}, {@link #putAll}) and every tensor ({@link #addTensor}) — name,
 *       {@link GgmlType} and shape — in the order they are to appear. Everything is validated here, and a bad key,
 *       value, name or shape is refused at once with a {@link GgufWriteException}; nothing is written yet.</li>
 *   <li><b>Write</b> each tensor's bytes in declaration order ({@link #writeTensor}), or let the writer pull them from
 *       the {@link TensorSource} given to {@link #addTensor(String, GgmlType, long[], TensorSource)}. The first write
 *       (or {@link #finish()}) writes the header, metadata and tensor infos; after that the declarations are frozen.
 *       Each tensor's source must supply exactly its declared byte count. {@link #finish()} completes the file.</li>
 * </ol>
 *
 * <pre>{@code
 * try (GgufWriter w = GgufWriter.create(out)) {
 *     w.put("general.architecture", GgufValue.ofString("llama"));
 *     w.addTensor("token_embd.weight", GgmlType.F32, 64, 512);
 *     w.writeTensor("token_embd.weight", ch -> { ... write 131072 bytes to ch ... });
 *     w.finish();
 * }
 * }</pre>
 *
 * <h2>Layout</h2>
 * The file is laid out exactly as llama.cpp's {@code gguf_write_to_file} and gguf-py's {@code GGUFWriter} lay it
 * out: magic, version 3, tensor count, metadata count, the metadata in insertion order, the tensor infos in
 * declaration order (each with its declared number of dimensions), zero padding up to the alignment, then each
 * tensor's data followed by zero padding up to the alignment — the last tensor included, so the file size is a
 * multiple of the alignment (a file with no tensors ends with the padding after the header, as llama.cpp writes
 * it). Tensor offsets follow from the sizes: each starts where the previous one's padding ends. The alignment is
 * {@value GgufFile#DEFAULT_ALIGNMENT} unless the metadata sets {@code general.alignment} (a UINT32 power of two).
 *
 * <h2>Failure and replacement</h2>
 * {@link #create(Path)} truncates an existing file and writes in place. If writing fails (an I/O error, a tensor
 * source that throws or supplies the wrong number of bytes) the writer deletes the partial file and rethrows.
 * Closing a writer whose {@link #finish()} has not completed deletes the partial file too, and throws a
 * {@link GgufWriteException} unless the writer had already failed: a {@code try}-with-resources block that ends
 * early (by an exception) leaves no half-written model behind. The writer does not use a temporary file or
 * {@code fsync}: a caller that must replace an existing model atomically, or survive a crash mid-write, writes to
 * a temporary file in the same directory and moves it into place itself (after {@link FileChannel#force} if it
 * needs durability): {@link PartialFile#create} and {@link PartialFile#commit} do that, and clean up after runs
 * that were killed.
 *
 * <p>Metadata values are held by reference until the header is written; do not change a value's arrays in the
 * meantime. A writer is not thread-safe. Nested arrays (arrays of arrays) are written as GGUF defines them and
 * read back by {@link GgufFile}, but llama.cpp itself cannot load files that contain them.
 */
public final class GgufWriter implements AutoCloseable {
    /** The GGUF version this writer produces. */
    public static final int VERSION = 3;

    /** Largest slice of a {@link MemorySegment} handed to a channel in one write. */
    private static final long SEGMENT_CHUNK = 1L << 26;

    /**
     * Supplies one tensor's bytes: {@link #writeTo} must write exactly the tensor's declared byte count to
     * {@code out} (in as many writes as it likes). Writing more fails at once; writing fewer fails when it returns.
     * {@code out} is valid only during the call; closing it does not close the file.
     */
    @FunctionalInterface
    public interface TensorSource {
        void writeTo(WritableByteChannel out) throws IOException;

        /** A source that writes all of {@code data} (any segment: mapped, native or heap). */
        static TensorSource of(MemorySegment data) {
            Objects.requireNonNull(data, "data");
            return out -> writeSegment(data, out);
        }
    }

    private record Decl(int index, String name, GgmlType type, long[] shape, long byteSize, TensorSource source) {
        String field() {
            return "tensor '" + name + "'";
        }

        String describe() {
            return type + " " + Arrays.toString(shape) + " = " + byteSize + " bytes";
        }
    }

    private enum State { DECLARING, WRITING, FINISHED, FAILED }

    private final String target;
    private final Path path;
    private final WritableByteChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 18).order(ByteOrder.LITTLE_ENDIAN);
    private final LinkedHashMap<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Decl> tensors = new ArrayList<>();
    private final Map<String, Decl> tensorsByName = new HashMap<>();
    private State state = State.DECLARING;
    private long alignment = GgufFile.DEFAULT_ALIGNMENT;
    /** Bytes written so far, including those still in {@link #buf}: the file offset of the next byte. */
    private long position;
    private long dataStart;
    /** Index of the next tensor whose data is to be written. */
    private int next;

    private GgufWriter(Path path, String target, WritableByteChannel channel) {
        this.path = path;
        this.target = target;
        this.channel = channel;
    }

    /** Creates (or truncates) {@code path} for writing. */
    public static GgufWriter create(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            // Emptied only when it has content. On ext4, truncating a file to 0 bytes (O_TRUNC does, even on an
            // empty file such as PartialFile.create's) arms auto_da_alloc, and close() then starts writeback of
            // everything written in the writer's own time: about 1 s for a 2.2 GB model, half of a whole F16 copy.
            if (ch.size() > 0) {
                ch.truncate(0);
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new GgufWriter(path, path.toString(), ch);
    }

    /**
     * A writer with no file, for {@link #fileSize()}: declare the metadata and tensors as for a real file and ask
     * for the size it would have. Writing data to it discards the bytes.
     */
    public static GgufWriter sizing() {
        return new GgufWriter(null, "(size only)", new WritableByteChannel() {
            private boolean open = true;

            @Override
            public int write(ByteBuffer src) {
                int n = src.remaining();
                src.position(src.limit());
                return n;
            }

            @Override
            public boolean isOpen() {
                return open;
            }

            @Override
            public void close() {
                open = false;
            }
        });
    }

    /**
     * The size in bytes of the file {@link #finish()} writes for what has been declared so far: the header (encoded
     * as {@link #finish()} encodes it, into a counter) plus each tensor's data padded to the alignment. Writes
     * nothing; only while declaring (before any data is written).
     */
    public long fileSize() {
        checkDeclaring("file");
        GgufWriter counter = sizing();
        counter.metadata.putAll(metadata);
        counter.tensors.addAll(tensors);
        counter.alignment = alignment;
        try {
            counter.writeHeaderIfNeeded();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // the counter does no I/O
        }
        long size = counter.position;
        for (Decl d : tensors) {
            size += padded(d.byteSize);
        }
        return size;
    }

    /**
     * Copies {@code src} to {@code out}: all metadata in file order (unknown keys included, values unchanged) and
     * all tensors in tensor-info order with their bytes. For a version 3 file written by llama.cpp or gguf-py the
     * copy is byte-for-byte identical to the original. It differs only where the original is laid out otherwise:
     * version 2 (written as 3), tensor data not in info order or with gaps or non-zero padding (written
     * contiguously in info order with zero padding), or no padding at the end of a file without tensors (gguf-py's
     * vocab-only files; the copy ends padded). {@code out} must not be the file {@code src} maps.
     */
    public static void copy(GgufFile src, Path out) throws IOException {
        try {
            Path in = Path.of(src.source());
            if (Files.exists(in) && Files.exists(out) && Files.isSameFile(in, out)) {
                throw new GgufWriteException(out.toString(), "file", "is the source file being copied");
            }
        } catch (InvalidPathException e) {
            // src was read from memory under a name that is not a path: nothing to overwrite.
        }
        try (GgufWriter w = create(out)) {
            w.putAll(src.metadata());
            for (GgufTensor t : src.tensors()) {
                w.addTensor(t);
            }
            w.finish();
        }
    }

    /** The file being written. */
    public Path path() {
        return path;
    }

    /** The alignment the file will have: {@code general.alignment} if put, else 32. */
    public long alignment() {
        return alignment;
    }

    /** The metadata put so far, in order. */
    public Map<String, GgufValue> metadata() {
        return java.util.Collections.unmodifiableMap(metadata);
    }

    /** Number of tensors declared so far. */
    public int tensorCount() {
        return tensors.size();
    }

    // ---------------------------------------------------------------------------------------------- declaring

    /**
     * Adds a metadata key. The value is checked against its type: integers must lie in the type's range (UINT64
     * takes any long, as its two's-complement bits), arrays must hold the Java array {@link GgufValue.GgufArray}
     * documents for their element type, nest at most {@value GgufFile#MAX_ARRAY_DEPTH} deep and hold no nulls;
     * strings must be encodable as UTF-8 (no unpaired surrogates). {@code general.alignment} must be a UINT32 power
     * of two. Keys are unique.
     */
    public GgufWriter put(String key, GgufValue value) {
        checkDeclaring("metadata " + (key == null ? "key" : "'" + key + "'"));
        if (key == null) {
            throw new GgufWriteException(target, "metadata key", "is null");
        }
        String field = "metadata '" + key + "'";
        checkString(field, "key", key);
        if (metadata.containsKey(key)) {
            throw new GgufWriteException(target, field, "duplicate key (already put as "
                    + metadata.get(key).summary() + ")");
        }
        if (value == null) {
            throw new GgufWriteException(target, field, "value is null");
        }
        checkValue(field, value.type(), value.value(), 0);
        long align = alignment;
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            if (value.type() != GgufValueType.UINT32) {
                throw new GgufWriteException(target, field, "has type " + value.type() + ", expected UINT32");
            }
            align = (Long) value.value();
            if (align == 0 || Long.bitCount(align) != 1) {
                throw new GgufWriteException(target, field, align + " is not a power of two");
            }
        }
        metadata.put(key, value);
        alignment = align;
        return this;
    }

    /** {@link #put}s every entry of {@code entries}, in its iteration order. */
    public GgufWriter putAll(Map<String, GgufValue> entries) {
        for (Map.Entry<String, GgufValue> e : entries.entrySet()) {
            put(e.getKey(), e.getValue());
        }
        return this;
    }

    /** {@link #put}s all of another file's metadata, in file order. */
    public GgufWriter putAll(GgufMetadata source) {
        return putAll(source.asMap());
    }

    /**
     * Declares a tensor whose data will be supplied by {@link #writeTensor}. {@code shape} is in ggml order
     * ({@code shape[0]} is the row length), 1 to 4 dimensions of at least 0, with {@code shape[0]} a multiple of
     * the type's block size. Names are unique and at most {@value GgufFile#MAX_TENSOR_NAME_BYTES} bytes of UTF-8.
     */
    public GgufWriter addTensor(String name, GgmlType type, long... shape) {
        declare(name, type, shape, null);
        return this;
    }

    /** Declares a tensor whose data the writer takes from {@code source} when its turn comes. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        Objects.requireNonNull(source, "source");
        declare(name, type, shape, source);
        return this;
    }

    /**
     * Declares a tensor with the name, type, shape and data of {@code tensor} (typically from another
     * {@link GgufFile}, which must stay open until this writer has finished).
     */
    public GgufWriter addTensor(GgufTensor tensor) {
        Decl d = declare(tensor.name(), tensor.type(), tensor.shape(), TensorSource.of(tensor.data()));
        if (tensor.data().byteSize() != d.byteSize) {
            tensors.remove(tensors.size() - 1);
            tensorsByName.remove(d.name);
            throw new GgufWriteException(target, d.field(), "its data segment holds " + tensor.data().byteSize()
                    + " bytes, but " + d.describe());
        }
        return this;
    }

    private Decl declare(String name, GgmlType type, long[] shape, TensorSource source) {
        checkDeclaring(name == null ? "tensor" : "tensor '" + name + "'");
        if (name == null) {
            throw new GgufWriteException(target, "tensor #" + tensors.size(), "name is null");
        }
        String field = "tensor '" + name + "'";
        checkString(field, "name", name);
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > GgufFile.MAX_TENSOR_NAME_BYTES) {
            throw new GgufWriteException(target, field, "name is " + nameBytes + " bytes of UTF-8; the limit is "
                    + GgufFile.MAX_TENSOR_NAME_BYTES);
        }
        Decl prior = tensorsByName.get(name);
        if (prior != null) {
            throw new GgufWriteException(target, field, "duplicate tensor name (already declared as tensor #"
                    + prior.index + ")");
        }
        if (type == null) {
            throw new GgufWriteException(target, field, "type is null");
        }
        if (shape == null || shape.length < 1 || shape.length > GgufFile.MAX_DIMS) {
            throw new GgufWriteException(target, field, "has " + (shape == null ? "no shape" : shape.length
                    + " dimensions " + Arrays.toString(shape)) + "; GGUF allows 1 to " + GgufFile.MAX_DIMS);
        }
        long[] dims = shape.clone();
        for (int d = 0; d < dims.length; d++) {
            if (dims[d] < 0) {
                throw new GgufWriteException(target, field, "ne[" + d + "] = " + dims[d] + " is negative (shape "
                        + Arrays.toString(dims) + ")");
            }
        }
        if (dims[0] % type.blockSize() != 0) {
            throw new GgufWriteException(target, field, "row length ne[0] = " + dims[0] + " is not a multiple of "
                    + type + "'s block size " + type.blockSize());
        }
        long bytes;
        try {
            long elements = 1;
            for (long d : dims) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = type.bytesFor(elements);
            if (bytes > Long.MAX_VALUE - (1L << 32)) { // its padded size must stay representable at any alignment
                throw new ArithmeticException();
            }
        } catch (ArithmeticException e) {
            throw new GgufWriteException(target, field, "shape " + Arrays.toString(dims) + " of " + type
                    + " overflows 64 bits");
        }
        Decl decl = new Decl(tensors.size(), name, type, dims, bytes, source);
        tensors.add(decl);
        tensorsByName.put(name, decl);
        return decl;
    }

    // ---------------------------------------------------------------------------------------------- writing

    /**
     * Writes the data of tensor {@code name}, which must be the next declared tensor without a source of its own
     * (tensors before it that were declared with a source are written first). {@code source} must write exactly
     * the tensor's declared byte count.
     */
    public void writeTensor(String name, TensorSource source) throws IOException {
        Objects.requireNonNull(source, "source");
        checkOpen("tensor '" + name + "'");
        Decl d = tensorsByName.get(name);
        if (d == null) {
            throw new GgufWriteException(target, "tensor '" + name + "'", "was never declared");
        }
        if (d.index < next) {
            throw new GgufWriteException(target, d.field(), "its data has already been written");
        }
        if (d.source != null) {
            throw new GgufWriteException(target, d.field(), "was declared with a data source; the writer writes it");
        }
        for (int i = next; i < d.index; i++) {
            Decl before = tensors.get(i);
            if (before.source == null) {
                throw new GgufWriteException(target, d.field(), "written out of order: tensor #" + i + " '"
                        + before.name + "' comes before it (#" + d.index + ") and has no data yet");
            }
        }
        try {
            writeHeaderIfNeeded();
            while (next < d.index) {
                writeData(tensors.get(next), tensors.get(next).source);
            }
            writeData(d, source);
        } catch (Throwable t) {
            fail();
            throw t;
        }
    }

    /**
     * Writes the data of tensor {@code name} from {@code count} bytes of the file {@code in} at {@code position}, as
     * {@link #writeTensor(String, TensorSource)}: file to file inside the kernel ({@link FileChannel#transferTo},
     * copy_file_range or sendfile on Linux) when this writer writes a file, so the bytes are neither copied through
     * this process nor page-faulted in from a mapping (a quantize run copying an F16 model's 2.2 GB spent more
     * system time on those faults than llama-quantize's read and write).
     */
    public void writeTensor(String name, FileChannel in, long position, long count) throws IOException {
        writeTensor(name, sink -> {
            TensorSink ts = (TensorSink) sink;
            if (!(channel instanceof FileChannel out)) {
                ByteBuffer b = ByteBuffer.allocateDirect((int) Math.min(count, 1 << 20));
                for (long done = 0; done < count; ) {
                    b.clear().limit((int) Math.min(b.capacity(), count - done));
                    int k = in.read(b, position + done);
                    if (k < 0) {
                        throw new java.io.EOFException(in + ": ends before byte " + (position + count));
                    }
                    b.flip();
                    done += k;
                    while (b.hasRemaining()) {
                        ts.write(b);
                    }
                }
                return;
            }
            if (count > decl(name).byteSize - ts.written) {
                throw new GgufWriteException(target, decl(name).field(), "its source has " + count
                        + " bytes, more than the declared " + decl(name).byteSize);
            }
            flush();
            for (long done = 0; done < count; ) {
                long k = in.transferTo(position + done, count - done, out);
                if (k <= 0) {
                    throw new java.io.EOFException(in + ": ends before byte " + (position + count));
                }
                done += k;
            }
            this.position += count;
            ts.written += count;
        });
    }

    private Decl decl(String name) {
        return tensorsByName.get(name);
    }

    /** Writes the data of tensor {@code name} from {@code data}, as {@link #writeTensor(String, TensorSource)}. */
    public void writeTensor(String name, MemorySegment data) throws IOException {
        writeTensor(name, TensorSource.of(data));
    }

    /**
     * Completes the file: writes the header if nothing has been written yet, then the data of every remaining
     * tensor (all must have been declared with a source), and closes the file. A {@link GgufWriteException} names
     * the first tensor with no data; the writer stays usable, so that data can still be written.
     */
    public void finish() throws IOException {
        checkOpen("file");
        for (int i = next; i < tensors.size(); i++) {
            Decl d = tensors.get(i);
            if (d.source == null) {
                throw new GgufWriteException(target, d.field(), "its data was never written (tensor #" + i + " of "
                        + tensors.size() + ")");
            }
        }
        try {
            writeHeaderIfNeeded();
            while (next < tensors.size()) {
                writeData(tensors.get(next), tensors.get(next).source);
            }
            flush();
            channel.close();
            state = State.FINISHED;
        } catch (Throwable t) {
            fail();
            throw t;
        }
    }

    /**
     * Closes the file. After {@link #finish()} this does nothing. Otherwise the file is incomplete: it is
     * deleted, and unless writing had already failed (and thrown) a {@link GgufWriteException} says so.
     */
    @Override
    public void close() throws IOException {
        switch (state) {
            case FINISHED, FAILED -> {
            }
            case DECLARING, WRITING -> {
                fail();
                throw new GgufWriteException(target, "file", "closed before finish(); "
                        + (next < tensors.size() ? "tensor #" + next + " '" + tensors.get(next).name
                                + "' and later ones were not written; " : "")
                        + "the incomplete file was deleted");
            }
        }
    }

    private void writeHeaderIfNeeded() throws IOException {
        if (state != State.DECLARING) {
            return;
        }
        state = State.WRITING;
        u32(GgufFile.MAGIC);
        u32(VERSION);
        u64(tensors.size());
        u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            string(e.getKey());
            GgufValue v = e.getValue();
            u32(v.type().id());
            value(v.type(), v.value());
        }
        long offset = 0;
        for (Decl d : tensors) {
            string(d.name);
            u32(d.shape.length);
            for (long n : d.shape) {
                u64(n);
            }
            u32(d.type.id());
            u64(offset);
            offset += padded(d.byteSize);
        }
        pad(0);
        dataStart = position;
    }

    private void writeData(Decl d, TensorSource source) throws IOException {
        TensorSink sink = new TensorSink(d);
        try {
            source.writeTo(sink);
        } finally {
            sink.open = false;
        }
        if (sink.written != d.byteSize) {
            throw new GgufWriteException(target, d.field(), "its source wrote " + sink.written + " bytes, but "
                    + d.describe());
        }
        pad(dataStart);
        next++;
    }

    private long padded(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    /** Zero bytes up to the next multiple of the alignment, counted from file offset {@code base}. */
    private void pad(long base) throws IOException {
        long n = padded(position - base) - (position - base);
        for (long i = 0; i < n; i++) {
            u8(0);
        }
    }

    /** Marks the writer failed: closes the channel and deletes the partial file, quietly. */
    private void fail() {
        state = State.FAILED;
        try {
            channel.close();
        } catch (IOException | RuntimeException ignored) {
            // already failing
        }
        try {
            if (path != null) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort
        }
    }

    private void checkDeclaring(String field) {
        checkOpen(field);
        if (state != State.DECLARING) {
            throw new GgufWriteException(target, field, "metadata and tensors cannot be added once tensor data "
                    + "is being written");
        }
    }

    private void checkOpen(String field) {
        if (state == State.FINISHED || state == State.FAILED) {
            throw new GgufWriteException(target, field, "the writer is closed"
                    + (state == State.FAILED ? " (writing failed and the partial file was deleted)" : ""));
        }
    }

    // ---------------------------------------------------------------------------------------------- validation

    private void checkString(String field, String what, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new GgufWriteException(target, field, what + " has an unpaired surrogate "
                        + String.format("U+%04X", (int) c) + " at index " + i + ", which UTF-8 cannot encode");
            }
        }
    }

    private void checkValue(String field, GgufValueType type, Object v, int depth) {
        if (type == null) {
            throw new GgufWriteException(target, field, "type is null");
        }
        switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> {
                if (!(v instanceof Long x)) {
                    throw wrongClass(field, type, v, "Long");
                }
                checkRange(field, type, x);
            }
            case FLOAT32 -> {
                if (!(v instanceof Float)) {
                    throw wrongClass(field, type, v, "Float");
                }
            }
            case FLOAT64 -> {
                if (!(v instanceof Double)) {
                    throw wrongClass(field, type, v, "Double");
                }
            }
            case BOOL -> {
                if (!(v instanceof Boolean)) {
                    throw wrongClass(field, type, v, "Boolean");
                }
            }
            case STRING -> {
                if (!(v instanceof String s)) {
                    throw wrongClass(field, type, v, "String");
                }
                checkString(field, "value", s);
            }
            case ARRAY -> {
                if (!(v instanceof GgufValue.GgufArray a)) {
                    throw wrongClass(field, type, v, "GgufValue.GgufArray");
                }
                checkArray(field, a, depth + 1);
            }
        }
    }

    private void checkArray(String field, GgufValue.GgufArray a, int depth) {
        if (depth > GgufFile.MAX_ARRAY_DEPTH) {
            throw new GgufWriteException(target, field, "arrays nest deeper than " + GgufFile.MAX_ARRAY_DEPTH
                    + ", the most GgufFile reads");
        }
        GgufValueType et = a.elementType();
        Object values = a.values();
        if (et == null || values == null) {
            throw new GgufWriteException(target, field, "array has a null " + (et == null ? "element type" : "values"));
        }
        switch (et) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> {
                if (!(values instanceof long[] l)) {
                    throw wrongArrayClass(field, et, values, "long[]");
                }
                for (int i = 0; i < l.length; i++) {
                    checkRange(field + "[" + i + "]", et, l[i]);
                }
            }
            case FLOAT32 -> {
                if (!(values instanceof float[])) {
                    throw wrongArrayClass(field, et, values, "float[]");
                }
            }
            case FLOAT64 -> {
                if (!(values instanceof double[])) {
                    throw wrongArrayClass(field, et, values, "double[]");
                }
            }
            case BOOL -> {
                if (!(values instanceof boolean[])) {
                    throw wrongArrayClass(field, et, values, "boolean[]");
                }
            }
            case STRING -> {
                if (!(values instanceof String[] s)) {
                    throw wrongArrayClass(field, et, values, "String[]");
                }
                for (int i = 0; i < s.length; i++) {
                    if (s[i] == null) {
                        throw new GgufWriteException(target, field + "[" + i + "]", "string is null");
                    }
                    checkString(field + "[" + i + "]", "string", s[i]);
                }
            }
            case ARRAY -> {
                if (!(values instanceof GgufValue.GgufArray[] n)) {
                    throw wrongArrayClass(field, et, values, "GgufValue.GgufArray[]");
                }
                for (int i = 0; i < n.length; i++) {
                    if (n[i] == null) {
                        throw new GgufWriteException(target, field + "[" + i + "]", "array is null");
                    }
                    checkArray(field + "[" + i + "]", n[i], depth + 1);
                }
            }
        }
    }

    private void checkRange(String field, GgufValueType type, long x) {
        long min;
        long max;
        switch (type) {
            case UINT8 -> { min = 0; max = 0xff; }
            case INT8 -> { min = Byte.MIN_VALUE; max = Byte.MAX_VALUE; }
            case UINT16 -> { min = 0; max = 0xffff; }
            case INT16 -> { min = Short.MIN_VALUE; max = Short.MAX_VALUE; }
            case UINT32 -> { min = 0; max = 0xffff_ffffL; }
            case INT32 -> { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
            default -> { return; } // UINT64 (two's-complement bits) and INT64 take any long
        }
        if (x < min || x > max) {
            throw new GgufWriteException(target, field, "value " + x + " is outside " + type + "'s range [" + min
                    + ", " + max + "]");
        }
    }

    private GgufWriteException wrongClass(String field, GgufValueType type, Object v, String want) {
        return new GgufWriteException(target, field, type + " value must be a " + want + ", got "
                + (v == null ? "null" : v.getClass().getSimpleName()));
    }

    private GgufWriteException wrongArrayClass(String field, GgufValueType et, Object values, String want) {
        return new GgufWriteException(target, field, "array of " + et + " must hold a " + want + ", got "
                + values.getClass().getSimpleName());
    }

    // ---------------------------------------------------------------------------------------------- encoding

    private void value(GgufValueType type, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8 -> u8((int) (long) (Long) v);
            case UINT16, INT16 -> u16((int) (long) (Long) v);
            case UINT32, INT32 -> u32((int) (long) (Long) v);
            case UINT64, INT64 -> u64((Long) v);
            case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> u8((Boolean) v ? 1 : 0);
            case STRING -> string((String) v);
            case ARRAY -> array((GgufValue.GgufArray) v);
        }
    }

    private void array(GgufValue.GgufArray a) throws IOException {
        GgufValueType et = a.elementType();
        u32(et.id());
        switch (a.values()) {
            case long[] l -> {
                u64(l.length);
                for (long x : l) {
                    switch (et.size()) {
                        case 1 -> u8((int) x);
                        case 2 -> u16((int) x);
                        case 4 -> u32((int) x);
                        default -> u64(x);
                    }
                }
            }
            case float[] f -> {
                u64(f.length);
                for (float x : f) {
                    u32(Float.floatToRawIntBits(x));
                }
            }
            case double[] d -> {
                u64(d.length);
                for (double x : d) {
                    u64(Double.doubleToRawLongBits(x));
                }
            }
            case boolean[] b -> {
                u64(b.length);
                for (boolean x : b) {
                    u8(x ? 1 : 0);
                }
            }
            case String[] s -> {
                u64(s.length);
                for (String x : s) {
                    string(x);
                }
            }
            case GgufValue.GgufArray[] n -> {
                u64(n.length);
                for (GgufValue.GgufArray x : n) {
                    array(x);
                }
            }
            default -> throw new IllegalStateException("unchecked array " + a.values().getClass());
        }
    }

    private void string(String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        raw(ByteBuffer.wrap(b));
    }

    private void u8(int v) throws IOException {
        ensure(1);
        buf.put((byte) v);
        position += 1;
    }

    private void u16(int v) throws IOException {
        ensure(2);
        buf.putShort((short) v);
        position += 2;
    }

    private void u32(int v) throws IOException {
        ensure(4);
        buf.putInt(v);
        position += 4;
    }

    private void u64(long v) throws IOException {
        ensure(8);
        buf.putLong(v);
        position += 8;
    }

    /** Writes all of {@code src}: through the buffer if it fits, else straight to the channel. */
    private void raw(ByteBuffer src) throws IOException {
        int n = src.remaining();
        if (n <= buf.remaining()) {
            buf.put(src);
        } else {
            flush();
            if (n <= buf.capacity() / 4) {
                buf.put(src);
            } else {
                while (src.hasRemaining()) {
                    channel.write(src);
                }
            }
        }
        position += n;
    }

    private void ensure(int n) throws IOException {
        if (buf.remaining() < n) {
            flush();
        }
    }

    private void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        buf.clear();
    }

    private static void writeSegment(MemorySegment data, WritableByteChannel out) throws IOException {
        long n = data.byteSize();
        boolean viewable = data.isNative() || data.heapBase().map(b -> b instanceof byte[]).orElse(false);
        if (viewable) {
            for (long off = 0; off < n; off += SEGMENT_CHUNK) {
                ByteBuffer bb = data.asSlice(off, Math.min(SEGMENT_CHUNK, n - off)).asByteBuffer();
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
            }
        } else {
            // A heap segment over a non-byte array cannot be viewed as a ByteBuffer: stage it.
            byte[] stage = new byte[(int) Math.min(n, 1 << 16)];
            MemorySegment st = MemorySegment.ofArray(stage);
            for (long off = 0; off < n; off += stage.length) {
                int len = (int) Math.min(stage.length, n - off);
                MemorySegment.copy(data, off, st, 0, len);
                ByteBuffer bb = ByteBuffer.wrap(stage, 0, len);
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
            }
        }
    }

    /** The channel a {@link TensorSource} writes to: counts bytes and refuses more than the tensor holds. */
    private final class TensorSink implements WritableByteChannel {
        private final Decl decl;
        private long written;
        private boolean open = true;

        TensorSink(Decl decl) {
            this.decl = decl;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (!open) {
                throw new ClosedChannelException();
            }
            int n = src.remaining();
            if (n > decl.byteSize - written) {
                throw new GgufWriteException(target, decl.field(), "its source wrote more than the declared "
                        + decl.byteSize + " bytes (" + written + " written, then " + n + " more; " + decl.describe()
                        + ")");
            }
            raw(src);
            written += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }
}
