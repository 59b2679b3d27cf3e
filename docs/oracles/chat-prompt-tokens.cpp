// The prompt tokens llama.cpp (c392e50) evaluates for a chat with --jinja: the file's tokenizer.chat_template
// rendered by common_chat_templates_apply (minja, use_jinja = true, add_generation_prompt = true; the leading
// bos_token / trailing eos_token text stripped as llama.cpp's chat.cpp does), then common_tokenize with
// add_special = true and parse_special = true, as llama-server's /v1/chat/completions and llama-cli -cnv --jinja do.
// Usage: chat-prompt-tokens MODEL.gguf MESSAGES.json  ->  stdout: the token ids, one line, space-separated;
// stderr: the rendered prompt. MESSAGES.json: [{"role": .., "content": ..}, ...] (plain text contents).
// Build (see docs/golden-data.md): g++ -std=c++17 -O1 -I$LLAMA/include -I$LLAMA/common -I$LLAMA/ggml/include
//   chat-prompt-tokens.cpp $LLAMA/build/common/libcommon.a -L$LLAMA/build/bin -lllama -lggml -lggml-base
//   -Wl,-rpath,$LLAMA/build/bin -o chat-prompt-tokens
#include "chat.h"
#include "common.h"
#include "json.hpp"
#include "llama.h"

#include <cstdio>
#include <fstream>
#include <sstream>

int main(int argc, char ** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.gguf MESSAGES.json\n", argv[0]);
        return 2;
    }
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    std::ifstream in(argv[2]);
    std::stringstream ss;
    ss << in.rdbuf();
    auto messages = nlohmann::ordered_json::parse(ss.str());

    common_chat_templates_inputs inputs;
    inputs.use_jinja = true;
    inputs.add_generation_prompt = true;
    for (const auto & m : messages) {
        common_chat_msg msg;
        msg.role = m.at("role").get<std::string>();
        msg.content = m.at("content").get<std::string>();
        inputs.messages.push_back(msg);
    }
    auto tmpls = common_chat_templates_init(model, "");
    common_chat_params params = common_chat_templates_apply(tmpls.get(), inputs);
    fprintf(stderr, "%s", params.prompt.c_str());
    std::vector<llama_token> ids = common_tokenize(llama_model_get_vocab(model), params.prompt, true, true);
    for (size_t i = 0; i < ids.size(); i++) {
        printf(i ? " %d" : "%d", ids[i]);
    }
    printf("\n");
    llama_model_free(model);
    return 0;
}
