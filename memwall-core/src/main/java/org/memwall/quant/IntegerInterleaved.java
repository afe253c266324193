package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * An interleaved format multiplied in integers ({@link Int8Activations}): its own kernels for one token
 * ({@link #dot1}) and for several ({@link #decodePiece}, {@link #tile2x6}, {@link #tile2x4}, {@link #tile1x4}), driven
 * the same way for every such format. One token, and each token of a batch below {@link #tiledFrom}: one row group at
 * a time, read in address order (Q6_K: four side by side, {@link #oneToken}). Larger batches: two groups at a time,
 * their weights decoded {@link #TILE_PIECE} at a time and multiplied with every token in 2-group × 6-token tiles with
 * 32 vector registers, then 2 × 4 (each decoded weight vector serves six or four tokens, each broadcast activation two
 * groups; block ends in registers). The formats with 4-bit codes (Q4_0, MXFP4, Q4_K) decode them to 16-bit values
 * ({@link #shortTiles}; Q4_K then takes six tokens too): a block's products summed in 16-bit lanes, then scaled into
 * the float sums in a second pass; batches below 32 tokens (Q6_K 24) decode the codes in registers instead
 * ({@link #fusedTiles}). Q6_K's sub-blocks of 16 scale twice as often, and from 24 tokens it keeps the float tiles
 * (measured 12% slower in integers at 256). The tokens past the last tile go through {@link #dot1}, which gives the
 * same bits.
 */
abstract sealed class IntegerInterleaved extends Interleaved permits Block32Interleaved, InterleavedQ4_K, InterleavedQ6_K {
    /**
     * Whether two row groups take six tokens at a time (twelve block sums): with 512-bit vectors, where the machine has
     * 32 vector registers for the sums, the accumulators and the weights.
     */
    private static final boolean SIX_TOKENS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    /** One-token sums and their scratch, per thread. */
    private static final AlignedBuffer SUMS = new AlignedBuffer();
    /** Decoded weights, what a piece needs beside them, and a batch's sums, per thread. */
    private static final AlignedBuffer DECODED = new AlignedBuffer();
    /** The 16-bit block sums of a piece between the two passes of {@link #shortTile2}, per thread. */
    private static final AlignedBuffer BLOCK_SUMS = new AlignedBuffer();
    /** 16-bit lanes of a vector. */
    static final int L16 = 2 * ROWS;
    /** Shorts of one group's piece decoded to 16 bits ({@link #decodeShorts}). */
    private static final int PIECE16 = L16 * TILE_PIECE / 2;
    /**
     * Two groups' pieces decoded to 16-bit values, per thread, in a Java array: read from a native segment, a third of
     * the kernel's samples fell on the segment's bounds checks, and a 256-token product of 2048 × 2048 Q4_0 on one core
     * ran at 87.7–96.8 GMAC/s against 105.6–111.0 from the array.
     */
    private static final ThreadLocal<short[]> DECODED16 = ThreadLocal.withInitial(() -> new short[2 * PIECE16]);

    IntegerInterleaved(int rows, int n, long groupBytes, MemorySegment data) {
        super(rows, n, groupBytes, data);
    }

    @Override
    public final boolean int8Activations() {
        return true;
    }

    /** Whether two row groups take six tokens at a time ({@link #tile2x6}): with 32 vector registers, for formats without mins. */
    boolean sixTokenTiles() {
        return SIX_TOKENS;
    }

    /** Floats of scratch the one-token kernels use (their sums at the first 4V bytes). */
    abstract long scratchFloats();

    /** Floats a decoded piece needs after its {@link #TILE_PIECE}·ROWS weights (the format's scales). */
    abstract long pieceFloats();

    /** One token with {@code quad} (1..4) row groups from g: their sums at s[0 .. quad·V); one group at a time. */
    void oneToken(int g, int quad, Int8Activations a, int t, MemorySegment s) {
        for (int j = 0; j < quad; j++) {
            dot1(g + j, a, t, s, (long) V * j);
        }
    }

    /**
     * The exact Σ v·xq of each row of a block of 32 weights held as 4-bit codes in four 16-bit-lane vectors at
     * {@code data[q ..]} (Q4_0's, Q4_K's and MXFP4's layout: vector c, lane 2i + p, bits 4m.. hold weight 8c + 2m + p of
     * row i), v the code itself ({@code values} null) or its entry in {@code values} (a constant vector whose lanes 0..15
     * hold each code's value), with the activation pairs xp[xi ..]: row i in int lane i. The products go to two 16-bit
     * accumulators (16 per lane must stay within 16 bits), whose lane pairs are then added in 32 bits. Small enough for
     * the JIT to inline into each format's one-token kernel, where {@code values} is a constant (measured: nothing boxed).
     */
    static IntVector nibbleBlockSums(MemorySegment data, long q, int[] xp, int xi, ShortVector values) {
        ShortVector v0 = shorts(data, q), v1 = shorts(data, q + V), v2 = shorts(data, q + 2 * V), v3 = shorts(data, q + 3 * V);
        ShortVector s0 = ShortVector.zero(SR), s1 = s0;
        for (int m = 0; m < 4; m++) {
            // nibble m is the low nibble after m shifts by 4 (a constant shift: the JIT's vector shift by a variable
            // count was not always compiled, and boxed)
            s0 = s0.add(value(v0, values).mul(pair(xp[xi + m])));
            s1 = s1.add(value(v1, values).mul(pair(xp[xi + 4 + m])));
            s0 = s0.add(value(v2, values).mul(pair(xp[xi + 8 + m])));
            s1 = s1.add(value(v3, values).mul(pair(xp[xi + 12 + m])));
            v0 = v0.lanewise(VectorOperators.LSHR, 4);
            v1 = v1.lanewise(VectorOperators.LSHR, 4);
            v2 = v2.lanewise(VectorOperators.LSHR, 4);
            v3 = v3.lanewise(VectorOperators.LSHR, 4);
        }
        return pairSums(s0.add(s1).reinterpretAsInts());
    }

    /** The low nibble of each lane of v, or its entry in {@code values} (one permutation: {@code vpermw}). */
    static ShortVector value(ShortVector v, ShortVector values) {
        ShortVector code = v.and(LOW);
        return values == null ? code : code.selectFrom(values);
    }

    /**
     * Tokens t and t + 1 with {@code quad} row groups from g, when the format multiplies two tokens at once: their sums
     * at s[0 .. quad·V) and s[4V .. 4V + quad·V), the same bits as {@link #oneToken} gives each; false (nothing done)
     * when it does not.
     */
    boolean twoTokens(int g, int quad, Int8Activations a, int t, MemorySegment s) {
        return false;
    }

    /** One token with row group g: its sums at s[at ..] (at ≤ 3V), computed in registers. */
    abstract void dot1(int g, Int8Activations a, int t, MemorySegment s, long at);

    /**
     * Weights [k0, k0 + len) of row group g decoded at d[at ..] (weight k of row i at float ROWS·(k − k0) + i), with
     * what the tiles need (the format's scales) after them, at d[at + 4·ROWS·TILE_PIECE ..].
     */
    abstract void decodePiece(int g, int k0, int len, MemorySegment d, long at);

    /** Row group g's decoded piece at d[0 ..] with four tokens from t, added to the sums at d[acc + 2V·u ..] of token t + u. */
    abstract void tile1x4(MemorySegment d, int g, int k0, int len, Int8Activations a, int t, long acc);

    /**
     * Row groups g and g + 1, their decoded pieces at d[0 ..] and d[second ..], with {@code tokens} (4 or 6) tokens from t,
     * added to the sums at d[acc + 2V·u + V·j ..] of token t + u and group g + j ({@link #tile2}).
     */
    abstract void tile2(MemorySegment d, long second, int g, int k0, int len, Int8Activations a, int t, long acc, int tokens);

    /**
     * Whether two row groups' tiles multiply in 16-bit integers: weights decoded to 16-bit values ({@link #decodeShorts}),
     * products of a block summed in 16-bit lanes ({@link #shortSums2x6}, {@link #shortSums2x4}) and scaled into the
     * float sums afterwards ({@link #shortTile2}).
     */
    boolean shortTiles() {
        return false;
    }

    /**
     * Weights [k0, k0 + len) of row group g as 16-bit values at w[wAt ..]: pair j (weights 2j, 2j + 1 of a block of 32,
     * lanes 2i and 2i + 1 for row i) of block i of the piece at w[wAt + L16·(16i + j) ..]; the format's scales, if the
     * scaling reads them decoded, at d[at + 4·ROWS·TILE_PIECE ..] as {@link #decodePiece} leaves them.
     */
    void decodeShorts(int g, int k0, int len, short[] w, int wAt, MemorySegment d, long at) {
        throw new UnsupportedOperationException();
    }

    /**
     * Row groups g and g + 1 decoded as 16-bit values at w[0 ..] and w[wSecond ..] (their scales at d[0 ..] and
     * d[second ..] as {@link #decodeShorts} leaves them), {@code tokens} (4 or 6) tokens from
     * t, added to the sums at d[acc + 2V·u + V·j ..] of token t + u and group g + j; {@code sums} holds the block sums
     * between the two passes.
     */
    void shortTile2(short[] w, int wSecond, MemorySegment d, long second, int g, int k0, int len, Int8Activations a, int t, long acc, int tokens,
                    MemorySegment sums) {
        throw new UnsupportedOperationException();
    }

    /**
     * Whether a batch of {@code tokens} takes the 16-bit tiles with the codes decoded in registers ({@link #fusedTile2}):
     * small batches, which would not repay decoding a piece.
     */
    boolean fusedTiles(int tokens) {
        return false;
    }

    /** {@link #shortTile2} with the codes decoded in registers ({@link #fusedSums2x6}). */
    void fusedTile2(MemorySegment d, long second, int g, int k0, int len, Int8Activations a, int t, long acc, int tokens, MemorySegment sums) {
        throw new UnsupportedOperationException();
    }

    /** What {@link #fusedTile2} reads decoded (Q6_K's scales) for the piece [k0, k0 + len) of group g, at d[at ..]. */
    void decodeScales(int g, int k0, int len, MemorySegment d, long at) {
    }

    /** {@link #shortSums2x6} for six tokens, {@link #shortSums2x4} for four. */
    static void shortSums(int tokens, short[] d, int second, int k0, int len, int[] xp, int t, int n, MemorySegment sums) {
        if (tokens == 6) {
            shortSums2x6(d, second, k0, len, xp, t, n, sums);
        } else {
            shortSums2x4(d, second, k0, len, xp, t, n, sums);
        }
    }

    /** {@link #fusedSums2x6} for six tokens, {@link #fusedSums2x4} for four. */
    static void fusedSums(int tokens, MemorySegment data, long p0, long p1, long stride, int k0, int len, ShortVector values,
                          ShortVector offset, int[] xp, int t, int n, MemorySegment sums) {
        if (tokens == 6) {
            fusedSums2x6(data, p0, p1, stride, k0, len, values, offset, xp, t, n, sums);
        } else {
            fusedSums2x4(data, p0, p1, stride, k0, len, values, offset, xp, t, n, sums);
        }
    }

    /**
     * The 16-bit block sums of groups g, g + 1 (decoded at d[0 ..] and d[second ..], {@link #decodeShorts}) with six
     * tokens from t over [k0, k0 + len), blocks of 32: block i's sum of token u and group j at sums[V·(12i + 2u + j) ..], lanes 2r and
     * 2r + 1 of row r (their sum, in 32 bits, is the row's exact Σ value·xq: 16 products a lane, each within
     * 2^11). Each decoded vector serves six tokens and each broadcast pair of activations two groups: per 32 products
     * one 16-bit multiply and one add, where the float tiles take two fused multiply-adds (a bare 2 × 6 loop of each ran
     * 136–220 against 81–135 GMAC/s on one core). The 16 pairs of a block are a loop of constant length
     * (with the count a parameter, 4–8% slower). Written out, and big enough that the JIT compiles it alone (inlined
     * with the scaling, it ran out of its node budget and boxed).
     */
    static void shortSums2x6(short[] d, int second, int k0, int len, int[] xp, int t, int n, MemorySegment sums) {
        int h = n / 2;
        for (int e = 0, i = 0; e < len; e += 32, i++) {
            ShortVector zero = ShortVector.zero(SR);
            ShortVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero, s40 = zero, s41 = zero, s50 = zero, s51 = zero;
            int xi = t * h + (k0 + e) / 2;
            int w = 16 * L16 * i;
            for (int j = 0; j < 16; j++, w += L16) {
                ShortVector w0 = ShortVector.fromArray(SR, d, w);
                ShortVector w1 = ShortVector.fromArray(SR, d, second + w);
                ShortVector x0 = pair(xp[xi + j]);
                s00 = s00.add(w0.mul(x0));
                s01 = s01.add(w1.mul(x0));
                ShortVector x1 = pair(xp[xi + h + j]);
                s10 = s10.add(w0.mul(x1));
                s11 = s11.add(w1.mul(x1));
                ShortVector x2 = pair(xp[xi + 2 * h + j]);
                s20 = s20.add(w0.mul(x2));
                s21 = s21.add(w1.mul(x2));
                ShortVector x3 = pair(xp[xi + 3 * h + j]);
                s30 = s30.add(w0.mul(x3));
                s31 = s31.add(w1.mul(x3));
                ShortVector x4 = pair(xp[xi + 4 * h + j]);
                s40 = s40.add(w0.mul(x4));
                s41 = s41.add(w1.mul(x4));
                ShortVector x5 = pair(xp[xi + 5 * h + j]);
                s50 = s50.add(w0.mul(x5));
                s51 = s51.add(w1.mul(x5));
            }
            long o = 12L * V * i;
            s00.intoMemorySegment(sums, o, ByteOrder.LITTLE_ENDIAN);
            s01.intoMemorySegment(sums, o + V, ByteOrder.LITTLE_ENDIAN);
            s10.intoMemorySegment(sums, o + 2 * V, ByteOrder.LITTLE_ENDIAN);
            s11.intoMemorySegment(sums, o + 3 * V, ByteOrder.LITTLE_ENDIAN);
            s20.intoMemorySegment(sums, o + 4 * V, ByteOrder.LITTLE_ENDIAN);
            s21.intoMemorySegment(sums, o + 5 * V, ByteOrder.LITTLE_ENDIAN);
            s30.intoMemorySegment(sums, o + 6 * V, ByteOrder.LITTLE_ENDIAN);
            s31.intoMemorySegment(sums, o + 7 * V, ByteOrder.LITTLE_ENDIAN);
            s40.intoMemorySegment(sums, o + 8 * V, ByteOrder.LITTLE_ENDIAN);
            s41.intoMemorySegment(sums, o + 9 * V, ByteOrder.LITTLE_ENDIAN);
            s50.intoMemorySegment(sums, o + 10 * V, ByteOrder.LITTLE_ENDIAN);
            s51.intoMemorySegment(sums, o + 11 * V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** {@link #shortSums2x6} for four tokens: block i's sum of token u and group j at sums[V·(12i + 2u + j) ..]. */
    static void shortSums2x4(short[] d, int second, int k0, int len, int[] xp, int t, int n, MemorySegment sums) {
        int h = n / 2;
        for (int e = 0, i = 0; e < len; e += 32, i++) {
            ShortVector zero = ShortVector.zero(SR);
            ShortVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero;
            int xi = t * h + (k0 + e) / 2;
            int w = 16 * L16 * i;
            for (int j = 0; j < 16; j++, w += L16) {
                ShortVector w0 = ShortVector.fromArray(SR, d, w);
                ShortVector w1 = ShortVector.fromArray(SR, d, second + w);
                ShortVector x0 = pair(xp[xi + j]);
                s00 = s00.add(w0.mul(x0));
                s01 = s01.add(w1.mul(x0));
                ShortVector x1 = pair(xp[xi + h + j]);
                s10 = s10.add(w0.mul(x1));
                s11 = s11.add(w1.mul(x1));
                ShortVector x2 = pair(xp[xi + 2 * h + j]);
                s20 = s20.add(w0.mul(x2));
                s21 = s21.add(w1.mul(x2));
                ShortVector x3 = pair(xp[xi + 3 * h + j]);
                s30 = s30.add(w0.mul(x3));
                s31 = s31.add(w1.mul(x3));
            }
            long o = 12L * V * i;
            s00.intoMemorySegment(sums, o, ByteOrder.LITTLE_ENDIAN);
            s01.intoMemorySegment(sums, o + V, ByteOrder.LITTLE_ENDIAN);
            s10.intoMemorySegment(sums, o + 2 * V, ByteOrder.LITTLE_ENDIAN);
            s11.intoMemorySegment(sums, o + 3 * V, ByteOrder.LITTLE_ENDIAN);
            s20.intoMemorySegment(sums, o + 4 * V, ByteOrder.LITTLE_ENDIAN);
            s21.intoMemorySegment(sums, o + 5 * V, ByteOrder.LITTLE_ENDIAN);
            s30.intoMemorySegment(sums, o + 6 * V, ByteOrder.LITTLE_ENDIAN);
            s31.intoMemorySegment(sums, o + 7 * V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /**
     * {@link #shortSums2x6} with the codes read from the copy and decoded in registers (code vector c of block i of
     * group j at data[p_j + stride·i + V·c ..], weight value(code) − offset), for batches too small to repay a decoded
     * piece: a server's step of decoding sequences.
     */
    static void fusedSums2x6(MemorySegment data, long p0, long p1, long stride, int k0, int len, ShortVector values, ShortVector offset,
                              int[] xp, int t, int n, MemorySegment sums) {
        int h = n / 2;
        for (int e = 0, i = 0; e < len; e += 32, i++) {
            ShortVector zero = ShortVector.zero(SR);
            ShortVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero, s40 = zero, s41 = zero, s50 = zero, s51 = zero;
            int xi = t * h + (k0 + e) / 2;
            long q0 = p0 + stride * i;
            long q1 = p1 + stride * i;
            for (int c = 0; c < 4; c++) {
                ShortVector v0 = shorts(data, q0 + (long) V * c);
                ShortVector v1 = shorts(data, q1 + (long) V * c);
                for (int m = 0; m < 4; m++) {
                    int j = 4 * c + m;
                    ShortVector w0 = value(v0, values).sub(offset);
                    ShortVector w1 = value(v1, values).sub(offset);
                    v0 = v0.lanewise(VectorOperators.LSHR, 4);
                    v1 = v1.lanewise(VectorOperators.LSHR, 4);
                ShortVector x0 = pair(xp[xi + j]);
                s00 = s00.add(w0.mul(x0));
                s01 = s01.add(w1.mul(x0));
                ShortVector x1 = pair(xp[xi + h + j]);
                s10 = s10.add(w0.mul(x1));
                s11 = s11.add(w1.mul(x1));
                ShortVector x2 = pair(xp[xi + 2 * h + j]);
                s20 = s20.add(w0.mul(x2));
                s21 = s21.add(w1.mul(x2));
                ShortVector x3 = pair(xp[xi + 3 * h + j]);
                s30 = s30.add(w0.mul(x3));
                s31 = s31.add(w1.mul(x3));
                ShortVector x4 = pair(xp[xi + 4 * h + j]);
                s40 = s40.add(w0.mul(x4));
                s41 = s41.add(w1.mul(x4));
                ShortVector x5 = pair(xp[xi + 5 * h + j]);
                s50 = s50.add(w0.mul(x5));
                s51 = s51.add(w1.mul(x5));
                }
            }
            long o = 12L * V * i;
            s00.intoMemorySegment(sums, o, ByteOrder.LITTLE_ENDIAN);
            s01.intoMemorySegment(sums, o + V, ByteOrder.LITTLE_ENDIAN);
            s10.intoMemorySegment(sums, o + 2 * V, ByteOrder.LITTLE_ENDIAN);
            s11.intoMemorySegment(sums, o + 3 * V, ByteOrder.LITTLE_ENDIAN);
            s20.intoMemorySegment(sums, o + 4 * V, ByteOrder.LITTLE_ENDIAN);
            s21.intoMemorySegment(sums, o + 5 * V, ByteOrder.LITTLE_ENDIAN);
            s30.intoMemorySegment(sums, o + 6 * V, ByteOrder.LITTLE_ENDIAN);
            s31.intoMemorySegment(sums, o + 7 * V, ByteOrder.LITTLE_ENDIAN);
            s40.intoMemorySegment(sums, o + 8 * V, ByteOrder.LITTLE_ENDIAN);
            s41.intoMemorySegment(sums, o + 9 * V, ByteOrder.LITTLE_ENDIAN);
            s50.intoMemorySegment(sums, o + 10 * V, ByteOrder.LITTLE_ENDIAN);
            s51.intoMemorySegment(sums, o + 11 * V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** {@link #fusedSums2x6} for four tokens. */
    static void fusedSums2x4(MemorySegment data, long p0, long p1, long stride, int k0, int len, ShortVector values, ShortVector offset,
                              int[] xp, int t, int n, MemorySegment sums) {
        int h = n / 2;
        for (int e = 0, i = 0; e < len; e += 32, i++) {
            ShortVector zero = ShortVector.zero(SR);
            ShortVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero;
            int xi = t * h + (k0 + e) / 2;
            long q0 = p0 + stride * i;
            long q1 = p1 + stride * i;
            for (int c = 0; c < 4; c++) {
                ShortVector v0 = shorts(data, q0 + (long) V * c);
                ShortVector v1 = shorts(data, q1 + (long) V * c);
                for (int m = 0; m < 4; m++) {
                    int j = 4 * c + m;
                    ShortVector w0 = value(v0, values).sub(offset);
                    ShortVector w1 = value(v1, values).sub(offset);
                    v0 = v0.lanewise(VectorOperators.LSHR, 4);
                    v1 = v1.lanewise(VectorOperators.LSHR, 4);
                ShortVector x0 = pair(xp[xi + j]);
                s00 = s00.add(w0.mul(x0));
                s01 = s01.add(w1.mul(x0));
                ShortVector x1 = pair(xp[xi + h + j]);
                s10 = s10.add(w0.mul(x1));
                s11 = s11.add(w1.mul(x1));
                ShortVector x2 = pair(xp[xi + 2 * h + j]);
                s20 = s20.add(w0.mul(x2));
                s21 = s21.add(w1.mul(x2));
                ShortVector x3 = pair(xp[xi + 3 * h + j]);
                s30 = s30.add(w0.mul(x3));
                s31 = s31.add(w1.mul(x3));
                }
            }
            long o = 12L * V * i;
            s00.intoMemorySegment(sums, o, ByteOrder.LITTLE_ENDIAN);
            s01.intoMemorySegment(sums, o + V, ByteOrder.LITTLE_ENDIAN);
            s10.intoMemorySegment(sums, o + 2 * V, ByteOrder.LITTLE_ENDIAN);
            s11.intoMemorySegment(sums, o + 3 * V, ByteOrder.LITTLE_ENDIAN);
            s20.intoMemorySegment(sums, o + 4 * V, ByteOrder.LITTLE_ENDIAN);
            s21.intoMemorySegment(sums, o + 5 * V, ByteOrder.LITTLE_ENDIAN);
            s30.intoMemorySegment(sums, o + 6 * V, ByteOrder.LITTLE_ENDIAN);
            s31.intoMemorySegment(sums, o + 7 * V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /**
     * The block sums {@link #shortSums2x6} left in {@code sums} scaled into the float sums at s[acc + 2V·u + V·j ..]:
     * per token and group, block by block in order, acc = fma((float) Σ, c·dx, acc) with the block's scale vector c of
     * each group at cs[c0 + cStride·i ..] and cs[c1 + cStride·i ..]; with {@code mins} (Q4_K) then
     * acc = fma(Σxq, m·dx, acc), m at V past c: the operations of {@link #tile2x4}'s scaling, so the same bits. Blocks
     * of 32 >> {@code shift} weights (Q6_K's sub-blocks of 16: shift 1; with mins, 0).
     */
    static void scaleShortSums(MemorySegment sums, int blocks, int shift, int k0, MemorySegment cs, long c0, long c1, long cStride,
                               boolean mins, Int8Activations act, int t, int tokens, MemorySegment s, long acc) {
        for (int u = 0; u < tokens; u += 2) {
            if (mins) {
                scaleShortSumsWithMins2x2(sums, blocks, k0, cs, c0, c1, cStride, act, t, u, s, acc + 2L * V * u);
            } else {
                scaleShortSums2x2(sums, blocks, shift, k0, cs, c0, c1, cStride, act, t, u, s, acc + 2L * V * u);
            }
        }
    }

    /**
     * {@link #scaleShortSums} for tokens t + u and t + u + 1: their four float sums in registers (four chains of
     * fused multiply-adds side by side) while the blocks go by.
     */
    private static void scaleShortSums2x2(MemorySegment sums, int blocks, int shift, int k0, MemorySegment cs, long c0, long c1,
                                          long cStride, Int8Activations act, int t, int u, MemorySegment s, long acc) {
        float[] dx = act.scales;
        int nb = act.n / 32;
        int b0 = (t + u) * nb + k0 / 32;
        FloatVector a00 = floats(s, acc), a01 = floats(s, acc + V), a10 = floats(s, acc + 2 * V), a11 = floats(s, acc + 3 * V);
        long o = 2L * V * u;
        for (int i = 0; i < blocks; i++, o += 12L * V) {
            int b = b0 + (i >> shift);
            FloatVector v0 = floats(cs, c0 + cStride * i);
            FloatVector v1 = floats(cs, c1 + cStride * i);
            float d0 = dx[b];
            float d1 = dx[b + nb];
            a00 = pairSums(sums, o).fma(v0.mul(d0), a00);
            a01 = pairSums(sums, o + V).fma(v1.mul(d0), a01);
            a10 = pairSums(sums, o + 2 * V).fma(v0.mul(d1), a10);
            a11 = pairSums(sums, o + 3 * V).fma(v1.mul(d1), a11);
        }
        a00.intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
        a01.intoMemorySegment(s, acc + V, ByteOrder.LITTLE_ENDIAN);
        a10.intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        a11.intoMemorySegment(s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
    }

    /** {@link #scaleShortSums2x2} with each block's mins after its sum (Q4_K). */
    private static void scaleShortSumsWithMins2x2(MemorySegment sums, int blocks, int k0, MemorySegment cs, long c0, long c1, long cStride,
                                                  Int8Activations act, int t, int u, MemorySegment s, long acc) {
        float[] dx = act.scales;
        int[] xs = act.sums;
        int nb = act.n / 32;
        int b = (t + u) * nb + k0 / 32;
        FloatVector a00 = floats(s, acc), a01 = floats(s, acc + V), a10 = floats(s, acc + 2 * V), a11 = floats(s, acc + 3 * V);
        long o = 2L * V * u;
        for (int i = 0; i < blocks; i++, b++, o += 12L * V) {
            long p0 = c0 + cStride * i;
            long p1 = c1 + cStride * i;
            FloatVector v0 = floats(cs, p0);
            FloatVector v1 = floats(cs, p1);
            float d0 = dx[b];
            float d1 = dx[b + nb];
            a00 = pairSums(sums, o).fma(v0.mul(d0), a00);
            a01 = pairSums(sums, o + V).fma(v1.mul(d0), a01);
            a10 = pairSums(sums, o + 2 * V).fma(v0.mul(d1), a10);
            a11 = pairSums(sums, o + 3 * V).fma(v1.mul(d1), a11);
            FloatVector m0 = floats(cs, p0 + V);
            FloatVector m1 = floats(cs, p1 + V);
            FloatVector x0 = FloatVector.broadcast(FR, (float) xs[b]);
            FloatVector x1 = FloatVector.broadcast(FR, (float) xs[b + nb]);
            a00 = x0.fma(m0.mul(d0), a00);
            a01 = x0.fma(m1.mul(d0), a01);
            a10 = x1.fma(m0.mul(d1), a10);
            a11 = x1.fma(m1.mul(d1), a11);
        }
        a00.intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
        a01.intoMemorySegment(s, acc + V, ByteOrder.LITTLE_ENDIAN);
        a10.intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        a11.intoMemorySegment(s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
    }

    /** {@link #tile2x6} for six tokens, {@link #tile2x4} for four, of a format without mins. */
    static void tile2(MemorySegment s, long second, int k0, int len, int block, MemorySegment cs, long c0, long c1, long cStride,
                      Int8Activations act, int t, long acc, int tokens) {
        if (tokens == 6) {
            tile2x6(s, second, k0, len, block, cs, c0, c1, cStride, act, t, acc);
        } else {
            tile2x4(s, second, k0, len, block, cs, c0, c1, cStride, false, act, t, acc);
        }
    }

    /**
     * The 2-group × 4-token tile of every integer format: groups g and g + 1 decoded at s[0 ..] and s[second ..], four
     * tokens from t, blocks of {@code block} weights over [k0, k0 + len). Each block's sums start at zero and take one
     * fused multiply-add per weight vector and token (integers below 2^24: exact), then acc = fma(Σ, c·dx, acc) with the
     * block's scale vector c of each group at cs[c0 + cStride·i ..] and cs[c1 + cStride·i ..] (block i of the piece); with
     * {@code mins} (Q4_K) then acc = fma(Σxq, m·dx, acc), m at V past c. The same operations as one token at a time, so
     * the same bits. Written out without helper calls and with the accumulators in registers: through helpers the
     * JIT's inlining budget ran out and boxed the vectors, and sums kept in memory between blocks cost 20–45%.
     */
    static void tile2x4(MemorySegment s, long second, int k0, int len, int block, MemorySegment cs, long c0, long c1, long cStride,
                        boolean mins, Int8Activations act, int t, long acc) {
        float[] x = act.values;
        float[] dx = act.scales;
        int[] xs = act.sums;
        int n = act.n;
        int nb = n / 32;
        FloatVector a00 = FloatVector.fromMemorySegment(FR, s, acc + 0 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a01 = FloatVector.fromMemorySegment(FR, s, acc + 1 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a10 = FloatVector.fromMemorySegment(FR, s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a11 = FloatVector.fromMemorySegment(FR, s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a20 = FloatVector.fromMemorySegment(FR, s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a21 = FloatVector.fromMemorySegment(FR, s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a30 = FloatVector.fromMemorySegment(FR, s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a31 = FloatVector.fromMemorySegment(FR, s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
        for (int e = 0, i = 0; e < len; e += block, i++) {
            FloatVector zero = FloatVector.zero(FR);
            FloatVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero;
            int xi = t * n + k0 + e;
            for (int k = 0; k < block; k++) {
                long w = (long) V * (e + k);
                FloatVector w0 = FloatVector.fromMemorySegment(FR, s, w, ByteOrder.LITTLE_ENDIAN);
                FloatVector w1 = FloatVector.fromMemorySegment(FR, s, second + w, ByteOrder.LITTLE_ENDIAN);
                FloatVector x0 = FloatVector.broadcast(FR, x[xi + k + 0 * n]);
                s00 = w0.fma(x0, s00);
                s01 = w1.fma(x0, s01);
                FloatVector x1 = FloatVector.broadcast(FR, x[xi + k + 1 * n]);
                s10 = w0.fma(x1, s10);
                s11 = w1.fma(x1, s11);
                FloatVector x2 = FloatVector.broadcast(FR, x[xi + k + 2 * n]);
                s20 = w0.fma(x2, s20);
                s21 = w1.fma(x2, s21);
                FloatVector x3 = FloatVector.broadcast(FR, x[xi + k + 3 * n]);
                s30 = w0.fma(x3, s30);
                s31 = w1.fma(x3, s31);
            }
            long o0 = c0 + cStride * i;
            long o1 = c1 + cStride * i;
            FloatVector v0 = FloatVector.fromMemorySegment(FR, cs, o0, ByteOrder.LITTLE_ENDIAN);
            FloatVector v1 = FloatVector.fromMemorySegment(FR, cs, o1, ByteOrder.LITTLE_ENDIAN);
            int b = t * nb + (k0 + e) / 32;
            float dx0 = dx[b + 0 * nb];
            a00 = s00.fma(v0.mul(dx0), a00);
            a01 = s01.fma(v1.mul(dx0), a01);
            float dx1 = dx[b + 1 * nb];
            a10 = s10.fma(v0.mul(dx1), a10);
            a11 = s11.fma(v1.mul(dx1), a11);
            float dx2 = dx[b + 2 * nb];
            a20 = s20.fma(v0.mul(dx2), a20);
            a21 = s21.fma(v1.mul(dx2), a21);
            float dx3 = dx[b + 3 * nb];
            a30 = s30.fma(v0.mul(dx3), a30);
            a31 = s31.fma(v1.mul(dx3), a31);
            if (mins) {
                FloatVector m0 = FloatVector.fromMemorySegment(FR, cs, o0 + V, ByteOrder.LITTLE_ENDIAN);
                FloatVector m1 = FloatVector.fromMemorySegment(FR, cs, o1 + V, ByteOrder.LITTLE_ENDIAN);
                FloatVector xs0 = FloatVector.broadcast(FR, (float) xs[b + 0 * nb]);
                a00 = xs0.fma(m0.mul(dx0), a00);
                a01 = xs0.fma(m1.mul(dx0), a01);
                FloatVector xs1 = FloatVector.broadcast(FR, (float) xs[b + 1 * nb]);
                a10 = xs1.fma(m0.mul(dx1), a10);
                a11 = xs1.fma(m1.mul(dx1), a11);
                FloatVector xs2 = FloatVector.broadcast(FR, (float) xs[b + 2 * nb]);
                a20 = xs2.fma(m0.mul(dx2), a20);
                a21 = xs2.fma(m1.mul(dx2), a21);
                FloatVector xs3 = FloatVector.broadcast(FR, (float) xs[b + 3 * nb]);
                a30 = xs3.fma(m0.mul(dx3), a30);
                a31 = xs3.fma(m1.mul(dx3), a31);
            }
        }
        a00.intoMemorySegment(s, acc + 0 * V, ByteOrder.LITTLE_ENDIAN);
        a01.intoMemorySegment(s, acc + 1 * V, ByteOrder.LITTLE_ENDIAN);
        a10.intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        a11.intoMemorySegment(s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
        a20.intoMemorySegment(s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
        a21.intoMemorySegment(s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN);
        a30.intoMemorySegment(s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
        a31.intoMemorySegment(s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * {@link #tile2x4} for six tokens (twelve block sums in flight) of a format without mins: with 32 vector registers
     * (AVX-512), where its twelve sums and twelve accumulators fit beside the weights. The same operations per token, so
     * the same bits. Q4_K's mins would add twelve more live vectors: with them the JIT boxed the vectors (a model's pp512
     * 43 tokens/s, 12,855 collections), and Q4_K stays with four tokens ({@link #sixTokenTiles}).
     */
    static void tile2x6(MemorySegment s, long second, int k0, int len, int block, MemorySegment cs, long c0, long c1, long cStride,
                        Int8Activations act, int t, long acc) {
        float[] x = act.values;
        float[] dx = act.scales;
        int n = act.n;
        int nb = n / 32;
        FloatVector a00 = FloatVector.fromMemorySegment(FR, s, acc + 0 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a01 = FloatVector.fromMemorySegment(FR, s, acc + 1 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a10 = FloatVector.fromMemorySegment(FR, s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a11 = FloatVector.fromMemorySegment(FR, s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a20 = FloatVector.fromMemorySegment(FR, s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a21 = FloatVector.fromMemorySegment(FR, s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a30 = FloatVector.fromMemorySegment(FR, s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a31 = FloatVector.fromMemorySegment(FR, s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a40 = FloatVector.fromMemorySegment(FR, s, acc + 8 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a41 = FloatVector.fromMemorySegment(FR, s, acc + 9 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a50 = FloatVector.fromMemorySegment(FR, s, acc + 10 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a51 = FloatVector.fromMemorySegment(FR, s, acc + 11 * V, ByteOrder.LITTLE_ENDIAN);
        for (int e = 0, i = 0; e < len; e += block, i++) {
            FloatVector zero = FloatVector.zero(FR);
            FloatVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero, s40 = zero, s41 = zero, s50 = zero, s51 = zero;
            int xi = t * n + k0 + e;
            for (int k = 0; k < block; k++) {
                long w = (long) V * (e + k);
                FloatVector w0 = FloatVector.fromMemorySegment(FR, s, w, ByteOrder.LITTLE_ENDIAN);
                FloatVector w1 = FloatVector.fromMemorySegment(FR, s, second + w, ByteOrder.LITTLE_ENDIAN);
                FloatVector x0 = FloatVector.broadcast(FR, x[xi + k + 0 * n]);
                s00 = w0.fma(x0, s00);
                s01 = w1.fma(x0, s01);
                FloatVector x1 = FloatVector.broadcast(FR, x[xi + k + 1 * n]);
                s10 = w0.fma(x1, s10);
                s11 = w1.fma(x1, s11);
                FloatVector x2 = FloatVector.broadcast(FR, x[xi + k + 2 * n]);
                s20 = w0.fma(x2, s20);
                s21 = w1.fma(x2, s21);
                FloatVector x3 = FloatVector.broadcast(FR, x[xi + k + 3 * n]);
                s30 = w0.fma(x3, s30);
                s31 = w1.fma(x3, s31);
                FloatVector x4 = FloatVector.broadcast(FR, x[xi + k + 4 * n]);
                s40 = w0.fma(x4, s40);
                s41 = w1.fma(x4, s41);
                FloatVector x5 = FloatVector.broadcast(FR, x[xi + k + 5 * n]);
                s50 = w0.fma(x5, s50);
                s51 = w1.fma(x5, s51);
            }
            long o0 = c0 + cStride * i;
            long o1 = c1 + cStride * i;
            FloatVector v0 = FloatVector.fromMemorySegment(FR, cs, o0, ByteOrder.LITTLE_ENDIAN);
            FloatVector v1 = FloatVector.fromMemorySegment(FR, cs, o1, ByteOrder.LITTLE_ENDIAN);
            int b = t * nb + (k0 + e) / 32;
            float dx0 = dx[b + 0 * nb];
            a00 = s00.fma(v0.mul(dx0), a00);
            a01 = s01.fma(v1.mul(dx0), a01);
            float dx1 = dx[b + 1 * nb];
            a10 = s10.fma(v0.mul(dx1), a10);
            a11 = s11.fma(v1.mul(dx1), a11);
            float dx2 = dx[b + 2 * nb];
            a20 = s20.fma(v0.mul(dx2), a20);
            a21 = s21.fma(v1.mul(dx2), a21);
            float dx3 = dx[b + 3 * nb];
            a30 = s30.fma(v0.mul(dx3), a30);
            a31 = s31.fma(v1.mul(dx3), a31);
            float dx4 = dx[b + 4 * nb];
            a40 = s40.fma(v0.mul(dx4), a40);
            a41 = s41.fma(v1.mul(dx4), a41);
            float dx5 = dx[b + 5 * nb];
            a50 = s50.fma(v0.mul(dx5), a50);
            a51 = s51.fma(v1.mul(dx5), a51);
        }
        a00.intoMemorySegment(s, acc + 0 * V, ByteOrder.LITTLE_ENDIAN);
        a01.intoMemorySegment(s, acc + 1 * V, ByteOrder.LITTLE_ENDIAN);
        a10.intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        a11.intoMemorySegment(s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
        a20.intoMemorySegment(s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
        a21.intoMemorySegment(s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN);
        a30.intoMemorySegment(s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
        a31.intoMemorySegment(s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
        a40.intoMemorySegment(s, acc + 8 * V, ByteOrder.LITTLE_ENDIAN);
        a41.intoMemorySegment(s, acc + 9 * V, ByteOrder.LITTLE_ENDIAN);
        a50.intoMemorySegment(s, acc + 10 * V, ByteOrder.LITTLE_ENDIAN);
        a51.intoMemorySegment(s, acc + 11 * V, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Row group g's piece decoded at s[w ..] (weights [k0, k0 + len), blocks of {@code block}) with four tokens from t, as
     * {@link #tile2x4} for one group: each block's products summed in floats (exact), then scaled by the block's vector at
     * cs[c + cStride·i ..] (block i of the piece) times dx into the sums at s[acc + 2V·u ..] of token t + u; with
     * {@code mins} (Q4_K) then acc = fma(Σxq, m·dx, acc), m at V past the scale.
     */
    final void tile1x4(MemorySegment s, long w, int k0, int len, int block, MemorySegment cs, long c, long cStride, boolean mins,
                       Int8Activations act, int t, long acc) {
        float[] x = act.values;
        float[] dx = act.scales;
        int[] xs = act.sums;
        int nb = n / 32;
        FloatVector a0 = floats(s, acc), a1 = floats(s, acc + 2 * V), a2 = floats(s, acc + 4 * V), a3 = floats(s, acc + 6 * V);
        for (int e = 0; e < len; e += block, c += cStride) {
            FloatVector s0 = FloatVector.zero(FR), s1 = s0, s2 = s0, s3 = s0;
            int xi = t * n + k0 + e;
            for (int k = 0; k < block; k++, w += V) {
                FloatVector wk = floats(s, w);
                s0 = wk.fma(x(x, xi + k), s0);
                s1 = wk.fma(x(x, xi + n + k), s1);
                s2 = wk.fma(x(x, xi + 2 * n + k), s2);
                s3 = wk.fma(x(x, xi + 3 * n + k), s3);
            }
            FloatVector v = floats(cs, c);
            int b = t * nb + (k0 + e) / 32;
            a0 = s0.fma(v.mul(dx[b]), a0);
            a1 = s1.fma(v.mul(dx[b + nb]), a1);
            a2 = s2.fma(v.mul(dx[b + 2 * nb]), a2);
            a3 = s3.fma(v.mul(dx[b + 3 * nb]), a3);
            if (mins) {
                FloatVector m = floats(cs, c + V);
                a0 = FloatVector.broadcast(FR, (float) xs[b]).fma(m.mul(dx[b]), a0);
                a1 = FloatVector.broadcast(FR, (float) xs[b + nb]).fma(m.mul(dx[b + nb]), a1);
                a2 = FloatVector.broadcast(FR, (float) xs[b + 2 * nb]).fma(m.mul(dx[b + 2 * nb]), a2);
                a3 = FloatVector.broadcast(FR, (float) xs[b + 3 * nb]).fma(m.mul(dx[b + 3 * nb]), a3);
            }
        }
        a0.intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
        a1.intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        a2.intoMemorySegment(s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
        a3.intoMemorySegment(s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public final void multiply(int from, int to, int first, int count, float[] x, Int8Activations a, int t0, int t1, float[] out, int stride) {
        MemorySegment s = SUMS.get(scratchFloats());
        if (t1 - t0 < tiledFrom()) {
            for (int g = from; g < to; g += 4) {
                int quad = Math.min(4, to - g);
                for (int t = t0; t < t1; t++) {
                    int both = t + 1 < t1 && twoTokens(g, quad, a, t, s) ? 2 : 1;
                    if (both == 1) {
                        oneToken(g, quad, a, t, s);
                    }
                    for (int u = 0; u < both; u++) {
                        for (int j = 0; j < quad; j++) {
                            int row = ROWS * (g + j) - first;
                            store(s, 4L * V * u + (long) V * j, out, (t + u) * stride + row, -row, count - row);
                        }
                    }
                    t += both - 1;
                }
            }
            return;
        }
        int tokens = t1 - t0;
        long second = 4L * (ROWS * (long) TILE_PIECE + pieceFloats());
        long acc = 2 * second;
        MemorySegment d = DECODED.get(2 * second / 4 + 2L * ROWS * tokens);
        MemorySegment blockSums = BLOCK_SUMS.get(12L * ROWS * (TILE_PIECE / 16));
        short[] w16 = DECODED16.get();
        int wSecond = PIECE16;
        for (int g = from; g < to; g += 2) {
            int pair = Math.min(2, to - g);
            boolean fused = pair == 2 && fusedTiles(tokens);
            boolean shorts = pair == 2 && !fused && shortTiles();
            int six = pair == 2 && SIX_TOKENS && (shorts || fused || sixTokenTiles()) ? tokens / 6 * 6 : 0;
            int tiled = six + ((tokens - six) & ~3);
            if (tiled > 0) {
                for (long o = acc; o < acc + 2L * V * tiled; o += 8) {
                    d.set(ValueLayout.JAVA_LONG_UNALIGNED, o, 0L); // scalar stores: no slice per group pair, no vector code here
                }
                for (int k0 = 0; k0 < n; k0 += TILE_PIECE) {
                    int len = Math.min(TILE_PIECE, n - k0);
                    for (int j = 0; j < pair; j++) {
                        if (fused) {
                            decodeScales(g + j, k0, len, d, j * second);
                        } else if (shorts) {
                            decodeShorts(g + j, k0, len, w16, j * wSecond, d, j * second);
                        } else {
                            decodePiece(g + j, k0, len, d, j * second);
                        }
                    }
                    for (int t = 0, width; t < tiled; t += width) {
                        width = t < six ? 6 : 4;
                        if (fused) {
                            fusedTile2(d, second, g, k0, len, a, t0 + t, acc + 2L * V * t, width, blockSums);
                        } else if (shorts) {
                            shortTile2(w16, wSecond, d, second, g, k0, len, a, t0 + t, acc + 2L * V * t, width, blockSums);
                        } else if (pair == 2) {
                            tile2(d, second, g, k0, len, a, t0 + t, acc + 2L * V * t, width);
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
