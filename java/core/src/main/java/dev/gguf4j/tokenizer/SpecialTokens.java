package dev.gguf4j.tokenizer;

import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufValue;
import java.util.BitSet;

/**
 * The special token ids as llama.cpp c392e50 reads them: the model's defaults ({@link ModelQuirks}) overridden by
 * the {@code tokenizer.ggml.*_token_id} keys, the ids it finds by text when the keys are absent (end of turn,
 * end of message, fill-in-the-middle), the end-of-generation set, and {@code add_bos_token} /
 * {@code add_eos_token}. Finding a token by its text makes it CONTROL in the {@link Vocabulary}, as in llama.cpp.
 */
final class SpecialTokens {
    private static final int BOS = 0;
    private static final int EOS = 1;
    private static final int EOT = 2;
    private static final int EOM = 3;
    private static final int UNK = 4;
    private static final int SEP = 5;
    private static final int PAD = 6;
    private static final int MASK = 7;
    private static final int FIM_PRE = 8;
    private static final int FIM_SUF = 9;
    private static final int FIM_MID = 10;
    private static final int FIM_PAD = 11;
    private static final int FIM_REP = 12;
    private static final int FIM_SEP = 13;

    /** The id keys and the slot each sets; the deprecated prefix/suffix/middle names after the fim_* ones. */
    private static final String[] KEYS = {"bos_token_id", "eos_token_id", "eot_token_id", "eom_token_id",
        "unknown_token_id", "seperator_token_id", "padding_token_id", "mask_token_id", "fim_pre_token_id",
        "fim_suf_token_id", "fim_mid_token_id", "fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id",
        "prefix_token_id", "suffix_token_id", "middle_token_id"};
    private static final int[] SLOTS = {BOS, EOS, EOT, EOM, UNK, SEP, PAD, MASK, FIM_PRE, FIM_SUF, FIM_MID, FIM_PAD,
        FIM_REP, FIM_SEP, FIM_PRE, FIM_SUF, FIM_MID};

    /** Texts llama.cpp always treats as end of generation (and CONTROL) when the vocabulary has them. */
    private static final String[] EOG_TEXTS = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
        "<|endoftext|>", "<|eom_id|>", "<EOT>"};

    private final int[] ids;
    private final BitSet eog;
    private final boolean addBos;
    private final boolean addEos;

    private SpecialTokens(int[] ids, BitSet eog, boolean addBos, boolean addEos) {
        this.ids = ids;
        this.eog = eog;
        this.addBos = addBos;
        this.addEos = addEos;
    }

    /** Reads the ids and flags; marks the tokens llama.cpp finds by text CONTROL in {@code vocab}. */
    static SpecialTokens read(GgufMetadata md, Vocabulary vocab, ModelQuirks quirks) {
        int n = vocab.size();
        int[] ids = {quirks.bos(), quirks.eos(), -1, -1, quirks.unk(), quirks.sep(), quirks.pad(), quirks.mask(),
            -1, -1, -1, -1, -1, -1};
        for (int k = 0; k < KEYS.length; k++) {
            GgufValue v = md.asMap().get(Tokenizer.KEY_PREFIX + KEYS[k]);
            if (v == null || !v.type().isInteger()) {
                continue;
            }
            long raw = (Long) v.value();
            // llama.cpp keeps the default for an id outside the vocabulary (with a warning); UINT64 values above
            // Long.MAX_VALUE arrive negative
            if (raw >= 0 && raw < n) {
                ids[SLOTS[k]] = (int) raw;
            }
        }
        boolean addBos = md.findBool(Tokenizer.KEY_PREFIX + "add_bos_token").orElse(quirks.addBos());
        boolean addEos = md.findBool(Tokenizer.KEY_PREFIX + "add_eos_token").orElse(false);

        // llama.cpp finds some special tokens by their text and forces them to CONTROL
        ids[EOT] = findByText(vocab, ids[EOT], "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                "<|endoftext|>", "<EOT>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>");
        ids[EOM] = findByText(vocab, ids[EOM], "<|eom_id|>");
        ids[FIM_PRE] = findByText(vocab, ids[FIM_PRE], "<|fim_prefix|>", "<fim-prefix>",
                "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>");
        ids[FIM_SUF] = findByText(vocab, ids[FIM_SUF], "<|fim_suffix|>", "<fim-suffix>",
                "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>");
        ids[FIM_MID] = findByText(vocab, ids[FIM_MID], "<|fim_middle|>", "<fim-middle>",
                "<\uFF5Cfim\u2581end\uFF5C>", "<MID>");
        ids[FIM_PAD] = findByText(vocab, ids[FIM_PAD], "<|fim_pad|>", "<fim-pad>", "<PAD>");
        ids[FIM_REP] = findByText(vocab, ids[FIM_REP], "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>");
        ids[FIM_SEP] = findByText(vocab, ids[FIM_SEP], "<|file_sep|>");

        BitSet eog = new BitSet(n);
        for (int k : new int[] {FIM_PAD, FIM_REP, FIM_SEP}) {
            if (ids[k] >= 0) {
                eog.set(ids[k]);
            }
        }
        for (String t : EOG_TEXTS) {
            Integer id = vocab.find(t);
            if (id != null) {
                eog.set(id);
                vocab.forceControl(id);
            }
        }
        for (int k : new int[] {EOS, EOT, EOM}) {
            if (ids[k] >= 0) {
                eog.set(ids[k]);
            }
        }
        return new SpecialTokens(ids, eog, addBos, addEos);
    }

    /** Keeps {@code current} if set, else the lowest id among tokens with one of the texts (forced to CONTROL). */
    private static int findByText(Vocabulary vocab, int current, String... candidates) {
        if (current >= 0) {
            return current;
        }
        int best = -1;
        for (String c : candidates) {
            Integer id = vocab.find(c);
            if (id != null && (best < 0 || id < best)) {
                best = id;
            }
        }
        if (best >= 0) {
            vocab.forceControl(best);
        }
        return best;
    }

    boolean isEog(int id) {
        return id >= 0 && eog.get(id);
    }

    int bos() {
        return ids[BOS];
    }

    int eos() {
        return ids[EOS];
    }

    int eot() {
        return ids[EOT];
    }

    int eom() {
        return ids[EOM];
    }

    int unk() {
        return ids[UNK];
    }

    int sep() {
        return ids[SEP];
    }

    int pad() {
        return ids[PAD];
    }

    int mask() {
        return ids[MASK];
    }

    boolean addBos() {
        return addBos;
    }

    boolean addEos() {
        return addEos;
    }
}
