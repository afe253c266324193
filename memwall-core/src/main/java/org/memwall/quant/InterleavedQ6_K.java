package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q6_K interleaved: per row group (R = ROWS rows), per super-block of 256 weights, vectors of V = 4R bytes; the 6-bit values are
 * widened to bytes (8.6 bits per weight instead of 6.6: one shift pair per weight vector instead of
 * reassembling two bit fields).
 * <pre>
 * bytes 0 .. V          d of each row, f32, row i in lane i
 * bytes V .. V + 16R    sc[s] of row i at V + R·s + i (int8 scales of the 16 sub-blocks of 16)
 * then 64 vectors       vector w holds, in lane i, weights 4w..4w+3 of row i, one per
 *                   byte as (q ^ 32) &lt;&lt; 2: its top six bits, sign-extended, are q − 32
 * weight k = (q − 32) · (d · sc[k / 16]), as {@link Q6_K} computes it
 * </pre>
 */
final class InterleavedQ6_K extends Interleaved {
    private static final int FILE_BYTES = 210;
    private static final int QS = V + 16 * ROWS;
    private static final int BYTES = QS + 64 * V;

    InterleavedQ6_K(int rows, int n) {
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
            putFloat(group, dst + 4 * i, getHalf(row, src + 208));
            for (int sub = 0; sub < 16; sub++) {
                group[dst + V + ROWS * sub + i] = row[src + 192 + sub];
            }
            for (int w = 0; w < 64; w++) {
                // weights 4w .. 4w + 3 = 128h + 32t + l .. + 3 in the file's order (see Q6_K)
                int h = w >> 5;
                int t = (w >> 3) & 3;
                int l = 4 * (w & 7);
                int low = (getInt(row, src + 64 * h + l + 32 * (t & 1)) >>> (4 * (t >> 1))) & 0x0F0F0F0F;
                int high = (getInt(row, src + 128 + 32 * h + l) >>> (2 * t)) & 0x03030303;
                putInt(group, dst + 4 * i + QS + V * w, ((low | high << 4) ^ 0x20202020) << 2);
            }
        }
    }

    @Override
    void decode(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 256 * BYTES;
        for (int e = 0; e < len; e += 256, blk += BYTES) {
            FloatVector d = floats(data, blk);
            for (int sub = 0; sub < 16; sub++) {
                FloatVector scale = d.mul(signedBytes(data, blk + V + ROWS * sub));
                long o = offset + 4L * ROWS * (e + 16 * sub);
                for (int w = 0; w < 4; w++) {
                    IntVector v = ints(data, blk + QS + V * (4 * sub + w));
                    for (int i = 0; i < 4; i++) {
                        int6(v, 24 - 8 * i).mul(scale).intoMemorySegment(s, o + (long) V * (4 * w + i), ByteOrder.LITTLE_ENDIAN);
                    }
                }
            }
        }
    }

    /**
     * The one-token tile fused: four row groups from g, weights decoded in registers, k in order. Each
     * super-block's scales d·sc for the four groups are computed first into {@code s[acc + 4V ..]} (with
     * them in the loop its vectors were boxed, as in {@link InterleavedQ4_K#dot4}).
     */
    @Override
    void dot4(int g, float[] x, int xo, MemorySegment s, long acc) {
        long gb = groupBytes;
        long sm = acc + 4 * V;
        FloatVector a0 = FloatVector.zero(FR), a1 = a0, a2 = a0, a3 = a0;
        long p = g * gb;
        for (int e = 0; e < n; e += 256, p += BYTES) {
            scales(p, s, sm);
            for (int sub = 0; sub < 16; sub++) {
                long at = sm + 4L * V * sub;
                for (int w = 0; w < 4; w++) {
                    long q = p + QS + V * (4 * sub + w);
                    IntVector v0 = ints(data, q), v1 = ints(data, q + gb), v2 = ints(data, q + 2 * gb), v3 = ints(data, q + 3 * gb);
                    for (int i = 0; i < 4; i++) {
                        FloatVector xv = x(x, xo + e + 16 * sub + 4 * w + i);
                        int shl = 24 - 8 * i;
                        a0 = int6(v0, shl).mul(floats(s, at)).fma(xv, a0);
                        a1 = int6(v1, shl).mul(floats(s, at + V)).fma(xv, a1);
                        a2 = int6(v2, shl).mul(floats(s, at + 2 * V)).fma(xv, a2);
                        a3 = int6(v3, shl).mul(floats(s, at + 3 * V)).fma(xv, a3);
                    }
                }
            }
        }
        storeAll(s, acc, a0, a1, a2, a3);
    }

    /** d·sc[sub] of groups j = 0..3 of the super-block at p, at {@code s[at + V·(4·sub + j) ..]}. */
    private void scales(long p, MemorySegment s, long at) {
        for (int j = 0; j < 4; j++) {
            long b = p + j * groupBytes;
            FloatVector d = floats(data, b);
            for (int sub = 0; sub < 16; sub++) {
                d.mul(signedBytes(data, b + V + ROWS * sub)).intoMemorySegment(s, at + (long) V * (4 * sub + j), ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
