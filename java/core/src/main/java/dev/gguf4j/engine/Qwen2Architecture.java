package dev.gguf4j.engine;

/**
 * {@code qwen2} (Qwen 2 / 2.5, the DeepSeek-R1 Qwen distills): llama's block with NEOX-style RoPE and Q/K/V
 * biases, which llama.cpp's {@code llm_build_qwen2} requires.
 */
final class Qwen2Architecture extends LlamaArchitecture {
    @Override
    public String name() {
        return "qwen2";
    }

    @Override
    protected boolean ropeNeox() {
        return true;
    }

    @Override
    protected boolean biasesRequired() {
        return true;
    }
}
