package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q8_0 interleaved: per row group, per block of 32 weights, nine vectors of V = 4·ROWS bytes.
 * <pre>
 * vector 0        d of each row, f32 (the file's f16 widened), row i in lane i
 * vectors 1..8    v[w] holds, in lane i, int8 weights 4w..4w+3 of row i
 * weight = d · q
 * </pre>
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
        for (int src = 0, dst = 4 * i; src < row.length; src += FILE_BYTES, dst += BYTES) {
            putFloat(group, dst, getHalf(row, src));
            for (int w = 0; w < 8; w++) {
                putInt(group, dst + V + V * w, getInt(row, src + 2 + 4 * w));
            }
        }
    }

    @Override
    void decode(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            FloatVector d = floats(data, blk);
            long o = offset + (long) V * e;
            for (int w = 0; w < 8; w++) {
                IntVector v = ints(data, blk + V + V * w);
                for (int i = 0; i < 4; i++) {
                    int8(v, 24 - 8 * i).mul(d).intoMemorySegment(s, o + (long) V * (4 * w + i), ByteOrder.LITTLE_ENDIAN);
                }
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
            for (int w = 0; w < 8; w++) {
                long q = p + V + V * w;
                IntVector v0 = ints(data, q), v1 = ints(data, q + gb), v2 = ints(data, q + 2 * gb), v3 = ints(data, q + 3 * gb);
                for (int i = 0; i < 4; i++) {
                    FloatVector xv = x(x, xo + e + 4 * w + i);
                    int shl = 24 - 8 * i;
                    a0 = int8(v0, shl).mul(d0).fma(xv, a0);
                    a1 = int8(v1, shl).mul(d1).fma(xv, a1);
                    a2 = int8(v2, shl).mul(d2).fma(xv, a2);
                    a3 = int8(v3, shl).mul(d3).fma(xv, a3);
                }
            }
        }
        storeAll(s, acc, a0, a1, a2, a3);
    }
}
