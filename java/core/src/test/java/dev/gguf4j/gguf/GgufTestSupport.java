package dev.gguf4j.gguf;

import dev.gguf4j.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Shared test data lookup and a little-endian byte builder for hand-made GGUF images. */
final class GgufTestSupport {
    private GgufTestSupport() {
    }

    /** The *.gguf files directly in {@code dir} (relative to ../shared; the test is skipped without it), sorted. */
    static List<Path> ggufFiles(String dir) {
        try (Stream<Path> s = Files.list(TestData.shared().resolve(dir))) {
            return s.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static GgufFile read(byte[] image) {
        return GgufFile.read(MemorySegment.ofArray(image), "test.gguf");
    }

    /** A growing little-endian image. */
    static final class Img {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        /** "GGUF", the version and both counts. */
        static Img header(long version, long tensorCount, long kvCount) {
            return new Img().bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensorCount)
                    .u64(kvCount);
        }

        Img u8(int v) {
            out.write(v);
            return this;
        }

        Img u32(long v) {
            return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }

        Img u64(long v) {
            return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Img f32(float v) {
            return u32(Float.floatToRawIntBits(v));
        }

        Img bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        /** A GGUF string: u64 length and UTF-8 bytes. */
        Img str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).bytes(b);
        }

        /** A key and its value type id (the value follows). */
        Img kv(String key, int type) {
            return str(key).u32(type);
        }

        /** A tensor info. */
        Img tensor(String name, int ggmlType, long offset, long... ne) {
            str(name).u32(ne.length);
            for (long n : ne) {
                u64(n);
            }
            return u32(ggmlType).u64(offset);
        }

        /** Zero bytes up to a multiple of {@code align}. */
        Img pad(int align) {
            while (out.size() % align != 0) {
                out.write(0);
            }
            return this;
        }

        Img zeros(int n) {
            out.writeBytes(new byte[n]);
            return this;
        }

        int size() {
            return out.size();
        }

        byte[] toArray() {
            return out.toByteArray();
        }
    }
}
