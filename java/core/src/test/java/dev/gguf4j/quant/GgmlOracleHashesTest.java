package dev.gguf4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.TestData;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code quant-vectors-v2.gguf} against this project's own run of ggml (llama.cpp c392e50, libggml-base built
 * without -march, initialised; {@code tests/golden/ggml-requant-sha256.tsv}, made as docs/golden-data.md says):
 * every {@code case.N.quant} must hash as ggml_quantize_chunk's bytes for {@code case.N.input} (with its imatrix),
 * and every {@code case.N.dequant} as ggml's to_float of those bytes. This holds the shared oracle, which
 * {@link GoldenQuantVectorsTest} uses directly, to a second, independent ggml build.
 */
class GgmlOracleHashesTest {

    @Test
    void goldenVectorsHashLikeGgml() throws Exception {
        List<String> failures = new ArrayList<>();
        List<String[]> requant = rows("ggml-requant-sha256.tsv");
        assertEquals(570, requant.size());
        try (GgufFile f = GgufFile.open(TestData.golden("quant-vectors-v2.gguf"))) {
            assertEquals(570, f.metadata().getLong("golden.case_count"));
            for (String[] q : requant) {
                int c = Integer.parseInt(q[0]);
                assertEquals(q[1], f.metadata().getString("case." + c + ".type").toUpperCase(java.util.Locale.ROOT),
                        "case " + c);
                if (!sha256(f.requireTensor("case." + c + ".quant").data().toArray(ValueLayout.JAVA_BYTE)).equals(q[4])) {
                    failures.add("case " + c + " " + q[1] + ": quant differs from ggml_quantize_chunk");
                }
                if (!sha256(f.requireTensor("case." + c + ".dequant").data().toArray(ValueLayout.JAVA_BYTE)).equals(q[6])) {
                    failures.add("case " + c + " " + q[1] + ": dequant differs from ggml's to_float");
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " mismatches, first: " + failures.subList(0, Math.min(10,
                failures.size())));
    }

    private static List<String[]> rows(String file) throws Exception {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(TestData.root().resolve("tests/golden").resolve(file))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                out.add(line.split("\t"));
            }
        }
        return out;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
