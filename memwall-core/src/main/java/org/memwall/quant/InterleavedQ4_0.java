package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0 interleaved, multiplied in integers: per row group, per block of 32 weights, five vectors of V = 4·ROWS bytes.
 * <pre>
 * vector 0        d of each row, f32 (the file's f16 widened), row i in lane i
 * vectors 1..4    16-bit lanes; vector 1 + c, lane 2i + p holds weights 8c + 2m + p (m = 0..3) of row i,
 *                 weight 8c + 2m + p as the unsigned nibble q at bits 4m..4m+3
 * weight j of row i is, as in the file, the low nibble of qs[j] (j &lt; 16) or the high nibble of qs[j − 16]
 * weight = d · (q − 8)
 * </pre>
 * The activations come quantized to int8 per block ({@link Int8Activations}): a 16-bit lane multiplies its
 * nibble by the activation of its k (a broadcast pair of activations serves the even and the odd lanes) and
 * adds the product to its block sum; a block's 16 products per lane stay within 16 bits (|q·xq| ≤ 15·127,
 * 16 · 1905 &lt; 32768). At the end of a block the lane pairs are added in 32 bits, which gives row i's exact
 * Σ q·xq, and 8·Σxq is subtracted.
 *
 * <p><b>The canonical dot</b> of this format, per row and token: acc = 0, then for each block b in order
 * acc = fma((float) (Σ_k q_k·xq_k − 8·Σ_k xq_k), d · dx_b, acc) ({@link #referenceDot}). The integer sums are
 * exact in any order, so every tile shape gives the same bits.
 */
final class InterleavedQ4_0 extends IntegerInterleaved {
    private static final int FILE_BYTES = 18;
    private static final int BYTES = 5 * V;

    InterleavedQ4_0(int rows, int n) {
        super(rows, n, (long) n / 32 * BYTES);
    }

    @Override
    long fileRowBytes() {
        return (long) n / 32 * FILE_BYTES;
    }

    @Override
    long scratchFloats() {
        return 4L * ROWS;
    }

    @Override
    long pieceFloats() {
        return 0;
    }

    @Override
    void packRow(byte[] row, byte[] group, int i) {
        for (int src = 0, dst = 0; src < row.length; src += FILE_BYTES, dst += BYTES) {
            putFloat(group, dst + 4 * i, getHalf(row, src));
            for (int c = 0; c < 4; c++) {
                // byte j of v: the nibble of weight 8c + j (low nibbles of qs[0..15] are weights 0..15, high ones 16..31)
                long v = (getLong(row, src + 2 + 8 * (c & 1)) >>> 4 * (c >> 1)) & 0x0F0F0F0F0F0F0F0FL;
                int at = dst + V * (1 + c) + 4 * i;
                putShort(group, at, evenNibbles(v));
                putShort(group, at + 2, evenNibbles(v >>> 8));
            }
        }
    }



    /** The canonical dot of row {@code row} of a Q4_0 matrix in its file layout with {@code x[xOffset ..]}. */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset) {
        float[] xs = java.util.Arrays.copyOfRange(x, xOffset, xOffset + n);
        Int8Activations a = Int8Activations.of(xs, 1, n);
        float acc = 0;
        long base = (long) row * (n / 32) * FILE_BYTES;
        for (int b = 0; b < n / 32; b++) {
            long blk = base + (long) b * FILE_BYTES;
            float d = Float.float16ToFloat(file.get(ValueLayout.JAVA_SHORT_UNALIGNED, blk));
            int sum = 0;
            for (int k = 0; k < 32; k++) {
                int qs = file.get(ValueLayout.JAVA_BYTE, blk + 2 + (k & 15));
                int q = k < 16 ? qs & 0xF : (qs >> 4) & 0xF;
                int pair = a.pairs[(32 * b + k) >> 1];
                sum += q * ((k & 1) == 0 ? (short) pair : pair >> 16);
            }
            acc = Math.fma((float) (sum - 8 * a.sums[b]), d * a.scales[b], acc);
        }
        return acc;
    }

    // --- the kernels ---




    @Override
    void decodePiece(int g, int k0, int len, MemorySegment d, long at) {
        decodeUnscaled(g, k0, len, d, at);
    }

    @Override
    void tile2x4(MemorySegment s, long second, int g, int k0, int len, Int8Activations act, int t, long acc) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        tile2x4(s, second, k0, len, 32, data, blk, blk + groupBytes, BYTES, false, act, t, acc);
    }

    @Override
    void tile1x4(MemorySegment d, int g, int k0, int len, Int8Activations a, int t, long acc) {
        tile1x4(d, 0, k0, len, 32, data, g * groupBytes + (long) k0 / 32 * BYTES, BYTES, false, a, t, acc);
    }

    /**
     * Weights [k0, k0 + len) of row group g as the floats q − 8 (exact), interleaved: weight k of row i at float
     * ROWS·(k − k0) + i of {@code s[offset ..]}.
     */
    private void decodeUnscaled(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        long o = offset;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            for (int c = 0; c < 4; c++) {
                ShortVector v = shorts(data, blk + V + V * c);
                for (int m = 0; m < 4; m++, o += 2L * V) {
                    IntVector w = v.and(LOW).reinterpretAsInts();
                    v = v.lanewise(VectorOperators.LSHR, 4);
                    ((FloatVector) w.and(0xFFFF).convert(VectorOperators.I2F, 0)).sub(8f).intoMemorySegment(s, o, ByteOrder.LITTLE_ENDIAN);
                    ((FloatVector) w.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0)).sub(8f)
                            .intoMemorySegment(s, o + V, ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
    }

    /**
     * One token with row group g: its sums at s[at ..]. The group is read in address order, one block at a time, each
     * block's products summed in two 16-bit accumulators and its end scaled into the sums in registers: one stream per
     * core with nothing in memory but the weights (four groups side by side, block ends in memory, streamed 14–18 GB/s
     * per core from DRAM; this 15–24).
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
        for (int b = 0; b < n / 32; b++, p += BYTES) {
            FloatVector sum = (FloatVector) nibbleBlockSums(data, p + V, xp, po + 16 * b).sub(8 * sums[bo + b]).convert(VectorOperators.I2F, 0);
            acc = sum.fma(floats(data, p).mul(dxs[bo + b]), acc);
        }
        acc.intoMemorySegment(s, at, ByteOrder.LITTLE_ENDIAN);
    }
}
