package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K interleaved, multiplied in integers: per row group (R = ROWS rows), per super-block of 256 weights,
 * vectors of V = 4R bytes.
 * <pre>
 * bytes 0 .. V              d of each row, f32, row i in lane i
 * bytes V .. 2V             −dmin of each row, f32
 * bytes 2V .. 2V + 8R       sc[s] of row i at 2V + R·s + i (6-bit sub-block scales, one byte each)
 * bytes 2V + 8R .. + 8R     mn[s] of row i at 2V + 8R + R·s + i (6-bit sub-block mins)
 * then 32 vectors           16-bit lanes; vector 4s + c, lane 2i + p holds weights 32s + 8c + 2m + p (m = 0..3)
 *                           of row i as the unsigned nibble q at bits 4m..4m+3; in the file, weight 32s + l is
 *                           nibble s % 2 (low, high) of qs[32·(s / 2) + l]
 * weight 32s + j = d·sc[s]·q − dmin·mn[s]
 * </pre>
 * Sub-blocks are 32 weights, the activations' quantization blocks ({@link Int8Activations}), so a sub-block's
 * Σ q·xq is exact in integers (as in {@link InterleavedQ4_0}) and its mins need only the block's Σ xq.
 *
 * <p><b>The canonical dot</b> per row and token: acc = 0, then for each sub-block s in order
 * acc = fma((float) Σ q·xq, (d·sc[s])·dx, acc) and acc = fma((float) Σ xq, (−dmin·mn[s])·dx, acc), where
 * d·sc[s] and −dmin·mn[s] are exact float products ({@link #referenceDot}).
 */
final class InterleavedQ4_K extends IntegerInterleaved {
    private static final int FILE_BYTES = 144;
    private static final int MINS = 2 * V + 8 * ROWS;
    private static final int QS = 2 * V + 16 * ROWS;
    private static final int BYTES = QS + 32 * V;

    InterleavedQ4_K(int rows, int n, MemorySegment data) {
        super(rows, n, (long) n / 256 * BYTES, data);
    }

    /** One-token sums of up to four groups. */
    @Override
    long scratchFloats() {
        return 4L * ROWS;
    }

    /** A super-block's scales and mins. */
    @Override
    long pieceFloats() {
        return 16L * ROWS;
    }

    /** Measured (8192 × 2048 from memory, one core): 4 tokens 2.6 → 1.5 ms, 8 3.3 → 2.4, 16 4.5 → 4.3; 32 7.5 with the tiles, 8.2 without. */
    @Override
    int tiledFrom() {
        return 24;
    }

    @Override
    long fileRowBytes() {
        return (long) n / 256 * FILE_BYTES;
    }

    @Override
    void packRow(byte[] row, byte[] group, int i) {
        for (int src = 0, dst = 0; src < row.length; src += FILE_BYTES, dst += BYTES) {
            putFloat(group, dst + 4 * i, getHalf(row, src));
            putFloat(group, dst + 4 * i + V, -getHalf(row, src + 2));
            int a0 = getInt(row, src + 4);
            int a1 = getInt(row, src + 8);
            int a2 = getInt(row, src + 12);
            for (int half = 0; half < 2; half++) {
                int sc = Blocks.scalesK4(a0, a2, half == 1);
                int mn = Blocks.minsK4(a1, a2, half == 1);
                for (int k = 0; k < 4; k++) {
                    group[dst + 2 * V + ROWS * (4 * half + k) + i] = (byte) Blocks.byteOf(sc, k);
                    group[dst + MINS + ROWS * (4 * half + k) + i] = (byte) Blocks.byteOf(mn, k);
                }
            }
            for (int sub = 0; sub < 8; sub++) {
                for (int c = 0; c < 4; c++) {
                    // byte j of v: the nibble of weight 32·sub + 8c + j
                    long v = (getLong(row, src + 16 + 32 * (sub >> 1) + 8 * c) >>> 4 * (sub & 1)) & 0x0F0F0F0F0F0F0F0FL;
                    int at = dst + QS + V * (4 * sub + c) + 4 * i;
                    putShort(group, at, evenNibbles(v));
                    putShort(group, at + 2, evenNibbles(v >>> 8));
                }
            }
        }
    }

    /** The canonical dot of row {@code row} of a Q4_K matrix in its file layout with {@code x[xOffset ..]}. */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset) {
        Int8Activations a = Int8Activations.of(java.util.Arrays.copyOfRange(x, xOffset, xOffset + n), 1, n);
        float acc = 0;
        for (int sb = 0; sb < n / 256; sb++) {
            long blk = ((long) row * (n / 256) + sb) * FILE_BYTES;
            float d = Float.float16ToFloat(file.get(ValueLayout.JAVA_SHORT_UNALIGNED, blk));
            float negDmin = -Float.float16ToFloat(file.get(ValueLayout.JAVA_SHORT_UNALIGNED, blk + 2));
            int a0 = file.get(ValueLayout.JAVA_INT_UNALIGNED, blk + 4);
            int a1 = file.get(ValueLayout.JAVA_INT_UNALIGNED, blk + 8);
            int a2 = file.get(ValueLayout.JAVA_INT_UNALIGNED, blk + 12);
            for (int sub = 0; sub < 8; sub++) {
                int sc = Blocks.byteOf(Blocks.scalesK4(a0, a2, sub >= 4), sub & 3);
                int mn = Blocks.byteOf(Blocks.minsK4(a1, a2, sub >= 4), sub & 3);
                int b = 8 * sb + sub;
                int sum = 0;
                for (int l = 0; l < 32; l++) {
                    int q = (file.get(ValueLayout.JAVA_BYTE, blk + 16 + 32 * (sub >> 1) + l) >> 4 * (sub & 1)) & 0xF;
                    int pair = a.pairs[(32 * b + l) >> 1];
                    sum += q * ((l & 1) == 0 ? (short) pair : pair >> 16);
                }
                float dx = a.scales[b];
                acc = Math.fma((float) sum, (d * sc) * dx, acc);
                acc = Math.fma((float) a.sums[b], (negDmin * mn) * dx, acc);
            }
        }
        return acc;
    }

    // --- the kernels ---

    @Override
    void decodePiece(int g, int k0, int len, MemorySegment d, long at) {
        long blk = g * groupBytes + (long) k0 / 256 * BYTES;
        decodeUnscaled(blk, d, at);
        scalesAndMins(blk, d, at + 4L * ROWS * 256, 2);
    }

    /**
     * Two groups' tiles in 16-bit integers: a 256-token product of 2048 × 2048 on one core (AVX-512) 87.1–92.9 GMAC/s against
     * 80.5–87.1 with the float tiles, 46.4–48.0 against 41.8–43.5 with 256-bit vectors.
     */
    @Override
    boolean shortTiles() {
        return true;
    }

    /** The super-blocks of the piece as 16-bit codes q, in {@link #decodeShorts}'s order, and their scales and mins after them. */
    @Override
    void decodeShorts(int g, int k0, int len, short[] w, int wAt, MemorySegment d, long at) {
        long blk = g * groupBytes + (long) k0 / 256 * BYTES;
        int o = wAt;
        for (int v4 = 0; v4 < 32; v4++) {
            ShortVector v = shorts(data, blk + QS + (long) V * v4);
            for (int m = 0; m < 4; m++, o += L16) {
                v.and(LOW).intoArray(w, o);
                v = v.lanewise(VectorOperators.LSHR, 4);
            }
        }
        scalesAndMins(blk, d, at + 4L * ROWS * 256, 2);
    }

    @Override
    void shortTile2(short[] w, int wSecond, MemorySegment d, long second, int g, int k0, int len, Int8Activations act, int t, long acc,
                    int tokens, MemorySegment sums) {
        shortSums(tokens, w, wSecond, k0, len, act.pairs, t, n, sums);
        long sc = 4L * ROWS * 256;
        scaleShortSums(sums, len / 32, 0, k0, d, sc, second + sc, 2L * V, true, act, t, tokens, d, acc);
    }

    @Override
    boolean sixTokenTiles() {
        return false; // its mins outgrow the registers (IntegerInterleaved.tile2x6): tile2 always gets four tokens
    }

    @Override
    void tile2(MemorySegment s, long second, int g, int k0, int len, Int8Activations act, int t, long acc, int tokens) {
        long sc = 4L * ROWS * 256;
        tile2x4(s, second, k0, len, 32, s, sc, second + sc, 2L * V, true, act, t, acc);
    }

    @Override
    void tile1x4(MemorySegment d, int g, int k0, int len, Int8Activations a, int t, long acc) {
        tile1x4(d, 0, k0, len, 32, d, 4L * ROWS * 256, 2 * V, true, a, t, acc);
    }

    /**
     * d·sc[sub] and −dmin·mn[sub] of the super-block at {@code blk} as vectors at s[at + V·(stride·sub) ..] and
     * s[at + V·(stride·sub + 1) ..]: one float product per lane, as {@link #dot1}'s vectors compute them (the same bits),
     * in scalars. Once per piece; as vectors, inlined into the decoding loop with 256-bit vectors, their byte-to-float
     * conversion was now and then left uncompiled and allocated 4 MB per 256-token product.
     */
    private void scalesAndMins(long blk, MemorySegment s, long at, int stride) {
        for (int sub = 0; sub < 8; sub++) {
            long o = at + (long) V * stride * sub;
            for (int i = 0; i < ROWS; i++) {
                float d = data.get(FLOAT, blk + 4L * i);
                float negDmin = data.get(FLOAT, blk + V + 4L * i);
                s.set(FLOAT, o + 4L * i, d * data.get(ValueLayout.JAVA_BYTE, blk + 2 * V + ROWS * sub + i));
                s.set(FLOAT, o + V + 4L * i, negDmin * data.get(ValueLayout.JAVA_BYTE, blk + MINS + ROWS * sub + i));
            }
        }
    }

    /**
     * One token with row group g: its sums at s[at ..]. The group is read in address order, a sub-block at a time, its
     * products summed in two 16-bit accumulators and its end (scale and min) taken into the sums in registers: one
     * stream per core with nothing in memory but the weights (four groups side by side, sub-block ends in memory,
     * streamed 11–12 GB/s per core from DRAM; this 15–21).
     */
    @Override
    void dot1(int g, Int8Activations act, int t, MemorySegment s, long at) {
        MemorySegment data = this.data;
        int[] xp = act.pairs;
        float[] dxs = act.scales;
        int[] sums = act.sums;
        int po = t * (n / 2);
        int bo = t * (n / 32);
        FloatVector acc = FloatVector.zero(FR);
        long p = g * groupBytes;
        for (int e = 0; e < n; e += 256, p += BYTES) {
            FloatVector d = floats(data, p);
            FloatVector negDmin = floats(data, p + V);
            for (int sub = 0; sub < 8; sub++) {
                FloatVector sum = (FloatVector) nibbleBlockSums(data, p + QS + (long) V * 4 * sub, xp, po + (e >> 1) + 16 * sub, null)
                        .convert(VectorOperators.I2F, 0);
                int b = bo + (e >> 5) + sub;
                // broadcasts made here, not by mul(float): that chain ran past the JIT's inlining depth and boxed
                FloatVector dx = FloatVector.broadcast(FR, dxs[b]);
                FloatVector xs = FloatVector.broadcast(FR, (float) sums[b]);
                FloatVector sc = signedBytes(data, p + 2 * V + ROWS * sub);
                FloatVector mn = signedBytes(data, p + MINS + ROWS * sub);
                acc = sum.fma(d.mul(sc).mul(dx), acc);
                acc = xs.fma(negDmin.mul(mn).mul(dx), acc);
            }
        }
        acc.intoMemorySegment(s, at, ByteOrder.LITTLE_ENDIAN);
    }

    /** The super-block at {@code blk} of one row group as the floats q (exact), weight k of row i at float ROWS·k + i of s. */
    private void decodeUnscaled(long blk, MemorySegment s, long at) {
        long o = at;
        for (int v4 = 0; v4 < 32; v4++) {
            ShortVector v = shorts(data, blk + QS + (long) V * v4);
            for (int m = 0; m < 4; m++, o += 2L * V) {
                IntVector w = v.and(LOW).reinterpretAsInts();
                v = v.lanewise(VectorOperators.LSHR, 4);
                ((FloatVector) w.and(0xFFFF).convert(VectorOperators.I2F, 0)).intoMemorySegment(s, o, ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) w.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0)).intoMemorySegment(s, o + V, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
