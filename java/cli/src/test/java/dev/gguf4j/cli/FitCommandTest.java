package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** {@code gguf4j fit} as a user runs it. */
class FitCommandTest {
    @Test
    void tableAndVerdict() throws Exception {
        String model = TestData.model("kjv7m-F16.gguf").toString();
        MainTest.Result r = MainTest.run("fit", "-m", model, "-c", "128", "--bandwidth", "10");
        assertEquals(0, r.status(), r.err());
        String out = r.out();
        assertTrue(out.contains("F16 (this file)") && out.contains("Q4_K_M") && out.contains("Q2_K"), out);
        assertTrue(out.contains("memory read bandwidth: 10.0 GB/s") && out.contains("(given)"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("verdict: ")), out);
        assertTrue(out.lines().filter(l -> l.startsWith("GPU: ")).count() == 1, out);
        // the Q4_K_M row's size is llama-quantize's file's
        String size = String.format(java.util.Locale.ROOT, "%.1f MB",
                Files.size(TestData.model("kjv7m-Q4_K_M.gguf")) / 1e6);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("Q4_K_M ") && l.contains(size)), out);
    }

    @Test
    void json() throws Exception {
        String model = TestData.model("kjv7m-Q8_0.gguf").toString();
        MainTest.Result r = MainTest.run("fit", "-m", model, "--json", "--bandwidth", "10");
        assertEquals(0, r.status(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(256, j.get("context").asInt());
        assertEquals(1, j.get("rows").size());
        JsonNode row = j.get("rows").get(0);
        assertEquals(Files.size(TestData.model("kjv7m-Q8_0.gguf")), row.get("file_bytes").asLong());
        assertEquals(10.0, j.get("machine").get("bandwidth_gbps_1_thread").asDouble());
        assertTrue(row.get("tg_tps_1_thread").asDouble() > 0);
        assertTrue(j.get("verdict").asText().startsWith("fits in RAM"), r.out());
    }

    @Test
    void badContextIsOneLine() {
        String model = TestData.model("kjv7m-Q8_0.gguf").toString();
        for (String c : new String[] {"0", "257", "-5"}) {
            MainTest.Result r = MainTest.run("fit", "-m", model, "-c", c);
            assertEquals(2, r.status(), r.err());
            assertEquals("gguf4j: fit: -c " + c + ": must be in [1, 256] (the training context of " + model + ")",
                    r.err().strip());
        }
        MainTest.Result r = MainTest.run("fit", "-m", model, "--bandwidth", "-1");
        assertEquals(2, r.status());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
