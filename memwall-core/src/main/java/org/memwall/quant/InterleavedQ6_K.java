package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K interleaved, multiplied in integers: per row group (R = ROWS rows), per super-block of 256 weights,
 * vectors of V = 4R bytes; the 6-bit values are widened to signed bytes (8.6 bits per weight instead of 6.6:
 * one or two shifts per weight vector instead of reassembling two bit fields).
 * <pre>
 * bytes 0 .. V          d of each row, f32, row i in lane i
 * bytes V .. V + 16R    sc[s] of row i at V + R·s + i (int8 scales of the 16 sub-blocks of 16)
 * then 16 · 8 chunks   of 2R bytes; chunk u of sub-block s (at 4V·s + 2R·u) holds at byte 2i + p weight
 *                       16s + 2u + p of row i as the signed byte q − 32
 * weight k = (q − 32) · (d · sc[k / 16]), as {@link Q6_K} computes it
 * </pre>
 * A chunk widens in one operation (a sign-extending load) to 16-bit lanes, lanes 2i and 2i + 1 holding row i's
 * weights k and k + 1, which a broadcast pair of activations multiplies. A sub-block's 8 products per 16-bit lane stay within 16 bits (|(q − 32)·xq| ≤ 32·127, 8 · 4064 &lt; 32768), and
 * its weights lie in one quantization block of the activations ({@link Int8Activations}).
 *
 * <p><b>The canonical dot</b> per row and token: acc = 0, then for each sub-block s in order
 * acc = fma((float) Σ (q − 32)·xq, (d·sc[s])·dx, acc), d·sc[s] an exact float product ({@link #referenceDot}).
 */
final class InterleavedQ6_K extends IntegerInterleaved {
    private static final int FILE_BYTES = 210;
    private static final int QS = V + 16 * ROWS;
    private static final int BYTES = QS + 64 * V;

    InterleavedQ6_K(int rows, int n, MemorySegment data) {
        super(rows, n, (long) n / 256 * BYTES, data);
    }

    @Override
    long fileRowBytes() {
        return (long) n / 256 * FILE_BYTES;
    }

    /** One-token sums (4V), their 16-bit sub-block sums (4V), four groups' scales (64V). */
    @Override
    long scratchFloats() {
        return 72L * ROWS;
    }

    /** A super-block's scales. */
    @Override
    long pieceFloats() {
        return 16L * ROWS;
    }

    /** Measured (8192 × 2048 from memory, one core): 4 tokens 3.2 → 2.2 ms, 8 the same either way, 16 5.5 with the tiles, 6.7 without. */
    @Override
    int tiledFrom() {
        return 8;
    }

    /** The 6-bit values q (0..63) of the super-block at {@code row[src ..]}, weight k at q[k] (see {@link Q6_K}). */
    static void quants(byte[] row, int src, int[] q) {
        for (int w = 0; w < 64; w++) {
            // weights 4w .. 4w + 3 = 128h + 32t + l .. + 3 in the file's order
            int h = w >> 5;
            int t = (w >> 3) & 3;
            int l = 4 * (w & 7);
            int low = (getInt(row, src + 64 * h + l + 32 * (t & 1)) >>> (4 * (t >> 1))) & 0x0F0F0F0F;
            int high = (getInt(row, src + 128 + 32 * h + l) >>> (2 * t)) & 0x03030303;
            int four = low | high << 4;
            for (int j = 0; j < 4; j++) {
                q[4 * w + j] = (four >>> 8 * j) & 0x3F;
            }
        }
    }

    @Override
    void packRow(byte[] row, byte[] group, int i) {
        for (int src = 0, dst = 0; src < row.length; src += FILE_BYTES, dst += BYTES) {
            putFloat(group, dst + 4 * i, getHalf(row, src + 208));
            for (int sub = 0; sub < 16; sub++) {
                group[dst + V + ROWS * sub + i] = row[src + 192 + sub];
            }
            // eight weights at a time, one per byte of a long: weights k .. k + 7, k = 128h + 32t + l (see quants)
            for (int h = 0; h < 2; h++) {
                for (int t = 0; t < 4; t++) {
                    for (int l = 0; l < 32; l += 8) {
                        long low = (getLong(row, src + 64 * h + 32 * (t & 1) + l) >>> 4 * (t >> 1)) & 0x0F0F0F0F0F0F0F0FL;
                        long high = (getLong(row, src + 128 + 32 * h + l) >>> 2 * t) & 0x0303030303030303L;
                        // q − 32 in each byte, as a signed byte: flip bit 5, then copy the flipped bit 5 into bits 6 and 7
                        long r = (low | high << 4) ^ 0x2020202020202020L;
                        long m = r & 0x2020202020202020L;
                        r |= m << 1 | m << 2;
                        int k = 128 * h + 32 * t + l;
                        int at = dst + QS + 4 * V * (k >> 4) + 2 * ROWS * ((k & 15) >> 1) + 2 * i;
                        for (int c = 0; c < 4; c++, at += 2 * ROWS) {
                            putShort(group, at, (int) (r >>> 16 * c));
                        }
                    }
                }
            }
        }
    }

    /** The canonical dot of row {@code row} of a Q6_K matrix in its file layout with {@code x[xOffset ..]}. */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset) {
        Int8Activations a = Int8Activations.of(java.util.Arrays.copyOfRange(x, xOffset, xOffset + n), 1, n);
        byte[] block = new byte[FILE_BYTES];
        int[] q = new int[256];
        float acc = 0;
        for (int sb = 0; sb < n / 256; sb++) {
            long at = ((long) row * (n / 256) + sb) * FILE_BYTES;
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, at, block, 0, FILE_BYTES);
            quants(block, 0, q);
            float d = getHalf(block, 208);
            for (int sub = 0; sub < 16; sub++) {
                int sum = 0;
                for (int l = 0; l < 16; l++) {
                    int k = 256 * sb + 16 * sub + l;
                    int pair = a.pairs[k >> 1];
                    sum += (q[16 * sub + l] - 32) * ((k & 1) == 0 ? (short) pair : pair >> 16);
                }
                acc = Math.fma((float) sum, (d * block[192 + sub]) * a.scales[(256 * sb + 16 * sub) / 32], acc);
            }
        }
        return acc;
    }

    // --- the kernels ---

    @Override
    void decodePiece(int g, int k0, int len, MemorySegment d, long at) {
        long blk = g * groupBytes + (long) k0 / 256 * BYTES;
        decodeUnscaled(blk, d, at);
        scales(blk, d, at + 4L * ROWS * 256, 1);
    }

    /**
     * Below 24 tokens, the 16-bit tiles reading the copy's bytes directly ({@link #fusedSums2x6}): a server's step, whose
     * product with the output matrix (Q6_K in most files) took a fifth of the step with the float tiles, which decode a
     * piece for a few tokens. Measured (32,768 × 2048 from memory, two threads, GMAC/s per core, registers / float
     * tiles): 16 tokens 59.2–61.7 / 53.7–55.8, 24 tokens 65.1 / 63.0–65.1. At 256 tokens (pieces decoded to 16 bits)
     * its sub-blocks of 16, scaled twice as often as 32, made the 16-bit tiles 12% slower than the float ones.
     */
    @Override
    boolean fusedTiles(int tokens) {
        return tokens < 24;
    }

    @Override
    void decodeScales(int g, int k0, int len, MemorySegment d, long at) {
        scales(g * groupBytes + (long) k0 / 256 * BYTES, d, at + 4L * ROWS * 256, 1);
    }

    @Override
    void fusedTile2(MemorySegment d, long second, int g, int k0, int len, Int8Activations act, int t, long acc, int tokens, MemorySegment sums) {
        long blk = g * groupBytes + (long) k0 / 256 * BYTES + QS;
        if (tokens == 6) {
            fusedSums2x6(data, blk, blk + groupBytes, k0, len, act.pairs, t, n, sums);
        } else {
            fusedSums2x4(data, blk, blk + groupBytes, k0, len, act.pairs, t, n, sums);
        }
        long sc = 4L * ROWS * 256;
        scaleShortSums(sums, len / 16, 1, k0, d, sc, second + sc, V, false, act, t, tokens, d, acc);
    }

    /**
     * The 16-bit sums of sub-blocks of 16 (8 pairs) of groups g, g + 1 (their bytes at data[p0 ..] and data[p1 ..]) with six
     * tokens from t over [k0, k0 + len): sub-block i's sum of token u and group j at sums[V·(12i + 2u + j) ..]; 8 products a
     * lane, each within 32·127 (8 · 4064 &lt; 32768).
     */
    static void fusedSums2x6(MemorySegment data, long p0, long p1, int k0, int len, int[] xp, int t, int n, MemorySegment sums) {
        int h = n / 2;
        for (int e = 0, i = 0; e < len; e += 16, i++) {
            ShortVector zero = ShortVector.zero(SR);
            ShortVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero, s40 = zero, s41 = zero, s50 = zero, s51 = zero;
            int xi = t * h + (k0 + e) / 2;
            long q = 4L * V * i;
            for (int j = 0; j < 8; j++, q += 2L * ROWS) {
                ShortVector w0 = widened(data, p0 + q);
                ShortVector w1 = widened(data, p1 + q);
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

    /** {@link #fusedSums2x6} for four tokens. */
    static void fusedSums2x4(MemorySegment data, long p0, long p1, int k0, int len, int[] xp, int t, int n, MemorySegment sums) {
        int h = n / 2;
        for (int e = 0, i = 0; e < len; e += 16, i++) {
            ShortVector zero = ShortVector.zero(SR);
            ShortVector s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero;
            int xi = t * h + (k0 + e) / 2;
            long q = 4L * V * i;
            for (int j = 0; j < 8; j++, q += 2L * ROWS) {
                ShortVector w0 = widened(data, p0 + q);
                ShortVector w1 = widened(data, p1 + q);
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

    @Override
    void tile2(MemorySegment s, long second, int g, int k0, int len, Int8Activations act, int t, long acc, int tokens) {
        long sc = 4L * ROWS * 256;
        tile2(s, second, k0, len, 16, s, sc, second + sc, V, act, t, acc, tokens);
    }

    @Override
    void tile1x4(MemorySegment d, int g, int k0, int len, Int8Activations a, int t, long acc) {
        tile1x4(d, 0, k0, len, 16, d, 4L * ROWS * 256, V, false, a, t, acc);
    }

    /** d·sc[sub] of the super-block at {@code blk} as a vector at s[at + V·stride·sub ..]. */
    private void scales(long blk, MemorySegment s, long at, int stride) {
        FloatVector d = floats(data, blk);
        for (int sub = 0; sub < 16; sub++) {
            d.mul(signedBytes(data, blk + V + ROWS * sub)).intoMemorySegment(s, at + (long) V * stride * sub, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Ends a sub-block: acc = fma(Σ (q − 32)·xq, scale·dx, acc), the 16-bit sums at s[sum ..], scale at s[sc ..]. */
    private static void endSub(MemorySegment s, long acc, long sum, long sc, float dx) {
        pairSums(s, sum).fma(floats(s, sc).mul(dx), floats(s, acc)).intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
    }

    /** One token with four row groups from g: their sums at s[0 .. 4V). */
    private void dot4(int g, Int8Activations act, int t, MemorySegment s) {
        MemorySegment data = this.data;
        long gb = groupBytes;
        int[] xp = act.pairs;
        int po = t * (n / 2);
        int bo = t * (n / 32);
        long sm = 8L * V;
        // zeroed by scalar stores: zero vectors stored here took the method past the JIT's node budget with 256-bit
        // vectors and boxed every endSub (gigabytes per decode); a slice's fill allocated a slice per call
        for (long o = 0; o < 4L * V; o += 8) {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, o, 0L);
        }
        long p = g * gb;
        for (int e = 0; e < n; e += 256, p += BYTES) {
            for (int j = 0; j < 4; j++) {
                scales(p + j * gb, s, sm + (long) V * j, 4);
            }
            for (int sub = 0; sub < 16; sub++) {
                ShortVector s0 = ShortVector.zero(SR), s1 = s0, s2 = s0, s3 = s0;
                long q = p + QS + (long) V * 4 * sub;
                int k = po + (e >> 1) + 8 * sub;
                for (int u = 0; u < 8; u++) {
                    long o = q + 2L * ROWS * u;
                    ShortVector x = pair(xp[k + u]);
                    s0 = s0.add(widened(data, o).mul(x));
                    s1 = s1.add(widened(data, o + gb).mul(x));
                    s2 = s2.add(widened(data, o + 2 * gb).mul(x));
                    s3 = s3.add(widened(data, o + 3 * gb).mul(x));
                }
                s0.intoMemorySegment(s, 4L * V, ByteOrder.LITTLE_ENDIAN);
                s1.intoMemorySegment(s, 5L * V, ByteOrder.LITTLE_ENDIAN);
                s2.intoMemorySegment(s, 6L * V, ByteOrder.LITTLE_ENDIAN);
                s3.intoMemorySegment(s, 7L * V, ByteOrder.LITTLE_ENDIAN);
                float dx = act.scales[bo + (e >> 5) + (sub >> 1)];
                for (int j = 0; j < 4; j++) {
                    endSub(s, (long) V * j, (4L + j) * V, sm + (long) V * (4 * sub + j), dx);
                }
            }
        }
    }

    /** 2R bytes (one per 16-bit lane) from {@code p[offset ..]}, sign-extended. */
    private static ShortVector widened(MemorySegment p, long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(B2R, p, offset, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, SR, 0);
    }

    /** Two bytes per row: one for each 16-bit lane. */
    private static final VectorSpecies<Byte> B2R = VectorSpecies.of(byte.class, VectorShape.forBitSize(16 * ROWS));

    /** One token with row group g, in registers: its sums at s[at ..]. */
    @Override
    void dot1(int g, Int8Activations act, int t, MemorySegment s, long at) {
        MemorySegment data = this.data;
        int[] xp = act.pairs;
        float[] dxs = act.scales;
        int po = t * (n / 2);
        int bo = t * (n / 32);
        FloatVector acc = FloatVector.zero(FR);
        long p = g * groupBytes;
        for (int e = 0; e < n; e += 256, p += BYTES) {
            FloatVector d = floats(data, p);
            for (int sub = 0; sub < 16; sub++) {
                long q = p + QS + (long) V * 4 * sub;
                int k = po + (e >> 1) + 8 * sub;
                ShortVector s0 = ShortVector.zero(SR), s1 = s0;
                for (int u = 0; u < 8; u += 2) {
                    s0 = s0.add(widened(data, q + 2L * ROWS * u).mul(pair(xp[k + u])));
                    s1 = s1.add(widened(data, q + 2L * ROWS * (u + 1)).mul(pair(xp[k + u + 1])));
                }
                FloatVector sum = (FloatVector) pairSums(s0.add(s1).reinterpretAsInts()).convert(VectorOperators.I2F, 0);
                FloatVector dx = FloatVector.broadcast(FR, dxs[bo + (e >> 5) + (sub >> 1)]);
                acc = sum.fma(d.mul(signedBytes(data, p + V + ROWS * sub)).mul(dx), acc);
            }
        }
        acc.intoMemorySegment(s, at, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Four groups side by side for one token with 256-bit vectors, one group at a time with 512-bit ones. Measured, two
     * threads from memory (8192 × 2048): 256-bit, four side by side 8.9–9.3 GB/s per core against 7.7–8.5; 512-bit,
     * one at a time 15.5–17.1 against 14.0–14.9 (the 128,256-row output matrix 15.9–16.6 against 12.9–14.7).
     */
    @Override
    void oneToken(int g, int quad, Int8Activations a, int t, MemorySegment s) {
        if (quad == 4 && ROWS == 8) {
            dot4(g, a, t, s);
        } else {
            super.oneToken(g, quad, a, t, s);
        }
    }

    /** The super-block at {@code blk} of one row group as the floats q − 32 (exact), weight k of row i at float ROWS·k + i of s. */
    private void decodeUnscaled(long blk, MemorySegment s, long at) {
        long o = at;
        for (int c = 0; c < 128; c++, o += 2L * V) {
            // lane i: weights 2c (low byte) and 2c + 1 (high byte) of row i, sign-extended from 16 bits
            IntVector v = (IntVector) ShortVector.fromMemorySegment(SHORTS_R, data, blk + QS + 2L * ROWS * c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, IR, 0);
            ((FloatVector) v.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
                    .intoMemorySegment(s, o, ByteOrder.LITTLE_ENDIAN);
            ((FloatVector) v.lanewise(VectorOperators.ASHR, 8).convert(VectorOperators.I2F, 0)).intoMemorySegment(s, o + V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** One 16-bit lane per row. */
    private static final VectorSpecies<Short> SHORTS_R = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * ROWS));
}
