package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.quantize.QuantizeOptions;
import dev.gguf4j.testing.EmbeddingVectors;
import dev.gguf4j.testing.RandomEncoders;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Embeddings against llama.cpp c392e50's llama-embedding ({@code tests/golden/embeddings/*.json}, its own
 * {@code --embd-output-format json} output; recipe: {@code make-goldens.sh} there, docs/golden-data.md): the five
 * inputs of {@code prompts.txt} in one call (llama-embedding runs them as one batch of five sequences, as
 * {@link Llama#embed} does), the stated pooling, L2-normalised. Models: the {@link RandomEncoders} bert and
 * nomic-bert encoders (F32, F16, and Q8_0 by this project's quantizer, which must give llama-quantize's bytes) and
 * the shared kjv7m decoder (F32, F16, Q8_0) and the bundled stories260K as decoder embedders; every model is
 * checked against {@code models.sha256} first. Each vector's cosine similarity to llama.cpp's must be at least
 * 0.9999 (F32, F16) or 0.999 (Q8_0).
 */
class EmbeddingGoldenTest {
    private static final Path DIR = TestData.root().resolve("tests/golden/embeddings");
    private static final Map<String, String> WORST = new TreeMap<>();
    private static final Map<String, Path> BUILT = new HashMap<>();

    @TempDir
    static Path work;

    static Stream<String> goldens() throws IOException {
        try (Stream<Path> s = Files.list(DIR)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted().toList()
                    .stream();
        }
    }

    /** The model of golden {@code name} (e.g. "bert-Q8_0"), rebuilt or found, its SHA-256 checked. */
    static synchronized Path model(String name) throws Exception {
        Path p = BUILT.get(name);
        if (p != null) {
            return p;
        }
        int dash = name.lastIndexOf('-');
        String base = name.substring(0, dash);
        String variant = name.substring(dash + 1);
        p = switch (base) {
            case "bert", "nomic-bert" -> {
                RandomEncoders.Preset preset = RandomEncoders.Preset.byId(base);
                Path out = work.resolve(name + ".gguf");
                if (variant.equals("Q8_0")) {
                    ModelQuantizer.quantize(model(base + "-F16"), out, QuantizeOptions.to(FileType.MOSTLY_Q8_0)
                            .threads(2), ModelQuantizer.LLAMA_POLICY, new ModelQuantizer.Listener() { });
                } else {
                    RandomEncoders.write(preset, GgmlType.byName(variant).orElseThrow(), out);
                }
                yield out;
            }
            case "kjv7m" -> TestData.model("kjv7m-" + variant + ".gguf");
            case "stories260K" -> TestData.model("stories260K.gguf");
            default -> throw new IllegalArgumentException(name);
        };
        String want = null;
        for (String line : Files.readAllLines(DIR.resolve("models.sha256"))) {
            if (line.endsWith("  " + name + ".gguf")) {
                want = line.substring(0, 64);
            }
        }
        assertEquals(want, Qwen2GoldenTest.sha256(p), name + ": the model llama-embedding ran");
        BUILT.put(name, p);
        return p;
    }

    static List<float[]> vectors(Path json) throws IOException {
        return EmbeddingVectors.parse(Files.readString(json));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void matchesLlamaEmbedding(String golden) throws Exception {
        String stem = golden.substring(0, golden.length() - ".json".length());
        int dash = stem.lastIndexOf('-');
        String name = stem.substring(0, dash);
        Pooling pooling = Pooling.parse(stem.substring(dash + 1));
        int ctx = name.startsWith("nomic-bert") ? 2048 : name.startsWith("kjv7m") ? 256 : 512;
        List<String> prompts = Files.readAllLines(DIR.resolve("prompts.txt"));
        List<float[]> want = vectors(DIR.resolve(golden));
        assertEquals(prompts.size(), want.size(), golden);
        Path model = model(name);
        try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS.withContextLength(ctx).withThreads(2))) {
            Embeddings e = llama.embed(prompts, EmbeddingParams.DEFAULTS.withPooling(pooling));
            assertEquals(pooling, e.pooling());
            assertEquals(2, e.normalize());
            assertEquals(prompts.size(), e.data().size());
            double limit = name.endsWith("Q8_0") ? 0.999 : 0.9999;
            double worst = 1;
            for (int i = 0; i < prompts.size(); i++) {
                float[] got = e.data().get(i).vector();
                assertEquals(want.get(i).length, got.length, golden + " input " + i);
                double cos = EmbeddingVectors.cosine(want.get(i), got);
                worst = Math.min(worst, cos);
                assertTrue(cos >= limit, golden + " input " + i + ": cosine " + cos + " < " + limit);
            }
            synchronized (WORST) {
                WORST.put(golden, String.format("worst cosine %.7f (1 - %.1e)", worst, 1 - worst));
            }
        }
    }

    @AfterAll
    static void report() {
        WORST.forEach((k, v) -> System.out.println("[embeddings] " + k + ": " + v));
    }
}
