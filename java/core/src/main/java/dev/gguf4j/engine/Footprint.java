package dev.gguf4j.engine;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaConfig;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.llama.OffloadPlan;

/**
 * The engine's own memory numbers, for planning without loading a model ({@code gguf4j fit},
 * {@code dev.gguf4j.fit.ModelFit}): the same definitions {@link LlamaSession}, {@link Llama} and
 * {@link OffloadPlan} allocate and plan with.
 */
public final class Footprint {
    /**
     * What a CPU process holds besides the model file, its KV cache and the activations of {@link #activationBytes}:
     * the JVM, heap, classes, JIT, tokenizer, worker threads and matmul scratch. Measured as the peak RSS of
     * {@code gguf4j run -c 2048} (571 prompt tokens, 16 generated, 2 threads, JDK 25, AVX2 machine) less those
     * parts: 117 MB (TinyLlama Q4_K_M), 124 MB (Q8_0), 149 MB (Q4_0 with its repacked copy); a 7M-parameter model
     * peaks at 91 MB in all. An estimate (docs/benchmarks.md, "fit").
     */
    public static final long RUNTIME_OVERHEAD_BYTES = 128L << 20;

    private Footprint() {
    }

    /** The hyper-parameters {@link Llama#load} reads from this file (its architecture's reader). */
    public static LlamaConfig config(GgufFile file) {
        int vocab = file.metadata().getArray(WellKnownKeys.TOKENS).length();
        return LlamaConfig.from(file.source(), file.metadata(), vocab);
    }

    /**
     * Why the device cannot run the model's top {@code gpuLayers} layers (-ngl semantics: layers + 1 adds the
     * output layer) yet, as {@code -ngl} would refuse it before uploading anything; empty when it can (or for 0).
     */
    public static java.util.Optional<String> offloadRefusal(GgufFile file, int gpuLayers, String device) {
        if (gpuLayers <= 0) {
            return java.util.Optional.empty();
        }
        LlamaConfig c = config(file);
        Architecture arch = Architectures.of(file.source(), new WellKnownKeys(file.metadata()).architecture());
        int n = c.layers();
        return DeviceOps.unsupported(c, arch, device, n - Math.min(gpuLayers, n), gpuLayers > n);
    }

    /** The context a session gets when none is asked for: the training context, capped as {@link Llama} caps it. */
    public static int defaultContext(LlamaConfig c) {
        return Math.min(c.contextLength(), LlamaOptions.DEFAULT_CONTEXT_CAP);
    }

    /** The thread count {@link LlamaOptions} uses by default (threads 0): the physical cores. */
    public static int defaultThreads() {
        return CpuTopology.physicalCores();
    }

    /** Bytes of KV cache a session of {@code contextLength} holds: every layer's keys and values. */
    public static long kvCacheBytes(LlamaConfig c, int contextLength, LlamaSession.KvType kv) {
        return (long) c.layers() * DeviceLayers.kvBytesPerLayer(c, contextLength, kv);
    }

    /**
     * Bytes of a CPU session's activation buffers for steps of up to {@code tokens} tokens (every slot of the
     * block, [tokens][width] floats) plus the logits of one token.
     */
    public static long activationBytes(LlamaConfig c, int tokens) {
        long perToken = 0;
        for (BlockOps.Act a : BlockOps.Act.values()) {
            if (a != BlockOps.Act.LOGITS) {
                perToken += CpuOps.width(c, a);
            }
        }
        return 4L * tokens * perToken + 4L * c.vocab();
    }

    /**
     * What each part of a model needs in device memory for one session ({@link OffloadPlan.Sizes}): given each
     * layer's weight bytes (matrices as stored, vectors as F32) and the output matrix's bytes; the output layer
     * adds the output norm (F32).
     */
    public static OffloadPlan.Sizes offloadSizes(LlamaConfig c, long[] layerBytes, long outputWeightBytes,
            int contextLength, LlamaSession.KvType kv, int maxTokens) {
        return new OffloadPlan.Sizes(layerBytes.clone(), outputWeightBytes + 4L * c.dim(),
                DeviceLayers.kvBytesPerLayer(c, contextLength, kv), DeviceLayers.scratchBytes(c, maxTokens),
                DeviceLayers.outputScratchBytes(c, maxTokens));
    }

    /** Tokens per device step for a context: the batch size, at most the context (as {@link Llama} uses). */
    public static int deviceStep(int batchSize, int contextLength) {
        return Math.max(1, Math.min(batchSize, contextLength));
    }
}
