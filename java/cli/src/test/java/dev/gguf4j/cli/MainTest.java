package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CLI as a user runs it, checked against what llama.cpp (c392e50) prints for the same files. */
class MainTest {
    record Result(int status, String out, String err) {
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int st = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
                StandardCharsets.UTF_8));
        return new Result(st, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Values from llama.cpp's print_info for each file: model params, file type, BPW. */
    @ParameterizedTest
    @CsvSource({
        "stories260K.gguf, 292.80 K, not set, 32.00",
        "kjv7m-Q4_K_M.gguf, 6.82 M, Q4_K - Medium, 4.97",
        "stories260K-pad256-Q6_K.gguf, 2.23 M, Q6_K, 6.59",
    })
    void infoAgreesWithLlamaCpp(String file, String params, String fileType, String bpw) {
        Result r = run("info", TestData.model(file).toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("parameters:      " + params + " "), r.out());
        assertTrue(r.out().contains("file type:       " + fileType), r.out());
        assertTrue(r.out().contains("bits per weight: " + bpw), r.out());
    }

    @Test
    void infoWithoutModelUsesTheBundledOne() {
        Result r = run("info", "--tensors");
        assertEquals(0, r.status(), r.err());
        // llama.cpp: arch llama, n_layer 5, n_embd 64, n_head 8, n_head_kv 4, n_ff 172, n_vocab 512
        for (String s : List.of("\"llama\"", "llama.block_count                        5",
                "llama.embedding_length                   64", "llama.attention.head_count_kv            4",
                "llama.feed_forward_length                172", "tokenizer.ggml.tokens                    512 strings",
                "output.weight", "F32 48")) {
            assertTrue(r.out().contains(s), "missing '" + s + "' in\n" + r.out());
        }
    }

    @Test
    void infoJsonAndEveryModel() throws IOException {
        try (Stream<Path> files = Files.list(TestData.shared().resolve("models"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".gguf")).toList()) {
                Result r = run("info", p.toString(), "--json", "--tensors");
                assertEquals(0, r.status(), p + ": " + r.err());
                assertTrue(r.out().startsWith("{") && r.out().contains("\"tensors\": ["), r.out());
            }
        }
    }

    @Test
    void versionReportsBackendAndFeatures() {
        Result r = run("--version");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("CPU features: ") && r.out().contains("selected: ")
                && r.out().contains("backend: cpu: libgguf4j"), r.out());
    }

    @Test
    void badInputGivesClearErrors() {
        Result r = run("info", "/nonexistent/model.gguf");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("/nonexistent/model.gguf") && r.err().contains("does not exist"), r.err());
        r = run("frobnicate");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("unknown command 'frobnicate'"), r.err());
    }
}
