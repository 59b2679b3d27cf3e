package dev.gguf4j.quantize;

import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What to quantize to and how: llama-quantize's options. {@code fileType} empty means COPY (tensors copied as
 * they are, metadata rewritten).
 */
public final class QuantizeOptions {
    Optional<FileType> fileType = Optional.empty();
    int threads = Runtime.getRuntime().availableProcessors();
    Optional<Path> imatrix = Optional.empty();
    final List<String> includeWeights = new ArrayList<>();
    final List<String> excludeWeights = new ArrayList<>();
    Optional<GgmlType> outputTensorType = Optional.empty();
    Optional<GgmlType> tokenEmbeddingType = Optional.empty();
    boolean leaveOutputTensor;
    boolean pure;
    boolean allowRequantize;
    final List<KvOverride> overrides = new ArrayList<>();
    Search search = Search.REFERENCE;
    Optional<Path> calibration = Optional.empty();
    int calibrationCtx = CALIBRATION_CTX;
    int calibrationChunks = CALIBRATION_CHUNKS;

    /**
     * How block values are chosen: {@code REFERENCE} is ggml's search (byte-identical to llama-quantize);
     * {@code BETTER} is {@link dev.gguf4j.quant.BetterSearch} for the k-quants (same layout and file type, lower
     * weighted error, different bytes), recorded in the output under {@link ModelQuantizer#SEARCH_KEY}.
     */
    public enum Search {
        REFERENCE, BETTER;

        /** The name {@code --search} takes and the metadata records ({@code reference}, {@code better}). */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A {@code --override-kv KEY=TYPE:VALUE} entry, with TYPE int, float, bool or str as llama-quantize takes. */
    public record KvOverride(String key, GgufValue value) {
        /** Parses {@code KEY=int:5}, {@code KEY=float:0.5}, {@code KEY=bool:true}, {@code KEY=str:text}. */
        public static KvOverride parse(String spec) {
            int eq = spec.indexOf('=');
            if (eq <= 0 || eq >= 128) {
                throw new IllegalArgumentException("malformed KV override '" + spec + "': expected KEY=TYPE:VALUE");
            }
            String key = spec.substring(0, eq);
            String v = spec.substring(eq + 1);
            GgufValue value;
            if (v.startsWith("int:")) {
                // llama-quantize stores INT overrides as INT32
                value = GgufValue.ofInt32((int) Long.parseLong(v.substring(4).trim()));
            } else if (v.startsWith("float:")) {
                value = GgufValue.ofFloat32(Float.parseFloat(v.substring(6).trim()));
            } else if (v.startsWith("bool:")) {
                String b = v.substring(5);
                if (!b.equals("true") && !b.equals("false")) {
                    throw new IllegalArgumentException("invalid boolean in KV override '" + spec + "'");
                }
                value = GgufValue.ofBool(b.equals("true"));
            } else if (v.startsWith("str:")) {
                String s = v.substring(4);
                if (s.length() > 127) {
                    throw new IllegalArgumentException("KV override '" + key + "': string longer than 127 characters");
                }
                value = GgufValue.ofString(s);
            } else {
                throw new IllegalArgumentException("invalid type in KV override '" + spec + "': use int:, float:, bool: or str:");
            }
            return new KvOverride(key, value);
        }
    }

    public static QuantizeOptions to(FileType type) {
        QuantizeOptions o = new QuantizeOptions();
        o.fileType = Optional.of(type);
        return o;
    }

    /** Copy every tensor as it is (llama-quantize's COPY). */
    public static QuantizeOptions copy() {
        return new QuantizeOptions();
    }

    public QuantizeOptions threads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        threads = n;
        return this;
    }

    public QuantizeOptions imatrix(Path file) {
        imatrix = Optional.of(file);
        return this;
    }

    public QuantizeOptions includeWeights(String pattern) {
        includeWeights.add(pattern);
        return this;
    }

    public QuantizeOptions excludeWeights(String pattern) {
        excludeWeights.add(pattern);
        return this;
    }

    public QuantizeOptions outputTensorType(GgmlType t) {
        outputTensorType = Optional.of(t);
        return this;
    }

    public QuantizeOptions tokenEmbeddingType(GgmlType t) {
        tokenEmbeddingType = Optional.of(t);
        return this;
    }

    public QuantizeOptions leaveOutputTensor(boolean v) {
        leaveOutputTensor = v;
        return this;
    }

    public QuantizeOptions pure(boolean v) {
        pure = v;
        return this;
    }

    public QuantizeOptions allowRequantize(boolean v) {
        allowRequantize = v;
        return this;
    }

    public QuantizeOptions search(Search s) {
        search = java.util.Objects.requireNonNull(s);
        return this;
    }

    public Search search() {
        return search;
    }

    /**
     * With {@link Search#BETTER}: a calibration text (UTF-8) to run through the input model; every k-quant
     * weight whose input it sees is quantized with GPTQ ({@link dev.gguf4j.quant.Gptq}) on the Gram matrix of
     * those inputs, in chunks of {@code ctx} tokens, at most {@code chunks} of them. Or a calibration of this
     * model saved before by {@link Calibration#save} ({@code gguf4j calibrate}; a GGUF file: {@code ctx} and
     * {@code chunks} are then those it was made with, and these are ignored). Without one the search is per
     * block.
     */
    public QuantizeOptions calibration(Path textOrSaved, int ctx, int chunks) {
        if (ctx < 2 || chunks < 1) {
            throw new IllegalArgumentException("calibration needs ctx >= 2 and chunks >= 1, got " + ctx + ", " + chunks);
        }
        calibration = Optional.of(textOrSaved);
        calibrationCtx = ctx;
        calibrationChunks = chunks;
        return this;
    }

    /** Default tokens per calibration chunk. */
    public static final int CALIBRATION_CTX = 256;
    /** Default most calibration chunks. */
    public static final int CALIBRATION_CHUNKS = 64;

    /** A calibration text or file for GPTQ, as {@link #calibration(Path, int, int)} with the defaults. */
    public QuantizeOptions calibration(Path textOrSaved) {
        return calibration(textOrSaved, CALIBRATION_CTX, CALIBRATION_CHUNKS);
    }

    public Optional<Path> calibration() {
        return calibration;
    }

    public QuantizeOptions override(KvOverride o) {
        overrides.add(o);
        return this;
    }

    public Optional<FileType> fileType() {
        return fileType;
    }

    public int threads() {
        return threads;
    }

    public boolean allowRequantize() {
        return allowRequantize;
    }
}
