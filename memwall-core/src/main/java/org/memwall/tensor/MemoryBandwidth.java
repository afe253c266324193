package org.memwall.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures the machine's memory read bandwidth the way decode uses it: every thread of the compute
 * pool streams its share of a buffer much larger than the caches with wide vector loads. The best
 * of several passes is reported, as in STREAM.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;

    private MemoryBandwidth() {
    }

    /** Bytes per second read by {@code pool}'s threads over a buffer of {@code bytes}, best of {@code passes}. */
    public static double measure(Parallel pool, long bytes, int passes) {
        long size = bytes / (S.vectorByteSize() * 4L * pool.threads()) * (S.vectorByteSize() * 4L * pool.threads());
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(size, 64);
            buf.fill((byte) 1);
            long[] sinks = new long[pool.threads()];
            double best = 0;
            for (int p = 0; p < passes; p++) {
                long t0 = System.nanoTime();
                int chunks = pool.threads();
                pool.forRange(chunks, (from, to, thread) -> {
                    for (int c = from; c < to; c++) {
                        sinks[thread] += sum(buf, size / chunks * c, size / chunks);
                    }
                });
                long t1 = System.nanoTime();
                best = Math.max(best, size * 1e9 / (t1 - t0));
            }
            if (sinks[0] == 42) {
                System.err.print(""); // keeps the sums observable so the loads cannot be elided
            }
            return best;
        }
    }

    private static long sum(MemorySegment seg, long offset, long length) {
        int step = S.vectorByteSize();
        LongVector a = LongVector.zero(S);
        LongVector b = LongVector.zero(S);
        LongVector c = LongVector.zero(S);
        LongVector d = LongVector.zero(S);
        for (long i = offset, end = offset + length; i < end; i += 4L * step) {
            a = a.add(LongVector.fromMemorySegment(S, seg, i, ByteOrder.LITTLE_ENDIAN));
            b = b.add(LongVector.fromMemorySegment(S, seg, i + step, ByteOrder.LITTLE_ENDIAN));
            c = c.add(LongVector.fromMemorySegment(S, seg, i + 2L * step, ByteOrder.LITTLE_ENDIAN));
            d = d.add(LongVector.fromMemorySegment(S, seg, i + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
    }
}
