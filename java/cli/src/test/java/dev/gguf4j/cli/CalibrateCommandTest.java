package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.quantize.ModelQuantizer;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gguf4j calibrate} and {@code quantize --calibration FILE} as a user runs them, on kjv7m (the
 * calibration's content and the equality of the file and text paths are core's CalibrationTest); bad input in
 * one line.
 */
class CalibrateCommandTest {
    @TempDir
    Path dir;

    @Test
    void calibrateThenQuantize() throws Exception {
        String model = TestData.model("kjv7m-F16.gguf").toString();
        Path text = dir.resolve("cal.txt");
        Files.write(text, Files.readAllLines(TestData.model("kjv7m-test.txt")).subList(0, 80));
        Path cal = dir.resolve("kjv.calibration.gguf");
        MainTest.Result r = MainTest.run("calibrate", "-m", model, "-f", text.toString(), "-o", cal.toString(), "-c",
                "128", "--chunks", "3", "-t", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("gguf4j calibrate: wrote 25 factors (3 chunks of 128 tokens) to " + cal), r.err());
        Path out = dir.resolve("q.gguf");
        r = MainTest.run("quantize", model, out.toString(), "Q3_K_M", "--search", "better", "--calibration",
                cal.toString(), "--threads", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("read from " + cal), r.err());
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals(ModelQuantizer.SEARCH_VALUE_GPTQ, g.metadata().getString(ModelQuantizer.SEARCH_KEY));
        }
        r = MainTest.run("info", out.toString());
        assertTrue(r.out().contains("quant search:    " + ModelQuantizer.SEARCH_VALUE_GPTQ
                + " (gguf4j quantize --search better --calibration, GPTQ: same format, lower error)"), r.out());
    }

    @Test
    void badInputIsOneLine() throws Exception {
        String model = TestData.model("kjv7m-F16.gguf").toString();
        Path shortText = Files.writeString(dir.resolve("short.txt"), "In the beginning");
        for (List<String> args : List.of(
                List.of("calibrate", "-f", shortText.toString()),
                List.of("calibrate", "-m", model),
                List.of("calibrate", "-m", model, "-f", dir.resolve("missing.txt").toString()),
                List.of("calibrate", "-m", model, "-f", shortText.toString(), "--chunks", "0"),
                List.of("calibrate", "-m", model, "-f", shortText.toString(), "-o", dir.resolve("c.gguf").toString()),
                List.of("quantize", model, dir.resolve("o.gguf").toString(), "Q4_K_M", "--search", "better",
                        "--calibration", model))) {
            MainTest.Result r = MainTest.run(args.toArray(String[]::new));
            assertTrue(r.status() != 0, args + ": " + r.err());
            assertEquals(1, r.err().lines().count(), args + ": " + r.err());
        }
        MainTest.Result r = MainTest.run("calibrate", "-m", model, "-f", shortText.toString(), "-o",
                dir.resolve("c.gguf").toString());
        assertTrue(r.err().startsWith("gguf4j: error: " + shortText + ": the text tokenizes to "), r.err());
        assertTrue(!Files.exists(dir.resolve("c.gguf")));
        r = MainTest.run("quantize", model, dir.resolve("o.gguf").toString(), "Q4_K_M", "--search", "better",
                "--calibration", model);
        assertTrue(r.err().contains(model + ": a GGUF file, but not a calibration made by gguf4j calibrate"), r.err());
        r = MainTest.run("calibrate", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("usage: gguf4j calibrate -m MODEL -f TEXT [-o calibration.gguf] [-c 256]"
                + " [--chunks 64]"), r.out());
    }
}
