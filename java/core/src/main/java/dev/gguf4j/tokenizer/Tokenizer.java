package dev.gguf4j.tokenizer;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer built from GGUF metadata, reproducing llama.cpp (c392e50) token for token: SentencePiece-style
 * BPE with byte fallback ({@code tokenizer.ggml.model = "llama"}) and GPT-2-style byte-level BPE with a
 * pre-tokenizer ({@code "gpt2"}, see {@link PreTokenizer}), WordPiece ({@code "bert"}, {@link WpmEncoder}),
 * special-token parsing, and detokenization.
 *
 * <p>The parts, each built from the metadata in llama.cpp's order: {@link ModelQuirks} (the defaults llama.cpp ties
 * to the tokenizer model and pre-tokenizer name), {@link Vocabulary} (texts, scores, attributes),
 * {@link SpecialTokens} (the special ids, end-of-generation set and add-BOS/EOS flags),
 * {@link SpecialTokenSplitter} (special tokens found in raw text), the encoder of the model, and
 * {@link Detokenizer} (pieces and {@code llama_detokenize}).
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

    private final Model model;
    private final ModelQuirks quirks;
    private final Vocabulary vocab;
    private final SpecialTokens special;
    private final SpecialTokenSplitter splitter;
    private final Detokenizer detokenizer;
    private final SpmEncoder spm;
    private final BpeEncoder bpe;
    private final WpmEncoder wpm;
    private final boolean addSpacePrefix;
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

    /**
     * In llama.cpp's order: the model's defaults, the vocabulary, the special ids (which correct some tokens'
     * attributes), the special tokens to match in text, the pieces, the per-model strip attributes, the encoder.
     */
    private Tokenizer(GgufMetadata md, String source) {
        String modelName = md.getString(KEY_PREFIX + "model");
        this.model = switch (modelName) {
            case "llama" -> Model.SPM;
            case "gpt2" -> Model.BPE;
            case "bert" -> Model.WPM;
            default -> throw new UnsupportedTokenizerException(KEY_PREFIX + "model", modelName, SUPPORTED_MODELS);
        };
        String preName = md.findString(KEY_PREFIX + "pre").orElse("");
        this.quirks = ModelQuirks.of(model, preName);
        this.addSpacePrefix = md.findBool(KEY_PREFIX + "add_space_prefix").orElse(quirks.addSpacePrefix());
        this.removeExtraWhitespaces = md.findBool(KEY_PREFIX + "remove_extra_whitespaces").orElse(false);
        this.vocab = Vocabulary.fromMetadata(md, source);
        this.special = SpecialTokens.read(md, vocab, quirks);
        this.splitter = new SpecialTokenSplitter(vocab);
        this.detokenizer = new Detokenizer(model, vocab, special, addSpacePrefix, quirks.cleanSpaces());
        ModelQuirks.applyStripAttributes(vocab, splitter.order(), preName,
                md.findString("general.name").orElse(""));
        this.spm = model == Model.SPM ? spmEncoder(vocab) : null;
        this.wpm = model == Model.WPM ? wpmEncoder(vocab, special.unk()) : null;
        this.bpe = model == Model.BPE ? bpeEncoder(md, vocab, quirks) : null;
    }

    private static SpmEncoder spmEncoder(Vocabulary vocab) {
        Map<String, Integer> byUtf8 = vocab.idByUtf8();
        int[] byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            // "<0x%02X>" without a Formatter (the first String.format costs a cold start tens of ms)
            Integer id = vocab.find("<0x" + HEX.charAt(b >> 4) + HEX.charAt(b & 15) + ">");
            if (id == null) {
                id = byUtf8.get(Utf8.key(new byte[] {(byte) b}));
            }
            byteTokens[b] = id == null ? -1 : id;
        }
        return new SpmEncoder(byUtf8, vocab.scores(), byteTokens, vocab.texts());
    }

    private static WpmEncoder wpmEncoder(Vocabulary vocab, int unk) {
        int maxLen = 0;
        for (int i = 0; i < vocab.size(); i++) {
            maxLen = Math.max(maxLen, vocab.utf8(i).length);
        }
        return new WpmEncoder(vocab.idByUtf8(), maxLen, unk);
    }

    private static BpeEncoder bpeEncoder(GgufMetadata md, Vocabulary vocab, ModelQuirks quirks) {
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
        return new BpeEncoder(vocab.idByText(), ranks, quirks.pre(), quirks.ignoreMerges());
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
        IntList frags = splitter.split(utf8, parseSpecial);
        IntList out = new IntList(Math.max(16, utf8.length / 3));
        if (model == Model.WPM) {
            // llama.cpp: [CLS] (the BOS id) first and [SEP] last when adding special tokens, whatever the flags say
            if (addSpecial) {
                out.add(requireId(special.bos(), "BOS ([CLS])"));
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
                out.add(requireId(special.sep(), "SEP"));
            }
            return out.toArray();
        }
        if (model == Model.SPM) {
            boolean prevSpecial = true;
            if (addSpecial && special.addBos()) {
                out.add(requireId(special.bos(), "BOS"));
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
            if (addSpecial && special.addBos()) {
                out.add(requireId(special.bos(), "BOS"));
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
        if (addSpecial && special.addEos()) {
            out.add(requireId(special.eos(), "EOS"));
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
            out[p++] = Detokenizer.SPACE_ESCAPE[0];
            out[p++] = Detokenizer.SPACE_ESCAPE[1];
            out[p++] = Detokenizer.SPACE_ESCAPE[2];
        }
        for (int i = off; i < off + len; i++) {
            byte b = s[i];
            if (b == ' ') {
                out[p++] = Detokenizer.SPACE_ESCAPE[0];
                out[p++] = Detokenizer.SPACE_ESCAPE[1];
                out[p++] = Detokenizer.SPACE_ESCAPE[2];
            } else {
                out[p++] = b;
            }
        }
        return out;
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
        return detokenizer.decode(ids, removeSpecial, renderSpecial);
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
        return detokenizer.pieceRef(id, renderSpecial);
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

    public Model model() {
        return model;
    }

    /** The pre-tokenizer of a BPE model; null for SPM. */
    public PreTokenizer preTokenizer() {
        return quirks.pre();
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** The token's text as stored in the vocabulary (byte-level alphabet for BPE, U+2581 for spaces in SPM). */
    public String tokenText(int id) {
        return vocab.text(vocab.checkId(id));
    }

    /** The id of the token with exactly this vocabulary text, or -1. */
    public int tokenId(String text) {
        Integer id = vocab.find(text);
        return id == null ? -1 : id;
    }

    public float score(int id) {
        return vocab.score(vocab.checkId(id));
    }

    /** The token's type (after llama.cpp's corrections). */
    public TokenType tokenType(int id) {
        return vocab.type(vocab.checkId(id));
    }

    public boolean isControl(int id) {
        return vocab.has(vocab.checkId(id), Vocabulary.ATTR_CONTROL);
    }

    /** Whether generation should stop at this token (EOS, EOT, EOM and llama.cpp's end-of-turn tokens). */
    public boolean isEog(int id) {
        return special.isEog(id);
    }

    /** Beginning-of-sequence token, or -1. */
    public int bos() {
        return special.bos();
    }

    /** End-of-sequence token, or -1. */
    public int eos() {
        return special.eos();
    }

    /** End-of-turn token, or -1. */
    public int eot() {
        return special.eot();
    }

    /** End-of-message token, or -1. */
    public int eom() {
        return special.eom();
    }

    /** Unknown token, or -1. */
    public int unk() {
        return special.unk();
    }

    /** Separator token, or -1. */
    public int sep() {
        return special.sep();
    }

    /** Padding token, or -1. */
    public int pad() {
        return special.pad();
    }

    /** Mask token, or -1. */
    public int mask() {
        return special.mask();
    }

    /** Whether {@code encode(..., addSpecial = true, ...)} adds BOS. */
    public boolean addBos() {
        return special.addBos();
    }

    /** Whether {@code encode(..., addSpecial = true, ...)} adds EOS. */
    public boolean addEos() {
        return special.addEos();
    }

    /** Whether SPM text gets a leading space (and decoding removes it again). */
    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    /** Whether decoding applies llama.cpp's {@code clean_spaces} clean-up. */
    public boolean cleanSpaces() {
        return quirks.cleanSpaces();
    }

    /** {@code tokenizer.ggml.remove_extra_whitespaces} (read for completeness; SPM/BPE in llama.cpp ignore it). */
    public boolean removeExtraWhitespaces() {
        return removeExtraWhitespaces;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + model + (quirks.pre() != null ? " pre=" + quirks.pre().name() : "") + ", " + vocab.size() + " tokens]";
    }
}
