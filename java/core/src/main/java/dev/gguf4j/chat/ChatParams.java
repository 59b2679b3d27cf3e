package dev.gguf4j.chat;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.sampling.SamplingParams;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One chat request's settings, as OpenAI's {@code chat.completions} takes them.
 *
 * @param maxTokens         tokens to generate at most (finish reason "length"); -1: until an end-of-generation token
 *                          or a full context (OpenAI's default for chat)
 * @param stop              strings that end the reply; never emitted
 * @param sampling          the sampler chain's settings
 * @param tools             functions the model may call (passed to the template as {@code tools}); empty for none
 * @param toolChoice        whether the model may, must or must not call tools
 * @param parallelToolCalls whether one reply may hold several tool calls
 * @param responseFormat    plain text, any JSON object, or JSON matching a schema: the reply is constrained to it
 *                          ({@link dev.gguf4j.grammar.Grammar#jsonObject}, {@link dev.gguf4j.grammar.Grammar#fromJsonSchemaValue});
 *                          the schema is the JSON Schema as parsed JSON, or OpenAI's {@code json_schema} object
 *                          holding it under {@code schema}
 * @param templateVariables further chat-template variables (e.g. {@code enable_thinking}, {@code date_string})
 * @param template          the chat template to render with ({@link ChatTemplate#parse},
 *                          {@link BuiltinTemplates#get}, a file's {@code ChatTemplate.fromMetadata(md, name)});
 *                          null: the model's own ({@code tokenizer.chat_template}; with tools, its {@code tool_use}
 *                          variant if it has one), else llama.cpp's fallback chatml
 * @param logprobs          -1: no log-probabilities (OpenAI's {@code logprobs: false}; no cost); 0 to 20: each
 *                          generated token's {@link dev.gguf4j.llama.TokenLogprob} with that many alternatives
 *                          (OpenAI's {@code top_logprobs}), in the choices and chunks
 */
public record ChatParams(int maxTokens, List<String> stop, SamplingParams sampling, List<ChatTool> tools,
        ToolChoice toolChoice, boolean parallelToolCalls, ResponseFormat responseFormat,
        Map<String, Object> templateVariables, ChatTemplate template, int logprobs) {

    public ChatParams(int maxTokens, List<String> stop, SamplingParams sampling, List<ChatTool> tools,
            ToolChoice toolChoice, boolean parallelToolCalls, ResponseFormat responseFormat,
            Map<String, Object> templateVariables, ChatTemplate template) {
        this(maxTokens, stop, sampling, tools, toolChoice, parallelToolCalls, responseFormat, templateVariables,
                template, -1);
    }

    public static final ChatParams DEFAULTS = new ChatParams(-1, List.of(), SamplingParams.DEFAULTS, List.of(),
            ToolChoice.AUTO, false, ResponseFormat.TEXT, Map.of(), null);

    public ChatParams {
        if (maxTokens < -1) {
            throw new Gguf4jException("chat: max tokens must be -1 (no limit) or >= 0, got " + maxTokens);
        }
        stop = List.copyOf(stop);
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw new Gguf4jException("chat: stop strings must not be empty");
        }
        Objects.requireNonNull(sampling, "sampling");
        tools = List.copyOf(tools);
        Objects.requireNonNull(toolChoice, "toolChoice");
        Objects.requireNonNull(responseFormat, "responseFormat");
        templateVariables = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(templateVariables));
        if (logprobs < -1 || logprobs > dev.gguf4j.llama.TokenLogprob.MAX_TOP) {
            throw new Gguf4jException("chat: logprobs must be -1 (none) or 0 to " + dev.gguf4j.llama.TokenLogprob.MAX_TOP
                    + " alternatives, got " + logprobs);
        }
        if (toolChoice.function() != null && tools.stream().noneMatch(t -> t.name().equals(toolChoice.function()))) {
            throw new Gguf4jException("chat: tool_choice names function '" + toolChoice.function()
                    + "', which is not among the tools (" + String.join(", ", tools.stream().map(ChatTool::name)
                            .toList()) + ")");
        }
    }

    /**
     * OpenAI's {@code tool_choice}: {@code "auto"}, {@code "none"}, {@code "required"}, or one named function
     * ({@link #function(String)}, which implies required).
     */
    public record ToolChoice(String mode, String function) {
        public static final ToolChoice AUTO = new ToolChoice("auto", null);
        public static final ToolChoice NONE = new ToolChoice("none", null);
        public static final ToolChoice REQUIRED = new ToolChoice("required", null);

        public ToolChoice {
            if (!List.of("auto", "none", "required").contains(mode)) {
                throw new Gguf4jException("chat: tool_choice '" + mode + "' (expected auto, none or required)");
            }
        }

        /** The model must call this function. */
        public static ToolChoice function(String name) {
            return new ToolChoice("required", Objects.requireNonNull(name, "name"));
        }
    }

    /**
     * OpenAI's {@code response_format}: {@code text}, {@code json_object} (any JSON object) or {@code json_schema}
     * (JSON valid against {@code schema}, a JSON-shaped JSON Schema). The shapes are here; constraining generation
     * to them is not implemented yet.
     */
    public record ResponseFormat(String type, Object schema) {
        public static final ResponseFormat TEXT = new ResponseFormat("text", null);
        public static final ResponseFormat JSON_OBJECT = new ResponseFormat("json_object", null);

        public ResponseFormat {
            if (!List.of("text", "json_object", "json_schema").contains(type)) {
                throw new Gguf4jException("chat: response_format type '" + type
                        + "' (expected text, json_object or json_schema)");
            }
            if (type.equals("json_schema") && schema == null) {
                throw new Gguf4jException("chat: response_format json_schema needs a schema");
            }
        }

        public static ResponseFormat jsonSchema(Object schema) {
            return new ResponseFormat("json_schema", schema);
        }
    }

    public ChatParams withMaxTokens(int n) {
        return new ChatParams(n, stop, sampling, tools, toolChoice, parallelToolCalls, responseFormat,
                templateVariables, template, logprobs);
    }

    public ChatParams withStop(List<String> s) {
        return new ChatParams(maxTokens, s, sampling, tools, toolChoice, parallelToolCalls, responseFormat,
                templateVariables, template, logprobs);
    }

    public ChatParams withSampling(SamplingParams s) {
        return new ChatParams(maxTokens, stop, s, tools, toolChoice, parallelToolCalls, responseFormat,
                templateVariables, template, logprobs);
    }

    public ChatParams withTools(List<ChatTool> t) {
        return new ChatParams(maxTokens, stop, sampling, t, toolChoice, parallelToolCalls, responseFormat,
                templateVariables, template, logprobs);
    }

    public ChatParams withToolChoice(ToolChoice c) {
        return new ChatParams(maxTokens, stop, sampling, tools, c, parallelToolCalls, responseFormat,
                templateVariables, template, logprobs);
    }

    public ChatParams withParallelToolCalls(boolean p) {
        return new ChatParams(maxTokens, stop, sampling, tools, toolChoice, p, responseFormat, templateVariables,
                template, logprobs);
    }

    public ChatParams withResponseFormat(ResponseFormat f) {
        return new ChatParams(maxTokens, stop, sampling, tools, toolChoice, parallelToolCalls, f, templateVariables,
                template, logprobs);
    }

    public ChatParams withTemplate(ChatTemplate t) {
        return new ChatParams(maxTokens, stop, sampling, tools, toolChoice, parallelToolCalls, responseFormat,
                templateVariables, t, logprobs);
    }

    public ChatParams withTemplateVariables(Map<String, Object> v) {
        return new ChatParams(maxTokens, stop, sampling, tools, toolChoice, parallelToolCalls, responseFormat, v,
                template, logprobs);
    }

    /**
     * Log-probabilities of the reply's tokens, each with its {@code top} most likely alternatives (0 to 20; OpenAI's
     * {@code logprobs: true, top_logprobs: top}); -1: none.
     */
    public ChatParams withLogprobs(int top) {
        return new ChatParams(maxTokens, stop, sampling, tools, toolChoice, parallelToolCalls, responseFormat,
                templateVariables, template, top);
    }
}
