// Generator of llama-chat-builtins.json: llama.cpp c392e50's own output for every built-in chat template name
// (llama_chat_apply_template), its template detection (llm_chat_detect_template) and the cases of
// tests/test-chat-template.cpp (each checked against its expected_output before it is written).
// Build and run against a llama.cpp c392e50 checkout L with libllama built:
//   F=$L/tests/test-chat-template.cpp
//   s=$(grep -n "std::vector<llama_chat_message> conversation {" $F | cut -d: -f1)
//   e=$(grep -n "std::vector<char> formatted_chat(1024);" $F | cut -d: -f1)
//   sed -n "${s},$((e-1))p" $F > cases.inc
//   g++ -std=c++17 -I$L/include -I$L/src -I$L/ggml/include llama-chat-builtins.cpp -L$L/build/bin -lllama \
//       -Wl,-rpath,$L/build/bin -o gen && ./gen $L/models/templates/*.jinja > llama-chat-builtins.json
#include "llama.h"
#include "llama-chat.h"
#include <cstdio>
#include <string>
#include <vector>
#include <map>
#include <fstream>
#include <sstream>
#include <cassert>

static std::string q(const std::string & s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o += b; } else o += (char) c;
        }
    }
    return o + "\"";
}

static std::string apply(const std::string & tmpl, const std::vector<llama_chat_message> & chat, bool add) {
    std::vector<char> buf(1 << 16);
    int32_t n = llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), add, buf.data(), buf.size());
    if (n < 0) return std::string("\x01UNSUPPORTED");
    assert(n < (int32_t) buf.size());
    return std::string(buf.data(), n);
}

int main(int argc, char ** argv) {
#include "cases.inc"
    std::vector<const char *> names(llama_chat_builtin_templates(nullptr, 0));
    llama_chat_builtin_templates(names.data(), names.size());
    std::map<int, std::string> by_id;
    for (auto n : names) by_id[(int) llm_chat_template_from_str(n)] = n;
    auto detect = [&](const std::string & t) -> std::string {
        int id = (int) llm_chat_detect_template(t);
        return by_id.count(id) ? by_id[id] : std::string("");
    };
    std::vector<std::pair<std::string, std::vector<llama_chat_message>>> convs = {
        {"reference", conversation},
        {"user-only", {{"user", "Hello"}}},
        {"system-only", {{"system", "You are a helpful assistant"}}},
        {"whitespace-unicode", {{"system", " \t Sys\v\n"}, {"user", u8"  héllo «ünïcode» 日本\n"}, {"assistant", "\f answer \r\n"}, {"user", u8"x "}}},
        {"no-system", {{"user", "Hi"}, {"assistant", " Hello! "}, {"user", "Bye"}}},
        {"tool", {{"user", "Weather?"}, {"assistant", "calling"}, {"tool", "{\"temp\": 20}"}, {"user", "thanks"}}},
        {"assistant-first", {{"assistant", "Welcome"}, {"user", "Hi"}}},
        {"two-systems", {{"system", "A"}, {"user", "u"}, {"system", "B"}, {"user", "v"}}},
        {"empty", {}},
    };
    printf("{\n\"source\": \"llama.cpp c392e50: llama_chat_apply_template (src/llama-chat.cpp) run on each built-in name by a generator; detection: llm_chat_detect_template; test_chat_template_cases: tests/test-chat-template.cpp\",\n");
    printf("\"names\": [");
    for (size_t i = 0; i < names.size(); i++) printf("%s%s", i ? ", " : "", q(names[i]).c_str());
    printf("],\n\"conversations\": {\n");
    for (size_t i = 0; i < convs.size(); i++) {
        printf("%s %s: [", i ? ",\n" : "", q(convs[i].first).c_str());
        for (size_t j = 0; j < convs[i].second.size(); j++)
            printf("%s{\"role\": %s, \"content\": %s}", j ? ", " : "", q(convs[i].second[j].role).c_str(), q(convs[i].second[j].content).c_str());
        printf("]");
    }
    printf("\n},\n\"cases\": [\n");
    bool first = true;
    for (auto n : names) for (auto & c : convs) for (int add = 1; add >= 0; add--) {
        std::string out = apply(n, c.second, add);
        printf("%s {\"name\": %s, \"conversation\": %s, \"add_generation_prompt\": %s, \"expected\": %s}", first ? "" : ",\n",
            q(n).c_str(), q(c.first).c_str(), add ? "true" : "false", q(out).c_str());
        first = false;
    }
    printf("\n],\n\"test_chat_template_cases\": [\n");
    first = true;
    for (auto & tc : test_cases) {
        std::string out = apply(tc.template_str, conversation, true);
        if (out != tc.expected_output) { fprintf(stderr, "MISMATCH %s\n", tc.name.c_str()); return 1; }
        printf("%s {\"name\": %s, \"template\": %s, \"detected\": %s, \"expected\": %s}", first ? "" : ",\n",
            q(tc.name).c_str(), q(tc.template_str).c_str(), q(detect(tc.template_str)).c_str(), q(tc.expected_output).c_str());
        first = false;
    }
    printf("\n],\n\"detection\": [\n");
    first = true;
    std::vector<std::string> extra = {"mistral", "chatml", "llama3", "INVALID TEMPLATE", "mistral-v7"};
    for (auto & e : extra) { printf("%s {\"template\": %s, \"detected\": %s}", first ? "" : ",\n", q(e).c_str(), q(detect(e)).c_str()); first = false; }
    for (int i = 1; i < argc; i++) {
        std::ifstream f(argv[i]); std::stringstream ss; ss << f.rdbuf();
        std::string p = argv[i]; p = p.substr(p.rfind('/') + 1);
        printf(",\n {\"file\": %s, \"template\": %s, \"detected\": %s}", q(p).c_str(), q(ss.str()).c_str(), q(detect(ss.str())).c_str());
    }
    printf("\n]\n}\n");
    return 0;
}
