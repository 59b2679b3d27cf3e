package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The download progress line: redrawn in place on a terminal, whole lines otherwise. */
class ProgressBarTest {
    static final long MIB = 1 << 20;

    @Test
    void terminalRedrawsOneLine() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(b, true, StandardCharsets.UTF_8), true);
        bar.update("m.gguf", 0, 8 * MIB, 0, 0);
        bar.update("m.gguf", 2 * MIB, 8 * MIB, 0, 1_000_000_000L);
        bar.message("gguf4j: a note");
        bar.update("m.gguf", 8 * MIB, 8 * MIB, 0, 4_000_000_000L);
        assertEquals("\r\033[Kgguf4j: m.gguf [                        ]   0.0% 0 B / 8.00 MiB"
                + "\r\033[Kgguf4j: m.gguf [######                  ]  25.0% 2.00 MiB / 8.00 MiB, 2.00 MiB/s, 0:03 left\n"
                + "gguf4j: a note\n"
                + "\r\033[Kgguf4j: m.gguf [########################] 100.0% 8.00 MiB / 8.00 MiB, 2.00 MiB/s\n",
                b.toString(StandardCharsets.UTF_8));
    }

    @Test
    void logGetsALineAtTheStartEveryFiveSecondsAndAtTheEnd() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(b, true, StandardCharsets.UTF_8), false);
        bar.update("m.gguf", MIB, 8 * MIB, MIB, 0); // resumed at 1 MiB
        bar.update("m.gguf", 2 * MIB, 8 * MIB, MIB, 1_000_000_000L); // within 5 s of the last line: nothing
        bar.update("m.gguf", 8 * MIB, 8 * MIB, MIB, 7_000_000_000L);
        assertEquals("gguf4j: m.gguf  12.5% 1.00 MiB / 8.00 MiB\n"
                + "gguf4j: m.gguf 100.0% 8.00 MiB / 8.00 MiB, 1.00 MiB/s\n", b.toString(StandardCharsets.UTF_8));
    }
}
