package dev.gguf4j.llama;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fixed set of worker threads, started once per session, that split index ranges: no thread creation per
 * call. The calling thread takes the first slice itself.
 */
final class WorkerPool implements AutoCloseable {
    /** Work on indices [from, to). */
    interface RangeTask {
        void run(int from, int to);
    }

    private final int threads;
    private final Thread[] workers;
    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    WorkerPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(this::loop, "gguf4j-worker-" + i);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    private void loop() {
        while (!closed) {
            try {
                queue.take().run();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Runs task over [0, n) in {@code threads} slices and waits for all of them. */
    void forRange(int n, RangeTask task) {
        int slices = Math.min(threads, Math.max(1, n / 16));
        if (slices <= 1) {
            task.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(slices - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int s = 1; s < slices; s++) {
            int from = (int) ((long) n * s / slices);
            int to = (int) ((long) n * (s + 1) / slices);
            queue.add(() -> {
                try {
                    task.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        task.run(0, n / slices);
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            w.interrupt();
        }
    }
}
