package org.memwall.cuda;

import org.memwall.MemwallException;
import org.memwall.model.KvCache;

/**
 * One sequence's keys and values in device memory: two arrays {@code [position][layer][width]} of
 * float16 (or float32), grown by doubling (from {@link #FIRST} positions) as the sequence grows, so a
 * short request to a long-context model holds only what it uses. Growing copies the filled part on
 * the device; the kernels see the current base addresses through each step's inputs.
 */
final class CudaKvCache implements KvCache {
    static final int FIRST = 256;

    private final CudaForward owner;
    private final int capacity;
    private final long keyRowBytes;
    private final long valueRowBytes;
    private long keys;
    private long values;
    private int allocated;
    private boolean closed;

    CudaKvCache(CudaForward owner, int capacity, long keyRowBytes, long valueRowBytes) {
        this.owner = owner;
        this.capacity = capacity;
        this.keyRowBytes = keyRowBytes;
        this.valueRowBytes = valueRowBytes;
    }

    CudaForward owner() {
        return owner;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void reserve(int position) {
        if (closed) {
            throw new IllegalStateException("KV cache used after close");
        }
        if (position < 0 || position >= capacity) {
            throw new MemwallException("position " + position + " is outside the context of " + capacity + " tokens");
        }
        if (position < allocated) {
            return;
        }
        int grown = Math.max(FIRST, allocated);
        while (grown <= position) {
            grown = (int) Math.min((long) grown * 2, Integer.MAX_VALUE);
        }
        grown = Math.min(grown, capacity);
        long[] moved = owner.growCache(keys, values, (long) allocated * keyRowBytes, (long) allocated * valueRowBytes,
                grown * keyRowBytes, grown * valueRowBytes);
        keys = moved[0];
        values = moved[1];
        allocated = grown;
    }

    @Override
    public int copyPrefix(KvCache from, int positions) {
        if (!(from instanceof CudaKvCache src) || src.owner != owner || src.keyRowBytes != keyRowBytes || src.valueRowBytes != valueRowBytes) {
            throw new IllegalArgumentException("a KV cache of another shape or forward pass");
        }
        if (positions <= 0) {
            return 0;
        }
        if (positions > src.allocated) {
            throw new IllegalArgumentException("the source holds fewer than " + positions + " positions");
        }
        reserve(positions - 1);
        // Rows are [position][layer][width]: a prefix of positions is one contiguous range of each array.
        owner.copyCache(keys, src.keys, positions * keyRowBytes, values, src.values, positions * valueRowBytes);
        return positions;
    }

    /** Device address of the keys of position 0, layer 0. */
    long keys() {
        return keys;
    }

    long values() {
        return values;
    }

    @Override
    public long allocatedBytes() {
        return allocated * (keyRowBytes + valueRowBytes);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.releaseCache(keys, values);
            keys = values = 0;
            allocated = 0;
        }
    }
}
