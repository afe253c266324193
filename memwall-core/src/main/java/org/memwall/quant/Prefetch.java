package org.memwall.quant;

import java.lang.foreign.MemorySegment;

/**
 * Reading ahead for the one-token (decode) kernels, which stream every weight once from memory.
 *
 * <p>Java has no prefetch instruction, and a core left to its hardware prefetcher waits for memory
 * at every 4 KiB page it enters while its kernel converts and multiplies: measured on 2 AVX-512
 * cores, the Q4_K kernel streamed 5–6 GB/s from memory against 10–11 from cache. A plain one-byte
 * load {@link #AHEAD} bytes further on starts the miss early, and the lines are in cache when the
 * kernel gets there: 8–9 GB/s. Each kernel touches about one byte per cache line it reads and hands
 * the sum of the touched bytes to {@link #keep}, so the JIT cannot drop the loads as unused.
 */
final class Prefetch {
    /** How far ahead to touch, in bytes: one page; measured best among 1–128 KiB with two threads. */
    static final long AHEAD = 4096;

    /** Written (practically never) so the touched bytes count as used. */
    @SuppressWarnings("unused")
    private static int sink;

    private Prefetch() {
    }

    /** The byte {@link #AHEAD} bytes past {@code offset}, or the segment's last byte near its end. */
    static int touch(MemorySegment w, long offset) {
        return w.get(Blocks.U8, Math.min(offset + AHEAD, w.byteSize() - 1));
    }

    /** Keeps a kernel's touches alive: a compare and a branch per row. */
    static void keep(int touched) {
        if (touched == Integer.MIN_VALUE) {
            sink = touched;
        }
    }
}
