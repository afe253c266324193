package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * Q8_0 interleaved: per row group, per block of 32 weights, nine vectors of V = 4·ROWS bytes.
 * <pre>
 * bytes 0 .. V                d of each row, f32 (the file's f16 widened), row i in lane i
 * bytes V + R·k .. V + R·k + R  weight k of each row, int8, row i at byte i (R = ROWS)
 * weight = d · q
 * </pre>
 * One weight of a group is one load widened from bytes to floats (two operations, where four int8 weights
 * per 32-bit lane needed a shift left, a shift right and a conversion each).
 */
final class InterleavedQ8_0 extends FloatInterleaved {
    private static final int FILE_BYTES = 34;
    private static final int BYTES = 9 * V;

    InterleavedQ8_0(int rows, int n) {
        super(rows, n, (long) n / 32 * BYTES);
    }

    @Override
    int piece() {
        return 128;
    }

    @Override
    long fileRowBytes() {
        return (long) n / 32 * FILE_BYTES;
    }

    @Override
    void packRow(byte[] row, byte[] group, int i) {
        for (int src = 0, dst = 0; src < row.length; src += FILE_BYTES, dst += BYTES) {
            putFloat(group, dst + 4 * i, getHalf(row, src));
            for (int k = 0; k < 32; k++) {
                group[dst + V + ROWS * k + i] = row[src + 2 + k];
            }
        }
    }

    @Override
    void decode(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            FloatVector d = floats(data, blk);
            long o = offset + (long) V * e;
            for (int k = 0; k < 32; k++) {
                signedBytes(data, blk + V + ROWS * k).mul(d).intoMemorySegment(s, o + (long) V * k, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }

    /** The one-token tile fused: four row groups from g, weights decoded in registers, k in order. */
    @Override
    void dot4(int g, float[] x, int xo, MemorySegment s, long acc) {
        long gb = groupBytes;
        FloatVector a0 = FloatVector.zero(FR), a1 = a0, a2 = a0, a3 = a0;
        long p = g * gb;
        for (int e = 0; e < n; e += 32, p += BYTES) {
            FloatVector d0 = floats(data, p), d1 = floats(data, p + gb), d2 = floats(data, p + 2 * gb), d3 = floats(data, p + 3 * gb);
            for (int k = 0; k < 32; k++) {
                long q = p + V + ROWS * k;
                FloatVector xv = x(x, xo + e + k);
                a0 = signedBytes(data, q).mul(d0).fma(xv, a0);
                a1 = signedBytes(data, q + gb).mul(d1).fma(xv, a1);
                a2 = signedBytes(data, q + 2 * gb).mul(d2).fma(xv, a2);
                a3 = signedBytes(data, q + 3 * gb).mul(d3).fma(xv, a3);
            }
        }
        storeAll(s, acc, a0, a1, a2, a3);
    }
}
