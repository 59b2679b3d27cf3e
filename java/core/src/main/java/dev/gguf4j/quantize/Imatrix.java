package dev.gguf4j.quantize;

import dev.gguf4j.Gguf4jException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An importance matrix as llama-imatrix writes it (the legacy binary format of llama.cpp c392e50):
 * {@code int32 n_entries}, then per entry {@code int32 name_len, name, int32 ncall, int32 nval, float[nval]},
 * then optionally {@code int32 chunks, int32 dataset_len, dataset}. As llama-quantize does, each entry's values
 * are divided by its {@code ncall}.
 */
public final class Imatrix {
    private final Path file;
    private final Map<String, float[]> entries;
    private final String dataset;
    private final int chunks;

    private Imatrix(Path file, Map<String, float[]> entries, String dataset, int chunks) {
        this.file = file;
        this.entries = entries;
        this.dataset = dataset;
        this.chunks = chunks;
    }

    /** Reads {@code file}; malformed input is an {@link ImatrixFormatException} naming the entry and the field. */
    public static Imatrix read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new Gguf4jException(file + ": imatrix file does not exist");
        }
        if (bytes.length >= 4 && bytes[0] == 'G' && bytes[1] == 'G' && bytes[2] == 'U' && bytes[3] == 'F') {
            throw new ImatrixFormatException(file, "format", "this is a GGUF imatrix (newer llama.cpp); only the legacy "
                    + "binary format is supported yet: convert it with llama-imatrix --output-format dat");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = int32(in, file, "n_entries");
        if (n < 1 || n > bytes.length / 12) {
            throw new ImatrixFormatException(file, "n_entries", n + " is not in [1, " + bytes.length / 12 + "]");
        }
        Map<String, float[]> entries = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String where = "entry #" + i;
            int len = int32(in, file, where + " name length");
            if (len < 0 || len > in.remaining()) {
                throw new ImatrixFormatException(file, where, "name length " + len + " exceeds the " + in.remaining()
                        + " bytes left");
            }
            byte[] name = new byte[len];
            in.get(name);
            String key = new String(name, StandardCharsets.UTF_8);
            where = "entry '" + key + "'";
            int ncall = int32(in, file, where + " ncall");
            int nval = int32(in, file, where + " nval");
            if (nval < 1 || nval > in.remaining() / 4) {
                throw new ImatrixFormatException(file, where, "nval " + nval + " is not in [1, " + in.remaining() / 4 + "]");
            }
            float[] v = new float[nval];
            in.asFloatBuffer().get(v);
            in.position(in.position() + 4 * nval);
            if (ncall > 0) {
                for (int j = 0; j < nval; j++) {
                    v[j] /= ncall;
                }
            }
            entries.put(key, v);
        }
        String dataset = "";
        int chunks = 0;
        if (in.remaining() > 0) {
            chunks = int32(in, file, "chunk count");
            int len = int32(in, file, "dataset name length");
            if (len < 0 || len > in.remaining()) {
                throw new ImatrixFormatException(file, "dataset name", "length " + len + " exceeds the " + in.remaining()
                        + " bytes left");
            }
            byte[] d = new byte[len];
            in.get(d);
            dataset = new String(d, StandardCharsets.UTF_8);
        }
        return new Imatrix(file, Collections.unmodifiableMap(entries), dataset, chunks);
    }

    /** One entry as the file stores it: the tensor name, its call count and its values (not divided by ncall). */
    public record StoredEntry(String name, int ncall, float[] values) {
    }

    /**
     * Writes {@code entries} in the format {@link #read} reads (llama-imatrix c392e50's {@code save_imatrix}),
     * ending with {@code chunks} and the {@code dataset} name, through a temporary file in {@code out}'s folder
     * renamed when complete.
     */
    public static void write(Path out, List<StoredEntry> entries, int chunks, String dataset) throws IOException {
        byte[] ds = dataset.getBytes(StandardCharsets.UTF_8);
        long size = 4 + 8 + ds.length;
        for (StoredEntry e : entries) {
            size += 12 + e.name().getBytes(StandardCharsets.UTF_8).length + 4L * e.values().length;
        }
        if (size > Integer.MAX_VALUE) {
            throw new Gguf4jException(out + ": an imatrix of " + size + " bytes is too large");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(entries.size());
        for (StoredEntry e : entries) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            b.putInt(name.length).put(name).putInt(e.ncall()).putInt(e.values().length);
            for (float v : e.values()) {
                b.putFloat(v);
            }
        }
        b.putInt(chunks).putInt(ds.length).put(ds);
        Path partial = dev.gguf4j.gguf.PartialFile.create(out);
        try {
            Files.write(partial, b.array());
            dev.gguf4j.gguf.PartialFile.commit(partial, out);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private static int int32(ByteBuffer in, Path file, String field) {
        if (in.remaining() < 4) {
            throw new ImatrixFormatException(file, field, "the file ends (truncated?)");
        }
        return in.getInt();
    }

    public Path file() {
        return file;
    }

    /** Entries by tensor name, values already divided by ncall. */
    public Map<String, float[]> entries() {
        return entries;
    }

    public Optional<float[]> forTensor(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    public String dataset() {
        return dataset;
    }

    /** Chunks the matrix was computed on (0 if the file does not say). */
    public int chunks() {
        return chunks;
    }

    /**
     * The entries llama-quantize keeps for {@code --include-weights} / {@code --exclude-weights}: names containing
     * any excluded pattern are dropped; with include patterns, only names containing one are kept.
     */
    public Imatrix filter(List<String> include, List<String> exclude) {
        Map<String, float[]> kept = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            boolean excluded = exclude.stream().anyMatch(k::contains);
            boolean included = include.isEmpty() || include.stream().anyMatch(k::contains);
            if (!excluded && included) {
                kept.put(k, v);
            }
        });
        return new Imatrix(file, Collections.unmodifiableMap(kept), dataset, chunks);
    }

    /** A malformed imatrix file. */
    public static final class ImatrixFormatException extends Gguf4jException {
        private static final long serialVersionUID = 1L;

        ImatrixFormatException(Path file, String field, String problem) {
            super(file + ": " + field + ": " + problem);
        }
    }
}
