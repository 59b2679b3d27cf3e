/**
 * Tokenizers built from GGUF metadata that give the same token ids as llama.cpp (commit c392e50).
 *
 * <p>{@link dev.gguf4j.tokenizer.Tokenizer#fromMetadata} reads {@code tokenizer.ggml.*} and applies llama.cpp's
 * defaults. Three algorithms are implemented:
 * <ul>
 * <li>{@code tokenizer.ggml.model = "llama"}: SentencePiece-style BPE. Merges are chosen by score, with byte
 * fallback to {@code <0xXX>} tokens, spaces written as U+2581 and an optional space prefix.</li>
 * <li>{@code "gpt2"}: byte-level BPE with merge ranks and a {@link dev.gguf4j.tokenizer.PreTokenizer}. Each
 * pre-tokenizer is a list of regexes looked up by its {@code tokenizer.ggml.pre} name, so the pre-tokenizers are
 * data rather than separate code paths.</li>
 * <li>{@code "bert"}: WordPiece ({@code WpmEncoder}, llama.cpp's WPM): lower-cased,
 * punctuation split, greedy longest match; [CLS] ... [SEP] added with special tokens.</li>
 * </ul>
 * All handle special tokens the way llama.cpp does: control and unknown token text is matched in the input only
 * with {@code parseSpecial}, user-defined token text is always matched, and the LSTRIP/RSTRIP rules for
 * jina-v2 and Phi-3 apply. Detokenization follows llama.cpp too: control tokens are not printed, byte tokens are
 * raw bytes, SentencePiece's prefix space is removed, and {@code clean_spaces} is applied. For streaming, a
 * {@link dev.gguf4j.tokenizer.Decoder} emits only complete UTF-8.
 *
 * <p>Where this package departs from llama.cpp (all cases where llama.cpp crashes or its result depends on
 * hash order):
 * <ul>
 * <li>Unsupported models ({@code bert}, {@code t5}, {@code rwkv}, {@code none}) and unknown pre-tokenizer names
 * throw {@link dev.gguf4j.tokenizer.UnsupportedTokenizerException}.</li>
 * <li>When several vocabulary entries could be the end-of-turn token (for example both {@code <|im_end|>} and
 * {@code <|endoftext|>}), {@code eot()} returns the lowest id. llama.cpp takes whichever its hash map yields
 * first. {@code isEog} is the same in both.</li>
 * <li>Special tokens whose texts have the same UTF-8 length are tried in id order. llama.cpp's sort is
 * unstable.</li>
 * <li>An unpaired surrogate in a Java string is encoded as U+FFFD. With byte input, a code point above
 * U+10FFFF becomes U+FFFD (llama.cpp throws). An SPM vocabulary without the byte token needed for fallback
 * throws {@link dev.gguf4j.Gguf4jException}.</li>
 * </ul>
 * Character classes use Java's Unicode data, except that code points first assigned in Unicode 16.0 are
 * treated as unassigned. This matches llama.cpp's Unicode 15.1 tables for every code point on Java 25.
 */
package dev.gguf4j.tokenizer;
