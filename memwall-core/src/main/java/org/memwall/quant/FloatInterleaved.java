package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * An interleaved format multiplied in floats, block-scaled: per block of {@link #BLOCK} weights, its quants exactly
 * as floats times the activations, {@code sum = fma(q[k], x[k], sum)} for k in order from sum = 0, then
 * {@code acc = fma(sum, d, acc)}, blocks in order from acc = 0 ({@link Interleaved#referenceDot} writes it out).
 * Each block's scale is applied once, and a one-token product keeps several blocks' sums in flight while reading
 * its row group in address order.
 */
abstract sealed class FloatInterleaved extends Interleaved permits InterleavedQ8_0 {
    static final int BLOCK = 32;
    /**
     * Whether prefill takes six tokens at a time (twelve block sums): with 512-bit vectors, where the machine has
     * 32 vector registers. With 16 (AVX2) twelve accumulators spilled: Q8_0's 64-token product measured 38.6–40 ms
     * against 21.8 ms for four tokens at a time (-XX:UseAVX=2 on this machine).
     */
    private static final boolean SIX_TOKENS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    /** Decoded weights of the groups being multiplied, per thread. */
    private static final AlignedBuffer DECODED = new AlignedBuffer();

    FloatInterleaved(int rows, int n, long groupBytes, MemorySegment data) {
        super(rows, n, groupBytes, data);
    }

    /**
     * Writes the quants of weights [k0, k0 + len) of row group g as floats, interleaved (weight k of the group's row i
     * at float {@code ROWS·(k − k0) + i} of {@code s[offset ..]}), and their blocks' scales, one vector per block,
     * at {@code s[scales ..]}. k0 and len are whole blocks.
     */
    abstract void decode(int g, int k0, int len, MemorySegment s, long offset, long scales);

    /** The one-token product of row group g with {@code x[xo ..]}: its sums stored as one vector at {@code s[acc ..]}. */
    abstract void dot1(int g, float[] x, int xo, MemorySegment s, long acc);

    /**
     * Two tokens' products with row group g, {@code x[xo0 ..]} and {@code x[xo1 ..]}, each computed as {@link #dot1}
     * computes it (the same bits), their sums at {@code s[acc0 ..]} and {@code s[acc1 ..]}: each weight vector widened
     * once for both.
     */
    abstract void dot2(int g, float[] x, int xo0, int xo1, MemorySegment s, long acc0, long acc1);

    @Override
    public final void multiply(int from, int to, int first, int count, float[] x, Int8Activations a, int t0, int t1, float[] out, int stride) {
        if (t1 - t0 < tiledFrom()) {
            oneToken(from, to, first, count, x, t0, t1, out, stride);
        } else {
            tokens(from, to, first, count, x, t0, t1, out, stride);
        }
    }

    private void oneToken(int from, int to, int first, int count, float[] x, int t0, int t1, float[] out, int stride) {
        MemorySegment s = DECODED.get(2L * ROWS);
        for (int g = from; g < to; g++) {
            int row = ROWS * g - first;
            int t = t0;
            for (; t + 1 < t1; t += 2) {
                dot2(g, x, t * n, (t + 1) * n, s, 0, V);
                store(s, 0, out, t * stride + row, -row, count - row);
                store(s, V, out, (t + 1) * stride + row, -row, count - row);
            }
            if (t < t1) {
                dot1(g, x, t * n, s, 0);
                store(s, 0, out, t * stride + row, -row, count - row);
            }
        }
    }

    /** Measured on Q8_0 (8192 × 2048 from memory, one core): 2 tokens 3.6 → 2.1 ms, 4 3.2 → 2.6, 8 4.9 → 4.7; 16 5.3 with the tiles, 9.2 without. */
    @Override
    final int tiledFrom() {
        return 8;
    }

    private void tokens(int from, int to, int first, int count, float[] x, int t0, int t1, float[] out, int stride) {
        int tokens = t1 - t0;
        long second = 4L * ROWS * TILE_PIECE;
        long scales = 2 * second;
        long scalesSecond = (long) V * (TILE_PIECE / BLOCK);
        long decoded = scales + 2 * scalesSecond;
        MemorySegment s = DECODED.get(decoded / 4 + 2L * ROWS * tokens);
        for (int g = from; g < to; g += 2) {
            int pair = Math.min(2, to - g);
            s.asSlice(decoded, 4L * 2 * ROWS * tokens).fill((byte) 0);
            for (int k0 = 0; k0 < n; k0 += TILE_PIECE) {
                int len = Math.min(TILE_PIECE, n - k0);
                for (int j = 0; j < pair; j++) {
                    decode(g + j, k0, len, s, j * second, scales + j * scalesSecond);
                }
                int t = t0;
                if (pair == 2 && SIX_TOKENS) {
                    for (; t + 6 <= t1; t += 6) {
                        InterleavedTiles.tile2x6(s, second, scales, scalesSecond, len, x, t * n + k0, n, decoded + 2L * V * (t - t0));
                    }
                }
                for (; t + 4 <= t1; t += 4) {
                    long acc = decoded + 2L * V * (t - t0);
                    if (pair == 2) {
                        InterleavedTiles.tile2x4(s, second, scales, scalesSecond, len, x, t * n + k0, n, acc);
                    } else {
                        InterleavedTiles.tile1x4(s, scales, len, x, t * n + k0, n, acc);
                    }
                }
                for (; t < t1; t++) {
                    for (int j = 0; j < pair; j++) {
                        InterleavedTiles.tile1x1(s, j * second, scales + j * scalesSecond, len, x, t * n + k0, decoded + 2L * V * (t - t0) + (long) V * j);
                    }
                }
            }
            for (int t = t0; t < t1; t++) {
                for (int j = 0; j < pair; j++) {
                    int row = ROWS * (g + j) - first;
                    store(s, decoded + 2L * V * (t - t0) + (long) V * j, out, t * stride + row, -row, count - row);
                }
            }
        }
    }
}
