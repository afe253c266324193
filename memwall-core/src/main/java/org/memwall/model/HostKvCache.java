package org.memwall.model;

import org.memwall.MemwallException;

/**
 * The CPU's cache: the keys and values of one sequence, in float32 on the Java heap, for every
 * layer. Storage grows in blocks of {@link #BLOCK} positions as the sequence grows, so a short
 * conversation with a 128K-context model holds only what it uses; the blocks go with the cache when
 * the sequence ends.
 */
public final class HostKvCache implements KvCache {
    public static final int BLOCK = 256;
    private static final int SHIFT = 8;

    private final int keyDim;
    private final int valueDim;
    private final int capacity;
    private final float[][][] keys;
    private final float[][][] values;
    private int blocks;

    /** A cache for {@code capacity} positions of a model with these per-token key and value widths. */
    public HostKvCache(int layers, int keyDim, int valueDim, int capacity) {
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.capacity = capacity;
        int maxBlocks = (capacity + BLOCK - 1) / BLOCK;
        this.keys = new float[layers][maxBlocks][];
        this.values = new float[layers][maxBlocks][];
    }

    /** Bytes per position: float32 keys and values of every layer. */
    static long bytesPerPosition(ModelConfig c) {
        return (long) c.blockCount() * (c.keyDim() + c.kvValueDim()) * Float.BYTES;
    }

    public static HostKvCache forModel(ModelConfig c, int capacity) {
        return new HostKvCache(c.blockCount(), c.keyDim(), c.kvValueDim(), capacity);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void reserve(int position) {
        if (position < 0 || position >= capacity) {
            throw new MemwallException("position " + position + " is outside the context of " + capacity + " tokens");
        }
        int need = (position >> SHIFT) + 1;
        for (; blocks < need; blocks++) {
            int rows = blockRows(blocks);
            for (int l = 0; l < keys.length; l++) {
                keys[l][blocks] = new float[rows * keyDim];
                values[l][blocks] = new float[rows * valueDim];
            }
        }
    }

    @Override
    public void copyPrefix(KvCache from, int positions) {
        if (!(from instanceof HostKvCache src) || src.keyDim != keyDim || src.valueDim != valueDim || src.keys.length != keys.length) {
            throw new IllegalArgumentException("a KV cache of another shape or device");
        }
        if (positions <= 0) {
            return;
        }
        if (((positions - 1) >> SHIFT) >= src.blocks) {
            throw new IllegalArgumentException("the source holds fewer than " + positions + " positions");
        }
        reserve(positions - 1);
        for (int b = 0; b * BLOCK < positions; b++) {
            int rows = Math.min(BLOCK, positions - b * BLOCK);
            for (int l = 0; l < keys.length; l++) {
                System.arraycopy(src.keys[l][b], 0, keys[l][b], 0, rows * keyDim);
                System.arraycopy(src.values[l][b], 0, values[l][b], 0, rows * valueDim);
            }
        }
    }

    /** Positions block {@code b} holds: BLOCK, or what is left of the capacity for the last one (so a cache never exceeds its capacity). */
    private int blockRows(int b) {
        return Math.min(BLOCK, capacity - b * BLOCK);
    }

    @Override
    public long allocatedBytes() {
        long rows = 0;
        for (int b = 0; b < blocks; b++) {
            rows += blockRows(b);
        }
        return rows * (keyDim + valueDim) * 4L * keys.length;
    }

    float[] keyBlock(int layer, int position) {
        return keys[layer][position >> SHIFT];
    }

    float[] valueBlock(int layer, int position) {
        return values[layer][position >> SHIFT];
    }

    int keyOffset(int position) {
        return (position & (BLOCK - 1)) * keyDim;
    }

    int valueOffset(int position) {
        return (position & (BLOCK - 1)) * valueDim;
    }
}
