package dev.gguf4j.llama;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads, started once per session, that split index ranges: no thread creation and no
 * allocation per call. A call publishes the task by bumping a generation counter; workers spin briefly on it
 * (a token's matrix products follow each other within microseconds) and then park, so an idle or contended
 * machine is not burned by spinning. The range is cut into chunks (about four per thread) that the calling thread
 * and the workers take in turn from a shared counter, so a thread that the OS deschedules (another process on
 * the core) holds up at most one chunk instead of a fixed share of the work.
 */
final class WorkerPool implements AutoCloseable {
    /** Work on indices [from, to). */
    interface RangeTask {
        void run(int from, int to);
    }

    /** Spin iterations before a worker parks (about 20-50 µs). */
    private static final int SPINS = 20_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger generation = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile RangeTask task;
    private volatile int n;
    private volatile int chunk;
    private final AtomicInteger next = new AtomicInteger();
    private volatile Throwable failure;
    private volatile boolean closed;
    private volatile Thread caller;

    WorkerPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int slice = i + 1;
            workers[i] = new Thread(() -> loop(slice), "gguf4j-worker-" + slice);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    private void loop(int slice) {
        int seen = 0;
        while (true) {
            int spins = 0;
            int g;
            while ((g = generation.get()) == seen && !closed) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = g;
            try {
                drain(task, n, chunk);
            } catch (Throwable t) {
                failure = t;
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** Takes chunks of [0, count) from the shared counter until none is left. */
    private void drain(RangeTask t, int count, int size) {
        int from;
        while ((from = next.getAndAdd(size)) < count) {
            t.run(from, Math.min(count, from + size));
        }
    }

    /** Runs {@code t} over [0, count) in chunks of at least 1 index, and waits for all of them. */
    void forRange(int count, RangeTask t) {
        forRange(count, 1, t);
    }

    /**
     * Runs {@code t} over [0, count) on every thread, in chunks whose starts are multiples of {@code grain} (kernels
     * that work on blocks of rows get whole blocks), and waits for all of them. Less than 16 indices per thread run
     * on the calling thread alone.
     */
    void forRange(int count, int grain, RangeTask t) {
        if (workers.length == 0 || count < 16 * threads) {
            t.run(0, count);
            return;
        }
        int size = Math.max(1, count / (4 * threads));
        size = Math.max(grain, (size + grain - 1) / grain * grain);
        task = t;
        n = count;
        chunk = size;
        next.set(0);
        failure = null;
        caller = Thread.currentThread();
        pending.set(workers.length);
        generation.incrementAndGet();
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        try {
            drain(t, count, size);
        } catch (Throwable e) {
            failure = e;
        }
        int spins = 0;
        while (pending.get() != 0) {
            if (++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
        Throwable f = failure;
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
