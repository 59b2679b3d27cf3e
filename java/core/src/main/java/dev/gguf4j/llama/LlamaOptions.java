package dev.gguf4j.llama;

import dev.gguf4j.engine.CpuTopology;
import dev.gguf4j.engine.LlamaModel;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.engine.LlamaSession.KvType;

/**
 * How to load and run a model, as llama-cpp-python's {@code Llama(model_path, n_ctx, n_threads, n_batch,
 * n_gpu_layers, seed, use_mmap, use_mlock)}.
 *
 * @param contextLength tokens of context per session; 0 = the model's training context, capped at
 *                      {@link #DEFAULT_CONTEXT_CAP} (logged)
 * @param threads       worker threads per session; 0 = the physical cores available (hyper-threads not counted)
 * @param batchSize     prompt tokens evaluated per step (prompt processing)
 * @param gpuLayers     layers to run on the GPU, as llama.cpp's {@code n_gpu_layers}: the last N repeating layers,
 *                      and the output layer too when N exceeds the layer count; -1 (or any N above the layer
 *                      count) = everything but the token embedding; 0 = CPU only (the default);
 *                      {@link #GPU_LAYERS_AUTO} = as many as fit the GPU's free memory (CPU only without a GPU).
 *                      See {@link OffloadPlan}
 * @param kvType        KV cache element type (F16 as llama.cpp, or F32)
 * @param seed          default sampling seed
 * @param useMmap       memory-map the weights (default); false reads them into off-heap memory the model owns
 * @param useMlock      lock the weights in RAM (mlock(2)); if that fails, a warning and the model loads unlocked
 *                      (as llama.cpp; see {@link LlamaModel#load(java.nio.file.Path, boolean, boolean)})
 * @param contextPrompt null, or size the context for this prompt: see {@link #withContextFor(String, int)}
 * @param contextExtra  tokens to allow after {@code contextPrompt}
 * @param repack        copy the CPU matrix weights at load: Q4_0, Q8_0, Q4_K, Q5_K and Q6_K with rows
 *                      interleaved by 8, the other types' file bytes, onto huge pages (default true; see
 *                      {@link #withRepack(boolean)})
 */
public record LlamaOptions(int contextLength, int threads, int batchSize, int gpuLayers, KvType kvType, long seed,
        boolean useMmap, boolean useMlock, String contextPrompt, int contextExtra, boolean repack) {
    public static final int DEFAULT_CONTEXT_CAP = 4096;

    /** {@link #gpuLayers}: as many layers as fit the device's free memory with a margin. */
    public static final int GPU_LAYERS_AUTO = Integer.MIN_VALUE;
    /** {@link #gpuLayers}: everything (llama.cpp's -1). */
    public static final int GPU_LAYERS_ALL = -1;

    public static final LlamaOptions DEFAULTS = new LlamaOptions(0, 0, 512, 0, KvType.F16, 0xFFFFFFFFL, true, false);

    /** mmap on, mlock off. */
    public LlamaOptions(int contextLength, int threads, int batchSize, int gpuLayers, KvType kvType, long seed) {
        this(contextLength, threads, batchSize, gpuLayers, kvType, seed, true, false);
    }

    /** The context as {@code contextLength} says. */
    public LlamaOptions(int contextLength, int threads, int batchSize, int gpuLayers, KvType kvType, long seed,
            boolean useMmap, boolean useMlock) {
        this(contextLength, threads, batchSize, gpuLayers, kvType, seed, useMmap, useMlock, null, 0, true);
    }

    public LlamaOptions {
        if (contextLength < 0 || threads < 0 || batchSize < 1) {
            throw new IllegalArgumentException("contextLength and threads must be >= 0, batchSize >= 1: "
                    + contextLength + ", " + threads + ", " + batchSize);
        }
        if (contextExtra < 0) {
            throw new IllegalArgumentException("contextExtra must be >= 0: " + contextExtra);
        }
        if (gpuLayers < GPU_LAYERS_ALL && gpuLayers != GPU_LAYERS_AUTO) {
            throw new IllegalArgumentException("gpuLayers=" + gpuLayers + " is out of range: 0 (CPU only) to the layer"
                    + " count + 1, -1 (everything) or GPU_LAYERS_AUTO");
        }
    }

    /** A context of {@code n} tokens per session (0: the model's training context, capped). */
    public LlamaOptions withContextLength(int n) {
        return new LlamaOptions(n, threads, batchSize, gpuLayers, kvType, seed, useMmap, useMlock, null, 0, repack);
    }

    /**
     * A context just large enough for {@code prompt} (its tokens with BOS, counted by the model's own tokenizer at
     * load) and {@code maxTokens} more (at least 1), as llama-simple sizes {@code n_ctx}: the least KV memory for one
     * known prompt. Replaces {@link #withContextLength(int)}.
     */
    public LlamaOptions withContextFor(String prompt, int maxTokens) {
        return new LlamaOptions(0, threads, batchSize, gpuLayers, kvType, seed, useMmap, useMlock,
                java.util.Objects.requireNonNull(prompt, "prompt"), Math.max(1, maxTokens), repack);
    }

    public LlamaOptions withThreads(int n) {
        return new LlamaOptions(contextLength, n, batchSize, gpuLayers, kvType, seed, useMmap, useMlock,
                contextPrompt, contextExtra, repack);
    }

    /** GPU layers: N, -1 for everything, or {@link #GPU_LAYERS_AUTO}. */
    public LlamaOptions withGpuLayers(int n) {
        return new LlamaOptions(contextLength, threads, batchSize, n, kvType, seed, useMmap, useMlock, contextPrompt,
                contextExtra, repack);
    }

    /** As many GPU layers as fit ({@link #GPU_LAYERS_AUTO}). */
    public LlamaOptions withGpuLayersAuto() {
        return withGpuLayers(GPU_LAYERS_AUTO);
    }

    public LlamaOptions withBatchSize(int n) {
        return new LlamaOptions(contextLength, threads, n, gpuLayers, kvType, seed, useMmap, useMlock, contextPrompt,
                contextExtra, repack);
    }

    public LlamaOptions withKvType(KvType t) {
        return new LlamaOptions(contextLength, threads, batchSize, gpuLayers, t, seed, useMmap, useMlock,
                contextPrompt, contextExtra, repack);
    }

    public LlamaOptions withSeed(long s) {
        return new LlamaOptions(contextLength, threads, batchSize, gpuLayers, kvType, s, useMmap, useMlock,
                contextPrompt, contextExtra, repack);
    }

    /**
     * Whether to memory-map the model file (the default, llama.cpp's {@code use_mmap}) or read it once into off-heap
     * memory ({@code false}, {@code --no-mmap}). A mapped file must not shrink while it is loaded: truncating or
     * rewriting it in place (a copy or download over it, not a rename) makes the next read of a lost page kill the
     * JVM with SIGBUS inside a kernel, as it kills llama.cpp. Each session checks the file's size before its first
     * step and then at most every 100 ms, and fails with a {@link dev.gguf4j.Gguf4jException} naming the file and
     * both sizes; a cut during a step cannot be caught. With mmap off the file is not read again after loading,
     * so nothing done to it matters.
     */
    public LlamaOptions withMmap(boolean on) {
        return new LlamaOptions(contextLength, threads, batchSize, gpuLayers, kvType, seed, on, useMlock,
                contextPrompt, contextExtra, repack);
    }

    public LlamaOptions withMlock(boolean on) {
        return new LlamaOptions(contextLength, threads, batchSize, gpuLayers, kvType, seed, useMmap, on,
                contextPrompt, contextExtra, repack);
    }

    /**
     * Whether to copy the matrix weights at load (default on), the native CPU backend's table
     * ({@code Backend.repackKind}): for Q4_0, Q8_0, Q4_K, Q5_K and Q6_K a copy with rows interleaved by 8
     * (llama.cpp repacks Q4_0 likewise, its q4_0_8x8; ik_llama.cpp all five, its _r4 / _r8 types), for every
     * other type a copy of the file's bytes,
     * both on transparent huge pages and read by every matrix product, batches and generation. When the file is
     * memory-mapped and not locked, the mapped pages a copy was made from are then released (MADV_DONTNEED), so it
     * costs load time (a memory copy) rather than memory: on 4 KiB page-cache pages generation ran 0.77-0.92x of
     * ik_llama.cpp's, from memory 0.96-1.18x (docs/benchmarks.md). Results are bit-identical either way for Q4_0,
     * Q8_0 and the plain copies; the k-quants' interleaved copies compute their own arithmetic (one exact integer
     * per row, column and super-block; docs/determinism.md), the same bits for every batch size, thread count and
     * kernel variant, within float rounding of ggml's vec_dot, which {@code --no-repack} keeps (logged at load:
     * bytes, time, which of the two). Off ({@code --no-repack}) runs straight from the file's mapped pages. Only
     * done when everything runs on the CPU (no GPU layers); without mmap (or locked) the weights stay where they
     * are, the other types are not copied and the interleaved types get their copy on top.
     */
    public LlamaOptions withRepack(boolean on) {
        return new LlamaOptions(contextLength, threads, batchSize, gpuLayers, kvType, seed, useMmap, useMlock,
                contextPrompt, contextExtra, on);
    }

    int effectiveThreads() {
        return threads > 0 ? threads : CpuTopology.physicalCores();
    }
}
