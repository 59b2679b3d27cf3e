package dev.gguf4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gguf4j.Gguf4jException;
import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.chat.ChatTemplate;
import dev.gguf4j.chat.ChatTool;
import dev.gguf4j.llama.CompletionParams;
import dev.gguf4j.llama.TokenLogprob;
import dev.gguf4j.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Supplier;
import java.util.List;

/**
 * {@code gguf4j serve}: request bodies (OpenAI's and Ollama's) read into the library's parameters. Every field is
 * type- and range-checked; a bad one is an {@link ApiError} (400) naming it, its value and what it must be. Unknown
 * fields are ignored, as OpenAI's API does.
 */
final class ServeRequests {
    private ServeRequests() {
    }

    /** An error the client gets as a status and an OpenAI error object ({@code param}: the field, or null). */
    static final class ApiError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String type;
        final String param;

        ApiError(int status, String type, String param, String message) {
            super(message, null, false, false);
            this.status = status;
            this.type = type;
            this.param = param;
        }

        static ApiError invalid(String param, String message) {
            return new ApiError(400, "invalid_request_error", param, message);
        }
    }

    /** A request body's fields, read with checks. {@code prefix}: how nested fields are named ("options."). */
    record Fields(ObjectNode node, String prefix) {
        JsonNode get(String name) {
            JsonNode v = node.get(name);
            return v == null || v.isNull() ? null : v;
        }

        ApiError wrong(String name, String what, JsonNode v) {
            return ApiError.invalid(prefix + name, "'" + prefix + name + "' must be " + what + ", got "
                    + Errors.oneLine(abbreviate(v.toString())));
        }

        Long integer(String name, long min, long max) {
            JsonNode v = get(name);
            if (v == null) {
                return null;
            }
            if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
                throw wrong(name, "an integer", v);
            }
            if (!v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
                throw wrong(name, "an integer in [" + min + ", " + max + "]", v);
            }
            return v.asLong();
        }

        Double number(String name, double min, double max) {
            JsonNode v = get(name);
            if (v == null) {
                return null;
            }
            if (!v.isNumber()) {
                throw wrong(name, "a number", v);
            }
            double d = v.asDouble();
            if (!(d >= min && d <= max)) {
                throw wrong(name, "a number in [" + fmt(min) + ", " + fmt(max) + "]", v);
            }
            return d;
        }

        Boolean bool(String name) {
            JsonNode v = get(name);
            if (v == null) {
                return null;
            }
            if (!v.isBoolean()) {
                throw wrong(name, "true or false", v);
            }
            return v.asBoolean();
        }

        String string(String name) {
            JsonNode v = get(name);
            if (v == null) {
                return null;
            }
            if (!v.isTextual()) {
                throw wrong(name, "a string", v);
            }
            return v.asText();
        }

        Fields object(String name) {
            JsonNode v = get(name);
            if (v == null) {
                return null;
            }
            if (!v.isObject()) {
                throw wrong(name, "an object", v);
            }
            return new Fields((ObjectNode) v, prefix + name + ".");
        }

        /** A string or an array of non-empty strings (OpenAI's and Ollama's {@code stop}). */
        List<String> strings(String name) {
            JsonNode v = get(name);
            List<String> out = new ArrayList<>();
            if (v == null) {
                return out;
            }
            if (v.isTextual()) {
                out.add(v.asText());
            } else if (v.isArray()) {
                for (JsonNode e : v) {
                    if (!e.isTextual()) {
                        throw wrong(name, "a string or an array of strings", v);
                    }
                    out.add(e.asText());
                }
            } else {
                throw wrong(name, "a string or an array of strings", v);
            }
            if (out.stream().anyMatch(String::isEmpty)) {
                throw ApiError.invalid(prefix + name, "'" + prefix + name + "' holds an empty string");
            }
            return out;
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private static String fmt(double d) {
        return d == Double.MAX_VALUE ? "inf" : d == (long) d ? Long.toString((long) d) : Double.toString(d);
    }

    /**
     * The sampler settings of a request, llama-server's defaults where a field is absent; {@code seed} absent or -1:
     * a random seed, as llama-server does. Names: OpenAI's (and llama-server's extras) at the top level, Ollama's
     * inside {@code options} (the same names).
     */
    static SamplingParams sampling(Fields f, Supplier<Map<Integer, Float>> eogBias) {
        SamplingParams s = SamplingParams.DEFAULTS;
        Map<Integer, Float> bias = new HashMap<>();
        Fields lb = f.object("logit_bias");
        if (lb != null) {
            for (Iterator<String> it = lb.node().fieldNames(); it.hasNext(); ) {
                String id = it.next();
                int token;
                try {
                    token = Integer.parseInt(id);
                } catch (NumberFormatException e) {
                    throw ApiError.invalid(f.prefix() + "logit_bias", "'" + f.prefix() + "logit_bias' keys must be"
                            + " token ids, got " + Errors.oneLine(abbreviate(id)));
                }
                bias.put(token, lb.number(id, -100, 100).floatValue());
            }
        }
        Boolean ignoreEos = f.bool("ignore_eos"); // llama-server's: every end-of-generation token banned
        if (ignoreEos != null && ignoreEos) {
            bias.putAll(eogBias.get());
        }
        s = s.withLogitBias(bias);
        Double t = f.number("temperature", 0, Double.MAX_VALUE);
        if (t != null) {
            s = s.withTemperature(t.floatValue());
        }
        Double p = f.number("top_p", 0, 1);
        if (p != null) {
            s = s.withTopP(p.floatValue());
        }
        Long k = f.integer("top_k", 0, Integer.MAX_VALUE);
        if (k != null) {
            s = s.withTopK(k.intValue());
        }
        Double minP = f.number("min_p", 0, 1);
        if (minP != null) {
            s = s.withMinP(minP.floatValue());
        }
        Double rp = f.number("repeat_penalty", Double.MIN_VALUE, Double.MAX_VALUE);
        if (rp != null) {
            s = s.withRepeatPenalty(rp.floatValue());
        }
        Long seed = f.integer("seed", -1, Long.MAX_VALUE);
        return s.withSeed(seed == null || seed == -1 ? System.nanoTime() & Long.MAX_VALUE : seed);
    }

    /** Choices one request may ask for ({@code n}). */
    static final int MAX_CHOICES = 16;

    /** OpenAI's {@code n} (1 to {@value #MAX_CHOICES}; choice i samples with seed + i). */
    static int choices(Fields f) {
        Long n = f.integer("n", 1, MAX_CHOICES);
        return n == null ? 1 : n.intValue();
    }

    /**
     * Chat's {@code logprobs} (true/false) and {@code top_logprobs} (0 to 20, only with logprobs true, as OpenAI
     * has it): the alternatives per token, or -1 for none.
     */
    static int chatLogprobs(Fields f) {
        Boolean lp = f.bool("logprobs");
        Long top = f.integer("top_logprobs", 0, TokenLogprob.MAX_TOP);
        if (lp == null || !lp) {
            if (top != null) {
                throw ApiError.invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
            }
            return -1;
        }
        return top == null ? 0 : top.intValue();
    }

    /** The legacy completions' {@code logprobs}: the alternatives per token (0 to 20), or -1 for none. */
    static int completionLogprobs(Fields f) {
        Long lp = f.integer("logprobs", 0, TokenLogprob.MAX_TOP);
        return lp == null ? -1 : lp.intValue();
    }

    /**
     * OpenAI's {@code response_format}: {@code text}, {@code json_object} or {@code json_schema} ({@code
     * {"json_schema": {"name": ..., "schema": {...}}}}); the schema is compiled here so that one the grammar
     * package cannot take is a 400 naming the field.
     */
    static ChatParams.ResponseFormat responseFormat(Fields f) {
        Fields rf = f.object("response_format");
        if (rf == null) {
            return ChatParams.ResponseFormat.TEXT;
        }
        String type = rf.string("type");
        if (type == null) {
            throw ApiError.invalid("response_format", "'response_format.type' is required (text, json_object or"
                    + " json_schema)");
        }
        return switch (type) {
            case "text" -> ChatParams.ResponseFormat.TEXT;
            case "json_object" -> ChatParams.ResponseFormat.JSON_OBJECT;
            case "json_schema" -> {
                Fields js = rf.object("json_schema");
                JsonNode schema = js == null ? null : js.get("schema");
                if (schema == null || !schema.isObject()) {
                    throw ApiError.invalid("response_format", "'response_format.json_schema.schema' must be a JSON"
                            + " Schema object");
                }
                yield ChatParams.ResponseFormat.jsonSchema(schemaValue(schema, "response_format"));
            }
            default -> throw ApiError.invalid("response_format", "'response_format.type' must be text, json_object"
                    + " or json_schema, got '" + Errors.oneLine(abbreviate(type)) + "'");
        };
    }

    /** A JSON Schema as the grammar package takes it, checked by compiling it (a 400 naming {@code param}). */
    static Object schemaValue(JsonNode schema, String param) {
        Object v = ChatJson.parse(schema.toString(), param);
        try {
            dev.gguf4j.grammar.Grammar.fromJsonSchemaValue(v);
        } catch (Gguf4jException e) {
            throw ApiError.invalid(param, "'" + param + "': " + Errors.oneLine(e.getMessage()));
        }
        return v;
    }

    /** The grammar a response format asks for (for text completions, which take the grammar directly). */
    static dev.gguf4j.grammar.Grammar grammar(ChatParams.ResponseFormat f) {
        return switch (f.type()) {
            case "json_object" -> dev.gguf4j.grammar.Grammar.jsonObject();
            case "json_schema" -> dev.gguf4j.grammar.Grammar.fromJsonSchemaValue(f.schema());
            default -> null;
        };
    }

    /** The token limit: {@code max_completion_tokens}, else {@code max_tokens}, else llama-server's {@code n_predict}. */
    static int maxTokens(Fields f, int absent) {
        Long mct = f.integer("max_completion_tokens", 0, Integer.MAX_VALUE);
        Long mt = f.integer("max_tokens", 0, Integer.MAX_VALUE);
        Long np = f.integer("n_predict", -1, Integer.MAX_VALUE);
        return mct != null ? mct.intValue() : mt != null ? mt.intValue() : np != null ? np.intValue() : absent;
    }

    /** A parsed chat request: the conversation and its settings; {@code n} choices. */
    record Chat(List<ChatMessage> messages, ChatParams params, boolean stream, boolean includeUsage, int n) {
        Chat(List<ChatMessage> messages, ChatParams params, boolean stream, boolean includeUsage) {
            this(messages, params, stream, includeUsage, 1);
        }

        /** Choice {@code i}'s settings: the seed plus i. */
        ChatParams params(int i) {
            return i == 0 ? params : params.withSampling(params.sampling().withSeed(params.sampling().seed() + i));
        }
    }

    /** OpenAI's {@code /v1/chat/completions} body. */
    static Chat openAiChat(ObjectNode body, ChatTemplate template, Supplier<Map<Integer, Float>> eog) {
        Fields f = new Fields(body, "");
        int n = choices(f);
        List<ChatMessage> messages = messages(f);
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(maxTokens(f, -1)).withStop(f.strings("stop"))
                .withSampling(sampling(f, eog)).withTemplate(template).withResponseFormat(responseFormat(f))
                .withLogprobs(chatLogprobs(f));
        p = tools(f, p);
        Boolean parallel = f.bool("parallel_tool_calls");
        if (parallel != null) {
            p = p.withParallelToolCalls(parallel);
        }
        Boolean stream = f.bool("stream");
        Fields so = f.object("stream_options");
        Boolean usage = so == null ? null : so.bool("include_usage");
        return new Chat(messages, p, stream != null && stream, usage != null && usage, n);
    }

    /** Ollama's {@code /api/chat} body: {@code options} holds the sampling fields, {@code num_predict}. */
    static Chat ollamaChat(ObjectNode body, ChatTemplate template, Supplier<Map<Integer, Float>> eog) {
        Fields f = new Fields(body, "");
        List<ChatMessage> messages = messages(f);
        ChatParams p = ollamaParams(f, template, eog);
        p = tools(f, p);
        Boolean stream = f.bool("stream");
        return new Chat(messages, p, stream == null || stream, false);
    }

    static ChatParams ollamaParams(Fields f, ChatTemplate template, Supplier<Map<Integer, Float>> eog) {
        Fields o = f.object("options");
        if (o == null) {
            o = new Fields(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), "options.");
        }
        Long np = o.integer("num_predict", -2, Integer.MAX_VALUE); // Ollama: -1 infinite, -2 fill the context
        return ChatParams.DEFAULTS.withMaxTokens(np == null || np < 0 ? -1 : np.intValue())
                .withStop(o.strings("stop")).withSampling(sampling(o, eog)).withTemplate(template)
                .withResponseFormat(ollamaFormat(f)).withLogprobs(chatLogprobs(f));
    }

    /** Ollama's {@code format}: "json" (any JSON object) or a JSON Schema object. */
    static ChatParams.ResponseFormat ollamaFormat(Fields f) {
        JsonNode fmt = f.get("format");
        if (fmt == null || (fmt.isTextual() && fmt.asText().isEmpty())) {
            return ChatParams.ResponseFormat.TEXT;
        }
        if (fmt.isTextual() && fmt.asText().equals("json")) {
            return ChatParams.ResponseFormat.JSON_OBJECT;
        }
        if (fmt.isObject()) {
            return ChatParams.ResponseFormat.jsonSchema(schemaValue(fmt, "format"));
        }
        throw ApiError.invalid("format", "'format' must be \"json\" or a JSON Schema object, got "
                + Errors.oneLine(abbreviate(fmt.toString())));
    }

    private static List<ChatMessage> messages(Fields f) {
        JsonNode m = f.get("messages");
        if (m == null) {
            throw ApiError.invalid("messages", "'messages' is required");
        }
        if (!m.isArray() || m.isEmpty()) {
            throw ApiError.invalid("messages", "'messages' must be a non-empty array of messages");
        }
        try {
            return ChatMessage.fromJsonValue(ChatJson.parse(m.toString(), "messages"), "messages");
        } catch (Gguf4jException e) {
            throw ApiError.invalid("messages", e.getMessage());
        }
    }

    private static ChatParams tools(Fields f, ChatParams p) {
        JsonNode tools = f.get("tools");
        if (tools != null) {
            if (!tools.isArray()) {
                throw ApiError.invalid("tools", "'tools' must be an array of tools");
            }
            try {
                p = p.withTools(ChatTool.fromJsonValue(ChatJson.parse(tools.toString(), "tools"), "tools"));
            } catch (Gguf4jException e) {
                throw ApiError.invalid("tools", e.getMessage());
            }
        }
        JsonNode choice = f.get("tool_choice");
        if (choice != null) {
            ChatParams.ToolChoice c;
            try {
                if (choice.isTextual()) {
                    c = new ChatParams.ToolChoice(choice.asText(), null);
                } else if (choice.isObject() && choice.path("function").path("name").isTextual()) {
                    c = ChatParams.ToolChoice.function(choice.path("function").path("name").asText());
                } else {
                    throw new Gguf4jException("'tool_choice' must be \"auto\", \"none\", \"required\" or"
                            + " {\"type\": \"function\", \"function\": {\"name\": ...}}");
                }
                p = p.withToolChoice(c);
            } catch (Gguf4jException e) {
                throw ApiError.invalid("tool_choice", e.getMessage());
            }
        }
        return p;
    }

    /** A parsed text completion request; {@code n} choices. */
    record Text(String prompt, CompletionParams params, boolean stream, boolean includeUsage, int n) {
        Text(String prompt, CompletionParams params, boolean stream, boolean includeUsage) {
            this(prompt, params, stream, includeUsage, 1);
        }

        /** Choice {@code i}'s settings: the seed plus i. */
        CompletionParams params(int i) {
            return i == 0 ? params : params.withSampling(params.sampling().withSeed(params.sampling().seed() + i));
        }
    }

    /** OpenAI's {@code /v1/completions} body ({@code max_tokens} defaults to 16, as OpenAI's does). */
    static Text openAiCompletion(ObjectNode body, Supplier<Map<Integer, Float>> eog) {
        Fields f = new Fields(body, "");
        int n = choices(f);
        Boolean echo = f.bool("echo");
        if (echo != null && echo) {
            throw ApiError.invalid("echo", "'echo' is not supported yet");
        }
        JsonNode p = f.get("prompt");
        String prompt;
        if (p == null) {
            throw ApiError.invalid("prompt", "'prompt' is required");
        } else if (p.isTextual()) {
            prompt = p.asText();
        } else if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).asText();
        } else {
            throw ApiError.invalid("prompt", "'prompt' must be a string (or an array of one string)");
        }
        int max = maxTokens(f, 16);
        SamplingParams s = sampling(f, eog);
        dev.gguf4j.grammar.Grammar g = grammar(responseFormat(f)); // llama-server takes it here too
        CompletionParams cp = CompletionParams.DEFAULTS.withMaxTokens(max < 0 ? Integer.MAX_VALUE : max)
                .withStop(f.strings("stop")).withSampling(g == null ? s : s.withGrammar(g))
                .withLogprobs(completionLogprobs(f));
        Boolean stream = f.bool("stream");
        Fields so = f.object("stream_options");
        Boolean usage = so == null ? null : so.bool("include_usage");
        return new Text(prompt, cp, stream != null && stream, usage != null && usage, n);
    }

    // ---- embeddings ----

    /** Inputs one embeddings request may hold (OpenAI's limit). */
    static final int MAX_EMBEDDING_INPUTS = 2048;

    /**
     * An embeddings request: its inputs, whether the vectors go back as base64 (little-endian float32, OpenAI's
     * {@code encoding_format}), and whether an input over the limit is cut to it (Ollama's {@code truncate}) or
     * refused.
     */
    record Embed(List<String> inputs, List<int[]> tokens, boolean base64, boolean truncate) {
        Embed(List<String> inputs, boolean base64, boolean truncate) {
            this(inputs, null, base64, truncate);
        }

        /** How many inputs: texts, or token-id arrays ({@code tokens} non-null). */
        int count() {
            return tokens != null ? tokens.size() : inputs.size();
        }
    }

    /**
     * OpenAI's {@code POST /v1/embeddings}: {@code input} a string, an array of strings, an array of token ids (one
     * input) or an array of such arrays (token ids are used as given, as llama-server takes them), {@code
     * encoding_format} float or base64, {@code dimensions} only the model's own ({@code dimension}: no Matryoshka
     * shortening).
     */
    static Embed openAiEmbeddings(ObjectNode body, int dimension) {
        Fields f = new Fields(body, "");
        if (f.get("input") == null) {
            throw ApiError.invalid("input", "'input' is required: a string, an array of strings, an array of token"
                    + " ids or an array of token-id arrays");
        }
        List<int[]> tokens = tokenInputs(f.get("input"), "input");
        List<String> inputs = tokens != null ? List.of() : embeddingInputs(f, "input");
        if (tokens == null ? inputs.isEmpty() : tokens.isEmpty()) {
            throw ApiError.invalid("input", "'input' is an empty array: give at least one input");
        }
        String format = f.string("encoding_format");
        if (format != null && !format.equals("float") && !format.equals("base64")) {
            throw ApiError.invalid("encoding_format", "'encoding_format' must be float or base64, got '"
                    + Errors.oneLine(abbreviate(format)) + "'");
        }
        dimensions(f, dimension);
        return new Embed(inputs, tokens, "base64".equals(format), false);
    }

    /**
     * Ollama's {@code POST /api/embed} ({@code input} a string or an array of strings, {@code truncate} default
     * true) or, {@code legacy}, {@code POST /api/embeddings} ({@code prompt}, one string, truncated).
     */
    static Embed ollamaEmbed(ObjectNode body, int dimension, boolean legacy) {
        Fields f = new Fields(body, "");
        if (legacy) {
            String prompt = f.string("prompt");
            return new Embed(prompt == null || prompt.isEmpty() ? List.of() : List.of(prompt), false, true);
        }
        List<String> inputs = embeddingInputs(f, "input");
        Boolean truncate = f.bool("truncate");
        dimensions(f, dimension);
        return new Embed(inputs, false, truncate == null || truncate);
    }

    /** {@code dimensions}: absent, or the model's embedding length (shortening is not done). */
    private static void dimensions(Fields f, int dimension) {
        Long d = f.integer("dimensions", 1, Integer.MAX_VALUE);
        if (d != null && d != dimension) {
            throw ApiError.invalid("dimensions", "'dimensions' " + d + ": this model's embeddings have " + dimension
                    + " dimensions and gguf4j does not shorten them; leave 'dimensions' out or give " + dimension);
        }
    }

    /**
     * OpenAI's token-id forms of {@code input}: an array of integers (one input) or an array of such arrays (each
     * non-empty, at most {@value #MAX_EMBEDDING_INPUTS}); null when {@code v} is text. Strings and token arrays
     * mixed, or an id that is not a non-negative 32-bit integer, are a 400 naming the element.
     */
    static List<int[]> tokenInputs(JsonNode v, String name) {
        if (v == null || !v.isArray() || v.isEmpty()) {
            return null;
        }
        boolean flat = v.get(0).isNumber();
        boolean nested = v.get(0).isArray();
        if (!flat && !nested) {
            return null;
        }
        if (nested && v.size() > MAX_EMBEDDING_INPUTS) {
            throw ApiError.invalid(name, "'" + name + "' has " + v.size() + " inputs, more than the limit of "
                    + MAX_EMBEDDING_INPUTS + " per request");
        }
        List<int[]> out = new ArrayList<>();
        if (flat) {
            out.add(ids(v, name, name));
            return out;
        }
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isArray() || e.isEmpty()) {
                throw ApiError.invalid(name, "'" + name + "[" + i + "]' must be a non-empty array of token ids like"
                        + " the first element (strings and token arrays cannot be mixed)");
            }
            out.add(ids(e, name, name + "[" + i + "]"));
        }
        return out;
    }

    private static int[] ids(JsonNode a, String name, String label) {
        int[] t = new int[a.size()];
        for (int j = 0; j < t.length; j++) {
            JsonNode x = a.get(j);
            if (!x.isIntegralNumber() || !x.canConvertToInt() || x.asInt() < 0) {
                throw ApiError.invalid(name, "'" + label + "[" + j + "]' must be a token id (an integer from 0), got "
                        + Errors.oneLine(abbreviate(x.toString())) + " (strings and token ids cannot be mixed)");
            }
            t[j] = x.asInt();
        }
        return t;
    }

    /** A string or an array of strings, at most {@value #MAX_EMBEDDING_INPUTS}. */
    private static List<String> embeddingInputs(Fields f, String name) {
        JsonNode v = f.get(name);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
            return out;
        }
        if (!v.isArray()) {
            throw f.wrong(name, "a string or an array of strings", v);
        }
        if (v.size() > MAX_EMBEDDING_INPUTS) {
            throw ApiError.invalid(name, "'" + name + "' has " + v.size() + " inputs, more than the limit of "
                    + MAX_EMBEDDING_INPUTS + " per request");
        }
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isTextual()) {
                throw ApiError.invalid(name, "'" + name + "[" + i + "]' must be a string like the first element"
                        + " (strings and token ids cannot be mixed)");
            }
            out.add(e.asText());
        }
        return out;
    }
}
