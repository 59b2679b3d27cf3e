/**
 * The inference engine behind {@link dev.gguf4j.llama.Llama}: <b>internal, not a stable API</b>. Its classes are
 * public only so that the API package, the CLI and the tools of this project can reach them; they may change in
 * any release without notice.
 *
 * <ul>
 * <li>Models: {@link dev.gguf4j.engine.LlamaModel} (the mapped weights), {@link dev.gguf4j.engine.Weight},
 * {@link dev.gguf4j.engine.TensorRole}, and one file per architecture ({@code *Architecture}: hyperparameters,
 * tensor table, block function) registered in {@link dev.gguf4j.engine.Architectures}.</li>
 * <li>The forward pass: {@link dev.gguf4j.engine.BlockOps} (the op interface a block is written against) and
 * {@link dev.gguf4j.engine.Blocks} (shared attention / FFN blocks), implemented on the CPU by
 * {@link dev.gguf4j.engine.CpuOps} over {@link dev.gguf4j.engine.MatMul} and {@link dev.gguf4j.engine.WorkerPool},
 * and on a device by {@link dev.gguf4j.engine.DeviceOps} / {@link dev.gguf4j.engine.DeviceLayers} with
 * {@link dev.gguf4j.engine.DeviceWeights}.</li>
 * <li>Sequences: {@link dev.gguf4j.engine.LlamaSession} (one KV cache; also what
 * {@link dev.gguf4j.llama.Llama#newSession()} returns, and its {@code KvType} is a {@link
 * dev.gguf4j.llama.LlamaOptions} setting: these two are kept compatible), {@link dev.gguf4j.engine.BatchEngine}
 * (continuous batching), {@link dev.gguf4j.engine.Embedder} (embeddings).</li>
 * <li>Sizing: {@link dev.gguf4j.engine.Footprint}, {@link dev.gguf4j.engine.CpuTopology}.</li>
 * </ul>
 */
package dev.gguf4j.engine;
