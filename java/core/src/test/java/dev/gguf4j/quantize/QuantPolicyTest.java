package dev.gguf4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link QuantPolicy} against what llama-quantize (llama.cpp c392e50) chose: the golden table of synthetic models,
 * the quantized models in ../shared/models, and extra cases quantized with llama-quantize for this test.
 */
class QuantPolicyTest {

    private static final Pattern MODEL_LINE = Pattern.compile(
            "# (\\w+): n_layer=(\\d+) n_embd=(\\d+) n_ff=(\\d+) n_head=(\\d+) n_head_kv=(\\d+) output.weight=(absent|present).*");

    private static GgmlType type(String ggmlName) {
        return GgmlType.byName(ggmlName).orElseThrow(() -> new IllegalArgumentException(ggmlName));
    }

    private static FileType ftype(String name) {
        return QuantPolicy.parseFileType(name).orElseThrow(() -> new IllegalArgumentException(name));
    }

    // ---- golden/policy/quant-policy.tsv ---------------------------------------------------------------------

    @Test
    void reproducesEveryGoldenRow() throws IOException {
        Path tsv = TestData.golden("policy/quant-policy.tsv");
        Map<String, QuantPolicy.Model> models = new LinkedHashMap<>();
        Map<String, Boolean> untied = new LinkedHashMap<>();
        Map<String, List<String[]>> groups = new LinkedHashMap<>();
        for (String line : Files.readAllLines(tsv)) {
            if (line.startsWith("#")) {
                Matcher m = MODEL_LINE.matcher(line);
                if (m.matches()) {
                    models.put(m.group(1), new QuantPolicy.Model("llama", Integer.parseInt(m.group(2)),
                            Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6)), 0));
                    untied.put(m.group(1), m.group(7).equals("present"));
                }
                continue;
            }
            String[] f = line.split("\t");
            if (f[0].equals("model")) {
                continue;
            }
            groups.computeIfAbsent(f[0] + "\t" + f[1], k -> new ArrayList<>()).add(f);
        }
        assertEquals(3, models.size(), "model lines in the header");
        int rows = 0;
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, List<String[]>> g : groups.entrySet()) {
            String[] key = g.getKey().split("\t");
            QuantPolicy.Model model = models.get(key[0]);
            List<QuantPolicy.Tensor> tensors = new ArrayList<>();
            for (String[] r : g.getValue()) {
                String[] ne = r[3].split(",");
                // the synthetic models were F32 (types in the table are only ever quantized or f32)
                tensors.add(new QuantPolicy.Tensor(r[2], GgmlType.F32,
                        new long[] {Long.parseLong(ne[0]), Long.parseLong(ne[1])}));
            }
            List<QuantPolicy.Choice> got = QuantPolicy.choose(model, tensors, Optional.of(ftype(key[1])),
                    QuantPolicy.Options.DEFAULTS);
            assertEquals(tensors.size(), got.size());
            // the policy finds a tied model by the absence of output.weight, as llama.cpp does
            assertEquals(untied.get(key[0]), tensors.stream().anyMatch(t -> t.name().equals("output.weight")));
            for (int i = 0; i < got.size(); i++) {
                String[] r = g.getValue().get(i);
                QuantPolicy.Choice c = got.get(i);
                // the rows are in llama-quantize's output order, which the policy's order must be
                assertEquals(r[2], c.name(), "order of " + g.getKey());
                rows++;
                if (c.type() != type(r[4])) {
                    wrong.add(String.join(" ", r) + " but got " + c.type() + " (" + c.reason() + ")");
                }
            }
        }
        assertEquals(List.of(), wrong, wrong.size() + " rows differ");
        assertEquals(4661, rows, "golden rows");
        System.out.println("quant-policy.tsv: " + rows + " of " + rows + " rows reproduced");
    }

    // ---- the quantized models in ../shared/models -----------------------------------------------------------

    @ParameterizedTest
    @CsvSource({
        "kjv7m-F16.gguf, kjv7m-Q8_0.gguf, Q8_0",
        "kjv7m-F16.gguf, kjv7m-Q6_K.gguf, Q6_K",
        "kjv7m-F16.gguf, kjv7m-Q4_K_M.gguf, Q4_K_M",
        "kjv7m-F16.gguf, kjv7m-Q4_0.gguf, Q4_0",
        "kjv7m-F16.gguf, kjv7m-Q3_K_M.gguf, Q3_K_M",
        "kjv7m-F16.gguf, kjv7m-Q2_K.gguf, Q2_K",
        "stories260K-pad256.gguf, stories260K-pad256-Q8_0.gguf, Q8_0",
        "stories260K-pad256.gguf, stories260K-pad256-Q6_K.gguf, Q6_K",
        "stories260K-pad256.gguf, stories260K-pad256-Q4_K_M.gguf, Q4_K_M",
        "stories260K-pad256.gguf, stories260K-pad256-Q4_0.gguf, Q4_0"})
    void matchesLlamaQuantizedModel(String source, String quantized, String ft) throws IOException {
        try (GgufFile src = GgufFile.open(TestData.model(source));
                GgufFile q = GgufFile.open(TestData.model(quantized))) {
            assertEquals(ftype(ft).id(), q.metadata().getLong("general.file_type"));
            List<QuantPolicy.Choice> got = QuantPolicy.choose(src, Optional.of(ftype(ft)), QuantPolicy.Options.DEFAULTS);
            List<GgufTensor> want = q.tensors();
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) {
                // llama-quantize writes the tensors in the order it walks them: the policy's order
                assertEquals(want.get(i).name(), got.get(i).name(), "tensor #" + i);
                assertEquals(want.get(i).type(), got.get(i).type(),
                        want.get(i).name() + ": " + got.get(i).reason());
                assertEquals(src.requireTensor(want.get(i).name()).type() != want.get(i).type(),
                        got.get(i).converts(), want.get(i).name());
            }
        }
    }

    @Test
    void realModelsTakeTheRulesTheyShould() throws IOException {
        // kjv7m: 6 layers, 4 heads, 2 kv heads (n_gqa 2), untied; its norms are F32 in the F16 file and stay F32
        try (GgufFile src = GgufFile.open(TestData.model("kjv7m-F16.gguf"))) {
            Map<String, QuantPolicy.Choice> c = byName(QuantPolicy.choose(src, Optional.of(FileType.MOSTLY_Q3_K_M),
                    QuantPolicy.Options.DEFAULTS));
            assertEquals(GgmlType.F32, c.get("blk.0.attn_norm.weight").type());
            assertTrue(c.get("blk.0.attn_norm.weight").reason().contains("1-D"), c.get("blk.0.attn_norm.weight")
                    .reason());
            assertEquals(GgmlType.Q5_K, c.get("blk.1.attn_v.weight").type()); // attn_v #1 < 2
            assertEquals(GgmlType.Q4_K, c.get("blk.2.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, c.get("output.weight").type());
            assertEquals(GgmlType.Q3_K, c.get("token_embd.weight").type());
        }
    }

    // ---- unit tests of the rules llama-quant.cpp spells out (line numbers of src/llama-quant.cpp, c392e50) ------

    private static final QuantPolicy.Model SMALL = new QuantPolicy.Model("llama", 4, 4, 1, 0);

    /** A 4-layer model whose 2-D tensors all have rows of {@code e} (ffn_down: {@code down}). */
    private static List<QuantPolicy.Tensor> small(long e, long down, boolean tied) {
        return llama("small", "llama", 4, 4, 1, 0, tied, e, down, List.of()).tensors();
    }

    private static Map<String, QuantPolicy.Choice> choose(List<QuantPolicy.Tensor> ts, FileType ft,
            QuantPolicy.Options o) {
        return byName(QuantPolicy.choose(SMALL, ts, Optional.of(ft), o));
    }

    private static Map<String, QuantPolicy.Choice> choose(List<QuantPolicy.Tensor> ts, FileType ft) {
        return choose(ts, ft, QuantPolicy.Options.DEFAULTS);
    }

    @Test
    void fallbackWhenTheBlockDoesNotDivideTheRow() {
        // ne[0] = 4160 = 16 * 260: a multiple of 32 but not of 256
        Map<String, QuantPolicy.Choice> c = choose(small(4160, 4160, false), FileType.MOSTLY_Q4_K_M);
        // line 397: Q4_K → Q5_0
        assertEquals(GgmlType.Q5_0, c.get("blk.0.attn_q.weight").type());
        assertTrue(c.get("blk.0.attn_q.weight").reason().endsWith("ne[0]=4160 not a multiple of 256 → fallback Q5_0"),
                c.get("blk.0.attn_q.weight").reason());
        // line 399: Q6_K → Q8_0 (attn_v #2 of 4 takes use_more_bits, line 236)
        assertEquals(GgmlType.Q8_0, c.get("blk.2.attn_v.weight").type());
        // line 158: the output goes straight to Q8_0 when the default type's block does not divide the row
        assertEquals(GgmlType.Q8_0, c.get("output.weight").type());
        // line 398: Q5_K → Q5_1
        assertEquals(GgmlType.Q5_1, choose(small(4160, 4160, false), FileType.MOSTLY_Q5_K_S)
                .get("blk.0.attn_q.weight").type());
        // line 396: Q2_K and Q3_K → IQ4_NL
        Map<String, QuantPolicy.Choice> q2 = choose(small(4160, 4160, false), FileType.MOSTLY_Q2_K);
        assertEquals(GgmlType.IQ4_NL, q2.get("blk.0.attn_q.weight").type()); // Q2_K
        assertEquals(GgmlType.IQ4_NL, q2.get("blk.0.ffn_down.weight").type()); // Q3_K (line 272)
        assertEquals(GgmlType.Q5_0, q2.get("blk.0.attn_v.weight").type()); // Q4_K (n_gqa 4, line 214)
        // Q4_0 blocks are 32: no fallback needed, but the output is "not Q8_0" so it gets Q6_K (line 166) and
        // then falls back to Q8_0 (line 399)
        Map<String, QuantPolicy.Choice> q40 = choose(small(4160, 4160, false), FileType.MOSTLY_Q4_0);
        assertEquals(GgmlType.Q4_0, q40.get("blk.0.attn_q.weight").type());
        assertEquals(GgmlType.Q8_0, q40.get("output.weight").type());
    }

    @Test
    void fallbackThatDoesNotDivideEitherIsF16OrAnError() {
        // ffn_down rows of 4112 = 16 * 257: the fallback's block of 32 does not divide them either: F16 (line 403)
        Map<String, QuantPolicy.Choice> c = choose(small(4160, 4112, false), FileType.MOSTLY_Q4_K_M);
        assertEquals(GgmlType.F16, c.get("blk.1.ffn_down.weight").type());
        assertTrue(c.get("blk.1.ffn_down.weight").reason().contains("→ F16"), c.get("blk.1.ffn_down.weight")
                .reason());
        // a type with no fallback (Q4_0 itself, line 400): llama-quantize gives up
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                () -> choose(small(4160, 4112, false), FileType.MOSTLY_Q4_0));
        assertTrue(e.getMessage().contains("blk.0.ffn_down.weight") && e.getMessage().contains("Unsupported tensor"
                + " size"), e.getMessage());
        // with --pure nothing falls back: a row Q4_K cannot block is refused (ggml asserts there)
        e = org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                () -> choose(small(4160, 4160, false), FileType.MOSTLY_Q4_K_M,
                        QuantPolicy.Options.DEFAULTS.withPure(true)));
        assertTrue(e.getMessage().contains("not a multiple of 256"), e.getMessage());
    }

    @Test
    void pureGivesEveryQuantizedTensorTheDefaultType() {
        // line 778: --pure skips llama_tensor_get_type; the type options (lines 781-786) still apply
        Map<String, QuantPolicy.Choice> c = choose(small(256, 256, false), FileType.MOSTLY_Q4_K_M,
                QuantPolicy.Options.DEFAULTS.withPure(true));
        for (QuantPolicy.Choice x : c.values()) {
            assertEquals(x.name().endsWith("norm.weight") ? GgmlType.F32 : GgmlType.Q4_K, x.type(), x.name());
        }
        c = choose(small(256, 256, true), FileType.MOSTLY_Q4_K_M,
                QuantPolicy.Options.DEFAULTS.withPure(true).withOutputTensorType(GgmlType.Q5_0));
        // tied: without the mixture, token_embd is not "the output" and keeps the default (line 784 matches
        // output.weight by name only)
        assertEquals(GgmlType.Q4_K, c.get("token_embd.weight").type());
    }

    @Test
    void outputTensorType() {
        QuantPolicy.Options o = QuantPolicy.Options.DEFAULTS.withOutputTensorType(GgmlType.Q8_0);
        Map<String, QuantPolicy.Choice> c = choose(small(256, 256, false), FileType.MOSTLY_Q4_K_M, o);
        assertEquals(GgmlType.Q8_0, c.get("output.weight").type()); // lines 152-153, 784-786
        assertEquals(GgmlType.Q4_K, c.get("token_embd.weight").type());
        // tied: token_embd takes the output's rules, option included (line 151-153) ...
        c = choose(small(256, 256, true), FileType.MOSTLY_Q4_K_M, o);
        assertEquals(GgmlType.Q8_0, c.get("token_embd.weight").type());
        // ... unless --token-embedding-type says otherwise (line 781, applied after llama_tensor_get_type)
        c = choose(small(256, 256, true), FileType.MOSTLY_Q4_K_M, o.withTokenEmbeddingType(GgmlType.Q4_1));
        assertEquals(GgmlType.Q4_1, c.get("token_embd.weight").type());
        // it applies to non-quantized file types too (line 784 is outside the get_type call)
        c = choose(small(256, 256, false), FileType.MOSTLY_F16, o);
        assertEquals(GgmlType.Q8_0, c.get("output.weight").type());
        assertEquals(GgmlType.F16, c.get("blk.0.attn_q.weight").type());
    }

    @Test
    void tokenEmbeddingType() {
        QuantPolicy.Options o = QuantPolicy.Options.DEFAULTS.withTokenEmbeddingType(GgmlType.Q8_0);
        Map<String, QuantPolicy.Choice> c = choose(small(256, 256, false), FileType.MOSTLY_Q2_K, o);
        assertEquals(GgmlType.Q8_0, c.get("token_embd.weight").type()); // lines 171-172, 781-783
        assertEquals(GgmlType.Q6_K, c.get("output.weight").type());
        // F16 is a ggml type like any other here
        c = choose(small(256, 256, false), FileType.MOSTLY_Q4_K_M,
                QuantPolicy.Options.DEFAULTS.withTokenEmbeddingType(GgmlType.F16));
        assertEquals(GgmlType.F16, c.get("token_embd.weight").type());
    }

    @Test
    void leaveOutputTensor() {
        QuantPolicy.Options o = QuantPolicy.Options.DEFAULTS.withLeaveOutputTensor(true);
        Map<String, QuantPolicy.Choice> c = choose(small(256, 256, false), FileType.MOSTLY_Q4_K_M, o);
        // line 744: output.weight is not quantized at all: it keeps its type
        assertEquals(GgmlType.F32, c.get("output.weight").type());
        assertTrue(c.get("output.weight").reason().contains("--leave-output-tensor"));
        // line 744 names output.weight: a tied model's token_embd still gets the output's Q6_K (line 166)
        c = choose(small(256, 256, true), FileType.MOSTLY_Q4_K_M, o);
        assertEquals(GgmlType.Q6_K, c.get("token_embd.weight").type());
    }

    @Test
    void requantizingNeedsAllowRequantize() {
        List<QuantPolicy.Tensor> ts = new ArrayList<>(small(256, 256, false));
        ts.replaceAll(x -> x.name().equals("blk.0.attn_q.weight") ? t(x.name(), GgmlType.Q8_0, x.shape()) : x);
        // line 841
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                () -> choose(ts, FileType.MOSTLY_Q4_K_M));
        assertTrue(e.getMessage().contains("requantizing from type q8_0 is disabled"), e.getMessage());
        Map<String, QuantPolicy.Choice> c = choose(ts, FileType.MOSTLY_Q4_K_M,
                QuantPolicy.Options.DEFAULTS.withAllowRequantize(true));
        assertEquals(GgmlType.Q4_K, c.get("blk.0.attn_q.weight").type());
        assertTrue(c.get("blk.0.attn_q.weight").converts());
        // a tensor already of the chosen type is copied, requantizing allowed or not (line 790)
        c = choose(ts, FileType.MOSTLY_Q8_0);
        assertEquals(GgmlType.Q8_0, c.get("blk.0.attn_q.weight").type());
        assertTrue(!c.get("blk.0.attn_q.weight").converts());
    }

    @Test
    void lowBitTypesNeedAnImportanceMatrix() {
        // examples/quantize/quantize.cpp line 421: refused before anything is read
        for (FileType ft : List.of(FileType.MOSTLY_IQ2_XXS, FileType.MOSTLY_IQ2_XS, FileType.MOSTLY_IQ2_S,
                FileType.MOSTLY_IQ1_S, FileType.MOSTLY_IQ1_M, FileType.MOSTLY_Q2_K_S)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                    () -> choose(small(256, 256, false), ft));
            assertTrue(e.getMessage().contains("without an importance matrix"), e.getMessage());
        }
        // IQ2_M passes that check, but its default type IQ2_S needs one per tensor (line 824)
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                () -> QuantPolicy.chooseAnyFileType(SMALL, small(256, 256, false), Optional.of(FileType.MOSTLY_IQ2_M),
                        QuantPolicy.Options.DEFAULTS));
        assertTrue(e.getMessage().contains("Missing importance matrix for tensor blk.0.attn_k.weight"),
                e.getMessage());
        // Q2_K_S with one is supported: the imatrix must cover each Q2_K tensor but token_embd (line 829)
        Set<String> all = new java.util.HashSet<>();
        small(256, 256, false).forEach(x -> all.add(x.name()));
        Map<String, QuantPolicy.Choice> c = choose(small(256, 256, false), FileType.MOSTLY_Q2_K_S,
                QuantPolicy.Options.DEFAULTS.withImatrix(all));
        assertEquals(GgmlType.Q2_K, c.get("blk.0.attn_q.weight").type());
        assertEquals(GgmlType.Q4_K, c.get("blk.0.attn_v.weight").type()); // n_gqa 4, line 217
        all.remove("blk.0.attn_q.weight");
        e = org.junit.jupiter.api.Assertions.assertThrows(dev.gguf4j.Gguf4jException.class,
                () -> choose(small(256, 256, false), FileType.MOSTLY_Q2_K_S,
                        QuantPolicy.Options.DEFAULTS.withImatrix(all)));
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight"), e.getMessage());
    }

    @Test
    void fileTypesNotSupportedYetAreRefused() {
        Set<String> all = new java.util.HashSet<>();
        small(256, 256, false).forEach(x -> all.add(x.name()));
        for (FileType ft : FileType.values()) {
            boolean supported = QuantPolicy.SUPPORTED.contains(ft);
            try {
                QuantPolicy.choose(SMALL, small(256, 256, false), Optional.of(ft),
                        QuantPolicy.Options.DEFAULTS.withImatrix(all));
                assertTrue(supported, ft + " should be refused");
            } catch (dev.gguf4j.Gguf4jException e) {
                assertTrue(!supported && e.getMessage().contains("not supported yet"), ft + ": " + e.getMessage());
            }
        }
        assertEquals(19, QuantPolicy.SUPPORTED.size());
    }

    @Test
    void defaultTypes() {
        // llama_model_quantize_impl's switch, lines 470-505
        Map<FileType, GgmlType> want = Map.ofEntries(Map.entry(FileType.ALL_F32, GgmlType.F32),
                Map.entry(FileType.MOSTLY_F16, GgmlType.F16), Map.entry(FileType.MOSTLY_BF16, GgmlType.BF16),
                Map.entry(FileType.MOSTLY_Q4_0, GgmlType.Q4_0), Map.entry(FileType.MOSTLY_Q4_1, GgmlType.Q4_1),
                Map.entry(FileType.MOSTLY_Q5_0, GgmlType.Q5_0), Map.entry(FileType.MOSTLY_Q5_1, GgmlType.Q5_1),
                Map.entry(FileType.MOSTLY_Q8_0, GgmlType.Q8_0), Map.entry(FileType.MOSTLY_Q2_K, GgmlType.Q2_K),
                Map.entry(FileType.MOSTLY_Q2_K_S, GgmlType.Q2_K), Map.entry(FileType.MOSTLY_Q3_K_S, GgmlType.Q3_K),
                Map.entry(FileType.MOSTLY_Q3_K_M, GgmlType.Q3_K), Map.entry(FileType.MOSTLY_Q3_K_L, GgmlType.Q3_K),
                Map.entry(FileType.MOSTLY_Q4_K_S, GgmlType.Q4_K), Map.entry(FileType.MOSTLY_Q4_K_M, GgmlType.Q4_K),
                Map.entry(FileType.MOSTLY_Q5_K_S, GgmlType.Q5_K), Map.entry(FileType.MOSTLY_Q5_K_M, GgmlType.Q5_K),
                Map.entry(FileType.MOSTLY_Q6_K, GgmlType.Q6_K), Map.entry(FileType.MOSTLY_IQ4_NL, GgmlType.IQ4_NL),
                Map.entry(FileType.MOSTLY_IQ2_S, GgmlType.IQ2_XS), Map.entry(FileType.MOSTLY_IQ2_M, GgmlType.IQ2_S),
                Map.entry(FileType.MOSTLY_IQ3_XS, GgmlType.IQ3_S), Map.entry(FileType.MOSTLY_IQ3_M, GgmlType.IQ3_S));
        want.forEach((ft, t) -> assertEquals(t, QuantPolicy.defaultType(ft), ft.toString()));
        for (FileType ft : FileType.values()) {
            QuantPolicy.defaultType(ft); // every file type has one
        }
    }

    @Test
    void fileTypeNamesAsLlamaQuantizeTakesThem() {
        assertEquals(Optional.of(FileType.MOSTLY_Q4_K_M), QuantPolicy.parseFileType("q4_k_m"));
        assertEquals(Optional.of(FileType.MOSTLY_Q3_K_M), QuantPolicy.parseFileType("Q3_K")); // aliases
        assertEquals(Optional.of(FileType.MOSTLY_Q4_K_M), QuantPolicy.parseFileType("Q4_K"));
        assertEquals(Optional.of(FileType.MOSTLY_Q5_K_M), QuantPolicy.parseFileType("q5_k"));
        assertEquals(Optional.of(FileType.MOSTLY_Q4_K_M), QuantPolicy.parseFileType("15")); // ftype ids
        assertEquals(Optional.of(FileType.ALL_F32), QuantPolicy.parseFileType("0"));
        assertEquals(Optional.empty(), QuantPolicy.parseFileType("COPY")); // the caller's
        assertEquals(Optional.empty(), QuantPolicy.parseFileType("Q9_K"));
        assertEquals(Optional.empty(), QuantPolicy.parseFileType("4")); // no ftype 4 any more
    }

    @Test
    void loaderOrderAndCounters() {
        // llama-model-loader.h weight_name_comparer: tensors outside layers (layer -1) first, then by layer
        // number (blk.2 before blk.10), then by name
        List<String> names = new ArrayList<>(List.of("blk.10.attn_v.weight", "blk.2.ffn_up.weight", "token_embd.weight",
                "blk.2.attn_v.weight", "output.weight", "blkx.weight"));
        names.sort(QuantPolicy.LOADER_ORDER);
        assertEquals(List.of("blkx.weight", "output.weight", "token_embd.weight", "blk.2.attn_v.weight",
                "blk.2.ffn_up.weight", "blk.10.attn_v.weight"), names);
        // use_more_bits (line 129) for 32 layers: 0-3, 28-31 and every third from 6
        List<Integer> more = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            if (QuantPolicy.useMoreBits(i, 32)) {
                more.add(i);
            }
        }
        assertEquals(List.of(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31), more);
        // the counters follow the loader order, not the input's: reversing the input changes nothing
        List<QuantPolicy.Tensor> ts = new ArrayList<>(small(256, 256, false));
        List<QuantPolicy.Choice> a = QuantPolicy.choose(SMALL, ts, Optional.of(FileType.MOSTLY_Q3_K_M),
                QuantPolicy.Options.DEFAULTS);
        java.util.Collections.reverse(ts);
        assertEquals(a, QuantPolicy.choose(SMALL, ts, Optional.of(FileType.MOSTLY_Q3_K_M),
                QuantPolicy.Options.DEFAULTS));
        // Q3_K_M: the first two attn_v in that order get Q5_K (line 229)
        Map<String, QuantPolicy.Choice> c = byName(a);
        assertEquals(GgmlType.Q5_K, c.get("blk.1.attn_v.weight").type());
        assertEquals(GgmlType.Q4_K, c.get("blk.2.attn_v.weight").type());
        assertEquals("attn_v: attn_v #1 < 2 → Q5_K", c.get("blk.1.attn_v.weight").reason());
    }

    @Test
    void copyKeepsEveryType() {
        List<QuantPolicy.Choice> c = QuantPolicy.choose(SMALL, small(256, 256, false), Optional.empty(),
                QuantPolicy.Options.DEFAULTS);
        for (QuantPolicy.Choice x : c) {
            assertEquals(GgmlType.F32, x.type(), x.name());
            assertTrue(!x.converts());
        }
    }

    // ---- synthetic models quantized with llama-quantize for this test ---------------------------------------

    /**
     * A synthetic model as given to llama-quantize: tensors in file order, F32 unless said otherwise. Shapes need
     * not make a runnable model (llama-quantize never builds the graph), only pass its loader: one attn_v (or
     * attn_qkv) per layer, and the hyperparameters each architecture's load_hparams requires.
     */
    record Synth(String id, String arch, int nLayer, int nHead, int nHeadKv, int nExpert,
            List<QuantPolicy.Tensor> tensors) {
        QuantPolicy.Model model() {
            return new QuantPolicy.Model(arch, nLayer, nHead, nHeadKv, nExpert);
        }
    }

    private static QuantPolicy.Tensor t(String name, long... shape) {
        return new QuantPolicy.Tensor(name, GgmlType.F32, shape);
    }

    private static QuantPolicy.Tensor t(String name, GgmlType type, long... shape) {
        return new QuantPolicy.Tensor(name, type, shape);
    }

    /**
     * A llama-style model: token_embd, then per layer attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm,
     * ffn_gate, ffn_up, ffn_down (or ffn_gate_inp and the *_exps with experts), then output_norm and output
     * (unless tied). {@code e} is every row length but ffn_down's, which is {@code down}.
     */
    private static Synth llama(String id, String arch, int nLayer, int nHead, int nHeadKv, int nExpert,
            boolean tied, long e, long down, List<QuantPolicy.Tensor> extras) {
        List<QuantPolicy.Tensor> ts = new ArrayList<>();
        ts.add(t("token_embd.weight", e, 32));
        for (int i = 0; i < nLayer; i++) {
            String b = "blk." + i + ".";
            ts.add(t(b + "attn_norm.weight", e));
            ts.add(t(b + "attn_q.weight", e, 64));
            ts.add(t(b + "attn_k.weight", e, 16));
            ts.add(t(b + "attn_v.weight", e, 16));
            ts.add(t(b + "attn_output.weight", e, 64));
            ts.add(t(b + "ffn_norm.weight", e));
            if (nExpert > 0) {
                ts.add(t(b + "ffn_gate_inp.weight", e, nExpert));
                ts.add(t(b + "ffn_gate_exps.weight", e, 16, nExpert));
                ts.add(t(b + "ffn_up_exps.weight", e, 16, nExpert));
                ts.add(t(b + "ffn_down_exps.weight", down, 16, nExpert));
            } else {
                ts.add(t(b + "ffn_gate.weight", e, 32));
                ts.add(t(b + "ffn_up.weight", e, 32));
                ts.add(t(b + "ffn_down.weight", down, 32));
            }
        }
        ts.add(t("output_norm.weight", e));
        if (!tied) {
            ts.add(t("output.weight", e, 32));
        }
        ts.addAll(extras);
        return new Synth(id, arch, nLayer, nHead, nHeadKv, nExpert, List.copyOf(ts));
    }

    /** Falcon (fused attn_qkv, no ffn_gate) or gpt2 (attn_qkv and position embeddings). */
    private static Synth fused(String id, String arch, int nLayer, int nHead, int nHeadKv) {
        List<QuantPolicy.Tensor> ts = new ArrayList<>();
        ts.add(t("token_embd.weight", 256, 32));
        if (arch.equals("gpt2")) {
            ts.add(t("position_embd.weight", 256, 16));
        }
        for (int i = 0; i < nLayer; i++) {
            String b = "blk." + i + ".";
            ts.add(t(b + "attn_norm.weight", 256));
            ts.add(t(b + "attn_norm.bias", 256));
            ts.add(t(b + "attn_qkv.weight", 256, 96));
            ts.add(t(b + "attn_output.weight", 256, 64));
            ts.add(t(b + "ffn_up.weight", 256, 32));
            ts.add(t(b + "ffn_down.weight", 256, 32));
        }
        ts.add(t("output_norm.weight", 256));
        ts.add(t("output_norm.bias", 256));
        ts.add(t("output.weight", 256, 32));
        return new Synth(id, arch, nLayer, nHead, nHeadKv, 0, List.copyOf(ts));
    }

    static Synth synth(String id) {
        return switch (id) {
            // row lengths 4160 (= 16 * 260: a multiple of 32, not of 256); fb16 has ffn_down rows of 4112
            // (16 * 257: not even a multiple of 32); fbt is tied
            case "fb" -> llama(id, "llama", 4, 4, 1, 0, false, 4160, 4160, List.of());
            case "fb16" -> llama(id, "llama", 4, 4, 1, 0, false, 4160, 4112, List.of());
            case "fbt" -> llama(id, "llama", 4, 4, 1, 0, true, 4160, 4160, List.of());
            // names that test which tensors are quantized at all, and an extra ffn_down that shifts the counter
            case "opt" -> llama(id, "llama", 8, 4, 2, 0, false, 256, 256, List.of(
                    t("abcde", 256, 4), // 5 bytes: passes llama.cpp's "ends with weight" test (size - 6 wraps)
                    t("weird.w", 256, 4),
                    t("position_embd.weight", 256, 8), // llama has no LLM_TENSOR_POS_EMBD: quantized
                    t("token_types.weight", 256, 2),
                    t("rope_freqs.weight", 64),
                    t("blk.0.ffn_gate_inp.weight", 256, 8),
                    t("blk.0.one.weight", 256, 1), // ggml_n_dims 1
                    t("blk.1.ssm_conv1d.weight", 4, 256),
                    t("blk.2.time_mix_first.weight", 256, 4),
                    t("blk.3.attn_rel_b.weight", 256, 4),
                    t("blk.4.ffn_down_shexp.weight", 256, 32),
                    t("blk.5.attn_output.bias", 256),
                    t("blk.7.col.weight", 32, 64)));
            case "optt" -> llama(id, "llama", 8, 4, 2, 0, true, 256, 256, List.of());
            case "moe" -> llama(id, "llama", 8, 4, 1, 8, false, 256, 256, List.of());
            case "moe4" -> llama(id, "llama", 8, 4, 4, 4, true, 256, 256, List.of());
            case "iq" -> llama(id, "llama", 16, 4, 1, 0, false, 256, 256, List.of());
            case "iqg1" -> llama(id, "llama", 16, 4, 4, 0, true, 256, 256, List.of());
            case "l70" -> llama(id, "llama", 80, 8, 1, 0, false, 256, 256, List.of());
            case "l65" -> llama(id, "llama", 80, 8, 8, 0, false, 256, 256, List.of());
            case "qwen70" -> llama(id, "qwen2", 80, 8, 8, 0, true, 256, 256, List.of());
            case "gemma" -> llama(id, "gemma", 4, 4, 1, 0, false, 256, 256, List.of());
            case "falcon" -> fused(id, "falcon", 16, 4, 1);
            case "gpt2" -> fused(id, "gpt2", 16, 4, 4);
            case "mixsrc" -> {
                List<QuantPolicy.Tensor> ts = new ArrayList<>();
                for (QuantPolicy.Tensor x : llama(id, "llama", 4, 4, 2, 0, false, 256, 256, List.of()).tensors()) {
                    GgmlType ty = switch (x.name()) {
                        case "token_embd.weight", "output.weight", "blk.2.ffn_up.weight" -> GgmlType.F16;
                        case "blk.0.attn_q.weight", "blk.3.attn_norm.weight" -> GgmlType.BF16;
                        case "blk.0.attn_k.weight" -> GgmlType.Q8_0;
                        case "blk.1.attn_q.weight" -> GgmlType.Q4_K; // what Q4_K_M picks: copied, no requantizing
                        default -> x.type();
                    };
                    ts.add(new QuantPolicy.Tensor(x.name(), ty, x.shape()));
                }
                yield new Synth(id, "llama", 4, 4, 2, 0, List.copyOf(ts));
            }
            case "i32" -> {
                List<QuantPolicy.Tensor> ts = new ArrayList<>(llama(id, "llama", 1, 4, 2, 0, false, 256, 256,
                        List.of()).tensors());
                ts.add(t("blk.0.extra.weight", GgmlType.I32, 256, 4));
                yield new Synth(id, "llama", 1, 4, 2, 0, List.copyOf(ts));
            }
            default -> throw new IllegalArgumentException(id);
        };
    }

    /**
     * What llama-quantize (llama.cpp c392e50, /opt/llama.cpp/build/bin/llama-quantize, 4 threads) chose for the
     * {@link #synth} models. Produced for this test: each model was written with {@code GgufWriter} (F32 data
     * drawn from a Gaussian, the other source types as {@link #synth} says), with an importance matrix in the
     * legacy .dat format holding an entry for every tensor of two or more dimensions; then
     * {@code llama-quantize [options] [--imatrix model.imatrix] model.gguf out.gguf FTYPE 4} was run, and the types
     * of out.gguf's tensors were read back in file order (which is llama.cpp's loader order, {@link
     * QuantPolicy#LOADER_ORDER}). A run that failed is recorded as ERROR and the part of llama-quantize's message
     * the policy's exception must contain.
     *
     * <p>Format: {@code model | options and file type | types}, a line starting with spaces continuing the one
     * before. Types come in blocks, one per layer (the tensors outside layers first); {@code xN} repeats the block
     * before N times in all, {@code type*k} repeats a type within a block.
     */
    private static final String LLAMA_QUANTIZE_RUNS = """
        fb | Q4_0 | q8_0,f32,q4_0 q4_0,f32,q4_0*5,f32,q4_0 x4
        fb | Q4_1 | q8_0,f32,q4_1 q4_1,f32,q4_1*5,f32,q4_1 x4
        fb | Q5_0 | q8_0,f32,q5_0 q5_0,f32,q5_0*5,f32,q5_0 x4
        fb | Q5_1 | q8_0,f32,q5_1 q5_1,f32,q5_1*5,f32,q5_1 x4
        fb | Q8_0 | q8_0,f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x4
        fb | Q2_K | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_0,iq4_nl*2,f32,iq4_nl x4
        fb | Q3_K_S | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*5,f32,iq4_nl x4
        fb | Q3_K_M | q8_0,f32,iq4_nl iq4_nl,f32,q5_0,iq4_nl,q5_1,q5_0,iq4_nl,f32,iq4_nl x2
            iq4_nl,f32,q5_0,iq4_nl,q5_0*2,iq4_nl,f32,iq4_nl x2
        fb | Q3_K_L | q8_0,f32,iq4_nl iq4_nl,f32,q5_1,iq4_nl,q5_1*2,iq4_nl,f32,iq4_nl x4
        fb | Q4_K_S | q8_0,f32,q5_0 q5_0,f32,q5_0*2,q5_1,q5_0*2,f32,q5_0 x4
        fb | Q4_K_M | q8_0,f32,q5_0 q5_0,f32,q5_0*5,f32,q5_0 x2 q5_0,f32,q5_0*2,q8_0*2,q5_0,f32,q5_0 x2
        fb | Q5_K_S | q8_0,f32,q5_1 q5_1,f32,q5_1*5,f32,q5_1 x4
        fb | Q5_K_M | q8_0,f32,q5_1 q5_1,f32,q5_1*5,f32,q5_1 x2 q5_1,f32,q5_1*2,q8_0*2,q5_1,f32,q5_1 x2
        fb | Q6_K | q8_0,f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x4
        fb | IQ4_NL | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_1,iq4_nl*2,f32,iq4_nl x4
        fb | F16 | f16,f32,f16 f16,f32,f16*5,f32,f16 x4
        fb | BF16 | bf16,f32,bf16 bf16,f32,bf16*5,f32,bf16 x4
        fb | F32 | f32*3 f32*9 x4
        fb | --output-tensor-type q4_K Q4_K_M | ERROR row size not divisible by block size
        fb | --pure Q4_K_M | ERROR row size not divisible by block size
        fb | --pure Q4_0 | q4_0,f32,q4_0 q4_0,f32,q4_0*5,f32,q4_0 x4
        fb | --output-tensor-type q8_0 Q4_K_M | q8_0,f32,q5_0 q5_0,f32,q5_0*5,f32,q5_0 x2
            q5_0,f32,q5_0*2,q8_0*2,q5_0,f32,q5_0 x2
        fb | --imatrix IQ2_XXS | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_0,iq4_nl*2,f32,iq4_nl x4
        fb | --imatrix IQ3_S | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_0,iq4_nl*2,f32,iq4_nl x4
        fb | --imatrix IQ4_XS | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_1,iq4_nl*2,f32,iq4_nl x4
        fb | TQ1_0 | q8_0,f32,q5_0 q4_0,f32,q4_0*5,f32,q4_0 x4
        fb | --imatrix Q2_K_S | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_0,iq4_nl*2,f32,iq4_nl x4
        fb | IQ3_XXS | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_0,iq4_nl*2,f32,iq4_nl x4
        fb16 | Q4_K_M | q8_0,f32,q5_0 q5_0,f32,q5_0*3,f16,q5_0,f32,q5_0 x2
            q5_0,f32,q5_0*2,q8_0,f16,q5_0,f32,q5_0 x2
        fb16 | Q2_K | q8_0,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_0,f16,iq4_nl,f32,iq4_nl x4
        fb16 | Q3_K_M | q8_0,f32,iq4_nl iq4_nl,f32,q5_0,iq4_nl,q5_1,f16,iq4_nl,f32,iq4_nl x2
            iq4_nl,f32,q5_0,iq4_nl,q5_0,f16,iq4_nl,f32,iq4_nl x2
        fb16 | Q5_K_S | q8_0,f32,q5_1 q5_1,f32,q5_1*3,f16,q5_1,f32,q5_1 x4
        fb16 | Q6_K | q8_0,f32,q8_0 q8_0,f32,q8_0*3,f16,q8_0,f32,q8_0 x4
        fb16 | Q4_0 | ERROR Unsupported tensor size
        fb16 | Q8_0 | ERROR Unsupported tensor size
        fb16 | IQ4_NL | ERROR Unsupported tensor size
        fb16 | F16 | f16,f32,f16 f16,f32,f16*5,f32,f16 x4
        fbt | Q4_K_M | f32,q8_0 q5_0,f32,q5_0*5,f32,q5_0 x2 q5_0,f32,q5_0*2,q8_0*2,q5_0,f32,q5_0 x2
        fbt | Q4_0 | f32,q8_0 q4_0,f32,q4_0*5,f32,q4_0 x4
        fbt | Q8_0 | f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x4
        fbt | Q6_K | f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x4
        fbt | Q2_K | f32,q8_0 iq4_nl,f32,iq4_nl*2,q5_0,iq4_nl*2,f32,iq4_nl x4
        fbt | --output-tensor-type q6_K Q4_K_M | f32,q8_0 q5_0,f32,q5_0*5,f32,q5_0 x2
            q5_0,f32,q5_0*2,q8_0*2,q5_0,f32,q5_0 x2
        fbt | --token-embedding-type q4_0 Q4_K_M | f32,q4_0 q5_0,f32,q5_0*5,f32,q5_0 x2
            q5_0,f32,q5_0*2,q8_0*2,q5_0,f32,q5_0 x2
        opt | F32 | f32*8 f32*11 f32*10 x5 f32*9 f32*10
        opt | F16 | f16*2,f32,f16,f32,f16*2,f32 f16,f32,f16*5,f32*2,f16,f32 f16,f32,f16*5,f32,f16,f32 x2
            f16,f32,f16*2,f32,f16*3,f32,f16 f16,f32,f16*6,f32,f16 f16,f32*2,f16*5,f32,f16 f16,f32,f16*5,f32,f16
            f16,f32,f16*6,f32,f16
        opt | BF16 | bf16*2,f32,bf16,f32,bf16*2,f32 bf16,f32,bf16*5,f32*2,bf16,f32 bf16,f32,bf16*5,f32,bf16,f32
            x2 bf16,f32,bf16*2,f32,bf16*3,f32,bf16 bf16,f32,bf16*6,f32,bf16 bf16,f32*2,bf16*5,f32,bf16
            bf16,f32,bf16*5,f32,bf16 bf16,f32,bf16*6,f32,bf16
        opt | Q4_0 | q4_0,q6_K,f32,q4_0,f32,q4_0*2,f32 q4_0,f32,q4_0*5,f32*2,q4_0,f32
            q4_0,f32,q4_0*5,f32,q4_0,f32 x2 q4_0,f32,q4_0*2,f32,q4_0*3,f32,q4_0 q4_0,f32,q4_0*6,f32,q4_0
            q4_0,f32*2,q4_0*5,f32,q4_0 q4_0,f32,q4_0*5,f32,q4_0 q4_0,f32,q4_0*6,f32,q4_0
        opt | Q4_1 | q4_1,q6_K,f32,q4_1,f32,q4_1*2,f32 q4_1,f32,q4_1*5,f32*2,q4_1,f32
            q4_1,f32,q4_1*5,f32,q4_1,f32 x2 q4_1,f32,q4_1*2,f32,q4_1*3,f32,q4_1 q4_1,f32,q4_1*6,f32,q4_1
            q4_1,f32*2,q4_1*5,f32,q4_1 q4_1,f32,q4_1*5,f32,q4_1 q4_1,f32,q4_1*6,f32,q4_1
        opt | Q5_0 | q5_0,q6_K,f32,q5_0,f32,q5_0*2,f32 q5_0,f32,q5_0*5,f32*2,q5_0,f32
            q5_0,f32,q5_0*5,f32,q5_0,f32 x2 q5_0,f32,q5_0*2,f32,q5_0*3,f32,q5_0 q5_0,f32,q5_0*6,f32,q5_0
            q5_0,f32*2,q5_0*5,f32,q5_0 q5_0,f32,q5_0*5,f32,q5_0 q5_0,f32,q5_0*6,f32,q5_0
        opt | Q5_1 | q5_1,q6_K,f32,q5_1,f32,q5_1*2,f32 q5_1,f32,q5_1*5,f32*2,q5_1,f32
            q5_1,f32,q5_1*5,f32,q5_1,f32 x2 q5_1,f32,q5_1*2,f32,q5_1*3,f32,q5_1 q5_1,f32,q5_1*6,f32,q5_1
            q5_1,f32*2,q5_1*5,f32,q5_1 q5_1,f32,q5_1*5,f32,q5_1 q5_1,f32,q5_1*6,f32,q5_1
        opt | Q8_0 | q8_0*2,f32,q8_0,f32,q8_0*2,f32 q8_0,f32,q8_0*5,f32*2,q8_0,f32 q8_0,f32,q8_0*5,f32,q8_0,f32
            x2 q8_0,f32,q8_0*2,f32,q8_0*3,f32,q8_0 q8_0,f32,q8_0*6,f32,q8_0 q8_0,f32*2,q8_0*5,f32,q8_0
            q8_0,f32,q8_0*5,f32,q8_0 q8_0,f32,q8_0*6,f32,q8_0
        opt | Q2_K | q2_K,q6_K,f32,q2_K,f32,q2_K*2,f32 q2_K,f32,q3_K,q2_K,q3_K*2,q2_K,f32*2,q2_K,f32
            q2_K,f32,q3_K,q2_K,q3_K*2,q2_K,f32,q2_K,f32 x2 q2_K,f32,q3_K,q2_K,f32,q3_K*2,q2_K,f32,q2_K
            q2_K,f32,q3_K,q2_K,q3_K*3,q2_K,f32,q2_K q2_K,f32*2,q3_K,q2_K,q3_K*2,q2_K,f32,q2_K
            q2_K,f32,q3_K,q2_K,q3_K*2,q2_K,f32,q2_K q2_K,f32,q3_K,q2_K,q3_K,iq4_nl,q3_K,q2_K,f32,q2_K
        opt | Q3_K_S | q3_K,q6_K,f32,q3_K,f32,q3_K*2,f32 q3_K,f32,q3_K*5,f32*2,q3_K,f32
            q3_K,f32,q3_K*5,f32,q3_K,f32 x2 q3_K,f32,q3_K*2,f32,q3_K*3,f32,q3_K q3_K,f32,q3_K*6,f32,q3_K
            q3_K,f32*2,q3_K*5,f32,q3_K q3_K,f32,q3_K*5,f32,q3_K q3_K,f32,q3_K*3,iq4_nl,q3_K*2,f32,q3_K
        opt | Q3_K_M | q3_K,q6_K,f32,q3_K,f32,q3_K*2,f32 q3_K,f32,q4_K,q3_K,q5_K,q4_K,q3_K,f32*2,q3_K,f32
            q3_K,f32,q4_K,q3_K,q5_K,q4_K,q3_K,f32,q3_K,f32 q3_K,f32,q4_K,q3_K,q4_K*2,q3_K,f32,q3_K,f32
            q3_K,f32,q4_K,q3_K,f32,q4_K*2,q3_K,f32,q3_K q3_K,f32,q4_K,q3_K,q4_K*3,q3_K,f32,q3_K
            q3_K,f32*2,q4_K,q3_K,q4_K*2,q3_K,f32,q3_K q3_K,f32,q4_K,q3_K,q4_K*2,q3_K,f32,q3_K
            q3_K,f32,q4_K,q3_K,q4_K,iq4_nl,q4_K,q3_K,f32,q3_K
        opt | Q3_K_L | q3_K,q6_K,f32,q3_K,f32,q3_K*2,f32 q3_K,f32,q5_K,q3_K,q5_K*2,q3_K,f32*2,q3_K,f32
            q3_K,f32,q5_K,q3_K,q5_K*2,q3_K,f32,q3_K,f32 x2 q3_K,f32,q5_K,q3_K,f32,q5_K*2,q3_K,f32,q3_K
            q3_K,f32,q5_K,q3_K,q5_K*3,q3_K,f32,q3_K q3_K,f32*2,q5_K,q3_K,q5_K*2,q3_K,f32,q3_K
            q3_K,f32,q5_K,q3_K,q5_K*2,q3_K,f32,q3_K q3_K,f32,q5_K,q3_K,q5_K,iq4_nl,q5_K,q3_K,f32,q3_K
        opt | Q4_K_S | q4_K,q6_K,f32,q4_K,f32,q4_K*2,f32 q4_K,f32,q4_K*2,q5_K*2,q4_K,f32*2,q4_K,f32
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K,f32 x2 q4_K,f32,q4_K*2,f32,q5_K,q4_K*2,f32,q4_K
            q4_K,f32,q4_K*6,f32,q4_K q4_K,f32*2,q4_K*5,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K
            q4_K,f32,q4_K*3,q5_0,q4_K*2,f32,q4_K
        opt | Q4_K_M | q4_K,q6_K,f32,q4_K,f32,q4_K*2,f32 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32*2,q4_K,f32
            q4_K,f32,q4_K*5,f32,q4_K,f32 x2 q4_K,f32,q4_K*2,f32,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*6,f32,q4_K
            q4_K,f32*2,q4_K*3,q6_K,q4_K,f32,q4_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q6_K,q5_0,q6_K,q4_K,f32,q4_K
        opt | Q5_K_S | q5_K,q6_K,f32,q5_K,f32,q5_K*2,f32 q5_K,f32,q5_K*5,f32*2,q5_K,f32
            q5_K,f32,q5_K*5,f32,q5_K,f32 x2 q5_K,f32,q5_K*2,f32,q5_K*3,f32,q5_K q5_K,f32,q5_K*6,f32,q5_K
            q5_K,f32*2,q5_K*5,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K q5_K,f32,q5_K*3,q5_1,q5_K*2,f32,q5_K
        opt | Q5_K_M | q5_K,q6_K,f32,q5_K,f32,q5_K*2,f32 q5_K,f32,q5_K*2,q6_K*2,q5_K,f32*2,q5_K,f32
            q5_K,f32,q5_K*5,f32,q5_K,f32 x2 q5_K,f32,q5_K*2,f32,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*6,f32,q5_K
            q5_K,f32*2,q5_K*3,q6_K,q5_K,f32,q5_K q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K
            q5_K,f32,q5_K*2,q6_K,q5_1,q6_K,q5_K,f32,q5_K
        opt | Q6_K | q6_K*2,f32,q6_K,f32,q6_K*2,f32 q6_K,f32,q6_K*5,f32*2,q6_K,f32 q6_K,f32,q6_K*5,f32,q6_K,f32
            x2 q6_K,f32,q6_K*2,f32,q6_K*3,f32,q6_K q6_K,f32,q6_K*6,f32,q6_K q6_K,f32*2,q6_K*5,f32,q6_K
            q6_K,f32,q6_K*5,f32,q6_K q6_K,f32,q6_K*3,q8_0,q6_K*2,f32,q6_K
        opt | IQ4_NL | iq4_nl,q6_K,f32,iq4_nl,f32,iq4_nl*2,f32 iq4_nl,f32,iq4_nl*3,q5_K,iq4_nl,f32*2,iq4_nl,f32
            iq4_nl,f32,iq4_nl*5,f32,iq4_nl,f32 x2 iq4_nl,f32,iq4_nl*2,f32,iq4_nl*3,f32,iq4_nl
            iq4_nl,f32,iq4_nl*6,f32,iq4_nl iq4_nl,f32*2,iq4_nl*5,f32,iq4_nl iq4_nl,f32,iq4_nl*5,f32,iq4_nl
            iq4_nl,f32,iq4_nl*6,f32,iq4_nl
        opt | COPY | f32*8 f32*11 f32*10 x5 f32*9 f32*10
        opt | --pure Q4_K_M | ERROR row size not divisible by block size
        opt | --output-tensor-type q8_0 Q4_K_M | q4_K,q8_0,f32,q4_K,f32,q4_K*2,f32
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32*2,q4_K,f32 q4_K,f32,q4_K*5,f32,q4_K,f32 x2
            q4_K,f32,q4_K*2,f32,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*6,f32,q4_K
            q4_K,f32*2,q4_K*3,q6_K,q4_K,f32,q4_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q6_K,q5_0,q6_K,q4_K,f32,q4_K
        opt | --token-embedding-type q4_0 Q4_K_M | q4_K,q6_K,f32,q4_K,f32,q4_0,q4_K,f32
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32*2,q4_K,f32 q4_K,f32,q4_K*5,f32,q4_K,f32 x2
            q4_K,f32,q4_K*2,f32,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*6,f32,q4_K
            q4_K,f32*2,q4_K*3,q6_K,q4_K,f32,q4_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q6_K,q5_0,q6_K,q4_K,f32,q4_K
        opt | --leave-output-tensor Q4_K_M | q4_K,f32*2,q4_K,f32,q4_K*2,f32
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32*2,q4_K,f32 q4_K,f32,q4_K*5,f32,q4_K,f32 x2
            q4_K,f32,q4_K*2,f32,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*6,f32,q4_K
            q4_K,f32*2,q4_K*3,q6_K,q4_K,f32,q4_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q6_K,q5_0,q6_K,q4_K,f32,q4_K
        opt | --pure --output-tensor-type q8_0 --token-embedding-type f16 Q4_K_M | ERROR row size not divisible by block size
        opt | --output-tensor-type q8_0 F16 | f16,q8_0,f32,f16,f32,f16*2,f32 f16,f32,f16*5,f32*2,f16,f32
            f16,f32,f16*5,f32,f16,f32 x2 f16,f32,f16*2,f32,f16*3,f32,f16 f16,f32,f16*6,f32,f16
            f16,f32*2,f16*5,f32,f16 f16,f32,f16*5,f32,f16 f16,f32,f16*6,f32,f16
        opt | --leave-output-tensor Q8_0 | q8_0,f32*2,q8_0,f32,q8_0*2,f32 q8_0,f32,q8_0*5,f32*2,q8_0,f32
            q8_0,f32,q8_0*5,f32,q8_0,f32 x2 q8_0,f32,q8_0*2,f32,q8_0*3,f32,q8_0 q8_0,f32,q8_0*6,f32,q8_0
            q8_0,f32*2,q8_0*5,f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 q8_0,f32,q8_0*6,f32,q8_0
        opt | --imatrix Q4_0 | q4_0,q6_K,f32,q4_0,f32,q4_0*2,f32 q4_0,f32,q4_0*3,q4_1,q4_0,f32*2,q4_0,f32
            q4_0,f32,q4_0*5,f32,q4_0,f32 x2 q4_0,f32,q4_0*2,f32,q4_0*3,f32,q4_0 q4_0,f32,q4_0*6,f32,q4_0
            q4_0,f32*2,q4_0*5,f32,q4_0 q4_0,f32,q4_0*5,f32,q4_0 q4_0,f32,q4_0*6,f32,q4_0
        opt | --imatrix Q5_0 | q5_0,q6_K,f32,q5_0,f32,q5_0*2,f32 q5_0,f32,q5_0*3,q5_1,q5_0,f32*2,q5_0,f32
            q5_0,f32,q5_0*5,f32,q5_0,f32 x2 q5_0,f32,q5_0*2,f32,q5_0*3,f32,q5_0 q5_0,f32,q5_0*6,f32,q5_0
            q5_0,f32*2,q5_0*5,f32,q5_0 q5_0,f32,q5_0*5,f32,q5_0 q5_0,f32,q5_0*6,f32,q5_0
        opt | --imatrix IQ4_NL | iq4_nl,q6_K,f32,iq4_nl,f32,iq4_nl*2,f32 iq4_nl,f32,iq4_nl*5,f32*2,iq4_nl,f32
            iq4_nl,f32,iq4_nl*5,f32,iq4_nl,f32 x2 iq4_nl,f32,iq4_nl*2,f32,iq4_nl*3,f32,iq4_nl
            iq4_nl,f32,iq4_nl*6,f32,iq4_nl iq4_nl,f32*2,iq4_nl*5,f32,iq4_nl iq4_nl,f32,iq4_nl*5,f32,iq4_nl
            iq4_nl,f32,iq4_nl*6,f32,iq4_nl
        opt | --imatrix Q2_K_S | q2_K,q6_K,f32,q2_K,f32,q2_K*2,f32 q2_K,f32,q2_K*3,q4_K,q2_K,f32*2,q2_K,f32
            q2_K,f32,q2_K*5,f32,q2_K,f32 x2 q2_K,f32,q2_K*2,f32,q2_K*3,f32,q2_K q2_K,f32,q2_K*6,f32,q2_K
            q2_K,f32*2,q2_K*5,f32,q2_K q2_K,f32,q2_K*5,f32,q2_K q2_K,f32,q2_K*3,iq4_nl,q2_K*2,f32,q2_K
        optt | Q4_K_M | f32,q6_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        optt | Q8_0 | f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x8
        optt | Q2_K | f32,q6_K q2_K,f32,q3_K,q2_K,q3_K*2,q2_K,f32,q2_K x8
        optt | Q3_K_M | f32,q6_K q3_K,f32,q4_K,q3_K,q5_K,q4_K,q3_K,f32,q3_K x2
            q3_K,f32,q4_K,q3_K,q4_K*2,q3_K,f32,q3_K x6
        optt | Q6_K | f32,q6_K q6_K,f32,q6_K*5,f32,q6_K x8
        optt | --output-tensor-type q5_0 Q4_K_M | f32,q5_0 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*5,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        optt | --output-tensor-type q5_0 --token-embedding-type q4_1 Q4_K_M | f32,q4_1
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        optt | --pure --output-tensor-type q5_0 Q4_K_M | f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x8
        optt | --leave-output-tensor Q4_K_M | f32,q6_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*5,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        optt | --token-embedding-type q8_0 Q4_K_M | f32,q8_0 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*5,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        optt | --pure Q3_K_M | f32,q3_K q3_K,f32,q3_K*5,f32,q3_K x8
        optt | --imatrix Q2_K_S | f32,q6_K q2_K,f32,q2_K*3,q4_K,q2_K,f32,q2_K q2_K,f32,q2_K*5,f32,q2_K x7
        moe | Q2_K | q6_K,f32,q2_K q8_0,f32,q5_K,q2_K,q8_0,q3_K,q2_K,f32*2,q2_K x8
        moe | Q3_K_S | q6_K,f32,q3_K q8_0,f32,q5_K,q3_K,q8_0,q3_K*2,f32*2,q3_K x8
        moe | Q3_K_M | q6_K,f32,q3_K q8_0,f32,q5_K,q3_K,q8_0,q4_K,q3_K,f32*2,q3_K x8
        moe | Q3_K_L | q6_K,f32,q3_K q8_0,f32,q3_K*2,q8_0,q5_K,q3_K,f32*2,q3_K x8
        moe | Q4_K_S | q6_K,f32,q4_K q8_0,f32,q5_K,q4_K,q8_0,q5_K,q4_K,f32*2,q4_K
            q8_0,f32,q5_K,q4_K,q8_0,q4_K*2,f32*2,q4_K x7
        moe | Q4_K_M | q6_K,f32,q4_K q8_0,f32,q5_K,q4_K,q8_0,q6_K,q4_K,f32*2,q4_K
            q8_0,f32,q5_K,q4_K,q8_0,q4_K*2,f32*2,q4_K x2 q8_0,f32,q5_K,q4_K,q8_0,q6_K,q4_K,f32*2,q4_K
            q8_0,f32,q5_K,q4_K,q8_0,q4_K*2,f32*2,q4_K x2 q8_0,f32,q5_K,q4_K,q8_0,q6_K,q4_K,f32*2,q4_K x2
        moe | Q5_K_S | q6_K,f32,q5_K q8_0,f32,q5_K*2,q8_0,q5_K*2,f32*2,q5_K x8
        moe | Q5_K_M | q6_K,f32,q5_K q8_0,f32,q5_K*2,q8_0,q6_K,q5_K,f32*2,q5_K
            q8_0,f32,q5_K*2,q8_0,q5_K*2,f32*2,q5_K x2 q8_0,f32,q5_K*2,q8_0,q6_K,q5_K,f32*2,q5_K
            q8_0,f32,q5_K*2,q8_0,q5_K*2,f32*2,q5_K x2 q8_0,f32,q5_K*2,q8_0,q6_K,q5_K,f32*2,q5_K x2
        moe | Q6_K | q6_K,f32,q6_K q8_0,f32,q6_K*2,q8_0,q6_K*2,f32*2,q6_K x8
        moe | Q4_0 | q6_K,f32,q4_0 q8_0,f32,q4_0*2,q8_0,q4_0*2,f32*2,q4_0 x8
        moe | Q8_0 | q8_0,f32,q8_0 q8_0,f32,q8_0*5,f32*2,q8_0 x8
        moe | IQ4_NL | q6_K,f32,iq4_nl q8_0,f32,q5_K,iq4_nl,q8_0,q5_K,iq4_nl,f32*2,iq4_nl
            q8_0,f32,q5_K,iq4_nl,q8_0,iq4_nl*2,f32*2,iq4_nl x7
        moe | --imatrix IQ2_XXS | q5_K,f32,q2_K q4_K,f32,q5_K,iq2_xxs,q4_K,q2_K,iq2_xxs,f32*2,iq2_xxs
            q4_K,f32,q5_K,iq2_xxs,q4_K,iq2_xxs*2,f32*2,iq2_xxs x7
        moe | --imatrix IQ2_XS | q5_K,f32,q2_K q4_K,f32,q5_K,iq2_xs,q4_K,q2_K,iq2_xs,f32*2,iq2_xs
            q4_K,f32,q5_K,iq2_xs,q4_K,iq2_xs*2,f32*2,iq2_xs x7
        moe | --imatrix IQ2_S | q5_K,f32,iq3_s q4_K,f32,q5_K,iq2_xs,q4_K,iq3_s,iq2_xs,f32*2,iq2_xs
            q4_K,f32,q5_K,iq2_xs,q4_K,iq2_xs*2,f32*2,iq2_xs x7
        moe | --imatrix IQ2_M | q5_K,f32,iq3_s q4_K,f32,q5_K,iq2_s,q4_K,iq3_s,iq2_s,f32*2,iq2_s
            q4_K,f32,q5_K,iq2_s,q4_K,iq2_s*2,f32*2,iq2_s x7
        moe | --imatrix IQ1_S | q5_K,f32,q2_K q4_K,f32,q5_K,iq1_s,q4_K,q2_K,iq1_s,f32*2,iq1_s
            q4_K,f32,q5_K,iq1_s,q4_K,iq1_s*2,f32*2,iq1_s x7
        moe | --imatrix IQ1_M | q5_K,f32,q2_K q4_K,f32,q5_K,iq1_m,q4_K,q2_K,iq1_m,f32*2,iq1_m
            q4_K,f32,q5_K,iq1_m,q4_K,iq1_m*2,f32*2,iq1_m x7
        moe | --imatrix IQ3_XXS | q5_K,f32,iq3_s q8_0,f32,q5_K,iq2_s,q8_0,iq3_xxs*2,f32*2,iq3_xxs x8
        moe | --imatrix IQ3_XS | q6_K,f32,iq3_s q8_0,f32,q5_K,iq3_xxs,q8_0,iq3_s*2,f32*2,iq3_s
            q8_0,f32,q5_K,iq3_xxs,q8_0,iq3_s,iq3_xxs,f32*2,iq3_xxs x6
            q8_0,f32,q5_K,iq3_xxs,q8_0,iq3_s*2,f32*2,iq3_s
        moe | --imatrix IQ3_S | q6_K,f32,iq3_s q8_0,f32,q5_K,iq3_s,q8_0,iq3_s*2,f32*2,iq3_s x8
        moe | --imatrix IQ3_M | q6_K,f32,iq3_s q8_0,f32,q5_K,iq3_s,q8_0,q4_K,iq3_s,f32*2,iq3_s
            q8_0,f32,q5_K,iq3_s,q8_0,iq3_s*2,f32*2,iq3_s x2 q8_0,f32,q5_K,iq3_s,q8_0,q4_K,iq3_s,f32*2,iq3_s
            q8_0,f32,q5_K,iq3_s,q8_0,iq3_s*2,f32*2,iq3_s x2 q8_0,f32,q5_K,iq3_s,q8_0,q4_K,iq3_s,f32*2,iq3_s x2
        moe | --imatrix IQ4_XS | q6_K,f32,iq4_xs q8_0,f32,q5_K,iq4_xs,q8_0,iq4_xs*2,f32*2,iq4_xs x8
        moe | --imatrix Q2_K_S | q6_K,f32,q2_K q8_0,f32,q2_K*2,q8_0,q4_K,q2_K,f32*2,q2_K
            q8_0,f32,q2_K*2,q8_0,q2_K*2,f32*2,q2_K x7
        moe4 | Q2_K | f32,q6_K q2_K,f32,q3_K,q2_K,q3_K*2,q2_K,f32*2,q2_K x8
        moe4 | Q3_K_M | f32,q6_K q3_K,f32,q4_K,q3_K,q5_K,q4_K,q3_K,f32*2,q3_K x2
            q3_K,f32,q4_K,q3_K,q4_K*2,q3_K,f32*2,q3_K x6
        moe4 | Q4_K_M | f32,q6_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32*2,q4_K q4_K,f32,q4_K*5,f32*2,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32*2,q4_K q4_K,f32,q4_K*5,f32*2,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32*2,q4_K x2
        moe4 | IQ4_NL | f32,q6_K iq4_nl,f32,iq4_nl*3,q5_K,iq4_nl,f32*2,iq4_nl iq4_nl,f32,iq4_nl*5,f32*2,iq4_nl
            x7
        moe4 | --imatrix IQ2_XXS | f32,q5_K iq2_xxs,f32,iq2_xxs*2,q4_K,q2_K,iq2_xxs,f32*2,iq2_xxs
            iq2_xxs,f32,iq2_xxs*2,q4_K,iq2_xxs*2,f32*2,iq2_xxs x7
        moe4 | --imatrix IQ2_S | f32,q5_K iq2_xs,f32,iq3_s,iq2_xs,q4_K,iq3_s,iq2_xs,f32*2,iq2_xs
            iq2_xs,f32,iq3_s,iq2_xs,q4_K,iq2_xs*2,f32*2,iq2_xs x7
        moe4 | --imatrix IQ1_M | f32,q5_K iq1_m,f32,iq2_xxs,iq1_m,q4_K,q2_K,iq1_m,f32*2,iq1_m
            iq1_m,f32,iq2_xxs,iq1_m,q4_K,iq1_m*2,f32*2,iq1_m x7
        moe4 | --imatrix IQ3_XXS | f32,q5_K iq2_s,f32,iq3_s,iq2_s,iq3_xxs*3,f32*2,iq3_xxs x8
        moe4 | --imatrix IQ3_M | f32,q6_K iq3_s,f32,q4_K,iq3_s,q4_K*2,iq3_s,f32*2,iq3_s
            iq3_s,f32,q4_K,iq3_s,q4_K,iq3_s*2,f32*2,iq3_s x7
        iq | Q4_1 | q6_K,f32,q4_1 q4_1,f32,q4_1*5,f32,q4_1 x16
        iq | Q5_0 | q6_K,f32,q5_0 q5_0,f32,q5_0*5,f32,q5_0 x16
        iq | Q5_1 | q6_K,f32,q5_1 q5_1,f32,q5_1*5,f32,q5_1 x16
        iq | Q8_0 | q8_0,f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x16
        iq | IQ4_NL | q6_K,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_K*2,iq4_nl,f32,iq4_nl x2
            iq4_nl,f32,iq4_nl*2,q5_K,iq4_nl*2,f32,iq4_nl x14
        iq | F16 | f16,f32,f16 f16,f32,f16*5,f32,f16 x16
        iq | BF16 | bf16,f32,bf16 bf16,f32,bf16*5,f32,bf16 x16
        iq | F32 | f32*3 f32*9 x16
        iq | IQ3_XXS | ERROR Missing importance matrix for tensor blk.0.attn_k.weight
        iq | IQ3_XS | q6_K,f32,iq3_s iq3_xxs,f32,iq3_s,iq3_xxs,q4_K,iq3_s*2,f32,iq3_s x2
            iq3_xxs,f32,iq3_s,iq3_xxs,q4_K,iq3_s,iq3_xxs,f32,iq3_xxs x12
            iq3_xxs,f32,iq3_s,iq3_xxs,q4_K,iq3_s*2,f32,iq3_s x2
        iq | IQ4_XS | q6_K,f32,iq4_xs iq4_xs,f32,iq4_xs*2,q5_K*2,iq4_xs,f32,iq4_xs x2
            iq4_xs,f32,iq4_xs*2,q5_K,iq4_xs*2,f32,iq4_xs x14
        iq | IQ3_M | q6_K,f32,iq3_s iq3_s,f32,q4_K,iq3_s,q4_K*2,iq3_s,f32,iq3_s x2
            iq3_s,f32,q4_K,iq3_s,q4_K,iq3_s*2,f32,iq3_s x14
        iq | IQ3_S | q6_K,f32,iq3_s iq3_s,f32,iq3_s*2,q4_K,iq3_s*2,f32,iq3_s x16
        iq | TQ1_0 | q6_K,f32,q4_K tq1_0,f32,tq1_0*5,f32,tq1_0 x16
        iq | TQ2_0 | q6_K,f32,q4_K tq2_0,f32,tq2_0*5,f32,tq2_0 x16
        iq | IQ2_XXS | ERROR without an importance matrix
        iq | IQ2_M | ERROR Missing importance matrix for tensor blk.0.attn_k.weight
        iq | Q2_K_S | ERROR without an importance matrix
        iq | --imatrix IQ2_XXS | q5_K,f32,q2_K iq2_xxs,f32,iq2_xxs*2,q4_K,q2_K,iq2_xxs,f32,iq2_xxs x2
            iq2_xxs,f32,iq2_xxs*2,q4_K,iq2_xxs*2,f32,iq2_xxs x14
        iq | --imatrix IQ2_XS | q5_K,f32,q2_K iq2_xs,f32,iq2_xs*2,q4_K,q2_K,iq2_xs,f32,iq2_xs x2
            iq2_xs,f32,iq2_xs*2,q4_K,iq2_xs*2,f32,iq2_xs x14
        iq | --imatrix IQ2_S | q5_K,f32,iq3_s iq2_xs,f32,iq3_s,iq2_xs,q4_K,iq3_s,iq2_xs,f32,iq2_xs x2
            iq2_xs,f32,iq3_s,iq2_xs,q4_K,iq2_xs*2,f32,iq2_xs x14
        iq | --imatrix IQ2_M | q5_K,f32,iq3_s iq2_s,f32,iq3_s,iq2_s,q4_K,iq3_s,iq2_s,f32,iq2_s x2
            iq2_s,f32,iq3_s,iq2_s,q4_K,iq2_s*2,f32,iq2_s x14
        iq | --imatrix IQ1_S | q5_K,f32,q2_K iq1_s,f32,iq2_xxs,iq1_s,q4_K,q2_K,iq1_s,f32,iq1_s x2
            iq1_s,f32,iq2_xxs,iq1_s,q4_K,iq1_s*2,f32,iq1_s x14
        iq | --imatrix IQ1_M | q5_K,f32,q2_K iq1_m,f32,iq2_xxs,iq1_m,q4_K,q2_K,iq1_m,f32,iq1_m x2
            iq1_m,f32,iq2_xxs,iq1_m,q4_K,iq1_m*2,f32,iq1_m x14
        iq | --imatrix IQ3_XXS | q5_K,f32,iq3_s iq2_s,f32,iq3_s,iq2_s,q4_K,iq3_xxs*2,f32,iq3_xxs x16
        iq | --imatrix IQ3_XS | q6_K,f32,iq3_s iq3_xxs,f32,iq3_s,iq3_xxs,q4_K,iq3_s*2,f32,iq3_s x2
            iq3_xxs,f32,iq3_s,iq3_xxs,q4_K,iq3_s,iq3_xxs,f32,iq3_xxs x12
            iq3_xxs,f32,iq3_s,iq3_xxs,q4_K,iq3_s*2,f32,iq3_s x2
        iq | --imatrix IQ3_S | q6_K,f32,iq3_s iq3_s,f32,iq3_s*2,q4_K,iq3_s*2,f32,iq3_s x16
        iq | --imatrix IQ3_M | q6_K,f32,iq3_s iq3_s,f32,q4_K,iq3_s,q4_K*2,iq3_s,f32,iq3_s x2
            iq3_s,f32,q4_K,iq3_s,q4_K,iq3_s*2,f32,iq3_s x14
        iq | --imatrix IQ4_XS | q6_K,f32,iq4_xs iq4_xs,f32,iq4_xs*2,q5_K,iq4_xs*2,f32,iq4_xs x16
        iq | --imatrix IQ4_NL | q6_K,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_K,iq4_nl*2,f32,iq4_nl x16
        iq | --imatrix Q2_K_S | q6_K,f32,q2_K q2_K,f32,q2_K*2,q4_K*2,q2_K,f32,q2_K x2
            q2_K,f32,q2_K*2,q4_K,q2_K*2,f32,q2_K x14
        iq | --imatrix TQ1_0 | q6_K,f32,q4_K tq1_0,f32,tq1_0*5,f32,tq1_0 x16
        iq | --imatrix Q4_0 | q6_K,f32,q4_0 q4_0,f32,q4_0*3,q4_1,q4_0,f32,q4_0 x2 q4_0,f32,q4_0*5,f32,q4_0 x14
        iq | --imatrix Q5_0 | q6_K,f32,q5_0 q5_0,f32,q5_0*3,q5_1,q5_0,f32,q5_0 x2 q5_0,f32,q5_0*5,f32,q5_0 x14
        iq | --imatrix Q4_K_M | q6_K,f32,q4_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2 q4_K,f32,q4_K*5,f32,q4_K
            x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x3
        iqg1 | Q2_K | f32,q6_K q2_K,f32,q3_K,q2_K,q3_K*2,q2_K,f32,q2_K x16
        iqg1 | Q4_K_M | f32,q6_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2 q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x3
        iqg1 | IQ3_XXS | ERROR Missing importance matrix for tensor blk.0.attn_k.weight
        iqg1 | IQ3_XS | f32,q6_K iq3_xxs,f32,iq3_s,iq3_xxs,iq3_s*3,f32,iq3_s x2
            iq3_xxs,f32,iq3_s,iq3_xxs,iq3_s*2,iq3_xxs,f32,iq3_xxs x12
            iq3_xxs,f32,iq3_s,iq3_xxs,iq3_s*3,f32,iq3_s x2
        iqg1 | IQ4_XS | f32,q6_K iq4_xs,f32,iq4_xs*3,q5_K,iq4_xs,f32,iq4_xs x2 iq4_xs,f32,iq4_xs*5,f32,iq4_xs
            x14
        iqg1 | IQ4_NL | f32,q6_K iq4_nl,f32,iq4_nl*3,q5_K,iq4_nl,f32,iq4_nl x2 iq4_nl,f32,iq4_nl*5,f32,iq4_nl
            x14
        iqg1 | TQ2_0 | f32,q6_K tq2_0,f32,tq2_0*5,f32,tq2_0 x16
        iqg1 | --imatrix IQ2_XXS | f32,q5_K iq2_xxs,f32,iq2_xxs*2,q2_K*2,iq2_xxs,f32,iq2_xxs x2
            iq2_xxs,f32,iq2_xxs*2,q2_K,iq2_xxs*2,f32,iq2_xxs x14
        iqg1 | --imatrix IQ2_XS | f32,q5_K iq2_xs,f32,iq2_xs*2,q2_K*2,iq2_xs,f32,iq2_xs x2
            iq2_xs,f32,iq2_xs*2,q2_K,iq2_xs*2,f32,iq2_xs x14
        iqg1 | --imatrix IQ2_S | f32,q5_K iq2_xs,f32,iq3_s,iq2_xs,iq3_s*2,iq2_xs,f32,iq2_xs x2
            iq2_xs,f32,iq3_s,iq2_xs,iq3_s,iq2_xs*2,f32,iq2_xs x14
        iqg1 | --imatrix IQ2_M | f32,q5_K iq2_s,f32,iq3_s,iq2_s,iq3_s*2,iq2_s,f32,iq2_s x2
            iq2_s,f32,iq3_s,iq2_s,iq3_s,iq2_s*2,f32,iq2_s x14
        iqg1 | --imatrix IQ1_S | f32,q5_K iq1_s,f32,iq2_xxs,iq1_s,q2_K*2,iq1_s,f32,iq1_s x2
            iq1_s,f32,iq2_xxs,iq1_s,q2_K,iq1_s*2,f32,iq1_s x14
        iqg1 | --imatrix IQ1_M | f32,q5_K iq1_m,f32,iq2_xxs,iq1_m,q2_K*2,iq1_m,f32,iq1_m x2
            iq1_m,f32,iq2_xxs,iq1_m,q2_K,iq1_m*2,f32,iq1_m x14
        iqg1 | --imatrix IQ3_XXS | f32,q5_K iq2_s,f32,iq3_s,iq2_s,iq3_xxs*3,f32,iq3_xxs x16
        iqg1 | --imatrix IQ3_XS | f32,q6_K iq3_xxs,f32,iq3_s,iq3_xxs,iq3_s*3,f32,iq3_s x2
            iq3_xxs,f32,iq3_s,iq3_xxs,iq3_s*2,iq3_xxs,f32,iq3_xxs x12
            iq3_xxs,f32,iq3_s,iq3_xxs,iq3_s*3,f32,iq3_s x2
        iqg1 | --imatrix IQ3_S | f32,q6_K iq3_s,f32,iq3_s*5,f32,iq3_s x16
        iqg1 | --imatrix IQ3_M | f32,q6_K iq3_s,f32,q4_K,iq3_s,q4_K*2,iq3_s,f32,iq3_s x2
            iq3_s,f32,q4_K,iq3_s,q4_K,iq3_s*2,f32,iq3_s x14
        iqg1 | --imatrix IQ4_XS | f32,q6_K iq4_xs,f32,iq4_xs*5,f32,iq4_xs x16
        iqg1 | --imatrix Q2_K_S | f32,q6_K q2_K,f32,q2_K*3,q4_K,q2_K,f32,q2_K x2 q2_K,f32,q2_K*5,f32,q2_K x14
        l70 | Q2_K | q6_K,f32,q2_K q2_K,f32,q3_K,q2_K,q5_K,q3_K,q2_K,f32,q2_K x80
        l70 | Q3_K_S | q6_K,f32,q3_K q3_K,f32,q3_K*2,q5_K,q3_K*2,f32,q3_K x80
        l70 | Q3_K_M | q6_K,f32,q3_K q3_K,f32,q4_K,q3_K,q5_K*2,q3_K,f32,q3_K x5
            q3_K,f32,q4_K,q3_K,q5_K,q4_K,q3_K,f32,q3_K x75
        l70 | Q3_K_L | q6_K,f32,q3_K q3_K,f32,q5_K,q3_K,q5_K*2,q3_K,f32,q3_K x80
        l70 | Q4_K_S | q6_K,f32,q4_K q4_K,f32,q4_K*2,q5_K*2,q4_K,f32,q4_K x10
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x70
        l70 | Q4_K_M | q6_K,f32,q4_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x10
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x11
        l70 | Q5_K_M | q6_K,f32,q5_K q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K x10 q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K q5_K,f32,q5_K*5,f32,q5_K x2
            q5_K,f32,q5_K*2,q6_K*2,q5_K,f32,q5_K x11
        l70 | IQ4_NL | q6_K,f32,iq4_nl iq4_nl,f32,iq4_nl*2,q5_K*2,iq4_nl,f32,iq4_nl x10
            iq4_nl,f32,iq4_nl*2,q5_K,iq4_nl*2,f32,iq4_nl x70
        l70 | --imatrix IQ3_XXS | q5_K,f32,iq3_s iq2_s,f32,iq3_s,iq2_s,q5_K,iq3_xxs*2,f32,iq3_xxs x80
        l70 | --imatrix IQ2_XS | q5_K,f32,q2_K iq2_xs,f32,iq2_xs*2,q4_K,q2_K,iq2_xs,f32,iq2_xs x10
            iq2_xs,f32,iq2_xs*2,q4_K,iq2_xs*2,f32,iq2_xs x70
        l65 | Q2_K | q6_K,f32,q2_K q2_K,f32,q3_K,q2_K,q3_K*2,q2_K,f32,q2_K x80
        l65 | Q3_K_S | q6_K,f32,q3_K q3_K,f32,q3_K*5,f32,q3_K x80
        l65 | Q3_K_M | q6_K,f32,q3_K q3_K,f32,q4_K,q3_K,q5_K*2,q3_K,f32,q3_K x2
            q3_K,f32,q4_K,q3_K,q4_K,q5_K,q3_K,f32,q3_K x3 q3_K,f32,q4_K,q3_K,q4_K*2,q3_K,f32,q3_K x75
        l65 | Q4_K_M | q6_K,f32,q4_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x10 q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x11
        qwen70 | Q2_K | f32,q6_K q2_K,f32,q3_K,q2_K,q5_K,q3_K,q2_K,f32,q2_K x80
        qwen70 | Q3_K_S | f32,q6_K q3_K,f32,q3_K*2,q5_K,q3_K*2,f32,q3_K x80
        qwen70 | Q4_K_M | f32,q6_K q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x10
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K
            q4_K,f32,q4_K*2,q5_K,q4_K*2,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x11
        gemma | Q4_K_M | q4_K,f32,q6_K q4_K,f32,q4_K*5,f32,q4_K x2 q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        gemma | Q8_0 | q8_0,f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x4
        gemma | --output-tensor-type q8_0 Q4_K_M | q8_0,f32,q8_0 q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        gemma | --leave-output-tensor Q4_K_M | f32*2,q6_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K x2
        falcon | Q2_K | q8_0,f32*2,q2_K f32*2,q2_K*2,q3_K,q2_K x16
        falcon | Q3_K_S | q8_0,f32*2,q3_K f32*2,q3_K*4 x16
        falcon | Q3_K_M | q8_0,f32*2,q3_K f32*2,q3_K,q4_K,q5_K,q3_K f32*2,q3_K,q4_K*2,q3_K
            f32*2,q3_K,q4_K,q3_K*2 x2 f32*2,q3_K,q4_K*2,q3_K f32*2,q3_K,q4_K,q3_K*2 x2 f32*2,q3_K,q4_K*2,q3_K
            f32*2,q3_K,q4_K,q3_K*2 x2 f32*2,q3_K,q4_K*2,q3_K f32*2,q3_K,q4_K,q3_K*2 x2 f32*2,q3_K,q4_K*2,q3_K
            x3
        falcon | Q3_K_L | q8_0,f32*2,q3_K f32*2,q4_K*3,q3_K x16
        falcon | Q4_K_S | q8_0,f32*2,q4_K f32*2,q4_K*4 x16
        falcon | Q4_K_M | q8_0,f32*2,q4_K f32*2,q4_K,q5_K,q6_K,q4_K f32*2,q4_K,q5_K*2,q4_K
            f32*2,q4_K,q5_K,q4_K*2 x2 f32*2,q4_K,q5_K*2,q4_K f32*2,q4_K,q5_K,q4_K*2 x2 f32*2,q4_K,q5_K*2,q4_K
            f32*2,q4_K,q5_K,q4_K*2 x2 f32*2,q4_K,q5_K*2,q4_K f32*2,q4_K,q5_K,q4_K*2 x2 f32*2,q4_K,q5_K*2,q4_K
            x3
        falcon | Q5_K_M | q8_0,f32*2,q5_K f32*2,q5_K,q6_K*2,q5_K x2 f32*2,q5_K,q6_K,q5_K*2 x2
            f32*2,q5_K,q6_K*2,q5_K f32*2,q5_K,q6_K,q5_K*2 x2 f32*2,q5_K,q6_K*2,q5_K f32*2,q5_K,q6_K,q5_K*2 x2
            f32*2,q5_K,q6_K*2,q5_K f32*2,q5_K,q6_K,q5_K*2 x2 f32*2,q5_K,q6_K*2,q5_K x3
        falcon | Q6_K | q8_0,f32*2,q6_K f32*2,q6_K*4 x16
        falcon | Q4_0 | q8_0,f32*2,q4_0 f32*2,q4_0*4 x16
        falcon | IQ4_NL | q8_0,f32*2,iq4_nl f32*2,iq4_nl*2,q5_K,iq4_nl x2 f32*2,iq4_nl*4 x14
        gpt2 | Q2_K | q6_K,f32*3,q2_K f32*2,q3_K,q2_K,q3_K,q2_K x16
        gpt2 | Q3_K_M | q6_K,f32*3,q3_K f32*2,q4_K*2,q5_K,q3_K f32*2,q4_K*3,q3_K x15
        gpt2 | Q3_K_L | q6_K,f32*3,q3_K f32*2,q5_K,q4_K,q5_K,q3_K x16
        gpt2 | Q4_K_M | q6_K,f32*3,q4_K f32*2,q4_K,q5_K,q6_K,q4_K x2 f32*2,q4_K,q5_K,q4_K*2 x2
            f32*2,q4_K,q5_K,q6_K,q4_K f32*2,q4_K,q5_K,q4_K*2 x2 f32*2,q4_K,q5_K,q6_K,q4_K
            f32*2,q4_K,q5_K,q4_K*2 x2 f32*2,q4_K,q5_K,q6_K,q4_K f32*2,q4_K,q5_K,q4_K*2 x2
            f32*2,q4_K,q5_K,q6_K,q4_K x3
        gpt2 | Q5_K_M | q6_K,f32*3,q5_K f32*2,q5_K,q6_K*2,q5_K x2 f32*2,q5_K,q6_K,q5_K*2 x2
            f32*2,q5_K,q6_K*2,q5_K f32*2,q5_K,q6_K,q5_K*2 x2 f32*2,q5_K,q6_K*2,q5_K f32*2,q5_K,q6_K,q5_K*2 x2
            f32*2,q5_K,q6_K*2,q5_K f32*2,q5_K,q6_K,q5_K*2 x2 f32*2,q5_K,q6_K*2,q5_K x3
        gpt2 | Q4_0 | q6_K,f32*3,q4_0 f32*2,q4_0*4 x16
        mixsrc | Q4_K_M | ERROR requantizing from type q8_0 is disabled
        mixsrc | F16 | ERROR requantizing from type q8_0 is disabled
        mixsrc | COPY | f16,f32,f16 q8_0,f32*2,bf16,f32*5 f32*3,q4_K,f32*5 f32*8,f16 f32,bf16,f32*7
        mixsrc | --allow-requantize Q4_K_M | q6_K,f32,q4_K q4_K,f32,q4_K*5,f32,q4_K x2
            q4_K,f32,q4_K*2,q6_K*2,q4_K,f32,q4_K q4_K,bf16,q4_K*2,q6_K*2,q4_K,f32,q4_K
        mixsrc | --allow-requantize Q8_0 | q8_0,f32,q8_0 q8_0,f32,q8_0*5,f32,q8_0 x3 q8_0,bf16,q8_0*5,f32,q8_0
        mixsrc | --allow-requantize F32 | f32*3 f32*9 x3 f32,bf16,f32*7
        i32 | Q4_K_M | ERROR cannot dequantize/convert tensor type i32
        """;

    @Test
    void matchesLlamaQuantizeOnSyntheticModels() {
        List<String> records = new ArrayList<>();
        for (String line : LLAMA_QUANTIZE_RUNS.split("\n")) {
            if (line.startsWith(" ")) {
                records.set(records.size() - 1, records.getLast() + " " + line.trim());
            } else if (!line.isBlank()) {
                records.add(line);
            }
        }
        int tensors = 0;
        int errors = 0;
        List<String> wrong = new ArrayList<>();
        for (String rec : records) {
            String[] f = rec.split(" \\| ");
            Synth s = synth(f[0]);
            Args a = Args.parse(f[1], s);
            String what = f[0] + " | " + f[1];
            List<QuantPolicy.Choice> got;
            try {
                got = a.ungated()
                        ? QuantPolicy.chooseAnyFileType(s.model(), s.tensors(), a.target(), a.options())
                        : QuantPolicy.choose(s.model(), s.tensors(), a.target(), a.options());
            } catch (dev.gguf4j.Gguf4jException e) {
                if (!f[2].startsWith("ERROR ")) {
                    wrong.add(what + ": threw " + e.getMessage());
                } else if (!e.getMessage().toLowerCase(java.util.Locale.ROOT)
                        .contains(f[2].substring(6).toLowerCase(java.util.Locale.ROOT))) {
                    wrong.add(what + ": expected an error with '" + f[2].substring(6) + "', got: " + e.getMessage());
                } else {
                    errors++;
                }
                continue;
            }
            if (f[2].startsWith("ERROR ")) {
                wrong.add(what + ": expected " + f[2]);
                continue;
            }
            List<GgmlType> want = decodeTypes(f[2]);
            if (want.size() != got.size()) {
                wrong.add(what + ": " + want.size() + " types recorded for " + got.size() + " tensors");
                continue;
            }
            for (int i = 0; i < want.size(); i++) {
                tensors++;
                if (want.get(i) != got.get(i).type()) {
                    wrong.add(what + ": " + got.get(i).name() + " is " + want.get(i) + ", policy says "
                            + got.get(i).type() + " (" + got.get(i).reason() + ")");
                }
            }
        }
        assertEquals(List.of(), wrong, wrong.size() + " differences");
        System.out.println("llama-quantize runs on synthetic models: " + records.size() + " runs (" + errors
                + " refused as llama-quantize refused them), " + tensors + " tensor types reproduced");
    }

    /** Decodes {@code "q6_K,f32*2 q4_K,f32 x3"} into the list of types. */
    static List<GgmlType> decodeTypes(String s) {
        List<GgmlType> out = new ArrayList<>();
        List<GgmlType> block = List.of();
        for (String tok : s.trim().split("\\s+")) {
            if (tok.matches("x\\d+")) {
                for (int k = 1; k < Integer.parseInt(tok.substring(1)); k++) {
                    out.addAll(block);
                }
                continue;
            }
            List<GgmlType> b = new ArrayList<>();
            for (String item : tok.split(",")) {
                int star = item.indexOf('*');
                int n = star < 0 ? 1 : Integer.parseInt(item.substring(star + 1));
                GgmlType ty = type(star < 0 ? item : item.substring(0, star));
                for (int k = 0; k < n; k++) {
                    b.add(ty);
                }
            }
            block = b;
            out.addAll(b);
        }
        return out;
    }

    /** The options and file type of a llama-quantize command line ("--pure --output-tensor-type q8_0 Q4_K_M"). */
    record Args(QuantPolicy.Options options, Optional<FileType> target, boolean ungated) {
        static Args parse(String args, Synth s) {
            QuantPolicy.Options o = QuantPolicy.Options.DEFAULTS;
            Optional<FileType> target = Optional.empty();
            String[] a = args.trim().split("\\s+");
            for (int i = 0; i < a.length; i++) {
                switch (a[i]) {
                    case "--pure" -> o = o.withPure(true);
                    case "--leave-output-tensor" -> o = o.withLeaveOutputTensor(true);
                    case "--allow-requantize" -> o = o.withAllowRequantize(true);
                    case "--output-tensor-type" -> o = o.withOutputTensorType(type(a[++i]));
                    case "--token-embedding-type" -> o = o.withTokenEmbeddingType(type(a[++i]));
                    case "--imatrix" -> {
                        // the generated imatrix has an entry for every tensor of 2 or more dimensions
                        java.util.Set<String> names = new java.util.HashSet<>();
                        for (QuantPolicy.Tensor x : s.tensors()) {
                            if (x.nDims() >= 2) {
                                names.add(x.name());
                            }
                        }
                        o = o.withImatrix(names);
                    }
                    default -> {
                        if (i != a.length - 1) {
                            throw new IllegalArgumentException("unknown option " + a[i]);
                        }
                        target = a[i].equals("COPY") ? Optional.empty() : Optional.of(ftype(a[i]));
                    }
                }
            }
            boolean ungated = target.isPresent() && !QuantPolicy.SUPPORTED.contains(target.get());
            return new Args(o, target, ungated);
        }
    }

    private static Map<String, QuantPolicy.Choice> byName(List<QuantPolicy.Choice> choices) {
        Map<String, QuantPolicy.Choice> m = new LinkedHashMap<>();
        for (QuantPolicy.Choice c : choices) {
            m.put(c.name(), c);
        }
        return m;
    }
}
