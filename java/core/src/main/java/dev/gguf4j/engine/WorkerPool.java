package dev.gguf4j.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads, started once per session, that split index ranges: no thread creation and no
 * allocation per call.
 *
 * <p>A call cuts its range into chunks (about four per thread) and publishes them through one ticket, a long
 * holding the call's number (high 32 bits) and the next unclaimed index (low 32 bits). The calling thread and
 * the workers claim chunks by compare-and-set on the ticket; a claim carries the call's number, so a worker that
 * wakes late, after the call has moved on, cannot take work of another call. The caller returns when every index
 * is done, whoever did it: it never waits for a worker that has not started (one the OS has descheduled because
 * another process has its core) but only for chunks already claimed. Workers spin briefly for the next call (a
 * token's matrix products follow each other within microseconds) for at most 50 µs and then park, so an idle or contended machine
 * is not burned by spinning.
 */
final class WorkerPool implements AutoCloseable {
    /** Work on indices [from, to). */
    interface RangeTask {
        void run(int from, int to);
    }

    /**
     * How long a worker (waiting for the next call) or the caller (waiting for claimed chunks) spins before it
     * parks. A time, not an iteration count: 20,000 iterations took 20-50 µs compiled but milliseconds in a cold
     * JVM's interpreter, where a spinning worker took the core the JIT compiler needed (docs/benchmarks.md, "Cold
     * start"). The clock is read every {@link #SPIN_CHECK} iterations.
     */
    private static final long SPIN_NANOS = 50_000;
    private static final int SPIN_CHECK = 64;

    private final int threads;
    private final Thread[] workers;
    /**
     * (call number << 32) | next unclaimed index of the current call; closed (index Integer.MAX_VALUE) when the
     * call is over, before the next call's fields change, so a late claim against the old call always fails.
     */
    private final AtomicLong ticket = new AtomicLong();
    /** Indices of the current call done so far. */
    private final AtomicInteger done = new AtomicInteger();
    private int call;               // the caller's call counter (the ticket's high half)
    private volatile RangeTask task;
    private volatile int n;
    private volatile int chunk;
    private volatile Throwable failure;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile boolean callerParked;

    WorkerPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(this::loop, "gguf4j-worker-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    private void loop() {
        int seen = 0;
        while (true) {
            long t0 = System.nanoTime();
            int spins = 0;
            boolean spinning = true;
            long t;
            while ((int) ((t = ticket.get()) >>> 32) == seen && !closed) {
                if (spinning && keepSpinning(++spins, t0)) {
                    Thread.onSpinWait();
                } else {
                    spinning = false;
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = (int) (t >>> 32);
            drain(seen);
        }
    }

    /**
     * Claims and runs chunks of call {@code c} until none is left (or the call is over); counts what it did and
     * wakes the caller when that completes the call.
     */
    private void drain(int c) {
        while (true) {
            long t = ticket.get();
            int from = (int) t;
            if ((int) (t >>> 32) != c) {
                return;
            }
            // the fields of call c are read after a successful claim: the caller wrote them before publishing c,
            // and does not move on while a claimed chunk is undone
            int count = n;
            if (from >= count) {
                return;
            }
            int size = chunk;
            int to = Math.min(count, from + size);
            if (!ticket.compareAndSet(t, ((long) c << 32) | to)) {
                continue;
            }
            try {
                task.run(from, to);
            } catch (Throwable e) {
                failure = e;
            }
            if (done.addAndGet(to - from) == count && callerParked) {
                LockSupport.unpark(caller);
            }
        }
    }

    /**
     * Whether a wait that started at {@code t0} goes on spinning at its {@code spins}-th step (the clock is read
     * every {@link #SPIN_CHECK} steps).
     */
    private static boolean keepSpinning(int spins, long t0) {
        return spins % SPIN_CHECK != 0 || System.nanoTime() - t0 < SPIN_NANOS;
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
        int c = ++call;
        task = t;
        n = count;
        chunk = size;
        failure = null;
        caller = Thread.currentThread();
        callerParked = false;
        done.set(0);
        ticket.set((long) c << 32); // publishes the call: index 0 of call c is the next to claim
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        drain(c);
        long t0 = System.nanoTime();
        int spins = 0;
        boolean spinning = true;
        while (done.get() != count) {
            if (spinning && keepSpinning(++spins, t0)) {
                Thread.onSpinWait();
            } else {
                spinning = false;
                callerParked = true;
                if (done.get() != count) {
                    LockSupport.parkNanos(this, 100_000);
                }
            }
        }
        ticket.set(((long) c << 32) | Integer.MAX_VALUE); // closed: nothing of call c is left to claim
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
