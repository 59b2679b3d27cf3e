package dev.gguf4j.cli;

import dev.gguf4j.llama.LlamaOptions;

/**
 * The loading flags of the commands that evaluate a model without generating ({@code perplexity}, {@code imatrix},
 * {@code embed}), as llama.cpp spells them: {@code -t N}, {@code --no-mmap}, {@code --mlock}. ({@code run} and
 * {@code chat} take them with the rest of {@link GenerationFlags}.)
 */
final class LoadFlags {
    private int threads;
    private boolean mmap = true;
    private boolean mlock;

    /** Takes option {@code o} (and its value) if it is one of these flags; false if it is not. */
    boolean accept(String o, Args a) {
        switch (o) {
            case "-t", "--threads" -> threads = a.intValue(o, 0, Args.MAX_THREADS);
            case "--no-mmap" -> mmap = false;
            case "--mlock" -> mlock = true;
            default -> {
                return false;
            }
        }
        return true;
    }

    /**
     * The options these flags give: threads, mmap, mlock, and no weight copies at load (withRepack(false): Q4_0's
     * copy only speeds up one-token generation, which these commands do not do, and the huge-page copies of the
     * other types, made for generation's prefetching, would cost their load time).
     */
    LlamaOptions options() {
        return LlamaOptions.DEFAULTS.withThreads(threads).withMmap(mmap).withMlock(mlock).withRepack(false);
    }
}
