/**
 * The public API: {@link dev.gguf4j.llama.Llama} (load a GGUF model; complete, stream, chat, embed) with its
 * options and results ({@link dev.gguf4j.llama.LlamaOptions}, {@link dev.gguf4j.llama.CompletionParams},
 * {@link dev.gguf4j.llama.Completion}, {@link dev.gguf4j.llama.Timings}, {@link dev.gguf4j.llama.TokenLogprob},
 * {@link dev.gguf4j.llama.EmbeddingParams}, {@link dev.gguf4j.llama.Embeddings},
 * {@link dev.gguf4j.llama.Pooling}), the model's description ({@link dev.gguf4j.llama.LlamaConfig}), where its
 * layers run ({@link dev.gguf4j.llama.OffloadPlan}), its errors ({@link dev.gguf4j.llama.ArchitectureException},
 * {@link dev.gguf4j.llama.GenerationCancelledException}), and the measuring tools built on it
 * ({@link dev.gguf4j.llama.Perplexity}, {@link dev.gguf4j.llama.Bench}). The engine that computes is in
 * {@code dev.gguf4j.engine}, which is internal.
 */
package dev.gguf4j.llama;
