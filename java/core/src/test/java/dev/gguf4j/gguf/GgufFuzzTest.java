package dev.gguf4j.gguf;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gguf4j.gguf.GgufValue.GgufArray;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded, time-bounded fuzzing of {@link GgufFile#read}: real files from ../shared and small files made with
 * {@link GgufWriter} are mutated (bit flips, interesting bytes, interesting values in every structural field —
 * huge counts and lengths included —, truncation at every structural boundary and at random points, removed,
 * duplicated and overwritten ranges) and parsed. Each must either parse into a self-consistent file or throw a
 * {@link GgufFormatException}; anything else (IndexOutOfBounds, NegativeArraySize, OutOfMemoryError, ...) fails the
 * test, reported with the corpus, the seed and the mutation. Each parse is also held to an allocation budget
 * proportional to the image, so a mutated count or length can never make the reader try to allocate gigabytes.
 * Files that parse are copied through {@link GgufWriter} now and then, which must reproduce their content.
 *
 * <p>{@code -Dgguf4j.fuzz.seconds=N} (default 10) bounds the run; {@code -Dgguf4j.fuzz.seed=S} changes the seed.
 * Iteration {@code i} always applies the same mutation for the same seed, whatever the time budget.
 */
class GgufFuzzTest {
    private static final long SEED = Long.getLong("gguf4j.fuzz.seed", 0x6767_7566_4a41_5641L);
    private static final double SECONDS = Double.parseDouble(System.getProperty("gguf4j.fuzz.seconds", "10"));
    /** Allocation allowed per parse: this many bytes per image byte, plus a constant. */
    private static final long ALLOC_PER_BYTE = 64;
    private static final long ALLOC_BASE = 32L << 20;

    @TempDir
    Path tmp;

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final List<String> failures = new ArrayList<>();
    private long parsed;
    private long rejected;
    private long copied;
    private long maxAllocRatioTimes100;
    private long maxAlloc;
    private Path copyPath;

    // ------------------------------------------------------------------------------------ the test

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS) // a hang in the reader fails rather than blocks the build
    void mutatedFilesParseOrFailWithAFormatException() throws IOException {
        assertTrue(threads.isThreadAllocatedMemorySupported(), "per-thread allocation counting");
        threads.setThreadAllocatedMemoryEnabled(true);
        copyPath = tmp.resolve("copy.gguf");
        long start = System.nanoTime();
        long deadline = start + (long) (SECONDS * 1e9);
        List<Corpus> corpora = corpora();

        // Phase 1, deterministic: every structural boundary as a truncation point, every numeric field set to
        // every interesting value (small corpora only; the big ones are sampled in phase 2).
        long exhaustive = 0;
        long phase1Deadline = start + (long) (SECONDS * 0.4e9);
        for (Corpus c : corpora) {
            if (c.fields.size() > 6000) {
                continue;
            }
            for (Field f : c.fields) {
                for (long cut : new long[] {f.offset, f.offset + 1, f.end() - 1, f.end()}) {
                    if (cut >= 0 && cut < c.image.length) {
                        check(c, c.image, (int) cut, "truncate at " + cut + " (" + f + ")");
                        exhaustive++;
                    }
                }
                if (f.kind.width > 0 && f.kind != Kind.MAGIC) {
                    byte[] img = c.image;
                    long orig = f.read(img);
                    for (long v : interesting(f, orig, img.length)) {
                        f.write(img, v);
                        check(c, img, img.length, "set " + f + " to " + Long.toUnsignedString(v));
                        exhaustive++;
                    }
                    f.write(img, orig);
                }
                if (System.nanoTime() > phase1Deadline || failures.size() > 20) {
                    break;
                }
            }
        }

        // Phase 2, random: iteration i mutates corpus i % n with Random(seed(i)) until the time is up, and at least
        // MIN_RANDOM_ITERATIONS of them however slow the machine is (the coverage must not depend on its load).
        long iterations = 0;
        for (long i = 0; (System.nanoTime() < deadline || iterations < MIN_RANDOM_ITERATIONS) && failures.size() <= 20;
                i++) {
            Corpus c = corpora.get((int) (i % corpora.size()));
            Random r = new Random(seed(i));
            StringBuilder what = new StringBuilder("iteration " + i + " seed 0x" + Long.toHexString(seed(i)) + ": ");
            byte[] img = mutate(c, r, what);
            check(c, img, img.length, what.toString());
            iterations++;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("GgufFuzzTest: %d corpora, %d deterministic + %d random mutations in %.1f s "
                + "(%d parsed, %d rejected, %d re-written through GgufWriter); largest allocation by one parse %d KiB,"
                + " at most %.1f bytes per image byte for images of 64 KiB or more; seed 0x%x%n", corpora.size(),
                exhaustive, iterations, secs, parsed, rejected, copied, maxAlloc >> 10, maxAllocRatioTimes100 / 100.0,
                SEED);
        if (!failures.isEmpty()) {
            fail(failures.size() + " failures (seed 0x" + Long.toHexString(SEED) + "):\n" + String.join("\n", failures));
        }
        assertTrue(failures.size() > 20 || iterations >= MIN_RANDOM_ITERATIONS,
                "only " + iterations + " random iterations ran");
    }

    /** Random mutations that always run, on top of those the time budget allows. */
    private static final int MIN_RANDOM_ITERATIONS = 1500;

    private static long seed(long i) {
        long z = SEED + i * 0x9e37_79b9_7f4a_7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58_476d_1ce4_e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d0_49bb_1331_11ebL;
        return z ^ (z >>> 31);
    }

    /** Parses {@code img[0, len)}; records a failure unless it parses consistently or throws GgufFormatException. */
    private void check(Corpus c, byte[] img, int len, String what) {
        MemorySegment seg = MemorySegment.ofArray(img).asSlice(0, len);
        String name = "fuzz:" + c.name;
        long before = threads.getCurrentThreadAllocatedBytes();
        GgufFile f;
        try {
            f = GgufFile.read(seg, name);
        } catch (GgufFormatException e) {
            rejected++;
            if (e.getMessage() == null || !e.getMessage().startsWith(name + ": ") || e.field() == null) {
                failures.add(c.name + " " + what + ": badly formed message: " + e.getMessage());
            }
            checkAllocation(c, len, before, what);
            return;
        } catch (Throwable t) {
            failures.add(c.name + " " + what + ": threw " + describe(t));
            return;
        }
        checkAllocation(c, len, before, what);
        parsed++;
        try {
            verify(f, len);
            if (len <= (256 << 10) && parsed % 8 == 0) {
                GgufWriter.copy(f, copyPath);
                try (GgufFile g = GgufFile.open(copyPath)) {
                    GgufWriterTest.assertSameContent(f, g);
                }
                copied++;
            }
        } catch (Throwable t) {
            failures.add(c.name + " " + what + ": parsed, but " + describe(t));
        }
    }

    private void checkAllocation(Corpus c, int len, long before, String what) {
        long alloc = threads.getCurrentThreadAllocatedBytes() - before;
        maxAlloc = Math.max(maxAlloc, alloc);
        if (len >= (64 << 10)) {
            maxAllocRatioTimes100 = Math.max(maxAllocRatioTimes100, alloc * 100 / len);
        }
        if (alloc > ALLOC_BASE + ALLOC_PER_BYTE * len) {
            failures.add(c.name + " " + what + ": parsing a " + len + "-byte image allocated " + alloc + " bytes");
        }
    }

    private static String describe(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return t + (st.length > 0 ? " at " + st[0] + (st.length > 1 ? " < " + st[1] : "") : "");
    }

    /** What a successful parse promises: every tensor inside the image, sized by its type and shape. */
    private static void verify(GgufFile f, int len) {
        long a = f.alignment();
        if (a <= 0 || Long.bitCount(a) != 1) {
            throw new AssertionError("alignment " + a);
        }
        if (f.dataOffset() > len) {
            throw new AssertionError("data offset " + f.dataOffset() + " past " + len);
        }
        List<GgufTensor> ts = new ArrayList<>(f.tensors());
        for (GgufTensor t : ts) {
            long bytes = t.type().bytesFor(t.elementCount());
            if (t.byteSize() != bytes || t.data().byteSize() != bytes || t.offset() % a != 0
                    || f.dataOffset() + t.offset() + bytes > len || t.dims() < 1 || t.dims() > 4
                    || t.name().getBytes(StandardCharsets.UTF_8).length > GgufFile.MAX_TENSOR_NAME_BYTES) {
                throw new AssertionError("inconsistent tensor " + t + " (" + bytes + " bytes)");
            }
            if (bytes > 0) {
                t.data().get(ValueLayout.JAVA_BYTE, 0);
                t.data().get(ValueLayout.JAVA_BYTE, bytes - 1);
            }
            if (f.tensor(t.name()).orElseThrow() != t) {
                throw new AssertionError("lookup of " + t.name());
            }
        }
        ts.sort((x, y) -> Long.compare(x.offset(), y.offset()));
        for (int i = 1; i < ts.size(); i++) {
            GgufTensor p = ts.get(i - 1);
            GgufTensor t = ts.get(i);
            if (p.byteSize() > 0 && t.byteSize() > 0 && t.offset() < p.offset() + p.byteSize()) {
                throw new AssertionError(t + " overlaps " + p);
            }
        }
        for (Map.Entry<String, GgufValue> e : f.metadata().asMap().entrySet()) {
            e.getValue().summary();
        }
    }

    // ------------------------------------------------------------------------------------ mutations

    private static final byte[] INTERESTING_BYTES = {0, 1, 2, 0x7f, (byte) 0x80, (byte) 0xff, (byte) 0xfe, 0x20,
        0x41, (byte) 0xc0, (byte) 0xc3, (byte) 0xe2, (byte) 0xed, (byte) 0xf0, (byte) 0xf8, 8, 9, 12};

    /** Values worth trying in a field: boundaries of every width, sizes near the image's, and near the original. */
    private static long[] interesting(Field f, long orig, int imageLength) {
        if (f.kind.width == 4) {
            return new long[] {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 28, 29, 30, 31, 34, 35, 39, 40,
                0x7f, 0xff, 0x7fff_ffffL, 0x8000_0000L, 0xffff_fffeL, 0xffff_ffffL, orig + 1, orig - 1,
                Integer.toUnsignedLong(Integer.reverseBytes((int) orig))};
        }
        return new long[] {0, 1, 2, 8, 31, 32, 33, 64, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, 1L << 32,
            imageLength, imageLength - f.end(), imageLength + 1, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, -1, -2,
            orig + 1, orig - 1, orig * 2, orig + 32, orig << 32};
    }

    /** One random mutation of {@code c}'s image, described into {@code what}. */
    private static byte[] mutate(Corpus c, Random r, StringBuilder what) {
        int op = r.nextInt(11);
        byte[] img = c.image;
        switch (op) {
            case 0 -> { // bit flips
                img = img.clone();
                int n = 1 + r.nextInt(4);
                for (int k = 0; k < n; k++) {
                    int p = pos(c, r);
                    int bit = r.nextInt(8);
                    img[p] ^= (byte) (1 << bit);
                    what.append("flip bit ").append(bit).append(" @").append(p).append("; ");
                }
            }
            case 1 -> { // interesting bytes
                img = img.clone();
                int n = 1 + r.nextInt(4);
                for (int k = 0; k < n; k++) {
                    int p = pos(c, r);
                    img[p] = INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)];
                    what.append("byte @").append(p).append(" = 0x").append(Integer.toHexString(img[p] & 0xff))
                            .append("; ");
                }
            }
            case 2, 3 -> { // an interesting value in a structural field
                img = img.clone();
                Field f = numericField(c, r);
                long[] vals = interesting(f, f.read(img), img.length);
                long v = vals[r.nextInt(vals.length)];
                f.write(img, v);
                what.append("set ").append(f).append(" to ").append(Long.toUnsignedString(v));
            }
            case 4 -> { // a count or length off by a little: everything after it is misread
                img = img.clone();
                Field f = numericField(c, r);
                long d = new long[] {-8, -2, -1, 1, 2, 8, 4096}[r.nextInt(7)];
                f.write(img, f.read(img) + d);
                what.append("add ").append(d).append(" to ").append(f);
            }
            case 5 -> { // truncate at a structural boundary
                Field f = field(c, r);
                int cut = Math.clamp((r.nextBoolean() ? f.offset : f.end()) + r.nextInt(3) - 1, 0, img.length);
                img = Arrays.copyOf(img, cut);
                what.append("truncate to ").append(cut).append(" at ").append(f);
            }
            case 6 -> { // truncate anywhere
                int cut = r.nextInt(4) == 0 ? r.nextInt(img.length + 1) : pos(c, r);
                img = Arrays.copyOf(img, cut);
                what.append("truncate to ").append(cut);
            }
            case 7 -> { // remove one or more whole fields
                int i = r.nextInt(c.fields.size());
                int j = Math.min(c.fields.size() - 1, i + r.nextInt(4));
                int from = (int) c.fields.get(i).offset;
                int to = (int) Math.max(from, c.fields.get(j).end());
                img = splice(img, from, to, new byte[0]);
                what.append("remove [").append(from).append(", ").append(to).append(") = ").append(c.fields.get(i))
                        .append(" .. ").append(c.fields.get(j));
            }
            case 8 -> { // duplicate fields, in place or elsewhere
                int i = r.nextInt(c.fields.size());
                int j = Math.min(c.fields.size() - 1, i + r.nextInt(4));
                int from = (int) c.fields.get(i).offset;
                int to = (int) Math.min(Math.max(from, c.fields.get(j).end()), from + (1 << 16));
                int at = r.nextBoolean() ? to : (int) field(c, r).offset;
                img = splice(img, at, at, Arrays.copyOfRange(img, from, to));
                what.append("copy [").append(from).append(", ").append(to).append(") to ").append(at);
            }
            case 9 -> { // random bytes over a boundary
                img = img.clone();
                Field f = field(c, r);
                int n = 1 + r.nextInt(16);
                int at = (int) Math.min(f.offset, img.length - 1);
                for (int k = 0; k < n && at + k < img.length; k++) {
                    img[at + k] = (byte) r.nextInt();
                }
                what.append(n).append(" random bytes at ").append(f);
            }
            default -> { // several small changes at once
                img = img.clone();
                int n = 2 + r.nextInt(3);
                for (int k = 0; k < n; k++) {
                    if (r.nextBoolean()) {
                        Field f = numericField(c, r);
                        long[] vals = interesting(f, f.read(img), img.length);
                        long v = vals[r.nextInt(vals.length)];
                        f.write(img, v);
                        what.append("set ").append(f).append(" to ").append(Long.toUnsignedString(v)).append("; ");
                    } else {
                        int p = pos(c, r);
                        img[p] = (byte) r.nextInt();
                        what.append("byte @").append(p).append(" = 0x").append(Integer.toHexString(img[p] & 0xff))
                                .append("; ");
                    }
                }
            }
        }
        return img;
    }

    /** A position, mostly in the header (where the structure is), sometimes anywhere. */
    private static int pos(Corpus c, Random r) {
        if (r.nextInt(8) == 0) {
            return r.nextInt(c.image.length);
        }
        return r.nextInt(Math.min(c.image.length, c.headerEnd + 64));
    }

    private static Field field(Corpus c, Random r) {
        return c.fields.get(r.nextInt(c.fields.size()));
    }

    private static Field numericField(Corpus c, Random r) {
        return c.numeric.get(r.nextInt(c.numeric.size()));
    }

    private static byte[] splice(byte[] img, int from, int to, byte[] insert) {
        byte[] out = new byte[img.length - (to - from) + insert.length];
        System.arraycopy(img, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(img, to, out, from + insert.length, img.length - to);
        return out;
    }

    // ------------------------------------------------------------------------------------ corpora and their structure

    enum Kind {
        MAGIC(4), VERSION(4), TENSOR_COUNT(8), KV_COUNT(8), KEY_LEN(8), KEY(0), VALUE_TYPE(4), ARRAY_TYPE(4),
        ARRAY_LEN(8), STRING_LEN(8), STRING(0), SCALARS(0), NAME_LEN(8), NAME(0), N_DIMS(4), NE(8), GGML_TYPE(4),
        OFFSET(8), PADDING(0), DATA(0);

        /** Bytes of a numeric field; 0 for variable-length ones. */
        final int width;

        Kind(int width) {
            this.width = width;
        }
    }

    /** One structural field of a valid image. */
    record Field(Kind kind, long offset, long size) {
        long end() {
            return offset + size;
        }

        long read(byte[] b) {
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            return kind.width == 4 ? Integer.toUnsignedLong(bb.getInt((int) offset)) : bb.getLong((int) offset);
        }

        void write(byte[] b, long v) {
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            if (kind.width == 4) {
                bb.putInt((int) offset, (int) v);
            } else {
                bb.putLong((int) offset, v);
            }
        }

        @Override
        public String toString() {
            return kind + "@" + offset + (kind.width == 0 ? "+" + size : "");
        }
    }

    record Corpus(String name, byte[] image, List<Field> fields, List<Field> numeric, int headerEnd) {
        static Corpus of(String name, byte[] image) {
            List<Field> fields = scan(image);
            int headerEnd = (int) fields.stream().filter(f -> f.kind == Kind.OFFSET || f.kind == Kind.KEY
                    || f.kind == Kind.SCALARS || f.kind == Kind.STRING || f.kind == Kind.KV_COUNT)
                    .mapToLong(Field::end).max().orElse(0);
            List<Field> numeric = fields.stream().filter(f -> f.kind.width > 0).toList();
            return new Corpus(name, image, fields, numeric, headerEnd);
        }
    }

    /**
     * Walks a valid image independently of {@link GgufFile} and lists its fields: header, keys, value types,
     * lengths, values, tensor infos, the padding and each tensor's data.
     */
    static List<Field> scan(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        List<Field> out = new ArrayList<>();
        Scanner s = new Scanner(bb, out);
        s.fixed(Kind.MAGIC);
        s.fixed(Kind.VERSION);
        long nTensors = s.fixed(Kind.TENSOR_COUNT);
        long nKv = s.fixed(Kind.KV_COUNT);
        long alignment = 32;
        for (long i = 0; i < nKv; i++) {
            long len = s.fixed(Kind.KEY_LEN);
            String key = s.text(Kind.KEY, len);
            int type = (int) s.fixed(Kind.VALUE_TYPE);
            long v = s.value(type);
            if (key.equals(GgufFile.ALIGNMENT_KEY)) {
                alignment = v;
            }
        }
        long[][] shapes = new long[(int) nTensors][];
        long[] types = new long[(int) nTensors];
        long[] offsets = new long[(int) nTensors];
        for (int i = 0; i < nTensors; i++) {
            s.text(Kind.NAME, s.fixed(Kind.NAME_LEN));
            int nd = (int) s.fixed(Kind.N_DIMS);
            shapes[i] = new long[nd];
            for (int d = 0; d < nd; d++) {
                shapes[i][d] = s.fixed(Kind.NE);
            }
            types[i] = s.fixed(Kind.GGML_TYPE);
            offsets[i] = s.fixed(Kind.OFFSET);
        }
        long data = (bb.position() + alignment - 1) / alignment * alignment;
        if (data > bb.position() && data <= b.length) {
            out.add(new Field(Kind.PADDING, bb.position(), data - bb.position()));
        }
        for (int i = 0; i < nTensors; i++) {
            long n = Arrays.stream(shapes[i]).reduce(1, Math::multiplyExact);
            long bytes = GgmlType.byId(types[i]).orElseThrow().bytesFor(n);
            if (bytes > 0) {
                out.add(new Field(Kind.DATA, data + offsets[i], bytes));
            }
        }
        return out;
    }

    private record Scanner(ByteBuffer bb, List<Field> out) {
        long fixed(Kind k) {
            int at = bb.position();
            long v = k.width == 4 ? Integer.toUnsignedLong(bb.getInt()) : bb.getLong();
            out.add(new Field(k, at, k.width));
            return v;
        }

        String text(Kind k, long len) {
            byte[] t = new byte[(int) len];
            out.add(new Field(k, bb.position(), len));
            bb.get(t);
            return new String(t, StandardCharsets.UTF_8);
        }

        /** Reads a value; returns it if it is an integer scalar (for general.alignment). */
        long value(int type) {
            GgufValueType t = GgufValueType.byId(type).orElseThrow();
            switch (t) {
                case STRING -> text(Kind.STRING, fixed(Kind.STRING_LEN));
                case ARRAY -> {
                    GgufValueType et = GgufValueType.byId(fixed(Kind.ARRAY_TYPE)).orElseThrow();
                    long n = fixed(Kind.ARRAY_LEN);
                    if (et == GgufValueType.STRING || et == GgufValueType.ARRAY) {
                        for (long i = 0; i < n; i++) {
                            if (et == GgufValueType.STRING) {
                                text(Kind.STRING, fixed(Kind.STRING_LEN));
                            } else {
                                value(GgufValueType.ARRAY.id());
                            }
                        }
                    } else if (n > 0) {
                        out.add(new Field(Kind.SCALARS, bb.position(), n * et.size()));
                        bb.position((int) (bb.position() + n * et.size()));
                    }
                }
                default -> {
                    int at = bb.position();
                    out.add(new Field(Kind.SCALARS, at, t.size()));
                    long v = switch (t.size()) {
                        case 1 -> bb.get() & 0xff;
                        case 2 -> bb.getShort() & 0xffff;
                        case 4 -> Integer.toUnsignedLong(bb.getInt());
                        default -> bb.getLong();
                    };
                    return v;
                }
            }
            return -1;
        }
    }

    private List<Corpus> corpora() throws IOException {
        List<Corpus> cs = new ArrayList<>();
        cs.add(Corpus.of("stories260K.gguf", Files.readAllBytes(TestData.model("stories260K.gguf"))));
        cs.add(Corpus.of("stories260K.golden.gguf", Files.readAllBytes(TestData.golden("stories260K.golden.gguf"))));
        // Small files written here: every value type, nested arrays and odd tensors, with alignment 64 ...
        Path all = tmp.resolve("all.gguf");
        try (GgufWriter w = GgufWriter.create(all)) {
            w.putAll(GgufWriterTest.everyValueType());
            w.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt32(64));
            for (GgufWriterTest.TestTensor t : GgufWriterTest.sampleTensors(new Random(SEED))) {
                w.addTensor(t.name(), t.type(), t.shape(), GgufWriter.TensorSource.of(MemorySegment.ofArray(
                        t.data())));
            }
            w.finish();
        }
        cs.add(Corpus.of("every-value-type.gguf", Files.readAllBytes(all)));
        // ... and miniatures of real files: every key (long arrays cut short) and every tensor (tiny shapes).
        if (TestData.hasShared()) {
            cs.add(miniature(TestData.model("kjv7m-Q4_K_M.gguf")));
            cs.add(miniature(TestData.model("stories260K-pad256-Q6_K.gguf")));
        } else { // the repository's own copies only (tests/data)
            cs.add(miniature(TestData.model("stories260K-pad256-Q4_K_M.gguf")));
        }
        for (Path p : TestData.goldenFiles("tokenizer", ".gguf")) {
            cs.add(miniature(p));
        }
        return cs;
    }

    /** {@code src} with arrays cut to 48 elements and each tensor shrunk to one or two blocks of its own bytes. */
    private Corpus miniature(Path src) throws IOException {
        Path out = tmp.resolve("mini-" + src.getFileName());
        try (GgufFile f = GgufFile.open(src); GgufWriter w = GgufWriter.create(out)) {
            LinkedHashMap<String, GgufValue> md = new LinkedHashMap<>();
            for (Map.Entry<String, GgufValue> e : f.metadata().asMap().entrySet()) {
                GgufValue v = e.getValue();
                if (v.value() instanceof GgufArray a && a.length() > 48) {
                    Object cut = switch (a.values()) {
                        case long[] l -> Arrays.copyOf(l, 48);
                        case float[] x -> Arrays.copyOf(x, 48);
                        case double[] x -> Arrays.copyOf(x, 48);
                        case boolean[] x -> Arrays.copyOf(x, 48);
                        case String[] x -> Arrays.copyOf(x, 48);
                        case GgufArray[] x -> Arrays.copyOf(x, 48);
                        default -> throw new IllegalStateException();
                    };
                    v = GgufValue.ofArray(new GgufArray(a.elementType(), cut));
                }
                md.put(e.getKey(), v);
            }
            w.putAll(md);
            for (GgufTensor t : f.tensors()) {
                long[] shape = new long[t.dims()];
                Arrays.fill(shape, 1);
                shape[0] = t.type().blockSize();
                if (shape.length > 1) {
                    shape[1] = 2;
                }
                long bytes = t.type().bytesFor(Arrays.stream(shape).reduce(1, Math::multiplyExact));
                w.addTensor(t.name(), t.type(), shape, GgufWriter.TensorSource.of(t.data().asSlice(0, bytes)));
            }
            w.finish();
        }
        return Corpus.of("mini-" + src.getFileName(), Files.readAllBytes(out));
    }
}
