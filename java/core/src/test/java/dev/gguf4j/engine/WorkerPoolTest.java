package dev.gguf4j.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The worker pool: every index of every call done exactly once, chunks aligned, failures passed to the caller. */
class WorkerPoolTest {

    @Test
    void everyIndexOnceAcrossManyCallsEvenWithStallingThreads() {
        SplittableRandom rnd = new SplittableRandom(7);
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int call = 0; call < 20_000; call++) {
                int count = 1 + rnd.nextInt(call % 50 == 0 ? 5000 : 300);
                int grain = call % 3 == 0 ? 16 : 1;
                AtomicIntegerArray hits = new AtomicIntegerArray(count);
                boolean stall = call % 97 == 0; // a thread that loses its core for a while mid-call
                pool.forRange(count, grain, (from, to) -> {
                    assertTrue(from < to && to <= count, from + ".." + to);
                    if (from % grain != 0) {
                        throw new AssertionError("chunk start " + from + " not a multiple of " + grain);
                    }
                    if (stall && from == 0) {
                        LockSupport.parkNanos(200_000);
                    }
                    for (int i = from; i < to; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < count; i++) {
                    assertEquals(1, hits.get(i), "call " + call + " index " + i + " of " + count);
                }
            }
        }
    }

    @Test
    void aFailureInAnyChunkReachesTheCallerAndThePoolGoesOn() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.forRange(1000, (from, to) -> {
                if (from <= 500 && 500 < to) {
                    throw boom;
                }
            }));
            assertSame(boom, e);
            AtomicIntegerArray hits = new AtomicIntegerArray(1000);
            pool.forRange(1000, (from, to) -> {
                for (int i = from; i < to; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 1000; i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }
}
