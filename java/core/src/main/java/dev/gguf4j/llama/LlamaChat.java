package dev.gguf4j.llama;

import dev.gguf4j.chat.BuiltinTemplates;
import dev.gguf4j.chat.ChatCompletion;
import dev.gguf4j.chat.ChatCompletionChunk;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.chat.ChatTemplate;
import dev.gguf4j.chat.ToolCall;
import dev.gguf4j.chat.ToolCallParser;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.grammar.Grammar;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterators;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * {@link Llama#chat}: a conversation turned into prompt tokens as llama.cpp's Jinja path does it, the completion
 * (with the KV cache of the last chat's shared prefix reused, {@link Llama#streamReusing}), and the reply turned
 * into OpenAI's chat shapes, tool calls parsed.
 *
 * <p>Prompt tokens, as llama.cpp c392e50 ({@code common_chat_templates_apply} with {@code use_jinja}, then
 * {@code common_tokenize(prompt, add_special = true, parse_special = true)} as llama-server and llama-cli do): the
 * template renders with {@code add_generation_prompt = true}, {@code bos_token} / {@code eos_token} the text of the
 * vocabulary's BOS / EOS tokens, {@code tools} null when there are none; a Jinja template's output loses a leading
 * {@code bos_token} and a trailing {@code eos_token} text (llama.cpp strips them so that they are not doubled); the
 * text is tokenized with the model's BOS added (as it adds it) and special tokens parsed. With tools, the file's
 * {@code tokenizer.chat_template.tool_use} is used when it has one, as llama.cpp does.
 */
final class LlamaChat {
    private LlamaChat() {
    }

    /** The file's template, else llama.cpp's fallback (chatml), as {@code common_chat_templates_init} picks it. */
    static ChatTemplate defaultTemplate(GgufMetadata md) {
        return ChatTemplate.fromMetadata(md)
                .or(() -> ChatTemplate.fromMetadata(md, "tool_use"))
                .orElseGet(() -> BuiltinTemplates.get(BuiltinTemplates.FALLBACK).orElseThrow());
    }

    /** The template a request renders with: its own, else (with tools) the file's tool_use variant, else the file's. */
    static ChatTemplate template(Llama llama, ChatParams params) {
        if (params.template() != null) {
            return params.template();
        }
        if (!params.tools().isEmpty()) {
            var toolUse = ChatTemplate.fromMetadata(llama.metadata(), "tool_use");
            if (toolUse.isPresent()) {
                return toolUse.get();
            }
        }
        return llama.chatTemplate();
    }

    /** The rendered prompt text, as llama.cpp tokenizes it (leading BOS / trailing EOS text stripped for Jinja). */
    static String promptText(Llama llama, ChatTemplate template, List<ChatMessage> messages, ChatParams params) {
        String[] special = ChatTemplate.specialTokens(llama.metadata());
        String text = template.applyMessages(messages, params.tools(), true, special[0], special[1],
                params.templateVariables());
        if (template.builtinName().isEmpty()) { // llama.cpp's chat.cpp apply(): only on the Jinja path
            if (!special[0].isEmpty() && text.startsWith(special[0])) {
                text = text.substring(special[0].length());
            }
            if (!special[1].isEmpty() && text.endsWith(special[1])) {
                text = text.substring(0, text.length() - special[1].length());
            }
        }
        return text;
    }

    /** The prompt tokens of a conversation (see the class comment). */
    static int[] promptTokens(Llama llama, List<ChatMessage> messages, ChatParams params) {
        return llama.tokenizer().encode(promptText(llama, template(llama, params), messages, params), true, true);
    }

    static ChatCompletion chat(Llama llama, List<ChatMessage> messages, ChatParams params,
            Consumer<ChatCompletionChunk> onChunk) {
        Request r = request(llama, messages, params);
        try (Stream<Completion> completions = llama.streamReusing(r.tokens(), r.params())) {
            ChunkIterator it = new ChunkIterator(completions.iterator(), r.format());
            while (it.hasNext()) {
                onChunk.accept(it.next());
            }
            return it.result;
        }
    }

    static Stream<ChatCompletionChunk> stream(Llama llama, List<ChatMessage> messages, ChatParams params) {
        Request r = request(llama, messages, params);
        Stream<Completion> completions = llama.streamReusing(r.tokens(), r.params());
        ChunkIterator it = new ChunkIterator(completions.iterator(), r.format());
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, 0), false).onClose(completions::close);
    }

    private record Request(int[] tokens, CompletionParams params, ToolCallParser.Format format) {
    }

    private static Request request(Llama llama, List<ChatMessage> messages, ChatParams params) {
        if (messages.isEmpty()) {
            throw new dev.gguf4j.Gguf4jException("chat: no messages");
        }
        ChatTemplate template = template(llama, params);
        ToolCallParser.Format format = ToolCallParser.detect(template, params.tools(), params.toolChoice());
        int[] tokens = llama.tokenizer().encode(promptText(llama, template, messages, params), true, true);
        if (tokens.length >= llama.contextLength()) {
            throw new dev.gguf4j.Gguf4jException("chat: the conversation is " + tokens.length + " prompt tokens,"
                    + " but the context holds " + llama.contextLength() + " (it must leave room for the reply):"
                    + " drop earlier messages, or load with a longer context (LlamaOptions.withContextLength)");
        }
        CompletionParams cp = CompletionParams.DEFAULTS
                .withMaxTokens(params.maxTokens() < 0 ? Integer.MAX_VALUE : params.maxTokens())
                .withStop(params.stop()).withSampling(sampling(params)).withLogprobs(params.logprobs());
        return new Request(tokens, cp, format);
    }

    /** The sampling settings with the response format's grammar (json_object, json_schema), if any. */
    private static dev.gguf4j.sampling.SamplingParams sampling(ChatParams params) {
        ChatParams.ResponseFormat f = params.responseFormat();
        if (f.type().equals("text")) {
            return params.sampling();
        }
        if (params.sampling().grammar() != null) {
            throw new dev.gguf4j.Gguf4jException("chat: response_format " + f.type() + " and a grammar in the sampling"
                    + " parameters: give one of them");
        }
        Object schema = f.schema();
        if (schema instanceof java.util.Map<?, ?> m && m.get("schema") != null
                && (m.containsKey("name") || m.containsKey("strict"))) {
            schema = m.get("schema"); // OpenAI's {"name": ..., "schema": {...}, "strict": ...}
        }
        return params.sampling().withGrammar(f.type().equals("json_object") ? Grammar.jsonObject()
                : Grammar.fromJsonSchemaValue(schema));
    }

    /** Completion chunks to chat chunks: role first, content as it comes (whole at the end with tools), finish. */
    static final class ChunkIterator implements Iterator<ChatCompletionChunk> {
        private final Iterator<Completion> in;
        private final ToolCallParser.Format format;
        private final String id = "chatcmpl-" + UUID.randomUUID();
        private final long created = Instant.now().getEpochSecond();
        private final StringBuilder text = new StringBuilder();
        private final List<ChatCompletionChunk> pending = new ArrayList<>();
        private List<TokenLogprob> allLogprobs; // null: not asked
        private final List<TokenLogprob> unsent = new ArrayList<>(); // of them, those not in a chunk yet
        private boolean roleSent;
        private boolean done;
        private ChatCompletion result;

        ChunkIterator(Iterator<Completion> in, ToolCallParser.Format format) {
            this.in = in;
            this.format = format;
        }

        @Override
        public boolean hasNext() {
            return !pending.isEmpty() || !done;
        }

        @Override
        public ChatCompletionChunk next() {
            while (pending.isEmpty()) {
                if (done) {
                    throw new NoSuchElementException();
                }
                advance();
            }
            return pending.removeFirst();
        }

        private void advance() {
            if (!in.hasNext()) {
                done = true;
                return;
            }
            Completion c = in.next();
            String model = c.model();
            if (!roleSent) {
                roleSent = true;
                pending.add(chunk(model, ChatCompletionChunk.Delta.role("assistant"), null, null));
            }
            String piece = c.text();
            text.append(piece);
            List<TokenLogprob> lp = c.choices().getFirst().logprobs();
            if (lp != null) {
                allLogprobs = allLogprobs == null ? new ArrayList<>() : allLogprobs;
                allLogprobs.addAll(lp);
                unsent.addAll(lp);
            }
            boolean streamContent = format == ToolCallParser.Format.CONTENT_ONLY;
            if (streamContent && !piece.isEmpty()) {
                pending.add(chunk(model, ChatCompletionChunk.Delta.content(piece), null, null, takeUnsent()));
            }
            String finish = c.choices().getFirst().finishReason();
            if (finish == null) {
                return;
            }
            ToolCallParser.Result r = ToolCallParser.parse(text.toString(), format);
            String reason = r.finishReason(finish);
            if (!streamContent) {
                List<ChatCompletionChunk.ToolCallDelta> calls = new ArrayList<>();
                List<ToolCall> tc = r.toolCalls();
                for (int i = 0; i < tc.size(); i++) {
                    calls.add(ChatCompletionChunk.ToolCallDelta.of(i, tc.get(i)));
                }
                if (r.content() != null || !calls.isEmpty()) {
                    pending.add(chunk(model, new ChatCompletionChunk.Delta(null, r.content(), calls), null, null,
                            takeUnsent()));
                }
            }
            pending.add(new ChatCompletionChunk(id, created, model, List.of(new ChatCompletionChunk.Choice(0,
                    ChatCompletionChunk.Delta.EMPTY, reason, takeUnsent())), c.usage(), c.timings()));
            ChatMessage message = r.toolCalls().isEmpty() ? ChatMessage.assistant(text.toString()) : r.toMessage();
            result = new ChatCompletion(id, created, model, List.of(new ChatCompletion.Choice(0, message, reason,
                    allLogprobs)), c.usage(), c.timings());
            done = true;
        }

        private ChatCompletionChunk chunk(String model, ChatCompletionChunk.Delta d, String finish,
                Completion.Usage usage) {
            return chunk(model, d, finish, usage, null);
        }

        private ChatCompletionChunk chunk(String model, ChatCompletionChunk.Delta d, String finish,
                Completion.Usage usage, List<TokenLogprob> lp) {
            return new ChatCompletionChunk(id, created, model, List.of(new ChatCompletionChunk.Choice(0, d, finish,
                    lp)), usage);
        }

        /** The entries not yet in a chunk (their tokens' text goes out with this one); null when not asked. */
        private List<TokenLogprob> takeUnsent() {
            if (allLogprobs == null) {
                return null;
            }
            List<TokenLogprob> out = List.copyOf(unsent);
            unsent.clear();
            return out;
        }
    }
}
