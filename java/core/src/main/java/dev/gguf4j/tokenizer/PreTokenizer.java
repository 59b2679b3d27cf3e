package dev.gguf4j.tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BPE pre-tokenizer: the regexes that split text into words before byte-pair merging, applied in order
 * (each splits every piece the previous ones produced, keeping the text between matches as pieces too), and
 * the tokenizer flags llama.cpp ties to the pre-tokenizer name. The table is data, transcribed from llama.cpp
 * c392e50 ({@code llama_vocab::impl::load} for names and flags, {@code llm_tokenizer_bpe} for the regexes,
 * which llama.cpp in turn took from the models' {@code tokenizer.json}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class PreTokenizer {
    /** Regexes shared by several types. */
    private static final class R {
        private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
        private static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        private static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        private static final String BLOOM = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";
    }

    /** llama.cpp's pre-tokenizer types: the regex list and flags each implies. */
    private enum Kind {
        DEFAULT(List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", R.GPT2, "\\p{N}+", "[0-9][0-9][0-9]")),
        LLAMA3(List.of(R.LLAMA3)),
        DBRX(List.of(R.LLAMA3)),
        SMAUG(List.of(R.LLAMA3)),
        DEEPSEEK_LLM(List.of(
                "[\r\n]",
                "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\uD801\uDC00-\uD801\uDC4F\uD801\uDCB0-\uD801\uDCD3\uD801\uDCD8-\uD801\uDCFB\uD803\uDC80-\uD803\uDCB2\uD803\uDCC0-\uD803\uDCF2\uD806\uDCA0-\uD806\uDCDF\uD83A\uDD00-\uD83A\uDD43]+",
                "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
                "\\s+$",
                "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
                "\\p{N}+")),
        DEEPSEEK3_LLM(List.of(
                "\\p{N}{1,3}",
                "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
                "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+")),
        DEEPSEEK_CODER(List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", "\\p{N}")),
        FALCON(List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", R.GPT2, "[0-9][0-9][0-9]")),
        STARCODER(List.of("\\p{N}", R.GPT2)),
        REFACT(List.of("\\p{N}", R.GPT2)),
        COMMAND_R(List.of("\\p{N}", R.GPT2)),
        SMOLLM(List.of("\\p{N}", R.GPT2)),
        CODESHELL(List.of("\\p{N}", R.GPT2)),
        EXAONE(List.of("\\p{N}", R.GPT2)),
        MINERVA(List.of("\\p{N}", R.GPT2)),
        GPT2(List.of(R.GPT2)),
        MPT(List.of(R.GPT2)),
        OLMO(List.of(R.GPT2)),
        JAIS(List.of(R.GPT2)),
        STABLELM2(List.of(R.QWEN2)),
        QWEN2(List.of(R.QWEN2)),
        PORO(List.of(R.BLOOM)),
        BLOOM(List.of(R.BLOOM)),
        GPT3_FINNISH(List.of(R.BLOOM)),
        CHATGLM4(List.of(R.LLAMA3)),
        VIKING(List.of(R.BLOOM, "\\p{N}")),
        TEKKEN(List.of("[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")),
        CHAMELEON(List.of(
                "<sentinel:[0-9]+>",
                "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
                "([\\t\\n]|    |  )",
                "\\p{N}",
                "[\\p{P}!-/:-@\\[-`{-~]",
                R.GPT2));

        final List<String> regexes;

        Kind(List<String> regexes) {
            this.regexes = regexes;
        }
    }

    /** Flags a name sets on top of the BPE defaults (clean_spaces on, no BOS added, merges always used). */
    private record Entry(Kind kind, boolean cleanSpaces, boolean ignoreMerges, boolean addBos, boolean noBos) {
    }

    private static final Map<String, Entry> BY_NAME = new LinkedHashMap<>();
    private static final Map<Kind, List<SplitRegex>> COMPILED = new java.util.EnumMap<>(Kind.class);

    private static void put(Kind kind, boolean cleanSpaces, boolean ignoreMerges, boolean addBos, boolean noBos,
            String... names) {
        for (String n : names) {
            BY_NAME.put(n, new Entry(kind, cleanSpaces, ignoreMerges, addBos, noBos));
        }
    }

    private static void put(Kind kind, boolean cleanSpaces, String... names) {
        put(kind, cleanSpaces, false, false, false, names);
    }

    static {
        put(Kind.DEFAULT, true, "default");
        put(Kind.LLAMA3, true, true, true, false, "llama3", "llama-v3", "llama-bpe", "falcon3");
        put(Kind.DEEPSEEK_LLM, false, "deepseek-llm");
        put(Kind.DEEPSEEK_CODER, false, "deepseek-coder");
        put(Kind.DEEPSEEK3_LLM, false, "deepseek-v3");
        put(Kind.FALCON, true, "falcon");
        put(Kind.MPT, true, "mpt");
        put(Kind.STARCODER, true, "starcoder");
        put(Kind.GPT2, true, "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
                "jina-v2-de", "jina-v2-code", "roberta-bpe");
        put(Kind.REFACT, true, "refact");
        put(Kind.COMMAND_R, false, "command-r");
        put(Kind.QWEN2, false, "qwen2", "deepseek-r1-qwen");
        put(Kind.STABLELM2, true, "stablelm2");
        put(Kind.OLMO, true, "olmo");
        put(Kind.DBRX, true, "dbrx");
        put(Kind.SMAUG, true, "smaug-bpe");
        put(Kind.PORO, false, "poro-chat");
        put(Kind.CHATGLM4, true, false, false, true, "chatglm-bpe");
        put(Kind.VIKING, false, "viking");
        put(Kind.JAIS, true, "jais");
        put(Kind.TEKKEN, false, true, true, false, "tekken");
        put(Kind.SMOLLM, false, "smollm");
        put(Kind.CODESHELL, true, "codeshell");
        put(Kind.BLOOM, true, "bloom");
        put(Kind.GPT3_FINNISH, true, "gpt3-finnish");
        put(Kind.EXAONE, true, "exaone");
        put(Kind.CHAMELEON, false, false, true, false, "chameleon");
        put(Kind.MINERVA, true, "minerva-7b");
        put(Kind.QWEN2, true, "megrez"); // llama.cpp keeps clean_spaces on for this alias
    }

    private final String name;
    private final Entry entry;
    private final List<SplitRegex> regexes;

    private PreTokenizer(String name, Entry entry, List<SplitRegex> regexes) {
        this.name = name;
        this.entry = entry;
        this.regexes = regexes;
    }

    /**
     * The pre-tokenizer for a {@code tokenizer.ggml.pre} value; null or "" mean "default" (as in llama.cpp,
     * which warns that quality will suffer).
     *
     * @throws UnsupportedTokenizerException for a name llama.cpp c392e50 does not know
     */
    public static PreTokenizer forName(String name) {
        String n = name == null || name.isEmpty() ? "default" : name;
        Entry e = BY_NAME.get(n);
        if (e == null) {
            throw new UnsupportedTokenizerException("tokenizer.ggml.pre", n, names());
        }
        List<SplitRegex> compiled;
        synchronized (COMPILED) {
            compiled = COMPILED.computeIfAbsent(e.kind(),
                    k -> k.regexes.stream().map(SplitRegex::compile).toList());
        }
        return new PreTokenizer(n, e, compiled);
    }

    /** Every accepted {@code tokenizer.ggml.pre} value. */
    public static List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(BY_NAME.keySet()));
    }

    /** The name this was made for ("default" for a missing one). */
    public String name() {
        return name;
    }

    /** The llama.cpp pre-tokenizer type this name maps to, e.g. {@code LLAMA3} for "llama-bpe". */
    public String type() {
        return entry.kind().name();
    }

    /** The regexes, in the order they are applied (llama.cpp's spelling, ECMAScript syntax). */
    public List<String> regexes() {
        return entry.kind().regexes;
    }

    boolean cleanSpaces() {
        return entry.cleanSpaces();
    }

    boolean ignoreMerges() {
        return entry.ignoreMerges();
    }

    boolean addBos() {
        return entry.addBos();
    }

    boolean noBos() {
        return entry.noBos();
    }

    /**
     * Splits code points into words: returns the end index (exclusive) of each word, in order. Matches and
     * the gaps between them both become words, as in llama.cpp.
     */
    int[] split(int[] cps) {
        IntList ends = new IntList(4);
        if (cps.length == 0) {
            return new int[0];
        }
        ends.add(cps.length);
        String catView = null;
        String cpView = null;
        int[] charOfCp = null;
        int[] cpOfChar = null;
        for (SplitRegex r : regexes) {
            IntList next = new IntList(ends.size() * 2 + 8);
            if (r.view() == SplitRegex.View.CATEGORY) {
                if (catView == null) {
                    catView = SplitRegex.categoryView(cps);
                }
                r.split(catView, null, null, ends, next);
            } else {
                if (cpView == null) {
                    StringBuilder sb = new StringBuilder(cps.length + 8);
                    boolean supplementary = false;
                    for (int cp : cps) {
                        int c = cp >= 0x80 && UnicodeFlags.isWhitespace(cp) ? 0x0B
                                : (cp >= 0xD800 && cp <= 0xDFFF) ? Utf8.REPLACEMENT : cp;
                        supplementary |= c > 0xFFFF;
                        sb.appendCodePoint(c);
                    }
                    cpView = sb.toString();
                    if (supplementary) {
                        charOfCp = new int[cps.length + 1];
                        cpOfChar = new int[cpView.length() + 1];
                        int ci = 0;
                        for (int i = 0; i < cps.length; i++) {
                            charOfCp[i] = ci;
                            int cc = Character.charCount(cpView.codePointAt(ci));
                            for (int k = 0; k < cc; k++) {
                                cpOfChar[ci + k] = i;
                            }
                            ci += cc;
                        }
                        charOfCp[cps.length] = ci;
                        cpOfChar[ci] = cps.length;
                    }
                }
                r.split(cpView, charOfCp, cpOfChar, ends, next);
            }
            ends = next;
        }
        return ends.toArray();
    }

    @Override
    public String toString() {
        return "PreTokenizer[" + name + " -> " + entry.kind() + "]";
    }
}
