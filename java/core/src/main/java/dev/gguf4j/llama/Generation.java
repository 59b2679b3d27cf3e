package dev.gguf4j.llama;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.engine.BatchEngine;
import dev.gguf4j.engine.Sequence;
import dev.gguf4j.sampling.Sampler;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.tokenizer.Decoder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.UUID;

/**
 * One completion in progress on a {@link Llama}: evaluates the prompt (in its constructor), then yields chunks of
 * new text, the last with the finish reason, usage and {@link Timings}. Registered with its Llama while it runs,
 * so that {@link Llama#close()} can cancel it and wait for it; with reuse, it starts from the KV cache a previous
 * chat left and leaves its own for the next.
 */
final class Generation implements Iterator<Completion>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");

    private final Llama llama;
    private final String id = "cmpl-" + UUID.randomUUID();
    private final long created = Instant.now().getEpochSecond();
    private final CompletionParams params;
    volatile Sequence session; // volatile: read by kvCacheTokens (metrics)
    private Sampler sampler;
    private final Decoder decoder;
    private final StringBuilder text = new StringBuilder();
    private final StringBuilder held = new StringBuilder();
    private int promptTokens;
    private int reused; // prompt tokens whose KV cache came from the parked session
    private final boolean reuse; // take the parked session, and park this one at the end
    private boolean failed;
    private int[] history = new int[0]; // the tokens the session's KV cache holds (reuse only)
    private int historyLength;
    private long promptNanos;
    private float[] logits;
    private boolean greedyArgmax; // the next token comes from LlamaSession.forwardArgmax
    private int nextToken = -1;
    private int unevaluated = -1; // sampled, its text given out, not yet run through the model
    private int generated;
    private final List<TokenLogprob> logprobs; // every generated token's (null: not asked)
    private int logprobsSent; // of them, those given out in a chunk
    private String finish;
    private boolean stopMatched;
    private long genStart;
    private Timings timings; // set when it finishes
    // guarded by Llama.lock: a thread is in the constructor or next(); the session is closed; close() was asked
    boolean busy;
    volatile boolean ended;
    private boolean closeAsked;
    /** Set (under Llama.lock) by Llama.close(); checked between tokens. */
    volatile boolean cancelled;
    private boolean cancelReported;

    Generation(Llama llama, int[] tokens, CompletionParams params, boolean reuse) {
        this.llama = llama;
        this.decoder = llama.tokenizer().newDecoder();
        this.params = params;
        this.reuse = reuse;
        this.logprobs = params.logprobs() < 0 ? null : new ArrayList<>();
        synchronized (llama.lock) {
            llama.checkOpen();
            llama.live.add(this);
            busy = true;
        }
        boolean ok = false;
        try {
            start(tokens);
            ok = true;
        } finally {
            failed = !ok;
            release(!ok);
        }
    }

    /** Evaluates the prompt (the constructor's work, while registered as busy). */
    private void start(int[] tokens) {
        if (tokens.length >= llama.contextLength()) {
            if (!params.truncatePrompt()) {
                throw new Gguf4jException("the prompt is " + tokens.length + " tokens, but the context holds "
                        + llama.contextLength() + " (it must leave room for at least one generated token): shorten it,"
                        + " raise the context length, or ask for truncation (CompletionParams.withTruncatePrompt)");
            }
            int n = llama.contextLength();
            int keep = Math.max(1, n - Math.max(1, Math.min(params.maxTokens(), n / 2)));
            int[] t = new int[keep];
            boolean bos = tokens.length > 0 && tokens[0] == llama.tokenizer().bos() && llama.tokenizer().addBos();
            int from = tokens.length - keep + (bos ? 1 : 0);
            if (bos) {
                t[0] = tokens[0];
            }
            System.arraycopy(tokens, from, t, bos ? 1 : 0, keep - (bos ? 1 : 0));
            LOG.log(System.Logger.Level.WARNING, "gguf4j: prompt truncated from " + tokens.length + " to " + keep
                    + " tokens to fit the context of " + llama.contextLength());
            tokens = t;
        }
        this.promptTokens = tokens.length;
        SamplingParams sp = params.sampling();
        this.sampler = new Sampler(sp.seed() == 0xFFFFFFFFL ? sp.withSeed(llama.options.seed()) : sp,
                llama.contextLength(), llama.tokenizer());
        int from0 = 0;
        if (reuse) {
            synchronized (llama.lock) {
                from0 = continueKept(tokens);
            }
            history = tokens.clone();
            historyLength = tokens.length;
        }
        this.reused = from0;
        if (session == null) {
            this.session = llama.openSequence();
        }
        long t0 = System.nanoTime();
        // the prompt in batches (matrix-matrix products), the last batch's last logits kept
        for (int from = from0; from < tokens.length; from += llama.options.batchSize()) {
            if (cancelled) {
                throw cancellation();
            }
            int[] batch = java.util.Arrays.copyOfRange(tokens, from, Math.min(tokens.length,
                    from + llama.options.batchSize()));
            logits = session.forwardLast(batch);
        }
        for (int t : tokens) {
            sampler.accept(t);
        }
        this.greedyArgmax = sampler.isPlainArgmax() && logprobs == null; // log-probabilities need the logits
        this.promptNanos = System.nanoTime() - t0;
        this.genStart = System.nanoTime();
        if (params.maxTokens() == 0) {
            finish = "length";
        }
    }

    /**
     * Under Llama.lock: starts from the kept cache that shares the longest prefix with {@code tokens} (the oldest
     * among equals), the prefix kept and at least the last prompt token evaluated again, for its logits; returns
     * the prompt tokens reused. Without batching the one kept session is continued whatever it shares. With
     * batching, a kept cache is continued when the prompt extends most of it (the same conversation); else the
     * shared prefix (a system prompt) is copied into a free slot (the oldest other kept cache given up if need
     * be), and the kept cache stays for its own conversation.
     */
    private int continueKept(int[] tokens) {
        Llama.ParkedSession best = null;
        int n = 0;
        for (Llama.ParkedSession p : llama.parked) {
            int k = p.shared(tokens);
            if (best == null || k > n) {
                best = p;
                n = k;
            }
        }
        if (best == null) {
            return 0;
        }
        BatchEngine e = llama.engine;
        BatchEngine.Slot slot = null;
        if (e != null && 2 * n < best.tokens().length) {
            slot = e.acquire();
            for (var it = llama.parked.iterator(); slot == null && it.hasNext(); ) {
                Llama.ParkedSession p = it.next();
                if (p != best) {
                    it.remove();
                    p.session().close();
                    slot = e.acquire();
                }
            }
        }
        if (slot == null) {
            llama.parked.remove(best);
            best.session().rewind(n);
            session = best.session();
            return n;
        }
        session = slot;
        if (n > 0 && best.session() instanceof BatchEngine.Slot from) {
            e.copyPrefix(from, slot, n);
            return n;
        }
        return 0;
    }

    /**
     * Ends this generation: closes its session (or, reusing, parks it for the next chat when it ended cleanly)
     * and unregisters it. Under Llama.lock, not while busy.
     */
    void endLocked() {
        if (!ended) {
            ended = true;
            if (session != null) {
                if (reuse && !failed && !cancelled && !llama.closed && session.position() == historyLength) {
                    session.idle();
                    llama.parked.addLast(new Llama.ParkedSession(session, java.util.Arrays.copyOf(history, historyLength)));
                    while (llama.parked.size() > llama.parkedCapacity) {
                        llama.parked.removeFirst().session().close();
                    }
                } else {
                    session.close();
                }
            }
            llama.live.remove(this);
            llama.lock.notifyAll();
        }
    }

    /** Leaves the busy state; ends the generation if it is over, failed, cancelled or closed meanwhile. */
    private void release(boolean end) {
        synchronized (llama.lock) {
            busy = false;
            if (end || cancelled || closeAsked) {
                endLocked();
            }
        }
    }

    private GenerationCancelledException cancellation() {
        cancelReported = true;
        Completion partial = new Completion(id, "text_completion", created, llama.name(),
                List.of(new Completion.Choice(text.toString(), 0, GenerationCancelledException.FINISH_REASON)),
                new Completion.Usage(promptTokens, generated, promptTokens + generated));
        return new GenerationCancelledException("the completion was cancelled: its Llama (" + llama.name()
                + ") was closed after " + generated + " generated tokens", partial);
    }

    @Override
    public boolean hasNext() {
        return cancelled ? !cancelReported : !ended;
    }

    @Override
    public Completion next() {
        synchronized (llama.lock) {
            if (cancelled) {
                throw cancelReported ? new NoSuchElementException() : cancellation();
            }
            if (ended) {
                throw new NoSuchElementException();
            }
            busy = true;
        }
        boolean end = true;
        boolean ok = false;
        try {
            String out = "";
            while (finish == null && out.isEmpty()) {
                if (cancelled) {
                    throw cancellation();
                }
                out = step();
            }
            if (finish != null) {
                out = out + flushHeld();
                timings = new Timings(promptTokens - reused, promptNanos / 1e9, generated,
                        (System.nanoTime() - genStart) / 1e9, reused);
            } else {
                end = false;
            }
            ok = true;
            return chunk(out, finish);
        } finally {
            failed |= !ok;
            release(end);
        }
    }

    /**
     * Generates one token; returns the text that is now safe to emit. The token is evaluated (its logits, for the
     * next one) at the start of the next call, so that its text goes out first: with batching, a step later.
     */
    private String step() {
        if (unevaluated >= 0) {
            int t = unevaluated;
            unevaluated = -1;
            if (greedyArgmax) {
                nextToken = session.forwardArgmax(t); // on the GPU when the output layer is there
            } else {
                logits = session.forward(t);
            }
            if (reuse) {
                if (historyLength == history.length) {
                    history = java.util.Arrays.copyOf(history, Math.max(16, 2 * historyLength));
                }
                history[historyLength++] = t;
            }
        }
        if (generated >= params.maxTokens() || session.position() >= llama.contextLength()) {
            finish = "length";
            return "";
        }
        int token = nextToken >= 0 ? nextToken : sampler.sample(logits);
        sampler.acceptSampled(token);
        generated++;
        llama.generatedTokens.increment();
        if (llama.tokenizer().isEog(token)) {
            finish = "stop";
            return "";
        }
        if (logprobs != null) {
            logprobs.add(TokenLogprob.of(logits, token, params.logprobs(), llama.tokenizer()));
        }
        held.append(decoder.next(token));
        // a stop string ends the completion; text that may begin one is held back
        int cut = -1;
        for (String s : params.stop()) {
            int i = held.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        String emit;
        if (cut >= 0) {
            emit = held.substring(0, cut);
            held.setLength(0);
            finish = "stop";
            stopMatched = true;
            if (logprobs != null) { // the token that completed the stop string: its text is not output
                logprobs.removeLast();
            }
        } else {
            int keep = 0;
            for (String s : params.stop()) {
                for (int k = Math.min(s.length() - 1, held.length()); k > keep; k--) {
                    if (held.substring(held.length() - k).equals(s.substring(0, k))) {
                        keep = k;
                        break;
                    }
                }
            }
            emit = held.substring(0, held.length() - keep);
            held.delete(0, held.length() - keep);
        }
        text.append(emit);
        if (finish == null && session.position() < llama.contextLength()) {
            unevaluated = token;
        }
        return emit;
    }

    private String flushHeld() {
        String rest = stopMatched ? "" : held.toString() + decoder.finish();
        held.setLength(0);
        text.append(rest);
        return rest;
    }

    private Completion chunk(String s, String reason) {
        List<TokenLogprob> lp = null;
        if (logprobs != null) {
            lp = List.copyOf(logprobs.subList(logprobsSent, logprobs.size()));
            logprobsSent = logprobs.size();
        }
        return new Completion(id, "text_completion", created, llama.name(),
                List.of(new Completion.Choice(s, 0, reason, lp)),
                reason == null ? null : new Completion.Usage(promptTokens, generated, promptTokens + generated),
                reason == null ? null : timings);
    }

    Completion result() {
        return new Completion(id, "text_completion", created, llama.name(),
                List.of(new Completion.Choice(text.toString(), 0, finish, logprobs)),
                new Completion.Usage(promptTokens, generated, promptTokens + generated), timings);
    }

    @Override
    public void close() {
        synchronized (llama.lock) {
            closeAsked = true;
            if (!busy) {
                endLocked();
            }
        }
    }
}
