package org.memwall.quant;

import java.lang.foreign.MemorySegment;

/**
 * An interleaved format multiplied in integers ({@link Int8Activations}): its own kernels for one token
 * ({@link #dot4}, {@link #dot1}) and for several ({@link #decodePiece}, {@link #tile2x4}, {@link #tile1x4}), driven
 * the same way for every such format. One token: four row groups at a time. Several tokens: two groups at a time,
 * their weights decoded {@link #TILE_PIECE} at a time and multiplied with every token in 2-group × 4-token tiles
 * (each decoded weight vector serves four tokens, each broadcast activation two groups; block ends in registers);
 * the tokens past the last tile go through {@link #dot1}, which gives the same bits.
 */
abstract sealed class IntegerInterleaved extends Interleaved permits InterleavedQ4_0, InterleavedQ4_K, InterleavedQ6_K {
    /** One-token sums and their scratch, per thread. */
    private static final AlignedBuffer SUMS = new AlignedBuffer();
    /** Decoded weights, what a piece needs beside them, and a batch's sums, per thread. */
    private static final AlignedBuffer DECODED = new AlignedBuffer();

    IntegerInterleaved(int rows, int n, long groupBytes) {
        super(rows, n, groupBytes);
    }

    @Override
    public final boolean int8Activations() {
        return true;
    }

    /** Floats of scratch the one-token kernels use (their sums at the first 4V bytes). */
    abstract long scratchFloats();

    /** Floats a decoded piece needs after its {@link #TILE_PIECE}·ROWS weights (the format's scales). */
    abstract long pieceFloats();

    /** One token with four row groups from g: their sums at s[0 .. 4V). */
    abstract void dot4(int g, Int8Activations a, int t, MemorySegment s);

    /** One token with row group g: its sums at s[at ..] (at ≤ 3V). */
    abstract void dot1(int g, Int8Activations a, int t, MemorySegment s, long at);

    /**
     * Weights [k0, k0 + len) of row group g decoded at d[at ..] (weight k of row i at float ROWS·(k − k0) + i), with
     * what the tiles need (the format's scales) after them, at d[at + 4·ROWS·TILE_PIECE ..].
     */
    abstract void decodePiece(int g, int k0, int len, MemorySegment d, long at);

    /** Row group g's decoded piece at d[0 ..] with four tokens from t, added to the sums at d[acc + 2V·u ..] of token t + u. */
    abstract void tile1x4(MemorySegment d, int g, int k0, int len, Int8Activations a, int t, long acc);

    /**
     * Row groups g and g + 1, their decoded pieces at d[0 ..] and d[second ..], with four tokens from t, added to the sums
     * at d[acc + 2V·u + V·j ..] of token t + u and group g + j.
     */
    abstract void tile2x4(MemorySegment d, long second, int g, int k0, int len, Int8Activations a, int t, long acc);

    final void multiplyInt8(int from, int to, int first, int count, Int8Activations a, int t0, int t1, float[] out, int stride) {
        MemorySegment s = SUMS.get(scratchFloats());
        if (t1 - t0 == 1) {
            for (int g = from; g < to; g += 4) {
                int quad = Math.min(4, to - g);
                if (quad == 4) {
                    dot4(g, a, t0, s);
                } else {
                    for (int j = 0; j < quad; j++) {
                        dot1(g + j, a, t0, s, (long) V * j);
                    }
                }
                for (int j = 0; j < quad; j++) {
                    int row = ROWS * (g + j) - first;
                    store(s, (long) V * j, out, t0 * stride + row, -row, count - row);
                }
            }
            return;
        }
        int tokens = t1 - t0;
        long second = 4L * (ROWS * (long) TILE_PIECE + pieceFloats());
        long acc = 2 * second;
        MemorySegment d = DECODED.get(2 * second / 4 + 2L * ROWS * tokens);
        int tiled = tokens & ~3;
        for (int g = from; g < to; g += 2) {
            int pair = Math.min(2, to - g);
            if (tiled > 0) {
                d.asSlice(acc, 2L * V * tiled).fill((byte) 0);
                for (int k0 = 0; k0 < n; k0 += TILE_PIECE) {
                    int len = Math.min(TILE_PIECE, n - k0);
                    for (int j = 0; j < pair; j++) {
                        decodePiece(g + j, k0, len, d, j * second);
                    }
                    for (int t = 0; t < tiled; t += 4) {
                        if (pair == 2) {
                            tile2x4(d, second, g, k0, len, a, t0 + t, acc + 2L * V * t);
                        } else {
                            tile1x4(d, g, k0, len, a, t0 + t, acc + 2L * V * t);
                        }
                    }
                }
                for (int t = 0; t < tiled; t++) {
                    for (int j = 0; j < pair; j++) {
                        int row = ROWS * (g + j) - first;
                        store(d, acc + 2L * V * t + (long) V * j, out, (t0 + t) * stride + row, -row, count - row);
                    }
                }
            }
            for (int j = 0; j < pair; j++) {
                int row = ROWS * (g + j) - first;
                for (int t = t0 + tiled; t < t1; t++) {
                    dot1(g + j, a, t, s, 0);
                    store(s, 0, out, t * stride + row, -row, count - row);
                }
            }
        }
    }
}
