package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q4_0 interleaved: per row group, per block of 32 weights, five vectors of V = 4·ROWS bytes.
 * <pre>
 * vector 0        d of each row, f32 (the file's f16 widened), row i in lane i
 * vectors 1..4    v[w] holds, in lane i, weights 8w..8w+7 of row i as nibbles
 *                 (weight 8w + j in bits 4j..4j+3), each nibble XOR 8: sign-extended, that is nibble − 8
 * weight j of row i is, as in the file, the low nibble of qs[j] (j &lt; 16) or the high nibble of qs[j − 16]
 * weight = d · (nibble − 8)
 * </pre>
 */
final class InterleavedQ4_0 extends Interleaved {
    private static final int FILE_BYTES = 18;
    private static final int BYTES = 5 * V;

    InterleavedQ4_0(int rows, int n) {
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
            for (int w = 0; w < 4; w++) {
                // weights 8w .. 8w + 7: low nibbles of qs[0..7], qs[8..15], then high nibbles of the same
                putInt(group, dst + V + V * w, nibbles(getLong(row, src + 2 + 8 * (w & 1)), 4 * (w >> 1)) ^ 0x88888888);
            }
        }
    }

    @Override
    void decode(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            FloatVector d = floats(data, blk);
            long o = offset + (long) V * e;
            for (int w = 0; w < 4; w++) {
                IntVector v = ints(data, blk + V + V * w);
                for (int j = 0; j < 8; j++) {
                    nibble(v, 28 - 4 * j).mul(d).intoMemorySegment(s, o + (long) V * (8 * w + j), ByteOrder.LITTLE_ENDIAN);
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
            for (int w = 0; w < 4; w++) {
                long q = p + V + V * w;
                IntVector v0 = ints(data, q), v1 = ints(data, q + gb), v2 = ints(data, q + 2 * gb), v3 = ints(data, q + 3 * gb);
                for (int j = 0; j < 8; j++) {
                    FloatVector xv = x(x, xo + e + 8 * w + j);
                    int shl = 28 - 4 * j;
                    a0 = nibble(v0, shl).mul(d0).fma(xv, a0);
                    a1 = nibble(v1, shl).mul(d1).fma(xv, a1);
                    a2 = nibble(v2, shl).mul(d2).fma(xv, a2);
                    a3 = nibble(v3, shl).mul(d3).fma(xv, a3);
                }
            }
        }
        storeAll(s, acc, a0, a1, a2, a3);
    }
}
