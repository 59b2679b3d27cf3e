package dev.gguf4j.tokenizer;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufValue;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A tokenizer built from GGUF metadata, reproducing llama.cpp (c392e50) token for token: SentencePiece-style
 * BPE with byte fallback ({@code tokenizer.ggml.model = "llama"}) and GPT-2-style byte-level BPE with a
 * pre-tokenizer ({@code "gpt2"}, see {@link PreTokenizer}), WordPiece ({@code "bert"}, {@link WpmEncoder}),
 * special-token parsing, and detokenization.
 *
 * <p>Instances are immutable and thread-safe; {@link #newDecoder} gives a per-stream incremental decoder.
 */
public final class Tokenizer {
    /** The tokenizer algorithm ({@code tokenizer.ggml.model}). */
    public enum Model {
        /** {@code "llama"}: SentencePiece-style, scores and byte fallback. */
        SPM("llama"),
        /** {@code "gpt2"}: byte-level BPE with merges and a pre-tokenizer. */
        BPE("gpt2"),
        /** {@code "bert"}: WordPiece (BERT-family encoders), llama.cpp's WPM vocabulary type. */
        WPM("bert");

        private final String ggufName;

        Model(String ggufName) {
            this.ggufName = ggufName;
        }

        /** The {@code tokenizer.ggml.model} value. */
        public String ggufName() {
            return ggufName;
        }
    }

    /** The {@code tokenizer.ggml.model} values this library implements. */
    public static final List<String> SUPPORTED_MODELS = List.of("llama", "gpt2", "bert");

    static final String KEY_PREFIX = "tokenizer.ggml.";

    // llama.cpp's llama_token_attr bits
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 1 << 1;
    static final int ATTR_NORMAL = 1 << 2;
    static final int ATTR_CONTROL = 1 << 3;
    static final int ATTR_USER_DEFINED = 1 << 4;
    static final int ATTR_BYTE = 1 << 5;
    static final int ATTR_LSTRIP = 1 << 7;
    static final int ATTR_RSTRIP = 1 << 8;
    private static final int ATTR_SPECIAL = ATTR_UNKNOWN | ATTR_CONTROL;

    private static final byte[] SPACE_ESCAPE = {(byte) 0xE2, (byte) 0x96, (byte) 0x81}; // U+2581

    private final Model model;
    private final PreTokenizer pre;
    private final String[] texts;
    private final float[] scores;
    private final int[] attrs;
    private final Map<String, Integer> idByText;
    private final SpmEncoder spm;
    private final BpeEncoder bpe;
    private final WpmEncoder wpm;
    private final byte[][] pieces;
    private final int[] specialOrder;
    private final byte[][] specialBytes;
    private final boolean anyUserDefinedSpecial;
    private final BitSet eog;
    private final int bos;
    private final int eos;
    private final int eot;
    private final int eom;
    private final int unk;
    private final int sep;
    private final int pad;
    private final int mask;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;
    private final boolean removeExtraWhitespaces;

    /** Reads the metadata of a GGUF file (the file is closed again) and builds its tokenizer. */
    public static Tokenizer load(Path gguf) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            return fromMetadata(f.metadata(), gguf.toString());
        }
    }

    /**
     * Builds the tokenizer that llama.cpp would build for this metadata, with llama.cpp's defaults for absent
     * keys.
     *
     * @throws UnsupportedTokenizerException if {@code tokenizer.ggml.model} or {@code tokenizer.ggml.pre} names
     *     something not implemented here
     * @throws GgufFormatException if a required key is missing or has the wrong type or length
     */
    public static Tokenizer fromMetadata(GgufMetadata md) {
        return fromMetadata(md, "GGUF metadata");
    }

    static Tokenizer fromMetadata(GgufMetadata md, String source) {
        return new Tokenizer(md, source);
    }

    private static final String HEX = "0123456789ABCDEF";

    private Tokenizer(GgufMetadata md, String source) {
        String modelName = md.getString(KEY_PREFIX + "model");
        this.model = switch (modelName) {
            case "llama" -> Model.SPM;
            case "gpt2" -> Model.BPE;
            case "bert" -> Model.WPM;
            default -> throw new UnsupportedTokenizerException(KEY_PREFIX + "model", modelName, SUPPORTED_MODELS);
        };
        String preName = md.findString(KEY_PREFIX + "pre").orElse("");

        int bosId;
        int eosId;
        int unkId;
        boolean addBosFlag;
        boolean addEosFlag = false;
        boolean spacePrefix;
        boolean clean;
        boolean ignoreMerges = false;
        // llama.cpp's defaults for sep / pad / mask (WPM: [SEP] 102, [PAD] 0, [MASK] 103)
        int sepId = -1;
        int padId = -1;
        int maskId = -1;
        if (model == Model.WPM) {
            pre = null;
            bosId = 101;
            eosId = -1;
            unkId = 100;
            sepId = 102;
            padId = 0;
            maskId = 103;
            spacePrefix = false;
            clean = true;
            addBosFlag = true;
        } else if (model == Model.SPM) {
            pre = null;
            bosId = 1;
            eosId = 2;
            unkId = 0;
            spacePrefix = true;
            clean = false;
            addBosFlag = true;
        } else {
            pre = PreTokenizer.forName(preName);
            bosId = pre.noBos() ? -1 : 11;
            eosId = 11;
            unkId = -1;
            spacePrefix = false;
            clean = pre.cleanSpaces();
            ignoreMerges = pre.ignoreMerges();
            addBosFlag = pre.addBos();
        }
        spacePrefix = md.findBool(KEY_PREFIX + "add_space_prefix").orElse(spacePrefix);
        this.removeExtraWhitespaces = md.findBool(KEY_PREFIX + "remove_extra_whitespaces").orElse(false);

        // vocabulary
        String[] tokens = md.getStringArray(KEY_PREFIX + "tokens");
        int n = tokens.length;
        float[] sc = new float[n];
        md.findArray(KEY_PREFIX + "scores").ifPresent(a -> {
            if (!(a.values() instanceof float[] f) || f.length < n) {
                throw new GgufFormatException(source, KEY_PREFIX + "scores",
                        "expected " + n + " FLOAT32 values, found " + a.length() + " " + a.elementType());
            }
            System.arraycopy(f, 0, sc, 0, n);
        });
        long[] types = md.findArray(KEY_PREFIX + "token_type").map(a -> {
            if (!(a.values() instanceof long[] l) || l.length < n) {
                throw new GgufFormatException(source, KEY_PREFIX + "token_type",
                        "expected " + n + " integer values, found " + a.length() + " " + a.elementType());
            }
            return l;
        }).orElse(null);
        this.texts = new String[n];
        this.scores = sc;
        this.attrs = new int[n];
        this.idByText = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String t = tokens[i].isEmpty() ? "[EMPTY_" + i + "]" : tokens[i];
            texts[i] = t;
            idByText.put(t, i);
            attrs[i] = types == null ? ATTR_NORMAL : attrOf(types[i]);
        }

        // special token ids
        int[] ids = {bosId, eosId, -1, -1, unkId, sepId, padId, maskId, -1, -1, -1, -1, -1, -1};
        final int iBos = 0;
        final int iEos = 1;
        final int iEot = 2;
        final int iEom = 3;
        final int iUnk = 4;
        final int iSep = 5;
        final int iPad = 6;
        final int iMask = 7;
        final int iFimPre = 8;
        final int iFimSuf = 9;
        final int iFimMid = 10;
        final int iFimPad = 11;
        final int iFimRep = 12;
        final int iFimSep = 13;
        // the deprecated prefix/suffix/middle names come after the fim_* ones, as llama.cpp reads them
        String[] keys = {"bos_token_id", "eos_token_id", "eot_token_id", "eom_token_id", "unknown_token_id",
            "seperator_token_id", "padding_token_id", "mask_token_id", "fim_pre_token_id", "fim_suf_token_id",
            "fim_mid_token_id", "fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id",
            "prefix_token_id", "suffix_token_id", "middle_token_id"};
        int[] slots = {iBos, iEos, iEot, iEom, iUnk, iSep, iPad, iMask, iFimPre, iFimSuf, iFimMid, iFimPad, iFimRep,
            iFimSep, iFimPre, iFimSuf, iFimMid};
        for (int k = 0; k < keys.length; k++) {
            GgufValue v = md.asMap().get(KEY_PREFIX + keys[k]);
            if (v == null || !v.type().isInteger()) {
                continue;
            }
            long raw = (Long) v.value();
            // llama.cpp keeps the default for an id outside the vocabulary (with a warning); UINT64 values above
            // Long.MAX_VALUE arrive negative
            if (raw >= 0 && raw < n) {
                ids[slots[k]] = (int) raw;
            }
        }
        addBosFlag = md.findBool(KEY_PREFIX + "add_bos_token").orElse(addBosFlag);
        addEosFlag = md.findBool(KEY_PREFIX + "add_eos_token").orElse(addEosFlag);

        // llama.cpp finds some special tokens by their text and forces them to CONTROL
        ids[iEot] = findByText(ids[iEot], "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                "<EOT>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>");
        ids[iEom] = findByText(ids[iEom], "<|eom_id|>");
        ids[iFimPre] = findByText(ids[iFimPre], "<|fim_prefix|>", "<fim-prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>");
        ids[iFimSuf] = findByText(ids[iFimSuf], "<|fim_suffix|>", "<fim-suffix>", "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>");
        ids[iFimMid] = findByText(ids[iFimMid], "<|fim_middle|>", "<fim-middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>");
        ids[iFimPad] = findByText(ids[iFimPad], "<|fim_pad|>", "<fim-pad>", "<PAD>");
        ids[iFimRep] = findByText(ids[iFimRep], "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>");
        ids[iFimSep] = findByText(ids[iFimSep], "<|file_sep|>");

        BitSet eogSet = new BitSet(n);
        for (int k : new int[] {iFimPad, iFimRep, iFimSep}) {
            if (ids[k] >= 0) {
                eogSet.set(ids[k]);
            }
        }
        for (String t : new String[] {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|eom_id|>", "<EOT>"}) {
            Integer id = idByText.get(t);
            if (id != null) {
                eogSet.set(id);
                forceControl(id);
            }
        }
        for (int k : new int[] {iEos, iEot, iEom}) {
            if (ids[k] >= 0) {
                eogSet.set(ids[k]);
            }
        }
        this.eog = eogSet;

        // special tokens matched in raw text, longest (in UTF-8 bytes) first; ties in id order
        List<Integer> special = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if ((attrs[i] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0) {
                special.add(i);
            }
        }
        byte[][] utf8 = new byte[n][];
        for (int i = 0; i < n; i++) {
            utf8[i] = texts[i].getBytes(StandardCharsets.UTF_8);
        }
        special.sort(Comparator.comparingInt((Integer i) -> -utf8[i].length).thenComparingInt(i -> i));
        this.specialOrder = special.stream().mapToInt(Integer::intValue).toArray();
        this.specialBytes = new byte[specialOrder.length][];
        boolean userDefined = false;
        for (int k = 0; k < specialOrder.length; k++) {
            specialBytes[k] = utf8[specialOrder[k]];
            userDefined |= (attrs[specialOrder[k]] & ATTR_USER_DEFINED) != 0;
        }
        this.anyUserDefinedSpecial = userDefined;

        this.bos = ids[iBos];
        this.eos = ids[iEos];
        this.eot = ids[iEot];
        this.eom = ids[iEom];
        this.unk = ids[iUnk];
        this.sep = ids[iSep];
        this.pad = ids[iPad];
        this.mask = ids[iMask];
        this.addBos = addBosFlag;
        this.addEos = addEosFlag;
        this.addSpacePrefix = spacePrefix;
        this.cleanSpaces = clean;

        // pieces as llama_token_to_piece(special = true) renders them
        this.pieces = new byte[n][];
        for (int i = 0; i < n; i++) {
            pieces[i] = renderPiece(i, utf8[i]);
        }

        // per-model strip attributes (llama.cpp sets these by model or pre-tokenizer name)
        String rawPre = preName;
        String name = md.findString("general.name").orElse("").toLowerCase(Locale.ROOT);
        if (rawPre.contains("jina-v2-de") || rawPre.contains("jina-v2-es") || rawPre.contains("jina-v2-code")) {
            setAttr("<mask>", ATTR_LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : specialOrder) {
                attrs[id] |= ATTR_RSTRIP;
            }
            setAttr("</s>", ATTR_RSTRIP, true);
            for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                setAttr(t, ATTR_RSTRIP, false);
            }
        }

        if (model == Model.SPM) {
            Map<String, Integer> byUtf8 = new HashMap<>(n * 2);
            for (int i = 0; i < n; i++) {
                byUtf8.put(Utf8.key(utf8[i]), i);
            }
            int[] byteTokens = new int[256];
            for (int b = 0; b < 256; b++) {
                // "<0x%02X>" without a Formatter (the first String.format costs a cold start tens of ms)
                Integer id = idByText.get("<0x" + HEX.charAt(b >> 4) + HEX.charAt(b & 15) + ">");
                if (id == null) {
                    id = byUtf8.get(Utf8.key(new byte[] {(byte) b}));
                }
                byteTokens[b] = id == null ? -1 : id;
            }
            this.spm = new SpmEncoder(byUtf8, scores, byteTokens, texts);
            this.bpe = null;
            this.wpm = null;
        } else if (model == Model.WPM) {
            Map<String, Integer> byUtf8 = new HashMap<>(n * 2);
            int maxLen = 0;
            for (int i = 0; i < n; i++) {
                byUtf8.put(Utf8.key(utf8[i]), i);
                maxLen = Math.max(maxLen, utf8[i].length);
            }
            this.wpm = new WpmEncoder(byUtf8, maxLen, unk);
            this.spm = null;
            this.bpe = null;
        } else {
            String[] merges = md.getStringArray(KEY_PREFIX + "merges");
            Map<String, Integer> ranks = new HashMap<>(merges.length * 2);
            for (int i = 0; i < merges.length; i++) {
                String m = merges[i];
                int sp = m.indexOf(' ', 1);
                // llama.cpp keys a merge without a space as ("", ""), which never matches
                if (sp >= 0) {
                    ranks.putIfAbsent(m, i);
                }
            }
            this.bpe = new BpeEncoder(idByText, ranks, pre, ignoreMerges);
            this.spm = null;
            this.wpm = null;
        }
    }

    private static int attrOf(long type) {
        return switch (TokenType.fromCode(type)) {
            case NORMAL -> ATTR_NORMAL;
            case UNKNOWN -> ATTR_UNKNOWN;
            case CONTROL -> ATTR_CONTROL;
            case USER_DEFINED -> ATTR_USER_DEFINED;
            case UNUSED -> ATTR_UNUSED;
            case BYTE -> ATTR_BYTE;
            case UNDEFINED -> 0;
        };
    }

    /** Keeps {@code current} if set, else the lowest id among tokens with one of the texts (forced to CONTROL). */
    private int findByText(int current, String... candidates) {
        if (current >= 0) {
            return current;
        }
        int best = -1;
        for (String c : candidates) {
            Integer id = idByText.get(c);
            if (id != null && (best < 0 || id < best)) {
                best = id;
            }
        }
        if (best >= 0) {
            forceControl(best);
        }
        return best;
    }

    private void forceControl(int id) {
        if ((attrs[id] & ATTR_CONTROL) == 0) {
            attrs[id] = ATTR_CONTROL;
        }
    }

    private void setAttr(String text, int attr, boolean on) {
        Integer id = idByText.get(text);
        if (id != null) {
            attrs[id] = on ? attrs[id] | attr : attrs[id] & ~attr;
        }
    }

    private byte[] renderPiece(int id, byte[] utf8) {
        int attr = attrs[id];
        if ((attr & (ATTR_SPECIAL | ATTR_USER_DEFINED)) != 0) {
            return utf8;
        }
        if (model == Model.SPM || model == Model.WPM) {
            if ((attr & ATTR_NORMAL) != 0) {
                return unescapeSpaces(utf8);
            }
            if ((attr & ATTR_BYTE) != 0) {
                return new byte[] {(byte) parseByteToken(texts[id])};
            }
            return new byte[0];
        }
        if ((attr & ATTR_NORMAL) != 0) {
            return byteLevelDecode(texts[id]);
        }
        return new byte[0];
    }

    /** {@code strtol(text.substr(3, 2), 16)} as llama.cpp reads {@code <0xXX>}. */
    private static int parseByteToken(String t) {
        int v = 0;
        for (int i = 3; i < Math.min(5, t.length()); i++) {
            int d = Character.digit(t.charAt(i), 16);
            if (d < 0) {
                break;
            }
            v = v * 16 + d;
        }
        return v & 0xFF;
    }

    private static byte[] unescapeSpaces(byte[] s) {
        // runs once per token of the vocabulary at load: no stream, and no copy for a token without the escape
        int n = s.length;
        int escapes = 0;
        for (int i = 0; i + 2 < n; i++) {
            if (s[i] == SPACE_ESCAPE[0] && s[i + 1] == SPACE_ESCAPE[1] && s[i + 2] == SPACE_ESCAPE[2]) {
                escapes++;
                i += 2;
            }
        }
        if (escapes == 0) {
            return s;
        }
        byte[] out = new byte[n - 2 * escapes];
        int o = 0;
        for (int i = 0; i < n; i++) {
            if (i + 2 < n && s[i] == SPACE_ESCAPE[0] && s[i + 1] == SPACE_ESCAPE[1] && s[i + 2] == SPACE_ESCAPE[2]) {
                out[o++] = ' ';
                i += 2;
            } else {
                out[o++] = s[i];
            }
        }
        return out;
    }

    /** llama.cpp's {@code llama_decode_text}: byte-level alphabet back to bytes. */
    private static byte[] byteLevelDecode(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte x : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    sb.append(String.format("%02x", x & 0xFF));
                }
                sb.append(text).append(']');
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    // ------------------------------------------------------------------------------------------ encoding

    /**
     * Tokenizes text as llama.cpp's {@code llama_tokenize} does.
     *
     * @param addSpecial add BOS and/or EOS as the model's {@code add_bos_token}/{@code add_eos_token} flags say
     * @param parseSpecial match the text of control and unknown tokens (e.g. {@code <s>}) in the input; user-defined
     *     tokens are matched either way
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encode(Utf8.bytes(text), addSpecial, parseSpecial);
    }

    /** {@link #encode(String, boolean, boolean)} on raw UTF-8 bytes (invalid sequences handled as llama.cpp does). */
    public int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        IntList frags = partition(utf8, parseSpecial);
        IntList out = new IntList(Math.max(16, utf8.length / 3));
        if (model == Model.WPM) {
            // llama.cpp: [CLS] (the BOS id) first and [SEP] last when adding special tokens, whatever the flags say
            if (addSpecial) {
                out.add(requireId(bos, "BOS ([CLS])"));
            }
            for (int f = 0; f < frags.size(); f += 3) {
                int tok = frags.get(f);
                if (tok < 0) {
                    wpm.encode(utf8, frags.get(f + 1), frags.get(f + 2), out);
                } else {
                    out.add(tok);
                }
            }
            if (addSpecial) {
                out.add(requireId(sep, "SEP"));
            }
            return out.toArray();
        }
        if (model == Model.SPM) {
            boolean prevSpecial = true;
            if (addSpecial && addBos) {
                out.add(requireId(bos, "BOS"));
            }
            for (int f = 0; f < frags.size(); f += 3) {
                int tok = frags.get(f);
                if (tok < 0) {
                    int off = frags.get(f + 1);
                    int len = frags.get(f + 2);
                    spm.encode(escapeSpaces(utf8, off, len, addSpacePrefix && prevSpecial), out);
                    prevSpecial = false;
                } else {
                    out.add(tok);
                    prevSpecial = true;
                }
            }
        } else {
            if (addSpecial && addBos) {
                out.add(requireId(bos, "BOS"));
            }
            for (int f = 0; f < frags.size(); f += 3) {
                int tok = frags.get(f);
                if (tok < 0) {
                    bpe.encode(utf8, frags.get(f + 1), frags.get(f + 2), out);
                } else {
                    out.add(tok);
                }
            }
        }
        if (addSpecial && addEos) {
            out.add(requireId(eos, "EOS"));
        }
        return out.toArray();
    }

    private static int requireId(int id, String what) {
        if (id < 0) {
            throw new dev.gguf4j.Gguf4jException("the tokenizer adds a " + what + " token but has none");
        }
        return id;
    }

    private static byte[] escapeSpaces(byte[] s, int off, int len, boolean prefix) {
        int spaces = 0;
        for (int i = off; i < off + len; i++) {
            if (s[i] == ' ') {
                spaces++;
            }
        }
        byte[] out = new byte[len + 2 * spaces + (prefix ? 3 : 0)];
        int p = 0;
        if (prefix) {
            out[p++] = SPACE_ESCAPE[0];
            out[p++] = SPACE_ESCAPE[1];
            out[p++] = SPACE_ESCAPE[2];
        }
        for (int i = off; i < off + len; i++) {
            byte b = s[i];
            if (b == ' ') {
                out[p++] = SPACE_ESCAPE[0];
                out[p++] = SPACE_ESCAPE[1];
                out[p++] = SPACE_ESCAPE[2];
            } else {
                out[p++] = b;
            }
        }
        return out;
    }

    /**
     * llama.cpp's {@code tokenizer_st_partition}: splits the text around occurrences of special tokens, longest
     * token first. Returns triples (token id, -, -) or (-1, offset, length).
     */
    private IntList partition(byte[] text, boolean parseSpecial) {
        IntList frags = new IntList(12);
        if (text.length == 0) {
            return frags;
        }
        frags.add(-1);
        frags.add(0);
        frags.add(text.length);
        if (!parseSpecial && !anyUserDefinedSpecial) {
            return frags;
        }
        for (int k = 0; k < specialOrder.length; k++) {
            int id = specialOrder[k];
            int attr = attrs[id];
            if (!parseSpecial && (attr & ATTR_SPECIAL) != 0) {
                continue;
            }
            byte[] pat = specialBytes[k];
            IntList next = null;
            for (int f = 0; f < frags.size(); f += 3) {
                int tok = frags.get(f);
                int pos = frags.get(f + 1);
                int end = pos + frags.get(f + 2);
                int m = tok >= 0 ? -1 : indexOf(text, pat, pos, end);
                if (m < 0) {
                    if (next != null) {
                        next.add(tok);
                        next.add(frags.get(f + 1));
                        next.add(frags.get(f + 2));
                    }
                    continue;
                }
                if (next == null) {
                    next = new IntList(frags.size() + 12);
                    for (int g = 0; g < f; g++) {
                        next.add(frags.get(g));
                    }
                }
                while (m >= 0) {
                    int leftEnd = m;
                    if ((attr & ATTR_LSTRIP) != 0) {
                        while (leftEnd > pos && isSpace(text[leftEnd - 1])) {
                            leftEnd--;
                        }
                    }
                    if (leftEnd > pos) {
                        next.add(-1);
                        next.add(pos);
                        next.add(leftEnd - pos);
                    }
                    next.add(id);
                    next.add(0);
                    next.add(0);
                    pos = m + pat.length;
                    if (pos >= end) {
                        break;
                    }
                    if ((attr & ATTR_RSTRIP) != 0) {
                        while (pos < end && isSpace(text[pos])) {
                            pos++;
                        }
                    }
                    m = indexOf(text, pat, pos, end);
                    if (m < 0 && pos < end) {
                        next.add(-1);
                        next.add(pos);
                        next.add(end - pos);
                    }
                }
            }
            if (next != null) {
                frags = next;
            }
        }
        return frags;
    }

    /** C's isspace in the "C" locale. */
    private static boolean isSpace(byte b) {
        return b == ' ' || (b >= 0x09 && b <= 0x0D);
    }

    private static int indexOf(byte[] s, byte[] p, int from, int end) {
        int last = end - p.length;
        byte first = p[0];
        outer:
        for (int i = from; i <= last; i++) {
            if (s[i] != first) {
                continue;
            }
            for (int j = 1; j < p.length; j++) {
                if (s[i + j] != p[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ------------------------------------------------------------------------------------------ decoding

    /**
     * Detokenizes as llama.cpp's {@code llama_detokenize(remove_special = false, unparse_special = false)}:
     * control and unknown tokens print nothing, the leading space SentencePiece adds is removed from the first
     * token, and BPE models with {@code clean_spaces} get llama.cpp's clean-up (" ." to "." and the like).
     * Invalid UTF-8 in the result becomes U+FFFD.
     */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** {@link #decode(int[])}; with {@code renderSpecial}, control and unknown tokens print their text. */
    public String decode(int[] ids, boolean renderSpecial) {
        return new String(decodeBytes(ids, false, renderSpecial), StandardCharsets.UTF_8);
    }

    /**
     * llama.cpp's {@code llama_detokenize} as bytes.
     *
     * @param removeSpecial drop a leading BOS and a trailing EOS when the model adds them
     * @param renderSpecial print control and unknown tokens' text
     */
    public byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean renderSpecial) {
        int from = 0;
        int to = ids.length;
        boolean removeSpace = addSpacePrefix;
        if (removeSpecial && addBos && to > 0 && ids[0] == bos) {
            removeSpace = false;
            from = 1;
        }
        if (removeSpecial && addEos && to > from && ids[to - 1] == eos) {
            to--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(16, (to - from) * 4));
        for (int i = from; i < to; i++) {
            int id = checkId(ids[i]);
            if (renderSpecial || (attrs[id] & ATTR_SPECIAL) == 0) {
                byte[] p = pieces[id];
                int skip = removeSpace && p.length > 0 && p[0] == ' ' ? 1 : 0;
                out.write(p, skip, p.length - skip);
            }
            removeSpace = false;
        }
        byte[] b = out.toByteArray();
        if (cleanSpaces) {
            int n = cleanUpSpaces(b, b.length);
            b = Arrays.copyOf(b, n);
        }
        return b;
    }

    /** llama.cpp's three clean-up passes over detokenized text, in place; returns the new length. */
    static int cleanUpSpaces(byte[] t, int total) {
        // 1: " ?", " !", " .", " ," lose the space
        int total1 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            t[total++] = x;
        }
        // 2: " ' " becomes "'"
        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < total2 && t[i - 1] == ' ' && t[i + 1] == ' ') {
                total--;
                t[++i] = 0;
            }
            t[total++] = x;
        }
        // 3: " 's", " 'm", " 're", " 've" lose the space
        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            t[total++] = x;
        }
        return total;
    }

    /**
     * The bytes one token contributes to output text (llama.cpp's {@code llama_token_to_piece} with lstrip 0
     * and special = false): empty for control and unknown tokens, the raw byte for byte tokens. A piece may be
     * part of a UTF-8 sequence; use a {@link Decoder} for streaming.
     */
    public byte[] tokenBytes(int id) {
        return tokenBytes(id, false);
    }

    /** {@link #tokenBytes(int)}; with {@code renderSpecial}, control and unknown tokens give their text. */
    public byte[] tokenBytes(int id, boolean renderSpecial) {
        return pieceRef(id, renderSpecial).clone();
    }

    byte[] pieceRef(int id, boolean renderSpecial) {
        checkId(id);
        if (!renderSpecial && (attrs[id] & ATTR_SPECIAL) != 0) {
            return new byte[0];
        }
        return pieces[id];
    }

    /** An incremental decoder for one output stream; see {@link Decoder}. */
    public Decoder newDecoder(boolean renderSpecial) {
        return new Decoder(this, renderSpecial);
    }

    /** {@code newDecoder(false)}. */
    public Decoder newDecoder() {
        return newDecoder(false);
    }

    // ------------------------------------------------------------------------------------------ vocabulary

    private int checkId(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + texts.length + ")");
        }
        return id;
    }

    public Model model() {
        return model;
    }

    /** The pre-tokenizer of a BPE model; null for SPM. */
    public PreTokenizer preTokenizer() {
        return pre;
    }

    public int vocabSize() {
        return texts.length;
    }

    /** The token's text as stored in the vocabulary (byte-level alphabet for BPE, U+2581 for spaces in SPM). */
    public String tokenText(int id) {
        return texts[checkId(id)];
    }

    /** The id of the token with exactly this vocabulary text, or -1. */
    public int tokenId(String text) {
        Integer id = idByText.get(text);
        return id == null ? -1 : id;
    }

    public float score(int id) {
        return scores[checkId(id)];
    }

    /** The token's type (after llama.cpp's corrections). */
    public TokenType tokenType(int id) {
        int a = attrs[checkId(id)];
        if ((a & ATTR_CONTROL) != 0) {
            return TokenType.CONTROL;
        } else if ((a & ATTR_USER_DEFINED) != 0) {
            return TokenType.USER_DEFINED;
        } else if ((a & ATTR_UNKNOWN) != 0) {
            return TokenType.UNKNOWN;
        } else if ((a & ATTR_BYTE) != 0) {
            return TokenType.BYTE;
        } else if ((a & ATTR_UNUSED) != 0) {
            return TokenType.UNUSED;
        } else if ((a & ATTR_NORMAL) != 0) {
            return TokenType.NORMAL;
        }
        return TokenType.UNDEFINED;
    }

    public boolean isControl(int id) {
        return (attrs[checkId(id)] & ATTR_CONTROL) != 0;
    }

    /** Whether generation should stop at this token (EOS, EOT, EOM and llama.cpp's end-of-turn tokens). */
    public boolean isEog(int id) {
        return id >= 0 && eog.get(id);
    }

    /** Beginning-of-sequence token, or -1. */
    public int bos() {
        return bos;
    }

    /** End-of-sequence token, or -1. */
    public int eos() {
        return eos;
    }

    /** End-of-turn token, or -1. */
    public int eot() {
        return eot;
    }

    /** End-of-message token, or -1. */
    public int eom() {
        return eom;
    }

    /** Unknown token, or -1. */
    public int unk() {
        return unk;
    }

    /** Separator token, or -1. */
    public int sep() {
        return sep;
    }

    /** Padding token, or -1. */
    public int pad() {
        return pad;
    }

    /** Mask token, or -1. */
    public int mask() {
        return mask;
    }

    /** Whether {@code encode(..., addSpecial = true, ...)} adds BOS. */
    public boolean addBos() {
        return addBos;
    }

    /** Whether {@code encode(..., addSpecial = true, ...)} adds EOS. */
    public boolean addEos() {
        return addEos;
    }

    /** Whether SPM text gets a leading space (and decoding removes it again). */
    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    /** Whether decoding applies llama.cpp's {@code clean_spaces} clean-up. */
    public boolean cleanSpaces() {
        return cleanSpaces;
    }

    /** {@code tokenizer.ggml.remove_extra_whitespaces} (read for completeness; SPM/BPE in llama.cpp ignore it). */
    public boolean removeExtraWhitespaces() {
        return removeExtraWhitespaces;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + model + (pre != null ? " pre=" + pre.name() : "") + ", " + texts.length + " tokens]";
    }
}
