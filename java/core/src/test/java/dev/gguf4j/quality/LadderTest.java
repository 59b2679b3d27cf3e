package dev.gguf4j.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ladder on the shared trained model kjv7m against llama.cpp c392e50, over the first 10 chunks of 256 tokens of
 * kjv7m-test.txt: each quantized file byte-identical to llama-quantize's (../shared/models), its mean KLD, PPL and
 * same-top rate as llama-perplexity's for that file against its own F16 base (tests/golden/quality/
 * kjv7m-TYPE-c256-10.kld.txt, make-ladder-goldens.sh), bits per weight and size as llama.cpp's ladder table
 * (../shared/golden/kjv7m-llama.cpp-quality.md); an interrupted run leaves only finished results and a rerun
 * resumes; a type that does not apply is skipped with its reason. With a calibration, the better rungs are GPTQ's,
 * named TYPE+gptq.
 */
class LadderTest {
    private static final List<FileType> TYPES = List.of(FileType.MOSTLY_Q8_0, FileType.MOSTLY_Q4_K_M,
            FileType.MOSTLY_Q4_0, FileType.MOSTLY_Q2_K);

    /** llama.cpp's ladder table: type -> {MiB, bpw}. */
    private static Map<String, double[]> llamaTable() throws Exception {
        Map<String, double[]> m = new HashMap<>();
        for (String l : Files.readAllLines(TestData.golden("kjv7m-llama.cpp-quality.md"))) {
            String[] c = l.split("\\|");
            if (c.length > 3 && c[2].trim().matches("[0-9.]+")) {
                m.put(c[1].trim(), new double[] {Double.parseDouble(c[2].trim()), Double.parseDouble(c[3].trim())});
            }
        }
        return m;
    }

    private static Ladder.Options options(Path dir, List<FileType> types, boolean keep) throws Exception {
        return new Ladder.Options(TestData.model("kjv7m-F16.gguf"), TestData.model("kjv7m-test.txt"), dir, types,
                Optional.empty(), 256, 10, 2, 32, 8, 1, keep);
    }

    @Test
    void matchesLlamaCppRowByRowAndResumes(@TempDir Path dir) throws Exception {
        Map<String, double[]> table = llamaTable();
        // 1. interrupted in the second type's KLD: only the base and the first type are left, nothing partial
        RuntimeException stop = new RuntimeException("interrupted");
        assertThrows(RuntimeException.class, () -> Ladder.run(options(dir, TYPES, false), new Ladder.Listener() {
            @Override
            public void phase(String type, String phase) {
                if (type.equals("Q4_K_M") && phase.equals("kld")) {
                    throw stop;
                }
            }
        }));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("base.json", "base.kld", "ladder.json", "ladder.md", "ladder.svg", "type-Q8_0.json"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        // 2. rerun with the same folder and settings: Q8_0 and the base reused, the rest measured
        List<String> reused = new ArrayList<>();
        List<String> measured = new ArrayList<>();
        List<Ladder.Skip> skipped = new ArrayList<>();
        List<FileType> types = new ArrayList<>(TYPES);
        types.add(FileType.MOSTLY_Q2_K_S); // needs an importance matrix
        Ladder.Result r = Ladder.run(options(dir, types, true), new Ladder.Listener() {
            @Override
            public void done(Ladder.Row row, boolean fromEarlier) {
                (fromEarlier ? reused : measured).add(row.type());
            }

            @Override
            public void skipped(Ladder.Skip s) {
                skipped.add(s);
            }
        });
        assertEquals(List.of("F16", "Q8_0"), reused);
        assertEquals(List.of("Q4_K_M", "Q4_0", "Q2_K"), measured);
        assertEquals(1, skipped.size());
        assertEquals("Q2_K_S", skipped.getFirst().type());
        assertTrue(skipped.getFirst().reason().contains("importance matrix"), skipped.getFirst().reason());
        assertEquals(r.skipped(), skipped);
        assertEquals(10, r.chunks());
        assertEquals(256, r.contextLength());
        // 3. each row against llama.cpp
        assertEquals(table.get("F16")[1], r.base().bitsPerWeight(), 0.006);
        assertEquals(table.get("F16")[0], r.base().fileBytes() / 1048576.0, 0.006);
        assertEquals(TYPES.stream().map(FileType::quantizeName).toList(),
                r.rows().stream().map(Ladder.Row::type).toList());
        List<Runnable> checks = new ArrayList<>();
        for (Ladder.Row row : r.rows()) {
            String t = row.type();
            Path ours = dir.resolve("kjv7m-F16-" + t + ".gguf");
            if (measured.contains(t)) { // kept (the interrupted run deleted Q8_0's once measured)
                assertEquals(-1, Files.mismatch(ours, TestData.model("kjv7m-" + t + ".gguf")),
                        t + ": the quantized file is llama-quantize's");
                assertEquals(Files.size(ours), row.fileBytes());
            } else {
                assertFalse(Files.exists(ours));
            }
            assertEquals(table.get(t)[1], row.bitsPerWeight(), 0.006, t + " bpw");
            assertEquals(table.get(t)[0], row.fileBytes() / 1048576.0, 0.006, t + " MiB");
            List<String> want = Files.readAllLines(KlDivergenceTest.GOLDEN.resolve("kjv7m-" + t + "-c256-10.kld.txt"));
            double kld = KlDivergenceTest.figure(want, "Mean    KLD:");
            double ppl = KlDivergenceTest.figure(want, "Mean PPL(Q)");
            double top = KlDivergenceTest.figure(want, "Same top p:") / 100;
            System.out.printf("%-6s KLD %.6f (llama.cpp %.6f, %+.2f%%)  PPL %.6f (%.6f, %+.1e)  same top %.4f (%.4f)"
                    + "  base PPL %.6f (%.6f)%n", t, row.meanKld().value(), kld, 100 * (row.meanKld().value() / kld - 1),
                    row.ppl().value(), ppl, row.ppl().value() / ppl - 1, row.sameTop().value(), top,
                    r.base().ppl().value(), KlDivergenceTest.figure(want, "Mean PPL(base)"));
            checks.add(() -> {
                // docs/quality.md: mean KLD within 1% (plus the golden's printed precision, 5e-7). PPL(Q) and the
                // top token differ where float summation order flips a rounding of the 8-bit activations (whole
                // text: PPL(Q) within 1.6e-4); over these 1270 positions PPL(Q) is up to 9.7e-4 (Q4_0) off and the
                // top token differs at up to 4 more or fewer positions
                assertEquals(kld, row.meanKld().value(), 0.01 * kld + 5e-7, t + " mean KLD");
                assertEquals(ppl, row.ppl().value(), 1.5e-3 * ppl, t + " PPL");
                assertEquals(top, row.sameTop().value(), 6.0 / 1270, t + " same top");
            });
            assertTrue(row.meanKld().uncertainty() > 0 && row.meanKld().uncertainty() < 0.1 * kld);
            assertTrue(row.ppTs().value() > 0 && row.tgTs().value() > 0, t + " speed measured");
        }
        checks.forEach(Runnable::run);
        double basePpl = KlDivergenceTest.figure(Files.readAllLines(KlDivergenceTest.GOLDEN.resolve(
                "kjv7m-Q8_0-c256-10.kld.txt")), "Mean PPL(base)");
        assertEquals(basePpl, r.base().ppl().value(), 1e-4 * basePpl, "F16 PPL");
        // the files: JSON with every row and the skip, an SVG chart with a label per type
        Object json = ChatJson.parse(Files.readString(dir.resolve("ladder.json")), "ladder.json");
        assertTrue(json instanceof Map<?, ?>);
        assertEquals(TYPES.size(), ((List<?>) ((Map<?, ?>) json).get("rows")).size());
        assertEquals(1, ((List<?>) ((Map<?, ?>) json).get("skipped")).size());
        String svg = Files.readString(dir.resolve("ladder.svg"));
        assertTrue(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        for (FileType t : TYPES) {
            assertTrue(svg.contains(">" + t.quantizeName() + "</text>"), t + " labelled");
        }
        // 4. a third run measures nothing
        List<String> again = new ArrayList<>();
        Ladder.run(options(dir, TYPES, true), new Ladder.Listener() {
            @Override
            public void phase(String type, String phase) {
                again.add(type + " " + phase);
            }
        });
        assertFalse(again.iterator().hasNext(), "nothing measured again: " + again);
    }

    /**
     * {@code --search better} with a calibration: a Q2_K+gptq rung after Q2_K, quantized with GPTQ (the file says so,
     * in llama-quantize's layout), its KLD measured and below the reference's; the table, JSON and chart name it; a
     * rerun reuses it, another calibration measures it again and leaves the reference rung alone. Calibration on
     * lines 1-552 of kjv7m-test.txt, evaluation on 553-end (docs/benchmarks.md's split), few chunks to stay quick.
     */
    @Test
    void gptqRungs(@TempDir Path dir) throws Exception {
        List<String> lines = Files.readAllLines(TestData.model("kjv7m-test.txt"));
        Path cal = Files.write(dir.resolve("cal.txt"), lines.subList(0, 552));
        Path eval = Files.write(dir.resolve("eval.txt"), lines.subList(552, lines.size()));
        Path out = dir.resolve("ladder");
        java.util.function.Function<Ladder.Calibration, Ladder.Options> opts = c -> new Ladder.Options(
                TestData.model("kjv7m-F16.gguf"), eval, out, List.of(FileType.MOSTLY_Q2_K), Optional.empty(), 256, 4,
                2, 0, 0, 1, true, true, Optional.of(c));
        List<String> measured = new ArrayList<>();
        Ladder.Listener record = new Ladder.Listener() {
            @Override
            public void done(Ladder.Row row, boolean reused) {
                if (!reused) {
                    measured.add(row.type());
                }
            }
        };
        Ladder.Result r = Ladder.run(opts.apply(new Ladder.Calibration(cal, 128, 16)), record);
        assertEquals(List.of("F16", "Q2_K", "Q2_K+gptq"), measured);
        assertEquals(List.of("Q2_K", "Q2_K+gptq"), r.rows().stream().map(Ladder.Row::type).toList());
        Ladder.Row ref = r.rows().get(0);
        Ladder.Row gptq = r.rows().get(1);
        Path llama = TestData.model("kjv7m-Q2_K.gguf");
        assertEquals(-1, Files.mismatch(out.resolve("kjv7m-F16-Q2_K.gguf"), llama), "the reference rung is llama-quantize's");
        try (GgufFile g = GgufFile.open(llama); GgufFile o = GgufFile.open(out.resolve("kjv7m-F16-Q2_K+gptq.gguf"))) {
            assertEquals(dev.gguf4j.quantize.ModelQuantizer.SEARCH_VALUE_GPTQ,
                    o.metadata().getString("gguf4j.quantize.search"));
            for (var t : g.tensors()) {
                assertEquals(t.type(), o.requireTensor(t.name()).type(), t.name());
            }
        }
        assertEquals(llamaTable().get("Q2_K")[1], gptq.bitsPerWeight(), 0.006, "Q2_K+gptq bpw");
        assertEquals(ref.bitsPerWeight(), gptq.bitsPerWeight(), 1e-12);
        System.out.printf("Q2_K KLD %.6f ± %.6f, Q2_K+gptq %.6f ± %.6f (%.3fx)%n", ref.meanKld().value(),
                ref.meanKld().uncertainty(), gptq.meanKld().value(), gptq.meanKld().uncertainty(),
                gptq.meanKld().value() / ref.meanKld().value());
        assertTrue(gptq.meanKld().uncertainty() > 0 && gptq.meanKld().value() > 10 * gptq.meanKld().uncertainty());
        // docs/benchmarks.md: 0.67x with 64 chunks of 256; far fewer here
        assertTrue(gptq.meanKld().value() < 0.9 * ref.meanKld().value(), "GPTQ's KLD below the reference's");
        assertEquals(0, gptq.ppTs().value()); // same format: no speed test
        String md = Files.readString(out.resolve("ladder.md"));
        assertTrue(md.contains("\n| Q2_K+gptq | "), md);
        Map<?, ?> json = (Map<?, ?>) ChatJson.parse(Files.readString(out.resolve("ladder.json")), "ladder.json");
        assertEquals("Q2_K+gptq", ((Map<?, ?>) ((List<?>) json.get("rows")).get(1)).get("type"));
        assertTrue(((String) json.get("settings")).contains("calibration=" + cal.toAbsolutePath()), json.toString());
        String svg = Files.readString(out.resolve("ladder.svg"));
        assertTrue(svg.contains(">Q2_K+gptq</text>") && svg.contains(">Q2_K</text>"), "both rungs labelled");
        assertEquals(2, svg.split("<polyline").length - 1, "a KLD line per search");
        assertTrue(svg.contains(">TYPE+gptq</text>"), "the legend names the search");
        // a rerun reuses both; another calibration measures the gptq rung again, only
        measured.clear();
        Ladder.run(opts.apply(new Ladder.Calibration(cal, 128, 16)), record);
        assertEquals(List.of(), measured);
        Ladder.run(opts.apply(new Ladder.Calibration(cal, 128, 8)), record);
        assertEquals(List.of("Q2_K+gptq"), measured);
        assertThrows(IllegalArgumentException.class, () -> new Ladder.Options(TestData.model("kjv7m-F16.gguf"), eval,
                out, List.of(FileType.MOSTLY_Q2_K), Optional.empty(), 256, 4, 2, 0, 0, 1, true, false,
                Optional.of(new Ladder.Calibration(cal, 128, 16))), "a calibration without the better search");
    }
}
