package org.memwall.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    /** How many times each item was run; checks that every call saw a non-empty range inside [0, n), of at most grain items for forChunks. */
    private static int[] coverage(Parallel pool, int n, int grain, boolean chunks) {
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        Parallel.RangeTask body = (from, to, thread) -> {
            assertTrue(0 <= from && from < to && to <= n, "range [" + from + ", " + to + ") of " + n);
            assertTrue(0 <= thread && thread < pool.threads(), "thread " + thread);
            if (chunks) {
                assertTrue(to - from <= grain, "piece of " + (to - from) + " > grain " + grain);
            }
            for (int i = from; i < to; i++) {
                seen.incrementAndGet(i);
            }
        };
        if (chunks) {
            pool.forChunks(n, grain, body);
        } else {
            pool.forRange(n, body);
        }
        int[] counts = new int[n];
        for (int i = 0; i < n; i++) {
            counts[i] = seen.get(i);
        }
        return counts;
    }

    private static int[] ones(int n) {
        int[] a = new int[n];
        Arrays.fill(a, 1);
        return a;
    }

    @Test
    void everyItemRunsExactlyOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallel pool = new Parallel(threads)) {
                for (int n : new int[] {0, 1, 2, 7, 16, 17, 100, 1000, 4099}) {
                    assertArrayEquals(ones(n), coverage(pool, n, 1, false), "forRange n=" + n + " threads=" + threads);
                    for (int grain : new int[] {1, 3, 16, 5000}) {
                        for (int repeat = 0; repeat < 3; repeat++) { // the claim counter must restart every call
                            assertArrayEquals(ones(n), coverage(pool, n, grain, true),
                                    "forChunks n=" + n + " grain=" + grain + " threads=" + threads);
                        }
                    }
                }
            }
        }
    }

    @Test
    void slowThreadHandsPiecesToTheOther() {
        try (Parallel pool = new Parallel(2)) {
            AtomicIntegerArray byThread = new AtomicIntegerArray(2);
            pool.forChunks(64, 1, (from, to, thread) -> {
                if (thread == 0) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                byThread.addAndGet(thread, to - from);
            });
            assertEquals(64, byThread.get(0) + byThread.get(1));
            assertTrue(byThread.get(1) > byThread.get(0), "the fast thread took " + byThread.get(1) + " of 64 pieces");
        }
    }

    @Test
    void failuresReachTheCaller() {
        try (Parallel pool = new Parallel(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pool.forChunks(100, 10, (from, to, thread) -> {
                        if (from <= 55 && 55 < to) {
                            throw new IllegalStateException("item 55");
                        }
                    }));
            assertEquals("item 55", e.getMessage());
            assertArrayEquals(ones(10), coverage(pool, 10, 2, true), "the pool still works after a failure");
            assertThrows(IllegalArgumentException.class, () -> pool.forChunks(10, 0, (from, to, thread) -> { }));
        }
    }
}
