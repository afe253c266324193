package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q4_K interleaved: per row group (R = ROWS rows), per super-block of 256 weights, vectors of V = 4R bytes.
 * <pre>
 * bytes 0 .. V              d of each row, f32, row i in lane i
 * bytes V .. 2V             −dmin of each row, f32
 * bytes 2V .. 2V + 8R       sc[s] of row i at 2V + R·s + i (6-bit sub-block scales, one byte each)
 * bytes 2V + 8R .. + 8R     mn[s] of row i at 2V + 8R + R·s + i (6-bit sub-block mins)
 * then 32 vectors           vector 4s + w holds, in lane i, weights 32s + 8w .. + 7 of row i as nibbles
 *                           (weight 32s + 8w + j in bits 4j..4j+3); in the file, weight 32s + l is
 *                           nibble s % 2 (low, high) of qs[32·(s / 2) + l]
 * weight 32s + j = fma(nibble, d·sc[s], −dmin·mn[s]), as {@link Q4_K} computes it
 * </pre>
 */
final class InterleavedQ4_K extends FloatInterleaved {
    private static final int FILE_BYTES = 144;
    private static final int MINS = 2 * V + 8 * ROWS;
    private static final int QS = 2 * V + 16 * ROWS;
    private static final int BYTES = QS + 32 * V;

    InterleavedQ4_K(int rows, int n) {
        super(rows, n, (long) n / 256 * BYTES);
    }

    @Override
    int piece() {
        return 256;
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
            for (int v = 0; v < 32; v++) {
                int sub = v >> 2;
                long bytes = getLong(row, src + 16 + 32 * (sub >> 1) + 8 * (v & 3));
                putInt(group, dst + 4 * i + QS + V * v, nibbles(bytes, 4 * (sub & 1)));
            }
        }
    }

    @Override
    void decode(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 256 * BYTES;
        for (int e = 0; e < len; e += 256, blk += BYTES) {
            FloatVector d = floats(data, blk);
            FloatVector negDmin = floats(data, blk + V);
            for (int sub = 0; sub < 8; sub++) {
                FloatVector scale = d.mul(signedBytes(data, blk + 2 * V + ROWS * sub));
                FloatVector negMin = negDmin.mul(signedBytes(data, blk + MINS + ROWS * sub));
                long o = offset + (long) V * (e + 32 * sub);
                for (int w = 0; w < 4; w++) {
                    IntVector v = ints(data, blk + QS + V * (4 * sub + w));
                    for (int j = 0; j < 8; j++) {
                        unsignedNibble(v, 28 - 4 * j).fma(scale, negMin).intoMemorySegment(s, o + (long) V * (8 * w + j), ByteOrder.LITTLE_ENDIAN);
                    }
                }
            }
        }
    }

    /**
     * The one-token tile fused: four row groups from g, weights decoded in registers, k in order. Each
     * super-block's scales and mins (d·sc, −dmin·mn) for the four groups are computed first into
     * {@code s[acc + 4V ..]}, and each sub-block is its own call with the accumulators in memory between
     * calls: as one method (scales in the loop, or read back, over all sub-blocks) it outgrew what the JIT
     * compiles and its vectors were boxed (113–344 MB per 4096² product).
     */
    @Override
    void dot4(int g, float[] x, int xo, MemorySegment s, long acc) {
        long sm = acc + 4 * V;
        s.asSlice(acc, 4L * V).fill((byte) 0);
        long p = g * groupBytes;
        for (int e = 0; e < n; e += 256, p += BYTES) {
            scalesAndMins(p, s, sm);
            for (int sub = 0; sub < 8; sub++) {
                subBlock(p + QS + 4L * V * sub, x, xo + e + 32 * sub, s, acc, sm + 8L * V * sub);
            }
        }
    }

    /** 32 weights of four row groups (their nibble vectors from q, groupBytes apart), scales and mins at {@code s[at ..]}. */
    private void subBlock(long q, float[] x, int xo, MemorySegment s, long acc, long at) {
        long gb = groupBytes;
        FloatVector a0 = floats(s, acc), a1 = floats(s, acc + V), a2 = floats(s, acc + 2 * V), a3 = floats(s, acc + 3 * V);
        FloatVector s0 = floats(s, at), m0 = floats(s, at + V), s1 = floats(s, at + 2 * V), m1 = floats(s, at + 3 * V);
        FloatVector s2 = floats(s, at + 4 * V), m2 = floats(s, at + 5 * V), s3 = floats(s, at + 6 * V), m3 = floats(s, at + 7 * V);
        for (int w = 0; w < 4; w++) {
            long o = q + (long) V * w;
            IntVector v0 = ints(data, o), v1 = ints(data, o + gb), v2 = ints(data, o + 2 * gb), v3 = ints(data, o + 3 * gb);
            for (int j = 0; j < 8; j++) {
                FloatVector xv = x(x, xo + 8 * w + j);
                int shl = 28 - 4 * j;
                a0 = unsignedNibble(v0, shl).fma(s0, m0).fma(xv, a0);
                a1 = unsignedNibble(v1, shl).fma(s1, m1).fma(xv, a1);
                a2 = unsignedNibble(v2, shl).fma(s2, m2).fma(xv, a2);
                a3 = unsignedNibble(v3, shl).fma(s3, m3).fma(xv, a3);
            }
        }
        storeAll(s, acc, a0, a1, a2, a3);
    }

    /** d·sc[sub] and −dmin·mn[sub] of groups j = 0..3 of the super-block at p, at {@code s[at + V·(8·sub + 2j) ..]}. */
    private void scalesAndMins(long p, MemorySegment s, long at) {
        for (int j = 0; j < 4; j++) {
            long b = p + j * groupBytes;
            FloatVector d = floats(data, b);
            FloatVector negDmin = floats(data, b + V);
            for (int sub = 0; sub < 8; sub++) {
                long o = at + (long) V * (8 * sub + 2 * j);
                d.mul(signedBytes(data, b + 2 * V + ROWS * sub)).intoMemorySegment(s, o, ByteOrder.LITTLE_ENDIAN);
                negDmin.mul(signedBytes(data, b + MINS + ROWS * sub)).intoMemorySegment(s, o + V, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
