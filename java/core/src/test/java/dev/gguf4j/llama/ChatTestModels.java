package dev.gguf4j.llama;

import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.gguf.WellKnownKeys;
import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Chat models for tests: the shared trained kjv7m-F16 with its last six vocabulary entries renamed to chat control
 * tokens ({@link #SPECIALS}, token type CONTROL) and a chat template in {@code tokenizer.chat_template}, written
 * with {@link GgufWriter}. The same files feed llama.cpp's oracle (docs/golden-data.md, chat prompt tokens).
 */
final class ChatTestModels {
    /** The control tokens that replace the vocabulary's last entries, in order. */
    static final String[] SPECIALS = {"<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>",
        "<|end_header_id|>", "<|eot_id|>"};
    private static final long CONTROL = 3;

    /** The templates by the name the goldens use: the shared chat goldens' real templates; "none": no template. */
    static final Map<String, String> TEMPLATE_SOURCES = Map.of("chatml", "teknium_OpenHermes-2.5-Mistral-7B.json",
            "llama3", "meta-llama-Llama-3.1-8B-Instruct.json");

    private ChatTestModels() {
    }

    static String template(String name) throws IOException {
        Path golden = TestData.shared().resolve("golden/chat").resolve(TEMPLATE_SOURCES.get(name));
        return (String) ((Map<?, ?>) ChatJson.parse(Files.readString(golden), golden.toString())).get("template");
    }

    /** Writes {@code dir/kjv7m-chat-NAME.gguf} for a template name ("chatml", "llama3" or "none"). */
    static Path write(Path dir, String name) throws IOException {
        Path out = dir.resolve("kjv7m-chat-" + name + ".gguf");
        String template = name.equals("none") ? null : template(name);
        try (GgufFile src = GgufFile.open(TestData.model("kjv7m-F16.gguf")); GgufWriter w = GgufWriter.create(out)) {
            GgufMetadata md = src.metadata();
            String[] tokens = md.getStringArray(WellKnownKeys.TOKENS).clone();
            GgufValue.GgufArray typesArray = md.getArray(WellKnownKeys.TOKEN_TYPES);
            long[] types = ((long[]) typesArray.values()).clone();
            int n = tokens.length;
            for (int i = 0; i < SPECIALS.length; i++) {
                tokens[n - SPECIALS.length + i] = SPECIALS[i];
                types[n - SPECIALS.length + i] = CONTROL;
            }
            md.asMap().forEach((k, v) -> w.put(k, switch (k) {
                case WellKnownKeys.TOKENS -> GgufValue.ofArray(new GgufValue.GgufArray(
                        dev.gguf4j.gguf.GgufValueType.STRING, tokens));
                case WellKnownKeys.TOKEN_TYPES -> GgufValue.ofArray(new GgufValue.GgufArray(typesArray.elementType(),
                        types));
                default -> v;
            }));
            if (template != null) {
                w.put("tokenizer.chat_template", GgufValue.ofString(template));
            }
            for (GgufTensor t : src.tensors()) {
                w.addTensor(t);
            }
            w.finish();
        }
        return out;
    }
}
