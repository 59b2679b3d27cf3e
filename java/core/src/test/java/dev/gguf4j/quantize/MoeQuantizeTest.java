package dev.gguf4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gguf4j.testing.RandomModels;
import dev.gguf4j.testing.RandomModels.Preset;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code quantize} on mixture-of-experts models gives llama-quantize's exact bytes: the mixtral (8 experts: the
 * policy's n_expert == 8 rules for attn_v, attn_k, attn_output, ffn_down) and qwen2moe (16 experts, shared expert,
 * a 1-D shared-expert gate) random models, F16, quantized to nine types with llama.cpp's policy, hash as
 * llama-quantize c392e50's outputs ({@code tests/golden/moe-llama-quantize-sha256.tsv}): stacked 3-D expert
 * tensors quantized slice by slice, the router (ffn_gate_inp) kept, ffn_down_exps's layer taken from its name.
 */
class MoeQuantizeTest {
    @TempDir
    static Path dir;

    static Stream<Arguments> cases() throws Exception {
        List<String> lines = Files.readAllLines(TestData.root().resolve("tests/golden/moe-llama-quantize-sha256.tsv"));
        return lines.stream().filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> l.split("\t"))
                .map(f -> Arguments.of(f[0], f[1], f[2]));
    }

    private static synchronized Path f16(Preset p) throws Exception {
        Path f = dir.resolve(p.id + "-F16.gguf");
        if (!Files.exists(f)) {
            RandomModels.write(p, GgmlType.F16, f);
        }
        return f;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void byteIdenticalToLlamaQuantize(String preset, String type, String sha256) throws Exception {
        Path in = f16(Preset.byId(preset));
        Path out = dir.resolve(preset + "-" + type + ".gguf");
        FileType ft = FileType.byQuantizeName(type).orElseThrow();
        ModelQuantizer.quantize(in, out, QuantizeOptions.to(ft).threads(2), ModelQuantizer.LLAMA_POLICY,
                new ModelQuantizer.Listener() { });
        assertEquals(sha256, sha256(out), preset + " " + type + ": the bytes llama-quantize wrote");
        Files.delete(out);
    }

    static String sha256(Path f) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(f)) {
            byte[] b = new byte[1 << 16];
            for (int n; (n = in.read(b)) > 0; ) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
