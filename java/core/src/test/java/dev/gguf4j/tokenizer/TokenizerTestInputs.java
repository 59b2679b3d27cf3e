package dev.gguf4j.tokenizer;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Test inputs and vocabularies shared by the tokenizer tests. */
final class TokenizerTestInputs {
    private TokenizerTestInputs() {
    }

    /** llama.cpp's test-tokenizer-0 separator between inputs in {@code .inp} files. */
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    /**
     * Extra inputs for edge cases the llama.cpp vectors do not cover: case-insensitive contractions, non-ASCII
     * digits and whitespace, CRLF, ligatures and case-folding oddities, characters new in Unicode 16, special
     * token texts, long runs.
     */
    static final List<String> EXTRA = List.of(
            "Hello WORLD's I'M YOU'RE we'LL they'D it'S don'T",
            "123456789 \u0661\u0662\u0663\u0664\u0665 12.5e10 \u00BD \u2167",
            "a\u00A0b\u3000c\u2028d\u0085e\u2009f \u00A0 \u3000\u3000x",
            "tab\tand\r\nwindows\r\n\r\nlines  \n\u000B\u000C end",
            "   leading and trailing   ",
            "\uFB01 ligature Kelvin \u212A \u0130stanbul \u01C5 \u017Fs",
            "emoji \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 flag \uD83C\uDDE9\uD83C\uDDEA new \u1C89\u0897\u2427 x",
            "<|endoftext|>Hello<|endoftext|> <|endoftext|>\n",
            "mixed\u4E2D\u6587English\u65E5\u672C\u8A9E\u30AB\u30BF\u30AB\u30CA\uD55C\uAD6D\uC5B4 \u3042\u3044",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "<sentinel:12> IMGIMGABZ code    four  two\t\n end",
            "' 'tis \"quoted\" ... --- !!! ??? ~~~ ^^ $5 +1 <=>",
            "\u0000\u0001\u001F\u007F\u009F control \u200B\u200E chars",
            "combining e\u0301 a\u0308 n\u0303 \u0915\u094D\u0937",
            "\u1F5F\u1F7D \u0390 \u1F80 greek \u03A9\u2126",
            "\n",
            " ",
            "<s>Hello</s> world<unk> <s>",
            "<|user|>\n Hi <|end|>  \n<|assistant|>  ok",
            "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>hi<\uFF5Cfim\u2581hole\uFF5C> x",
            "<fim_prefix>def f():<fim_suffix>\n    return 1<fim_middle>",
            "\uD800 lone \uDC00 surrogates \uDBFF\uDFFF",
            "   \u2581 pre\u2581escaped \u2581\u2581");

    private static final Map<Path, List<String>> INPUTS = new ConcurrentHashMap<>();
    private static final Map<Path, GgufMetadata> METADATA = new ConcurrentHashMap<>();

    /** The inputs of a {@code .inp} file, split exactly as test-tokenizer-0's read_tests does. */
    static List<String> readInputs(Path inp) {
        return INPUTS.computeIfAbsent(inp, p -> {
            String raw;
            try {
                raw = new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            List<String> out = new ArrayList<>();
            int pos = 0;
            while (pos < raw.length()) {
                int next = raw.indexOf(SEPARATOR, pos);
                if (next < 0) {
                    out.add(raw.substring(pos));
                    break;
                }
                out.add(raw.substring(pos, next));
                pos = next + SEPARATOR.length();
            }
            return List.copyOf(out);
        });
    }

    /** The expected ids of a {@code .out} file, one list per line. */
    static List<int[]> readOutputs(Path out) throws IOException {
        List<int[]> res = new ArrayList<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            String s = line.strip();
            res.add(s.isEmpty() ? new int[0] : Arrays.stream(s.split(" ")).mapToInt(Integer::parseInt).toArray());
        }
        return res;
    }

    /** llama.cpp's vocab-only test files (the test is skipped if this one is in neither tests/data nor ../shared). */
    static Path vocab(String name) {
        return TestData.golden("tokenizer/ggml-vocab-" + name + ".gguf");
    }

    /** The 46 llama.cpp test inputs (the same in every .inp file; llama-spm's is in tests/data). */
    static List<String> llamaInputs() {
        return readInputs(TestData.golden("tokenizer/ggml-vocab-llama-spm.gguf.inp"));
    }

    /** llama.cpp's inputs followed by {@link #EXTRA}. */
    static List<String> allInputs() {
        List<String> all = new ArrayList<>(llamaInputs());
        all.addAll(EXTRA);
        return all;
    }

    static GgufMetadata metadata(Path gguf) {
        return METADATA.computeIfAbsent(gguf, p -> {
            try (GgufFile f = GgufFile.open(p)) {
                return f.metadata();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The metadata of {@code base} with some keys replaced (or added). */
    static GgufMetadata withOverrides(GgufMetadata base, Map<String, GgufValue> overrides) {
        Map<String, GgufValue> m = new LinkedHashMap<>(base.asMap());
        m.putAll(overrides);
        return new GgufMetadata("test", m);
    }

    /** A variant vocabulary as {@code LlamaCppSpotChecks} describes it: "vocab" or "vocab:pre" or "vocab:nospace". */
    static Tokenizer variant(String spec) {
        String[] p = spec.split(":", 2);
        GgufMetadata md = metadata(vocab(p[0]));
        if (p.length == 1) {
            return Tokenizer.fromMetadata(md);
        }
        if (p[1].equals("nospace")) {
            return Tokenizer.fromMetadata(withOverrides(md,
                    Map.of("tokenizer.ggml.add_space_prefix", GgufValue.ofBool(false))));
        }
        return Tokenizer.fromMetadata(withOverrides(md, Map.of("tokenizer.ggml.pre", GgufValue.ofString(p[1]))));
    }

    /** CRC-32 of the ids written as "a,b,c" (ASCII): the compact fingerprint used by the spot-check table. */
    static String fingerprint(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(ids[i]);
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(sb.toString().getBytes(StandardCharsets.US_ASCII));
        return String.format("%08x", crc.getValue());
    }
}
