package dev.gguf4j.gguf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file (version 2 or 3, little-endian), memory-mapped ({@link #open}) or read whole into off-heap memory
 * ({@link #load}). Tensor data is never copied further: each {@link GgufTensor#data()} is a slice of the mapping
 * or of that memory, which {@link #close()} releases at once.
 *
 * <p>Everything read is validated against the file's size before anything is allocated for it, so a
 * truncated, corrupted or hostile file gives a {@link GgufFormatException} naming the field, the value and the
 * limit; it never crashes the JVM, hangs, or allocates memory out of proportion to the file.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final String ALIGNMENT_KEY = "general.alignment";
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;
    /** ggml's GGML_MAX_NAME is 64 bytes including the terminating NUL. */
    public static final int MAX_TENSOR_NAME_BYTES = 63;
    /** How deeply arrays may nest (GGUF allows arrays of arrays). */
    public static final int MAX_ARRAY_DEPTH = 8;

    private final String source;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final GgufMetadata metadata;
    private final List<GgufTensor> tensors;
    private final Map<String, GgufTensor> byName;
    private final long alignment;
    private final long dataOffset;
    /** The files of a split model, first first ({@link #openModel}); null for one file. */
    private final List<GgufFile> parts;

    /** llama.cpp's split keys (gguf-split, LLM_KV_SPLIT_*): how many files, this file's index, all tensors. */
    public static final String SPLIT_COUNT = "split.count";
    public static final String SPLIT_NO = "split.no";
    public static final String SPLIT_TENSORS_COUNT = "split.tensors.count";

    private GgufFile(String source, Arena arena, MemorySegment mapping, int version, GgufMetadata metadata,
            List<GgufTensor> tensors, long alignment, long dataOffset) {
        this(source, arena, mapping, version, metadata, tensors, alignment, dataOffset, null);
    }

    private GgufFile(String source, Arena arena, MemorySegment mapping, int version, GgufMetadata metadata,
            List<GgufTensor> tensors, long alignment, long dataOffset, List<GgufFile> parts) {
        this.parts = parts;
        this.source = source;
        this.arena = arena;
        this.mapping = mapping;
        this.version = version;
        this.metadata = metadata;
        this.tensors = List.copyOf(tensors);
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        Map<String, GgufTensor> m = new LinkedHashMap<>();
        for (GgufTensor t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Maps and validates {@code path}. The caller closes the file to release the mapping. */
    public static GgufFile open(Path path) throws IOException {
        return read(path, (source, ch, size, arena) -> size == 0 ? MemorySegment.ofArray(new byte[0])
                : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
    }

    /**
     * Reads {@code path} whole into off-heap memory owned by the returned file (no mapping: llama.cpp's
     * {@code --no-mmap}) and validates it. {@link #close()} frees the memory at once; tensor data segments then
     * become inaccessible. Fails with a {@link GgufLoadException} when the memory cannot be had (on Linux the file
     * must also fit in MemAvailable) or the read fails part-way.
     */
    public static GgufFile load(Path path) throws IOException {
        return read(path, GgufFile::readWhole);
    }

    /**
     * A model: {@code path} mapped ({@code mmap}) or read into memory, and when it is the first file of a split
     * model ({@code split.count} &gt; 1, as llama-gguf-split writes), every other file too, named as llama.cpp
     * names them ({@link #splitPath}: {@code PREFIX-00002-of-00003.gguf}). Tensors of every file, metadata of the
     * first (llama.cpp's {@code llama_model_loader}: the first file must be given, each other file's
     * {@code split.no} must be its index, no tensor may appear twice, and the total must be the first file's
     * {@code split.tensors.count}). {@link #close()} closes every file; {@link #parts()} lists them.
     */
    public static GgufFile openModel(Path path, boolean mmap) throws IOException {
        GgufFile first = mmap ? open(path) : load(path);
        long count = first.metadata().findLong(SPLIT_COUNT).orElse(1L);
        if (count <= 1) {
            return first;
        }
        List<GgufFile> parts = new ArrayList<>();
        parts.add(first);
        try {
            long no = first.metadata().findLong(SPLIT_NO).orElse(0L);
            if (no != 0) {
                throw new GgufFormatException(first.source, SPLIT_NO, no + ": a split model loads from its first file"
                        + " (split.no 0, named ...-00001-of-" + String.format(java.util.Locale.ROOT, "%05d", count)
                        + ".gguf)");
            }
            Path prefix = splitPrefix(path, 0, count);
            if (prefix == null) {
                throw new GgufFormatException(first.source, SPLIT_COUNT, count + ": the file name does not end in "
                        + String.format(java.util.Locale.ROOT, "-%05d-of-%05d.gguf", 1, count)
                        + ", so the other files cannot be found");
            }
            Map<String, GgufTensor> all = new LinkedHashMap<>();
            first.tensors().forEach(t -> all.put(t.name(), t));
            for (int i = 1; i < count; i++) {
                Path p = splitPath(prefix, i, count);
                GgufFile part = mmap ? open(p) : load(p);
                parts.add(part);
                long partNo = part.metadata().findLong(SPLIT_NO).orElse(-1L);
                if (partNo != i) {
                    throw new GgufFormatException(part.source, SPLIT_NO, partNo < 0 ? "missing in a split file"
                            : partNo + ", expected " + i);
                }
                for (GgufTensor t : part.tensors()) {
                    if (all.putIfAbsent(t.name(), t) != null) {
                        throw new GgufFormatException(part.source, "tensor '" + t.name() + "'",
                                "also in an earlier file of the split model");
                    }
                }
            }
            long expected = first.metadata().findLong(SPLIT_TENSORS_COUNT).orElse((long) all.size());
            if (expected != all.size()) {
                throw new GgufFormatException(first.source, SPLIT_TENSORS_COUNT, expected + ", but the " + count
                        + " files hold " + all.size() + " tensors");
            }
            return new GgufFile(first.source, null, first.mapping, first.version, first.metadata,
                    new ArrayList<>(all.values()), first.alignment, first.dataOffset, List.copyOf(parts));
        } catch (IOException | RuntimeException e) {
            parts.forEach(GgufFile::close);
            throw e;
        }
    }

    /** llama.cpp's {@code llama_split_path}: {@code PREFIX-%05d-of-%05d.gguf} for file {@code no} (from 0). */
    public static Path splitPath(Path prefix, long no, long count) {
        return prefix.resolveSibling(prefix.getFileName() + String.format(java.util.Locale.ROOT, "-%05d-of-%05d.gguf",
                no + 1, count));
    }

    /** llama.cpp's {@code llama_split_prefix}: {@code path} less its split suffix, or null if it has none. */
    public static Path splitPrefix(Path path, long no, long count) {
        String name = path.getFileName().toString();
        String suffix = String.format(java.util.Locale.ROOT, "-%05d-of-%05d.gguf", no + 1, count);
        return name.length() > suffix.length() && name.endsWith(suffix)
                ? path.resolveSibling(name.substring(0, name.length() - suffix.length())) : null;
    }

    /** The files this one reads: itself, or a split model's files, first first ({@link #openModel}). */
    public List<GgufFile> parts() {
        return parts == null ? List.of(this) : parts;
    }

    /** The model's parameter count: the elements of every tensor (what {@code gguf4j info} prints). */
    public long parameterCount() {
        long n = 0;
        for (GgufTensor t : tensors) {
            n += t.elementCount();
        }
        return n;
    }

    /** How {@link #read} gets a file's bytes: mapped, or read into memory of the arena. */
    private interface Bytes {
        MemorySegment of(String source, FileChannel ch, long size, Arena arena) throws IOException;
    }

    /** Opens {@code path}, gets its bytes from {@code bytes} into a new arena the file owns, and parses them. */
    private static GgufFile read(Path path, Bytes bytes) throws IOException {
        String source = path.toString();
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return parse(source, bytes.of(source, ch, ch.size(), arena), arena);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new GgufFormatException(source, "file", "does not exist");
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The whole file read into off-heap memory of {@code arena} (see {@link #load}). */
    private static MemorySegment readWhole(String source, FileChannel ch, long size, Arena arena) throws IOException {
        MemorySegment seg = allocate(source, arena, size);
        long done = 0;
        try {
            while (done < size) {
                int n = ch.read(seg.asSlice(done, Math.min(size - done, 1 << 30)).asByteBuffer(), done);
                if (n < 0) {
                    throw new java.io.EOFException("end of file at byte " + done + " of " + size
                            + " (the file shrank while it was read)");
                }
                done += n;
            }
        } catch (IOException e) {
            throw new GgufLoadException(source + ": reading the file into memory failed at byte " + done + " of "
                    + size + ": " + e.getMessage(), e);
        }
        return seg;
    }


    private static MemorySegment allocate(String source, Arena arena, long size) {
        if (size == 0) {
            return MemorySegment.ofArray(new byte[0]);
        }
        long available = memAvailable();
        if (available >= 0 && size > available) {
            throw new GgufLoadException(String.format(java.util.Locale.ROOT, "%s: not enough memory to read the"
                    + " model into RAM without mmap: it needs %.1f MiB, the system has %.1f MiB available"
                    + " (MemAvailable in /proc/meminfo); load it memory-mapped instead (mmap on)", source,
                    size / 1048576.0, available / 1048576.0));
        }
        try {
            // on huge pages where the kernel gives them (generation streams these weights)
            return dev.gguf4j.internal.MemoryLock.allocateForStreaming(arena, size, 4096);
        } catch (OutOfMemoryError e) {
            throw new GgufLoadException(String.format(java.util.Locale.ROOT, "%s: cannot allocate %.1f MiB of"
                    + " off-heap memory to read the model without mmap (%s); load it memory-mapped instead"
                    + " (mmap on)", source, size / 1048576.0, e.getMessage()), e);
        }
    }

    /** Linux's MemAvailable in bytes, or -1 where unknown. */
    private static long memAvailable() {
        return dev.gguf4j.internal.MemInfo.memAvailable();
    }

    /**
     * Parses a GGUF image already in memory (tests, fuzzing, embedded resources). {@code source} names it in
     * error messages. The segment must stay valid while the result is used; {@link #close()} does not free it.
     */
    public static GgufFile read(MemorySegment image, String source) {
        return parse(source, image, null);
    }

    private static GgufFile parse(String source, MemorySegment seg, Arena arena) {
        Parser p = new Parser(source, seg);
        return p.parse(arena);
    }

    public String source() {
        return source;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public List<GgufTensor> tensors() {
        return tensors;
    }

    public Optional<GgufTensor> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The tensor called {@code name}, or a {@link GgufFormatException} naming it. */
    public GgufTensor requireTensor(String name) {
        GgufTensor t = byName.get(name);
        if (t == null) {
            throw new GgufFormatException(source, name, "tensor is missing");
        }
        return t;
    }

    public long alignment() {
        return alignment;
    }

    /** File offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    /**
     * The whole file's bytes as this file holds them: the read-only mapping ({@link #open}), the off-heap copy
     * ({@link #load}) or the image given to {@link #read}.
     */
    public MemorySegment contents() {
        return mapping;
    }

    /** Whether the tensor data is a memory mapping of the file ({@link #open}) rather than a copy. */
    public boolean isMapped() {
        return mapping.isMapped();
    }

    /** Releases the mapping or frees the memory; tensor data segments become inaccessible. */
    @Override
    public void close() {
        if (parts != null) {
            parts.forEach(GgufFile::close);
        }
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }

    /** Reads the header, metadata and tensor infos with bounds checks on every step. */
    private static final class Parser {
        private final String source;
        private final MemorySegment seg;
        private final long size;
        private java.nio.charset.CharsetDecoder utf8; // reused by string(field, index)
        private long pos;

        Parser(String source, MemorySegment seg) {
            this.source = source;
            this.seg = seg;
            this.size = seg.byteSize();
        }

        GgufFile parse(Arena arena) {
            need(4, "magic");
            int magic = seg.get(JAVA_INT_UNALIGNED, 0);
            if (magic != MAGIC) {
                throw fail("magic", String.format("0x%08x is not \"GGUF\" (0x%08x)", magic, MAGIC));
            }
            pos = 4;
            int version = u32("version");
            if (version == 1) {
                throw fail("version", "1 is not supported (GGUF v1 predates 64-bit counts); supported: 2, 3");
            }
            if (version != 2 && version != 3) {
                String hint = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                        ? " (a big-endian GGUF file; only little-endian files are supported)" : "";
                throw fail("version", version + " is not supported; supported: 2, 3" + hint);
            }
            long tensorCount = u64("tensor_count");
            long kvCount = u64("metadata_kv_count");
            // Each KV takes at least 8 (key length) + 4 (type) + 1 bytes, each tensor info at least 8 + 4 + 8 + 4 + 8.
            countFits("metadata_kv_count", kvCount, 13);
            countFits("tensor_count", tensorCount, 32);

            LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string("metadata key #" + i);
                String field = "metadata '" + key + "'";
                int typeId = u32(field + " type");
                GgufValueType type = GgufValueType.byId(Integer.toUnsignedLong(typeId))
                        .orElseThrow(() -> fail(field, "unknown value type " + Integer.toUnsignedString(typeId)
                                + " (known: 0..12)"));
                GgufValue value = value(field, type, 0);
                if (kv.putIfAbsent(key, value) != null) {
                    throw fail(field, "duplicate key");
                }
            }
            GgufMetadata metadata = new GgufMetadata(source, kv);
            long alignment = DEFAULT_ALIGNMENT;
            GgufValue a = kv.get(ALIGNMENT_KEY);
            if (a != null) {
                if (a.type() != GgufValueType.UINT32) {
                    throw fail(ALIGNMENT_KEY, "has type " + a.type() + ", expected UINT32");
                }
                alignment = (Long) a.value();
                if (alignment == 0 || Long.bitCount(alignment) != 1) {
                    throw fail(ALIGNMENT_KEY, alignment + " is not a power of two");
                }
            }

            List<GgufTensor> infos = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
            Map<String, Boolean> names = new java.util.HashMap<>();
            long[][] shapes = new long[(int) tensorCount][];
            long[] offsets = new long[(int) tensorCount];
            GgmlType[] types = new GgmlType[(int) tensorCount];
            String[] tnames = new String[(int) tensorCount];
            for (int i = 0; i < tensorCount; i++) {
                String name = string("tensor #" + i + " name");
                String field = "tensor '" + name + "'";
                int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
                if (nameBytes > MAX_TENSOR_NAME_BYTES) {
                    throw fail(field, "name is " + nameBytes + " bytes long; the limit is " + MAX_TENSOR_NAME_BYTES);
                }
                if (names.put(name, Boolean.TRUE) != null) {
                    throw fail(field, "duplicate tensor name");
                }
                int nDims = u32(field + " n_dims");
                if (nDims < 1 || nDims > MAX_DIMS) {
                    throw fail(field, "n_dims " + Integer.toUnsignedString(nDims) + " is outside [1, " + MAX_DIMS + "]");
                }
                long[] shape = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    shape[d] = u64(field + " ne[" + d + "]");
                    if (shape[d] < 0) {
                        throw fail(field, "ne[" + d + "] = " + Long.toUnsignedString(shape[d]) + " exceeds " + Long.MAX_VALUE);
                    }
                }
                int typeId = u32(field + " type");
                GgmlType type = GgmlType.byId(Integer.toUnsignedLong(typeId))
                        .orElseThrow(() -> fail(field, "unknown ggml type id " + Integer.toUnsignedString(typeId)));
                long offset = u64(field + " offset");
                if (shape[0] % type.blockSize() != 0) {
                    throw fail(field, "row length ne[0] = " + shape[0] + " is not a multiple of " + type
                            + "'s block size " + type.blockSize());
                }
                if (offset < 0 || offset % alignment != 0) {
                    throw fail(field, "offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment "
                            + alignment);
                }
                shapes[i] = shape;
                offsets[i] = offset;
                types[i] = type;
                tnames[i] = name;
            }
            long dataOffset = tensorCount == 0 ? Math.min(align(pos, alignment), size) : align(pos, alignment);
            if (dataOffset > size) {
                throw fail("data section", "starts at " + dataOffset + ", beyond the end of the file (" + size + " bytes)");
            }
            long dataSize = size - dataOffset;
            for (int i = 0; i < tensorCount; i++) {
                String field = "tensor '" + tnames[i] + "'";
                long elements = 1;
                long bytes;
                try {
                    for (long d : shapes[i]) {
                        elements = Math.multiplyExact(elements, d);
                    }
                    bytes = Math.multiplyExact(elements / types[i].blockSize(), (long) types[i].blockBytes());
                } catch (ArithmeticException e) {
                    throw fail(field, "shape " + java.util.Arrays.toString(shapes[i]) + " overflows 64 bits");
                }
                if (offsets[i] > dataSize || bytes > dataSize - offsets[i]) {
                    throw fail(field, "data [" + offsets[i] + ", +" + bytes + ") runs past the end of the data section ("
                            + dataSize + " bytes)");
                }
                MemorySegment data = seg.asSlice(dataOffset + offsets[i], bytes);
                infos.add(new GgufTensor(tnames[i], types[i], shapes[i], offsets[i], bytes, data));
            }
            List<GgufTensor> sorted = new ArrayList<>(infos);
            sorted.sort(Comparator.comparingLong(GgufTensor::offset));
            for (int i = 1; i < sorted.size(); i++) {
                GgufTensor prev = sorted.get(i - 1);
                GgufTensor cur = sorted.get(i);
                if (cur.offset() < prev.offset() + prev.byteSize()) {
                    throw fail("tensor '" + cur.name() + "'", "data at offset " + cur.offset() + " overlaps tensor '"
                            + prev.name() + "' [" + prev.offset() + ", " + (prev.offset() + prev.byteSize()) + ")");
                }
            }
            return new GgufFile(source, arena, seg, version, metadata, infos, alignment, dataOffset);
        }

        private GgufValue value(String field, GgufValueType type, int depth) {
            return switch (type) {
                case UINT8 -> new GgufValue(type, (long) (u8(field) & 0xff));
                case INT8 -> new GgufValue(type, (long) u8(field));
                case UINT16 -> new GgufValue(type, (long) (u16(field) & 0xffff));
                case INT16 -> new GgufValue(type, (long) u16(field));
                case UINT32 -> new GgufValue(type, Integer.toUnsignedLong(u32(field)));
                case INT32 -> new GgufValue(type, (long) u32(field));
                case UINT64, INT64 -> new GgufValue(type, u64(field));
                case FLOAT32 -> new GgufValue(type, f32(field));
                case FLOAT64 -> new GgufValue(type, f64(field));
                case BOOL -> new GgufValue(type, bool(field));
                case STRING -> new GgufValue(type, string(field));
                case ARRAY -> new GgufValue(type, array(field, depth + 1));
            };
        }

        private GgufValue.GgufArray array(String field, int depth) {
            if (depth > MAX_ARRAY_DEPTH) {
                throw fail(field, "arrays nest deeper than " + MAX_ARRAY_DEPTH);
            }
            int typeId = u32(field + " element type");
            GgufValueType et = GgufValueType.byId(Integer.toUnsignedLong(typeId))
                    .orElseThrow(() -> fail(field, "unknown array element type " + Integer.toUnsignedString(typeId)));
            long n = u64(field + " array length");
            countFits(field + " array length", n, et.minEncodedSize());
            int len = (int) n;
            Object values = switch (et) {
                // fixed-size elements: countFits has checked that all of them are in the file, so they are read
                // in one pass, without a GgufValue or a box per element (a vocabulary's token types and scores are
                // 32000-150000 each, read on every start, mostly by a cold JVM)
                case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> integers(et, len);
                case FLOAT32 -> {
                    float[] a = new float[len];
                    MemorySegment.copy(seg, JAVA_FLOAT_UNALIGNED, pos, a, 0, len);
                    pos += 4L * len;
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[len];
                    MemorySegment.copy(seg, JAVA_DOUBLE_UNALIGNED, pos, a, 0, len);
                    pos += 8L * len;
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = bool(field);
                    }
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = string(field, i);
                    }
                    yield a;
                }
                case ARRAY -> {
                    GgufValue.GgufArray[] a = new GgufValue.GgufArray[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = array(field + "[" + i + "]", depth + 1);
                    }
                    yield a;
                }
            };
            return new GgufValue.GgufArray(et, values);
        }

        /**
         * {@code len} integers of type {@code et} from pos, widened as {@link #value} widens each one: copied in
         * bulk and widened in a plain array loop (a segment access per element is slow in a cold JVM's interpreter).
         */
        private long[] integers(GgufValueType et, int len) {
            long[] a = new long[len];
            long p = pos;
            switch (et) {
                case UINT8, INT8 -> {
                    byte[] b = new byte[len];
                    MemorySegment.copy(seg, JAVA_BYTE, p, b, 0, len);
                    long mask = et == GgufValueType.UINT8 ? 0xffL : -1L;
                    for (int i = 0; i < len; i++) {
                        a[i] = b[i] & mask;
                    }
                }
                case UINT16, INT16 -> {
                    short[] b = new short[len];
                    MemorySegment.copy(seg, JAVA_SHORT_UNALIGNED, p, b, 0, len);
                    long mask = et == GgufValueType.UINT16 ? 0xffffL : -1L;
                    for (int i = 0; i < len; i++) {
                        a[i] = b[i] & mask;
                    }
                }
                case UINT32, INT32 -> {
                    int[] b = new int[len];
                    MemorySegment.copy(seg, JAVA_INT_UNALIGNED, p, b, 0, len);
                    long mask = et == GgufValueType.UINT32 ? 0xffffffffL : -1L;
                    for (int i = 0; i < len; i++) {
                        a[i] = b[i] & mask;
                    }
                }
                case UINT64, INT64 -> MemorySegment.copy(seg, JAVA_LONG_UNALIGNED, p, a, 0, len);
                default -> throw new IllegalArgumentException(et + " is not an integer type");
            }
            pos = p + (long) len * et.minEncodedSize();
            return a;
        }

        /** A count of items, each at least {@code minBytes} long, must fit in what is left of the file. */
        private void countFits(String field, long count, int minBytes) {
            long left = size - pos;
            if (count < 0 || count > Integer.MAX_VALUE - 8 || count > left / Math.max(1, minBytes)) {
                throw fail(field, Long.toUnsignedString(count) + " entries cannot fit in the " + left
                        + " bytes left in the file (at least " + minBytes + " bytes each)");
            }
        }

        private static long align(long x, long a) {
            return (x + a - 1) / a * a;
        }

        private void need(long n, String field) {
            if (n > size - pos) {
                throw fail(field, "needs " + n + " bytes at offset " + pos + ", but the file ends at " + size
                        + " (truncated?)");
            }
        }

        private byte u8(String field) {
            need(1, field);
            return seg.get(JAVA_BYTE, pos++);
        }

        private short u16(String field) {
            need(2, field);
            short v = seg.get(JAVA_SHORT_UNALIGNED, pos);
            pos += 2;
            return v;
        }

        private int u32(String field) {
            need(4, field);
            int v = seg.get(JAVA_INT_UNALIGNED, pos);
            pos += 4;
            return v;
        }

        private long u64(String field) {
            need(8, field);
            long v = seg.get(JAVA_LONG_UNALIGNED, pos);
            pos += 8;
            return v;
        }

        private float f32(String field) {
            need(4, field);
            float v = seg.get(JAVA_FLOAT_UNALIGNED, pos);
            pos += 4;
            return v;
        }

        private double f64(String field) {
            need(8, field);
            double v = seg.get(JAVA_DOUBLE_UNALIGNED, pos);
            pos += 8;
            return v;
        }

        private boolean bool(String field) {
            byte b = u8(field);
            if (b != 0 && b != 1) {
                throw fail(field, "bool value " + (b & 0xff) + " is neither 0 nor 1");
            }
            return b == 1;
        }

        /**
         * Element {@code index} of the string array {@code field}: the same checks and result as {@link
         * #string(String)}, without building the element's name (two string concatenations, a tokenizer's vocabulary
         * has 32000-150000 of them) or a new decoder unless it fails; on any failure the slow path reads the element
         * again and says what is wrong with it.
         */
        private String string(String field, int index) {
            long start = pos;
            if (size - pos >= 8) {
                long len = seg.get(JAVA_LONG_UNALIGNED, pos);
                if (len >= 0 && len <= size - pos - 8 && len <= Integer.MAX_VALUE - 8) {
                    byte[] bytes = new byte[(int) len];
                    MemorySegment.copy(seg, JAVA_BYTE, pos + 8, bytes, 0, (int) len);
                    // the String constructor is the fast decoder but replaces malformed input with U+FFFD: a
                    // result without U+FFFD was valid UTF-8; one with it is decoded again strictly (U+FFFD may
                    // also be a real character)
                    String fast = new String(bytes, StandardCharsets.UTF_8);
                    if (fast.indexOf('\uFFFD') < 0) {
                        pos += 8 + len;
                        return fast;
                    }
                    if (utf8 == null) {
                        utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT);
                    }
                    try {
                        String v = utf8.reset().decode(ByteBuffer.wrap(bytes)).toString();
                        pos += 8 + len;
                        return v;
                    } catch (CharacterCodingException e) {
                        // fall through to the slow path, which names the element and the bytes
                    }
                }
            }
            pos = start;
            return string(field + "[" + index + "]");
        }

        private String string(String field) {
            long len = u64(field + " length");
            if (len < 0 || len > size - pos) {
                throw fail(field, "string length " + Long.toUnsignedString(len) + " exceeds the " + (size - pos)
                        + " bytes left in the file");
            }
            if (len > Integer.MAX_VALUE - 8) {
                throw fail(field, "string length " + len + " exceeds " + (Integer.MAX_VALUE - 8));
            }
            byte[] bytes = new byte[(int) len];
            MemorySegment.copy(seg, JAVA_BYTE, pos, bytes, 0, (int) len);
            pos += len;
            ByteBuffer in = ByteBuffer.wrap(bytes);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
            } catch (CharacterCodingException e) {
                // The decoder leaves the buffer at the start of the malformed sequence: name it and the bytes.
                StringBuilder hex = new StringBuilder();
                for (int i = 0; i < Math.min(bytes.length, 32); i++) {
                    hex.append(i == 0 ? "" : " ").append(String.format("%02x", bytes[i] & 0xff));
                }
                throw fail(field, "is not valid UTF-8: malformed at byte " + in.position() + " of " + bytes.length
                        + " (" + hex + (bytes.length > 32 ? " ..." : "") + ")");
            }
        }

        private GgufFormatException fail(String field, String problem) {
            return new GgufFormatException(source, field, problem);
        }
    }
}
