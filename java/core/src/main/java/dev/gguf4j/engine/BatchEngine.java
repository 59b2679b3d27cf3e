package dev.gguf4j.engine;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.backend.Backend;
import dev.gguf4j.llama.LlamaConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Continuous batching on the CPU: up to {@code sequences} sequences (slots), each with its own KV cache of the full
 * context, whose pending tokens are evaluated together in one forward pass per step by one thread over one
 * {@link WorkerPool}: the weight matmuls over all the step's rows at once, attention per sequence over its own
 * cache ({@link CpuOps#beginSegments}).
 *
 * <p>Each slot is a {@link Sequence} driven by its own thread (a request's): {@link Slot#forward} hands the token
 * to the engine and blocks until the step that evaluates it is done. A step takes every waiting single token (a
 * generation step) and at most {@code stepTokens} prompt tokens (a long prompt goes in chunks over several steps,
 * so the sequences that are generating keep getting a token per step). Before a step the engine waits for the
 * slots it served last step to hand in their next token, up to half a step's time, so that they share the step;
 * a slot that comes later joins the next one. Sequences join and leave between steps.
 *
 * <p>Determinism: a row's result does not depend on the other rows of its step (each output element of a matrix
 * product is one row's dot product in the kernel's fixed order, attention is per sequence, the element-wise ops
 * per row), and prompt chunks give exactly the per-token results ({@code BatchForwardTest}); so a sequence's
 * logits are bit-identical to those of a {@link LlamaSession} with the same thread count evaluating the same
 * tokens alone, whatever else is in the batch and however its prompt was cut ({@code BatchEngineTest}).
 */
public final class BatchEngine implements AutoCloseable {
    /** Prompt tokens per step, all sequences together. */
    public static final int DEFAULT_STEP_TOKENS = 128;
    private static final long MIN_GATHER_NANOS = 1_000_000L;
    private static final long MAX_GATHER_NANOS = 50_000_000L;

    private final LlamaModel model;
    private final LlamaConfig c;
    private final Architecture arch;
    private final CpuOps ops;
    private final int contextLength;
    private final int stepTokens;
    private final Slot[] slots;
    private final Object lock = new Object();
    private final ArrayDeque<Slot> free = new ArrayDeque<>();
    private final List<Slot> pending = new ArrayList<>(); // slots with tokens to evaluate, in arrival order
    private final Thread thread;
    private boolean closed;
    private long lastStepNanos;
    private long nextFileCheck = System.nanoTime();
    // the step being planned / run (the engine thread's, planned under the lock)
    private int[] tokens;
    private final int[] segSlot;
    private final int[] segPos;
    private final int[] segLen;
    private final Slot[] stepSlots;
    private final int[] headRows;
    private final float[][] headOut;
    private long steps;
    private long rows;

    public BatchEngine(LlamaModel model, Backend backend, int threads, int contextLength, LlamaSession.KvType kvType,
            int sequences, int stepTokens) {
        if (sequences < 1 || stepTokens < 1) {
            throw new IllegalArgumentException("sequences and stepTokens must be >= 1: " + sequences + ", "
                    + stepTokens);
        }
        this.model = model;
        this.c = model.config();
        this.arch = model.architecture();
        this.contextLength = contextLength;
        this.stepTokens = stepTokens;
        this.ops = new CpuOps(model, backend, threads, contextLength, kvType, c.layers(), sequences);
        this.slots = new Slot[sequences];
        for (int i = 0; i < sequences; i++) {
            slots[i] = new Slot(i);
            free.add(slots[i]);
        }
        tokens = new int[sequences + stepTokens];
        segSlot = new int[sequences];
        segPos = new int[sequences];
        segLen = new int[sequences];
        stepSlots = new Slot[sequences];
        headRows = new int[sequences];
        headOut = new float[sequences][];
        thread = Thread.ofPlatform().daemon().name("gguf4j-batch").unstarted(this::loop);
        thread.start();
    }

    int sequences() {
        return slots.length;
    }

    /** A free slot (its cache empty), or null when every slot is taken. */
    public Slot acquire() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            Slot s = free.poll();
            if (s != null) {
                s.released = false;
                s.position = 0;
            }
            return s;
        }
    }

    /**
     * Copies the first {@code n} positions of {@code from}'s cache into {@code to}'s (a shared prefix: a system
     * prompt), which then continues from position {@code n}. Neither may be in a step (their threads are here).
     */
    public void copyPrefix(Slot from, Slot to, int n) {
        synchronized (lock) {
            if (n > from.position || to.queued || from.queued) {
                throw new IllegalStateException("cannot copy " + n + " positions from a cache of " + from.position);
            }
            ops.copyCache(from.index, to.index, n);
            to.position = n;
        }
    }

    /** Slots (sequences) this engine holds, each with a KV cache of its context length. */
    public int slotCount() {
        return slots.length;
    }

    /** Slots taken (generating or kept for a later request's prefix). */
    public int slotsInUse() {
        synchronized (lock) {
            return slots.length - free.size();
        }
    }

    /** Steps run and rows evaluated so far (tests, metrics). */
    public long[] counters() {
        synchronized (lock) {
            return new long[] {steps, rows};
        }
    }

    private void loop() {
        while (true) {
            int count;
            synchronized (lock) {
                while (!closed && pending.isEmpty()) {
                    waitLock(0);
                }
                if (pending.isEmpty()) {
                    return; // closed
                }
                gather();
                count = plan();
            }
            Throwable failure = null;
            long t0 = System.nanoTime();
            try {
                run(count);
            } catch (RuntimeException | Error e) {
                failure = e;
            }
            synchronized (lock) {
                lastStepNanos = System.nanoTime() - t0;
                deliver(count, failure);
                lock.notifyAll();
            }
        }
    }

    private void waitLock(long nanos) {
        try {
            if (nanos <= 0) {
                lock.wait();
            } else {
                lock.wait(nanos / 1_000_000, (int) (nanos % 1_000_000));
            }
        } catch (InterruptedException e) {
            // the engine thread is only stopped by close()
        }
    }

    /** Waits (under the lock) for the slots served last step to hand in their next tokens, up to half a step. */
    private void gather() {
        long deadline = System.nanoTime() + Math.clamp(lastStepNanos / 2, MIN_GATHER_NANOS, MAX_GATHER_NANOS);
        while (!closed && awaited()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            waitLock(left);
        }
    }

    private boolean awaited() {
        for (Slot s : slots) {
            if (s.expected && !s.queued) {
                return true;
            }
        }
        return false;
    }

    /** Picks the step's segments (under the lock): every single token, then prompt chunks up to stepTokens. */
    private int plan() {
        int count = 0;
        int total = 0;
        for (Slot s : pending) {
            if (s.tokens.length - s.done == 1) {
                count = add(count, s, 1, total);
                total += 1;
            }
        }
        int budget = stepTokens;
        for (Slot s : pending) {
            int left = s.tokens.length - s.done;
            if (left > 1 && budget > 0) {
                int len = Math.min(left, budget);
                count = add(count, s, len, total);
                total += len;
                budget -= len;
            }
        }
        return count;
    }

    private int add(int count, Slot s, int len, int at) {
        stepSlots[count] = s;
        segSlot[count] = s.index;
        segPos[count] = s.position;
        segLen[count] = len;
        System.arraycopy(s.tokens, s.done, tokens, at, len);
        return count + 1;
    }

    /** One batched forward pass over the planned segments (the engine thread, not under the lock). */
    private void run(int count) {
        long now = System.nanoTime();
        if (now - nextFileCheck >= 0) {
            model.checkMappedFile();
            nextFileCheck = now + LlamaModel.FILE_CHECK_NANOS;
        }
        ops.beginSegments(count, segSlot, segPos, segLen);
        int total = 0;
        for (int i = 0; i < count; i++) {
            total += segLen[i];
        }
        ops.embed(tokens, total);
        arch.embedded(ops);
        for (int l = 0; l < c.layers(); l++) {
            arch.block(ops, l);
        }
        int heads = 0;
        int row = 0;
        for (int i = 0; i < count; i++) {
            Slot s = stepSlots[i];
            row += segLen[i];
            if (s.done + segLen[i] == s.tokens.length) { // the request's last token: its logits
                headRows[heads] = row - 1;
                headOut[heads] = s.logits;
                heads++;
            }
        }
        if (heads > 0) {
            ops.head(headRows, heads, headOut);
        }
        steps++;
        rows += total;
    }

    /** Advances the step's slots and wakes those whose request is done (under the lock). */
    private void deliver(int count, Throwable failure) {
        for (int i = 0; i < count; i++) {
            Slot s = stepSlots[i];
            stepSlots[i] = null;
            if (failure != null) {
                s.error = failure;
                s.finish();
                continue;
            }
            s.position += segLen[i];
            s.done += segLen[i];
            if (s.done == s.tokens.length) {
                s.expected = true; // its thread will most likely hand in the next token soon
                s.finish();
            }
        }
        java.util.Arrays.fill(headOut, null);
    }

    /** Stops the engine thread (waiting for a step in progress) and frees the caches. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        ops.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** One sequence of the engine: its KV cache is slot {@link #index} of the engine's caches. */
    public final class Slot implements Sequence {
        final int index;
        private final float[] logits;
        private final int[] one = new int[1];
        // guarded by the engine's lock
        private int position;
        private int[] tokens;   // the request in progress
        private int done;       // its tokens evaluated so far
        private boolean queued; // in pending
        private boolean finished;
        private Throwable error;
        private boolean expected; // served last step and not idle: the engine waits a little for its next token
        private boolean released = true;

        Slot(int index) {
            this.index = index;
            this.logits = new float[c.vocab()];
        }

        @Override
        public int position() {
            synchronized (lock) {
                return position;
            }
        }

        @Override
        public void rewind(int pos) {
            synchronized (lock) {
                if (pos < 0 || pos > position) {
                    throw new IllegalArgumentException("cannot rewind to " + pos + " from " + position);
                }
                position = pos;
            }
        }

        @Override
        public float[] forward(int token) {
            one[0] = token;
            submit(one);
            return logits;
        }

        @Override
        public int forwardArgmax(int token) {
            return LlamaSession.argmax(forward(token));
        }

        @Override
        public float[] forwardLast(int[] t) {
            if (t.length == 0) {
                throw new IllegalArgumentException("no tokens");
            }
            submit(t);
            return logits;
        }

        private void submit(int[] t) {
            for (int token : t) {
                if (token < 0 || token >= c.vocab()) {
                    throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, "
                            + c.vocab() + ")");
                }
            }
            boolean interrupted = false;
            Throwable e;
            synchronized (lock) {
                if (closed || released) {
                    throw new IllegalStateException("closed");
                }
                if (position + t.length > contextLength) {
                    throw new Gguf4jException("context is full: " + (position + t.length) + " tokens do not fit "
                            + contextLength + " (use a larger context length)");
                }
                tokens = t;
                done = 0;
                finished = false;
                error = null;
                expected = false;
                queued = true;
                pending.add(this);
                lock.notifyAll();
                while (!finished) {
                    try {
                        lock.wait();
                    } catch (InterruptedException ie) {
                        interrupted = true; // the engine may be writing this slot's cache: wait for the step
                    }
                }
                tokens = null;
                e = error;
                error = null;
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            if (e instanceof Error err) {
                throw err;
            }
        }

        /** Under the lock: the request is over (done or failed). */
        private void finish() {
            finished = true;
            queued = false;
            pending.remove(this);
        }

        @Override
        public void idle() {
            synchronized (lock) {
                expected = false;
                lock.notifyAll();
            }
        }

        /** Gives the slot back to the engine (its cache forgotten). */
        @Override
        public void close() {
            synchronized (lock) {
                if (released) {
                    return;
                }
                released = true;
                expected = false;
                position = 0;
                free.add(this);
                lock.notifyAll();
            }
        }
    }
}
