package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * An interleaved format multiplied in floats: its weights decoded exactly as {@link QuantFormat#dequantize} writes
 * them ({@link #decode}, or fused into a format's own {@link #dot4}) and multiplied with the activations one fused
 * multiply-add at a time, k in order.
 */
abstract sealed class FloatInterleaved extends Interleaved permits InterleavedQ8_0 {
    /**
     * Whether prefill takes six tokens at a time (twelve accumulators): with 512-bit vectors, where the machine has
     * 32 vector registers. With 16 (AVX2) the twelve accumulators spilled: Q8_0's 64-token product measured 38.6–40 ms
     * against 21.8 ms for four tokens at a time (-XX:UseAVX=2 on this machine).
     */
    private static final boolean SIX_TOKENS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    /** Decoded weights of the groups being multiplied, per thread. */
    private static final AlignedBuffer DECODED = new AlignedBuffer();

    FloatInterleaved(int rows, int n, long groupBytes) {
        super(rows, n, groupBytes);
    }

    /**
     * Writes weights [k0, k0 + len) of row group g as floats, exactly as {@link QuantFormat#dequantize}
     * computes them, interleaved: weight k of the group's row i at float {@code ROWS·(k − k0) + i} of
     * {@code s[offset ..]}. k0 and len are whole blocks of the format.
     */
    abstract void decode(int g, int k0, int len, MemorySegment s, long offset);

    /**
     * The one-token tile of four row groups g .. g + 3 over the whole row: their sums stored as four
     * vectors at {@code s[acc ..]}. By default decoded a piece at a time and multiplied by {@link InterleavedTiles#tile4x1};
     * a format may fuse the two (the same operations per lane, in the same order).
     */
    void dot4(int g, float[] x, int xo, MemorySegment s, long acc) {
        int p = piece();
        long groupBytes = 4L * ROWS * p;
        s.asSlice(acc, 4L * ROWS * 4).fill((byte) 0);
        for (int k0 = 0; k0 < n; k0 += p) {
            int len = Math.min(p, n - k0);
            for (int j = 0; j < 4; j++) {
                decode(g + j, k0, len, s, j * groupBytes);
            }
            InterleavedTiles.tile4x1(s, groupBytes, len, x, xo + k0, acc);
        }
    }

    /** Elements decoded at a time by the unfused one-token tiles: a whole number of the format's blocks. */
    abstract int piece();

    /** {@link #multiply} in floats. */
    final void multiplyFloat(int from, int to, int first, int count, float[] x, int t0, int t1, float[] out, int stride) {
        if (t1 - t0 == 1) {
            oneToken(from, to, first, count, x, t0, out, stride);
            return;
        }
        int tokens = t1 - t0;
        long decoded = 2L * 4 * ROWS * TILE_PIECE;
        MemorySegment s = DECODED.get(2L * ROWS * TILE_PIECE + 2L * ROWS * tokens);
        for (int g = from; g < to; g += 2) {
            int pair = Math.min(2, to - g);
            s.asSlice(decoded, 4L * 2 * ROWS * tokens).fill((byte) 0);
            for (int k0 = 0; k0 < n; k0 += TILE_PIECE) {
                int len = Math.min(TILE_PIECE, n - k0);
                long second = 4L * ROWS * len;
                for (int j = 0; j < pair; j++) {
                    decode(g + j, k0, len, s, j * second);
                }
                int t = t0;
                if (pair == 2 && SIX_TOKENS) {
                    for (; t + 6 <= t1; t += 6) {
                        InterleavedTiles.tile2x6(s, second, len, x, t * n + k0, n, decoded + 2L * V * (t - t0));
                    }
                }
                for (; t + 4 <= t1; t += 4) {
                    long acc = decoded + 2L * V * (t - t0);
                    if (pair == 2) {
                        InterleavedTiles.tile2x4(s, second, len, x, t * n + k0, n, acc);
                    } else {
                        InterleavedTiles.tile1x4(s, len, x, t * n + k0, n, acc);
                    }
                }
                for (; t < t1; t++) {
                    for (int j = 0; j < pair; j++) {
                        InterleavedTiles.tile1x1(s, j * second, len, x, t * n + k0, decoded + 2L * V * (t - t0) + (long) V * j);
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

    /*
     * No vector is live across the decode calls (a vector live across a call that is not inlined was
     * boxed on the heap: 300 MB per 4096² product): the accumulators wait in memory between pieces.
     */
    private void oneToken(int from, int to, int first, int count, float[] x, int t, float[] out, int stride) {
        int p = piece();
        long groupBytes = 4L * ROWS * p;
        MemorySegment s = DECODED.get(4 * ROWS * (long) p + 4 * ROWS + 16 * 4 * ROWS);
        long acc = 4 * groupBytes;
        int xo = t * n;
        int o = t * stride;
        for (int g = from; g < to; g += 4) {
            int quad = Math.min(4, to - g);
            if (quad == 4) {
                dot4(g, x, xo, s, acc);
            } else {
                s.asSlice(acc, 4L * ROWS * 4).fill((byte) 0);
                for (int k0 = 0; k0 < n; k0 += p) {
                    int len = Math.min(p, n - k0);
                    for (int j = 0; j < quad; j++) {
                        decode(g + j, k0, len, s, j * groupBytes);
                        InterleavedTiles.tile1x1(s, j * groupBytes, len, x, xo + k0, acc + (long) V * j);
                    }
                }
            }
            for (int j = 0; j < quad; j++) {
                int row = ROWS * (g + j) - first;
                store(s, acc + (long) V * j, out, o + row, -row, count - row);
            }
        }
    }
}
