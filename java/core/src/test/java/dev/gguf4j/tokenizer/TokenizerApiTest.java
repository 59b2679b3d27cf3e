package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.GgufFormatException;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufValueType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The public API: metadata defaults and errors, special tokens, decoding, streaming, thread safety. */
class TokenizerApiTest {
    private static GgufMetadata md(Map<String, GgufValue> m) {
        return new GgufMetadata("test", m);
    }

    private static GgufValue strings(String... s) {
        return GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.STRING, s));
    }

    @Test
    void unsupportedModelNamesTheValueAndTheSupportedList() {
        GgufMetadata m = TokenizerTestInputs.withOverrides(TokenizerTestInputs.metadata(TokenizerTestInputs.vocab("gpt-2")),
                Map.of("tokenizer.ggml.model", GgufValue.ofString("t5")));
        UnsupportedTokenizerException e = assertThrows(UnsupportedTokenizerException.class, () -> Tokenizer.fromMetadata(m));
        assertEquals("tokenizer.ggml.model", e.key());
        assertEquals("t5", e.value());
        assertEquals(List.of("llama", "gpt2", "bert"), e.supported());
        assertTrue(e.getMessage().contains("\"t5\"") && e.getMessage().contains("llama, gpt2, bert"), e.getMessage());
        assertTrue(e instanceof Gguf4jException);
    }

    @Test
    void unsupportedPreTokenizerNamesTheValueAndTheSupportedList() {
        GgufMetadata m = TokenizerTestInputs.withOverrides(TokenizerTestInputs.metadata(TokenizerTestInputs.vocab("gpt-2")),
                Map.of("tokenizer.ggml.pre", GgufValue.ofString("gpt-5")));
        UnsupportedTokenizerException e = assertThrows(UnsupportedTokenizerException.class, () -> Tokenizer.fromMetadata(m));
        assertEquals("tokenizer.ggml.pre", e.key());
        assertEquals("gpt-5", e.value());
        assertTrue(e.supported().containsAll(List.of("default", "llama-bpe", "gpt-2", "falcon", "mpt", "starcoder",
                "refact", "deepseek-llm", "deepseek-coder", "command-r", "qwen2")), e.supported().toString());
        assertTrue(e.getMessage().contains("gpt-5") && e.getMessage().contains("llama-bpe"), e.getMessage());
    }

    @Test
    void missingKeysAreFormatErrors() {
        assertThrows(GgufFormatException.class, () -> Tokenizer.fromMetadata(md(Map.of())));
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.ofString("gpt2"));
        m.put("tokenizer.ggml.tokens", strings("a", "b"));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> Tokenizer.fromMetadata(md(m)));
        assertEquals("tokenizer.ggml.merges", e.field());
        m.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
        m.put("tokenizer.ggml.scores", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.FLOAT32, new float[1])));
        e = assertThrows(GgufFormatException.class, () -> Tokenizer.fromMetadata(md(m)));
        assertEquals("tokenizer.ggml.scores", e.field());
    }

    @Test
    void bpeDefaultsFollowLlamaCpp() {
        // no tokenizer.ggml.pre: "default"; no ids: BOS = EOS = 11; llama-bpe adds BOS and ignores merges
        Map<String, GgufValue> m = new LinkedHashMap<>(TokenizerTestInputs.metadata(TokenizerTestInputs.vocab("falcon")).asMap());
        m.remove("tokenizer.ggml.pre");
        m.remove("tokenizer.ggml.bos_token_id");
        m.remove("tokenizer.ggml.eos_token_id");
        Tokenizer t = Tokenizer.fromMetadata(md(m));
        assertEquals("default", t.preTokenizer().name());
        assertEquals(11, t.bos());
        assertEquals(11, t.eos());
        assertFalse(t.addBos());
        assertTrue(t.cleanSpaces());
        Tokenizer l3 = TokenizerTestInputs.variant("gpt-2:llama-bpe");
        assertEquals("LLAMA3", l3.preTokenizer().type());
        assertTrue(l3.addBos());
        assertEquals(50256, l3.encode("hi", true, false)[0]);
        Tokenizer glm = TokenizerTestInputs.variant("gpt-2:chatglm-bpe");
        assertEquals(50256, glm.bos(), "an explicit bos_token_id still wins over chatglm's none");
    }

    @Test
    void spmDefaultsAndSpecialTokens() {
        Tokenizer t = TokenizerTestInputs.variant("llama-spm");
        assertEquals(Tokenizer.Model.SPM, t.model());
        assertNull(t.preTokenizer());
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertEquals(0, t.unk());
        assertEquals(-1, t.pad());
        assertTrue(t.addBos());
        assertFalse(t.addEos());
        assertTrue(t.addSpacePrefix());
        assertEquals("<s>", t.tokenText(1));
        assertEquals(TokenType.CONTROL, t.tokenType(1));
        assertEquals(TokenType.UNKNOWN, t.tokenType(0));
        assertEquals(TokenType.NORMAL, t.tokenType(15043));
        assertEquals("\u2581Hello", t.tokenText(15043));
        assertEquals(15043, t.tokenId("\u2581Hello"));
        assertEquals(-1, t.tokenId("no such token"));
        assertTrue(t.isEog(2));
        assertFalse(t.isEog(1));
        assertFalse(t.isEog(-1));

        // parse_special: "<s>" is one control token only when asked for
        assertArrayEquals(new int[] {1, 1, 15043}, t.encode("<s>Hello", true, true));
        int[] plain = t.encode("<s>Hello", false, false);
        assertTrue(plain.length > 2 && plain[0] != 1, Arrays.toString(plain));
        // after a special token SentencePiece adds the space prefix again
        int[] world = t.encode("world", false, false);
        int[] after = t.encode("</s>world", false, true);
        assertEquals(2, after[0]);
        assertArrayEquals(world, Arrays.copyOfRange(after, 1, after.length));

        // control tokens are not printed unless asked; byte tokens are raw bytes
        assertEquals("Hello", t.decode(new int[] {15043}));
        assertEquals(" Hello", t.decode(new int[] {1, 15043}));
        assertEquals("<s> Hello</s>", t.decode(new int[] {1, 15043, 2}, true));
        // remove_special drops the BOS but then keeps the prefix space (llama.cpp), EOS stays as add_eos is off
        assertArrayEquals(" Hello".getBytes(StandardCharsets.UTF_8), t.decodeBytes(new int[] {1, 15043, 2}, true, false));
        assertArrayEquals(" Hello</s>".getBytes(StandardCharsets.UTF_8), t.decodeBytes(new int[] {1, 15043, 2}, true, true));
        assertArrayEquals(new byte[0], t.tokenBytes(1));
        assertArrayEquals("<s>".getBytes(StandardCharsets.UTF_8), t.tokenBytes(1, true));
        assertArrayEquals(" Hello".getBytes(StandardCharsets.UTF_8), t.tokenBytes(15043));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {32000}));
        assertThrows(IllegalArgumentException.class, () -> t.tokenText(-1));
        assertArrayEquals(new int[0], t.encode("", false, true));
        assertArrayEquals(new int[] {1}, t.encode("", true, true));
    }

    @Test
    void userDefinedTokensMatchWithoutParseSpecial() {
        // mpt (GPT-NeoX) has user-defined tokens for runs of spaces
        Tokenizer t = TokenizerTestInputs.variant("mpt");
        int id = t.tokenId("    ");
        assertEquals(TokenType.USER_DEFINED, t.tokenType(id));
        int[] ids = t.encode("a    b", false, false);
        assertTrue(Arrays.stream(ids).anyMatch(x -> x == id), Arrays.toString(ids));
        assertEquals("a    b", t.decode(ids));
    }

    @Test
    void eogTokensFollowLlamaCpp() {
        Tokenizer gpt2 = TokenizerTestInputs.variant("gpt-2");
        assertTrue(gpt2.isEog(50256));
        assertEquals(50256, gpt2.eot(), "<|endoftext|> is found as EOT by its text");
        Tokenizer starcoder = TokenizerTestInputs.variant("starcoder");
        assertTrue(starcoder.isEog(0));
        // llama.cpp finds FIM tokens by exact text ("<|fim_pad|>", "<fim-pad>", "<PAD>"): StarCoder's "<fim_pad>"
        // is not one of them, so it is not end-of-generation
        assertFalse(starcoder.isEog(starcoder.tokenId("<fim_pad>")));
        assertFalse(starcoder.isEog(starcoder.tokenId("<fim_prefix>")));
        Tokenizer deepseek = TokenizerTestInputs.variant("deepseek-coder");
        assertEquals(deepseek.tokenId("<\uFF5Cend\u2581of\u2581sentence\uFF5C>"), deepseek.eot());
        assertTrue(deepseek.isEog(deepseek.eot()));
        // "<|EOT|>" is not in llama.cpp's lists (only "<EOT>")
        assertFalse(deepseek.isEog(deepseek.tokenId("<|EOT|>")));

    }

    @Test
    void decoderHoldsBackSplitUtf8() {
        Tokenizer t = TokenizerTestInputs.variant("llama-spm");
        int[] ids = t.encode("a\uD83D\uDE01b", false, false); // ... <0xF0> <0x9F> <0x98> <0x81> ...
        Decoder d = t.newDecoder();
        StringBuilder sb = new StringBuilder();
        List<String> chunks = new ArrayList<>();
        for (int id : ids) {
            String s = d.next(id);
            chunks.add(s);
            sb.append(s);
            assertFalse(s.contains("\uFFFD"), "incomplete UTF-8 must be held back: " + chunks);
        }
        sb.append(d.finish());
        assertEquals(" a\uD83D\uDE01b", sb.toString());
        assertTrue(chunks.contains(""), "the first three byte tokens emit nothing: " + chunks);

        // byte-level BPE: a character split over tokens
        Tokenizer g = TokenizerTestInputs.variant("gpt-2");
        int[] gi = g.encode("\u1F5F\u1F7D", false, false);
        Decoder gd = g.newDecoder();
        StringBuilder gs = new StringBuilder();
        for (int id : gi) {
            gs.append(gd.next(id));
        }
        assertEquals(0, gd.pendingBytes());
        assertEquals("\u1F5F\u1F7D", gs.toString());

        // a truncated stream ends with U+FFFD; a malformed byte is replaced at once
        Decoder e = t.newDecoder();
        assertEquals("", e.next(t.tokenId("<0xF0>")));
        assertEquals(1, e.pendingBytes());
        assertEquals("\uFFFD", e.finish());
        assertEquals("\uFFFDx", e.feed(new byte[] {(byte) 0xFF, 'x'}));
    }

    @Test
    void concurrentEncodingGivesTheSameIds() throws Exception {
        Tokenizer t = TokenizerTestInputs.variant("gpt-2:llama-bpe");
        List<String> inputs = TokenizerTestInputs.allInputs();
        List<int[]> expected = inputs.stream().map(s -> t.encode(s, true, true)).toList();
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try {
            List<Future<Boolean>> fs = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                fs.add(ex.submit(() -> {
                    for (int rep = 0; rep < 20; rep++) {
                        for (int i = 0; i < inputs.size(); i++) {
                            if (!Arrays.equals(expected.get(i), t.encode(inputs.get(i), true, true))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : fs) {
                assertTrue(f.get());
            }
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void preTokenizerTableIsData() {
        PreTokenizer p = PreTokenizer.forName("qwen2");
        assertEquals("QWEN2", p.type());
        assertEquals(1, p.regexes().size());
        assertEquals(PreTokenizer.forName("deepseek-r1-qwen").regexes(), p.regexes());
        assertEquals("default", PreTokenizer.forName("").name());
        assertEquals("default", PreTokenizer.forName(null).name());
        for (String name : PreTokenizer.names()) {
            assertFalse(PreTokenizer.forName(name).regexes().isEmpty(), name);
        }
    }
}
