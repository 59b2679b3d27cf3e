/* llama-logits-oracle.c - the logits oracle behind tests/golden/*.golden.gguf made by this project (qwen2-tiny,
 * stories260K-ropescaled): our own program against llama.cpp's public C API (llama.h), not llama.cpp code.
 * Build against a llama.cpp checkout built outside this repository (c392e50):
 *   gcc -O2 -std=c11 -I$LLAMA/include -I$LLAMA/ggml/include llama-logits-oracle.c -L$LLAMA/build/bin -lllama -lggml \
 *       -lggml-base -Wl,-rpath,$LLAMA/build/bin -lm -o oracle
 * Usage: ORACLE_MODEL_SHA256=... ./oracle MODEL.gguf MODEL_FILE_NAME N_GREEDY OUT.golden.gguf PROMPT... */
// Inference golden data for a model from llama.cpp (c392e50): per prompt, llama.cpp's tokens (add_special and
// parse_special on), the logits at every prompt position (one batch) and a greedy continuation (argmax, one
// token per llama_decode). Written as an "inference-golden" GGUF in the layout of ../shared/golden/*.golden.gguf.
// Environment: ORACLE_KV=f32 for an F32 KV cache; ORACLE_MODEL_SHA256 to record the model's hash.
//   oracle MODEL.gguf MODEL_FILE_NAME N_GREEDY OUT.golden.gguf PROMPT...
#include "llama.h"
#include "ggml.h"
#include "gguf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *m) { fprintf(stderr, "oracle: %s\n", m); exit(1); }

int main(int argc, char **argv) {
    if (argc < 6) die("usage: oracle MODEL.gguf MODEL_FILE_NAME N_GREEDY OUT.golden.gguf PROMPT...");
    const char *path = argv[1], *name = argv[2], *out = argv[4];
    int n_greedy = atoi(argv[3]);
    int n_prompts = argc - 5;
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(path, mp);
    if (!model) die("load failed");
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int n_vocab = llama_vocab_n_tokens(vocab);

    struct gguf_context *g = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "inference-golden");
    gguf_set_val_str(g, "golden.model_file", name);
    gguf_set_val_str(g, "golden.source", "llama.cpp c392e50 CPU (llama_decode, all-position logits in one batch; "
                                         "greedy = argmax of logits, one token per llama_decode)");
    gguf_set_val_u32(g, "golden.prompt_count", (uint32_t) n_prompts);
    // ORACLE_KV=f32: F32 KV cache (default F16, as llama.cpp); ORACLE_MODEL_SHA256: recorded as golden.model_sha256
    const char *kv = getenv("ORACLE_KV");
    int kv_f32 = kv && strcmp(kv, "f32") == 0;
    gguf_set_val_str(g, "golden.kv_type", kv_f32 ? "f32" : "f16");
    const char *sha = getenv("ORACLE_MODEL_SHA256");
    if (sha) gguf_set_val_str(g, "golden.model_sha256", sha);

    size_t mem = 0;
    for (int p = 0; p < n_prompts; p++) mem += (size_t) (512 + 512 * n_vocab + n_greedy) * 4 + 3 * 1024;
    struct ggml_init_params ip = { mem + 1024 * 1024, NULL, false };
    struct ggml_context *ctx0 = ggml_init(ip);

    for (int p = 0; p < n_prompts; p++) {
        const char *text = argv[5 + p];
        int32_t toks[512];
        int n = llama_tokenize(vocab, text, (int32_t) strlen(text), toks, 512, true, true);
        if (n <= 0) die("tokenize failed");

        struct llama_context_params cp = llama_context_default_params();
        cp.n_ctx = 512; cp.n_batch = 512; cp.n_ubatch = 512; cp.n_threads = 1; cp.n_threads_batch = 1;
        if (kv_f32) { cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32; }
        struct llama_context *lc = llama_init_from_model(model, cp);
        if (!lc) die("context failed");

        struct llama_batch b = llama_batch_init(512, 0, 1);
        for (int i = 0; i < n; i++) {
            b.token[i] = toks[i]; b.pos[i] = i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = 1;
        }
        b.n_tokens = n;
        if (llama_decode(lc, b)) die("decode failed");

        char key[64];
        snprintf(key, sizeof key, "prompt.%d.tokens", p);
        struct ggml_tensor *tt = ggml_new_tensor_1d(ctx0, GGML_TYPE_I32, n);
        ggml_set_name(tt, key);
        memcpy(tt->data, toks, n * 4);
        snprintf(key, sizeof key, "prompt.%d.logits", p);
        struct ggml_tensor *lt = ggml_new_tensor_2d(ctx0, GGML_TYPE_F32, n_vocab, n);
        ggml_set_name(lt, key);
        for (int i = 0; i < n; i++) memcpy((float *) lt->data + (size_t) i * n_vocab, llama_get_logits_ith(lc, i), n_vocab * 4);
        snprintf(key, sizeof key, "prompt.%d.greedy", p);
        struct ggml_tensor *gt = ggml_new_tensor_1d(ctx0, GGML_TYPE_I32, n_greedy);
        ggml_set_name(gt, key);

        char textbuf[16384];
        int tl = snprintf(textbuf, sizeof textbuf, "%s", text);
        const float *last = llama_get_logits_ith(lc, n - 1);
        for (int i = 0; i < n_greedy; i++) {
            int best = 0;
            for (int j = 1; j < n_vocab; j++) if (last[j] > last[best]) best = j;
            ((int32_t *) gt->data)[i] = best;
            char piece[256];
            int pl = llama_token_to_piece(vocab, best, piece, sizeof piece, 0, true);
            if (pl > 0 && tl + pl < (int) sizeof textbuf - 1) { memcpy(textbuf + tl, piece, pl); tl += pl; textbuf[tl] = 0; }
            b.token[0] = best; b.pos[0] = n + i; b.n_seq_id[0] = 1; b.seq_id[0][0] = 0; b.logits[0] = 1;
            b.n_tokens = 1;
            if (llama_decode(lc, b)) die("decode failed");
            last = llama_get_logits_ith(lc, 0);
        }
        snprintf(key, sizeof key, "prompt.%d.text", p);
        gguf_set_val_str(g, key, text);
        gguf_add_tensor(g, tt);
        gguf_add_tensor(g, lt);
        gguf_add_tensor(g, gt);
        fprintf(stderr, "prompt %d: %d tokens; %s\n", p, n, textbuf);
        llama_batch_free(b);
        llama_free(lc);
    }
    if (!gguf_write_to_file(g, out, false)) die("write failed");
    gguf_free(g);
    ggml_free(ctx0);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
