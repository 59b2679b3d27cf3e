package dev.gguf4j.tokenizer;

import dev.gguf4j.tokenizer.Tokenizer.Model;
import java.util.Locale;

/**
 * What llama.cpp c392e50 decides by tokenizer model and name rather than by a GGUF key of its own
 * ({@code llama_vocab::impl::load}): the default special ids and flags of each {@code tokenizer.ggml.model} (for
 * BPE, those of the {@code tokenizer.ggml.pre} name, from {@link PreTokenizer}'s table), which the file's keys may
 * override, and the strip attributes it sets on some special tokens by pre-tokenizer or model name.
 *
 * @param pre            the pre-tokenizer (BPE only; null for SPM and WPM)
 * @param bos            default BOS id ({@code bos_token_id}), -1 for none
 * @param eos            default EOS id
 * @param unk            default unknown-token id
 * @param sep            default separator id
 * @param pad            default padding id
 * @param mask           default mask id
 * @param addBos         default {@code add_bos_token}
 * @param addSpacePrefix default {@code add_space_prefix}
 * @param cleanSpaces    whether decoding applies llama.cpp's clean-up (no key: by model and pre-tokenizer only)
 * @param ignoreMerges   whether BPE looks a whole word up in the vocabulary before merging (no key either)
 */
record ModelQuirks(PreTokenizer pre, int bos, int eos, int unk, int sep, int pad, int mask, boolean addBos,
        boolean addSpacePrefix, boolean cleanSpaces, boolean ignoreMerges) {

    /** llama.cpp's defaults for this model and {@code tokenizer.ggml.pre} value ("" when absent). */
    static ModelQuirks of(Model model, String preName) {
        return switch (model) {
            // WPM: [CLS] 101 as BOS, [UNK] 100, [SEP] 102, [PAD] 0, [MASK] 103
            case WPM -> new ModelQuirks(null, 101, -1, 100, 102, 0, 103, true, false, true, false);
            case SPM -> new ModelQuirks(null, 1, 2, 0, -1, -1, -1, true, true, false, false);
            case BPE -> {
                PreTokenizer pre = PreTokenizer.forName(preName);
                yield new ModelQuirks(pre, pre.noBos() ? -1 : 11, 11, -1, -1, -1, -1, pre.addBos(), false,
                        pre.cleanSpaces(), pre.ignoreMerges());
            }
        };
    }

    /**
     * The strip attributes llama.cpp sets by name: LSTRIP on {@code <mask>} for the jina-v2 de/es/code
     * pre-tokenizers; for a model whose {@code general.name} says Phi-3, RSTRIP on every special token (and
     * {@code </s>}) except {@code <unk>}, {@code <s>} and {@code <|endoftext|>}.
     *
     * @param special the tokens matched as special in text ({@link SpecialTokenSplitter#order()})
     */
    static void applyStripAttributes(Vocabulary vocab, int[] special, String preName, String generalName) {
        String name = generalName.toLowerCase(Locale.ROOT);
        if (preName.contains("jina-v2-de") || preName.contains("jina-v2-es") || preName.contains("jina-v2-code")) {
            vocab.setAttr("<mask>", Vocabulary.ATTR_LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : special) {
                vocab.setAttr(id, Vocabulary.ATTR_RSTRIP, true);
            }
            vocab.setAttr("</s>", Vocabulary.ATTR_RSTRIP, true);
            for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                vocab.setAttr(t, Vocabulary.ATTR_RSTRIP, false);
            }
        }
    }
}
