package dev.gguf4j.llama;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.Gguf4jException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model's weights (the tensors its {@link Architecture}'s table names), memory-mapped and never copied (norm vectors and biases, a few KB, are
 * decoded to float[]), or, with mmap off, read once into off-heap memory the model owns. Immutable and shared:
 * any number of {@link LlamaSession}s, each with its own KV cache, can run on one model at once. Closing it
 * unmaps the file or frees the memory at once.
 */
public final class LlamaModel implements AutoCloseable {
    private final GgufFile file;
    private final LlamaConfig config;
    private final Architecture architecture;
    private final GgufTensor tokenEmbedding;
    private final float[] outputNorm;
    private final Weight output;
    private final List<TensorRole.Spec> layerTensors; // the architecture's table for this config
    private final Weight[][] matrices;  // [layer][TensorRole ordinal]: the table's matrices (null: absent)
    private final float[][][] vectors;  // [layer][TensorRole ordinal]: its norm weights and biases (null: absent)
    private final float[] ropeFreqs; // [ropeDim/2] Llama-3 rope scaling factors (rope_freqs.weight), or null
    /** Why mlock was asked for and failed; null when not asked for or when it worked. */
    private volatile String lockFailure;
    private volatile boolean locked;
    /** The mapped file, open to read its current size (fstat: the mapped inode, even if renamed over); null unmapped. */
    private FileChannel mappedFile;

    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");

    private LlamaModel(GgufFile file) {
        this.file = file;
        String src = file.source();
        int vocab = file.metadata().getArray(WellKnownKeys.TOKENS).length();
        this.architecture = Architectures.of(src, new WellKnownKeys(file.metadata()).architecture())
                .forFile(src, file.metadata());
        this.config = architecture.config(src, file.metadata(), vocab);
        LlamaConfig c = config;
        this.tokenEmbedding = required(file, TensorRole.TOKEN_EMBD.tensorName(0));
        Weight.of(src, tokenEmbedding, c.dim(), c.vocab()); // shape check
        this.outputNorm = decode(file, required(file, TensorRole.OUTPUT_NORM.tensorName(0)), c.dim());
        // untied models have output.weight; tied ones reuse the token embedding
        this.output = Weight.of(src, file.tensor(TensorRole.OUTPUT.tensorName(0)).orElse(tokenEmbedding), c.dim(),
                c.vocab());
        this.ropeFreqs = file.tensor(TensorRole.ROPE_FREQS.tensorName(0)).map(t -> decode(file, t, c.ropeDim() / 2))
                .orElse(null);
        this.layerTensors = List.copyOf(architecture.layerTensors(c));
        int roles = TensorRole.values().length;
        this.matrices = new Weight[c.layers()][roles];
        this.vectors = new float[c.layers()][roles][];
        for (int l = 0; l < c.layers(); l++) {
            for (TensorRole.Spec s : layerTensors) {
                String name = s.role().tensorName(l);
                Optional<GgufTensor> t = file.tensor(name);
                if (t.isEmpty()) {
                    if (s.required()) {
                        required(file, name);
                    }
                    continue;
                }
                if (s.matrix()) {
                    matrices[l][s.role().ordinal()] = Weight.of(src, t.get(), s.cols(), s.rows());
                } else {
                    vectors[l][s.role().ordinal()] = decode(file, t.get(), s.cols());
                }
            }
        }
    }

    /** The tensor called {@code name}; an {@link ArchitectureException} naming the architecture if it is missing. */
    private GgufTensor required(GgufFile f, String name) {
        return f.tensor(name).orElseThrow(() -> new ArchitectureException(f.source(), architecture.name(),
                "tensor '" + name + "'", "is missing, and the " + architecture.name() + " architecture requires it",
                Architectures.names()));
    }

    /** Maps and checks the model at {@code path}. */
    public static LlamaModel load(Path path) throws IOException {
        return load(path, true, false);
    }

    /**
     * Loads and checks the model at {@code path}, as llama.cpp's {@code use_mmap} / {@code use_mlock}.
     *
     * @param mmap  memory-map the file (pages come in on demand and are shared with the page cache); false reads
     *              it whole into off-heap memory owned by the model, freed by {@link #close()} (a
     *              {@link dev.gguf4j.gguf.GgufLoadException} if the memory cannot be had or the read fails)
     * @param mlock lock the weight pages in RAM (mlock(2)) so they are never paged out. As llama.cpp, a failure
     *              (typically RLIMIT_MEMLOCK) is a warning, logged once, and loading goes on unlocked:
     *              {@link #memoryLocked()} and {@link #lockFailure()} tell what happened
     */
    public static LlamaModel load(Path path, boolean mmap, boolean mlock) throws IOException {
        GgufFile f = mmap ? GgufFile.open(path) : GgufFile.load(path);
        LlamaModel m;
        try {
            m = new LlamaModel(f);
            if (mmap) {
                m.mappedFile = FileChannel.open(path, StandardOpenOption.READ);
            }
        } catch (RuntimeException | IOException e) {
            f.close();
            throw e;
        }
        if (mlock) {
            m.lock();
        }
        return m;
    }

    private void lock() {
        Optional<String> failure = dev.gguf4j.internal.MemoryLock.lock(weightBytes());
        if (failure.isPresent()) {
            dev.gguf4j.internal.MemoryLock.unlock(weightBytes()); // in case part of it was locked
            lockFailure = failure.get();
            LOG.log(System.Logger.Level.WARNING, "gguf4j: " + file.source() + ": could not lock the weights in RAM,"
                    + " going on without: " + lockFailure);
        } else {
            locked = true;
        }
    }

    /** The file's data section: the weights (the header and metadata were parsed already). */
    private java.lang.foreign.MemorySegment weightBytes() {
        return file.contents().asSlice(Math.min(file.dataOffset(), file.contents().byteSize()));
    }

    /** Whether the weights are locked in RAM (mlock asked for, and it worked). */
    public boolean memoryLocked() {
        return locked;
    }

    /** Why mlock failed (errno, RLIMIT_MEMLOCK), when it was asked for and failed. */
    public Optional<String> lockFailure() {
        return Optional.ofNullable(lockFailure);
    }

    private static float[] decode(GgufFile f, GgufTensor t, int n) {
        if (t.elementCount() != n) {
            throw new dev.gguf4j.gguf.GgufFormatException(f.source(), "tensor '" + t.name() + "'", "has "
                    + t.elementCount() + " elements, expected " + n);
        }
        float[] v = new float[n];
        Codecs.of(t.type()).dequantize(t.data(), 0, v, 0, n);
        return v;
    }

    public LlamaConfig config() {
        return config;
    }

    public GgufFile file() {
        return file;
    }

    GgufTensor tokenEmbedding() {
        return tokenEmbedding;
    }

    float[] outputNorm() {
        return outputNorm;
    }

    Weight output() {
        return output;
    }

    /** Per-frequency RoPE divisors (Llama 3.1+'s rope_freqs.weight), or null. */
    float[] ropeFreqs() {
        return ropeFreqs;
    }

    /** The model's architecture. */
    Architecture architecture() {
        return architecture;
    }

    /** The architecture's per-layer tensor table for this model's shape. */
    List<TensorRole.Spec> layerTensors() {
        return layerTensors;
    }

    /** Layer {@code l}'s matrix of this role, or null when the model has none. */
    Weight weight(int l, TensorRole role) {
        return matrices[l][role.ordinal()];
    }

    /** Layer {@code l}'s vector (norm weights, bias) of this role, or null when the model has none. */
    float[] vector(int l, TensorRole role) {
        return vectors[l][role.ordinal()];
    }

    /** Layer {@code l}'s matrices, in table order. */
    List<Weight> weights(int l) {
        List<Weight> ws = new java.util.ArrayList<>();
        for (TensorRole.Spec s : layerTensors) {
            Weight w = s.matrix() ? matrices[l][s.role().ordinal()] : null;
            if (w != null) {
                ws.add(w);
            }
        }
        return ws;
    }

    /**
     * Fails if the mapped file has shrunk below the mapping since it was loaded: reading the pages past its new end
     * would kill the JVM with SIGBUS inside a kernel (as it kills llama.cpp). {@link LlamaSession} checks this
     * before its first step and then at most every {@link #FILE_CHECK_NANOS}; it narrows the window, it cannot close
     * it (a file cut while a step runs still kills the process): loading with mmap off is the way to be immune.
     * Free with mmap off (the file is not read again).
     */
    void checkMappedFile() {
        FileChannel ch = mappedFile;
        if (ch == null) {
            return;
        }
        long now;
        try {
            now = ch.size();
        } catch (java.nio.channels.ClosedChannelException e) {
            throw new IllegalStateException("closed");
        } catch (IOException e) {
            return; // cannot tell; the mapping may still be whole
        }
        long mapped = file.contents().byteSize();
        if (now < mapped) {
            throw new Gguf4jException(file.source() + ": the model file shrank from " + mapped + " to " + now
                    + " bytes while it was memory-mapped (truncated or rewritten in place); reading it now would crash"
                    + " the JVM (SIGBUS). Restore the file and load it again, or load with mmap off (--no-mmap,"
                    + " LlamaOptions.withMmap(false)) to read it into memory once");
        }
    }

    /** How often a session re-checks the mapped file's size ({@link #checkMappedFile}): every 100 ms at most. */
    static final long FILE_CHECK_NANOS = 100_000_000L;

    /** Unmaps the file or frees the memory holding the weights (unlocking them first if locked). */
    @Override
    public synchronized void close() {
        if (locked && file.contents().scope().isAlive()) {
            dev.gguf4j.internal.MemoryLock.unlock(weightBytes());
            locked = false;
        }
        file.close();
        if (mappedFile != null) {
            try {
                mappedFile.close();
            } catch (IOException ignored) {
                // a read-only descriptor: nothing was written
            }
        }
    }
}
