package dev.gguf4j.llama;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads, started once per session, that split index ranges: no thread creation and no
 * allocation per call. A call publishes the task by bumping a generation counter; workers spin briefly on it
 * (a token's matrix products follow each other within microseconds) and then park, so an idle or contended
 * machine is not burned by spinning. The calling thread takes slice 0 itself.
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
    private volatile int slices;
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
            int s = slices;
            if (slice < s) {
                try {
                    task.run((int) ((long) n * slice / s), (int) ((long) n * (slice + 1) / s));
                } catch (Throwable t) {
                    failure = t;
                }
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** Runs {@code t} over [0, count) in up to {@code threads} slices and waits for all of them. */
    void forRange(int count, RangeTask t) {
        int s = Math.min(threads, Math.max(1, count / 16));
        if (s <= 1 || workers.length == 0) {
            t.run(0, count);
            return;
        }
        task = t;
        n = count;
        slices = s;
        failure = null;
        caller = Thread.currentThread();
        pending.set(workers.length);
        generation.incrementAndGet();
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        t.run(0, (int) ((long) count / s));
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
