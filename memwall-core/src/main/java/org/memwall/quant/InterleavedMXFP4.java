package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * MXFP4 interleaved, multiplied in integers: Q4_0's layout with the block's E8M0 exponent widened to its scale.
 * <pre>
 * vector 0        2^(e − 128) of each row, f32, row i in lane i ({@link MXFP4}: the E2M1 values doubled)
 * vectors 1..4    16-bit lanes; vector 1 + c, lane 2i + p holds the E2M1 codes of weights 8c + 2m + p (m = 0..3) of row
 *                 i, weight 8c + 2m + p's at bits 4m..4m+3 (the file's nibbles, as Q4_0 holds them)
 * weight = scale · F[code], F the doubled E2M1 values (integers −12..12)
 * </pre>
 * A 16-bit lane looks its code up in F (a permutation of one vector of lanes), multiplies by its activation and adds
 * the product to the block's sum: 16 products per lane stay within 16 bits (12 · 127 · 16 &lt; 32768).
 *
 * <p><b>The canonical dot</b> per row and token: acc = 0, then for each block b in order
 * acc = fma((float) Σ F[code_k]·xq_k, scale · dx_b, acc) ({@link #referenceDot}).
 */
final class InterleavedMXFP4 extends IntegerInterleaved {
    private static final int FILE_BYTES = 17;
    private static final int BYTES = 5 * V;
    /** The doubled E2M1 values by code, in the first 16 lanes (and again in the next 16, if there are). */
    private static final ShortVector VALUES = ShortVector.fromArray(SR, values(), 0);

    private static short[] values() {
        short[] v = new short[SR.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = MXFP4.E2M1X2[i & 15];
        }
        return v;
    }

    InterleavedMXFP4(int rows, int n) {
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
            putFloat(group, dst + 4 * i, MXFP4.scale(row[src] & 0xFF));
            for (int c = 0; c < 4; c++) {
                // byte j of v: the code of weight 8c + j (low nibbles of qs[0..15] are weights 0..15, high ones 16..31)
                long v = (getLong(row, src + 1 + 8 * (c & 1)) >>> 4 * (c >> 1)) & 0x0F0F0F0F0F0F0F0FL;
                int at = dst + V * (1 + c) + 4 * i;
                putShort(group, at, evenNibbles(v));
                putShort(group, at + 2, evenNibbles(v >>> 8));
            }
        }
    }

    /** The canonical dot of row {@code row} of an MXFP4 matrix in its file layout with {@code x[xOffset ..]}. */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset) {
        Int8Activations a = Int8Activations.of(java.util.Arrays.copyOfRange(x, xOffset, xOffset + n), 1, n);
        float acc = 0;
        long base = (long) row * (n / 32) * FILE_BYTES;
        for (int b = 0; b < n / 32; b++) {
            long blk = base + (long) b * FILE_BYTES;
            float d = MXFP4.scale(file.get(ValueLayout.JAVA_BYTE, blk) & 0xFF);
            int sum = 0;
            for (int k = 0; k < 32; k++) {
                int qs = file.get(ValueLayout.JAVA_BYTE, blk + 1 + (k & 15));
                int code = k < 16 ? qs & 0xF : (qs >> 4) & 0xF;
                int pair = a.pairs[(32 * b + k) >> 1];
                sum += MXFP4.E2M1X2[code] * ((k & 1) == 0 ? (short) pair : pair >> 16);
            }
            acc = Math.fma((float) sum, d * a.scales[b], acc);
        }
        return acc;
    }

    // --- the kernels ---

    @Override
    void decodePiece(int g, int k0, int len, MemorySegment d, long at) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        long o = at;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            for (int c = 0; c < 4; c++) {
                ShortVector v = shorts(data, blk + V + V * c);
                for (int m = 0; m < 4; m++, o += 2L * V) {
                    IntVector w = v.and(LOW).selectFrom(VALUES).reinterpretAsInts();
                    v = v.lanewise(VectorOperators.LSHR, 4);
                    ((FloatVector) w.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                            .intoMemorySegment(d, o, ByteOrder.LITTLE_ENDIAN);
                    ((FloatVector) w.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).intoMemorySegment(d, o + V, ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
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
     * The exact Σ F[code]·xq of each row of a block (its code vectors at {@code data[q ..]}) with the activation pairs
     * xp[xi ..], row i in int lane i: as {@link #nibbleBlockSums}, each code looked up first.
     */
    private static IntVector blockSums(MemorySegment data, long q, int[] xp, int xi) {
        ShortVector v0 = shorts(data, q), v1 = shorts(data, q + V), v2 = shorts(data, q + 2 * V), v3 = shorts(data, q + 3 * V);
        ShortVector s0 = ShortVector.zero(SR), s1 = s0;
        for (int m = 0; m < 4; m++) {
            s0 = s0.add(v0.and(LOW).selectFrom(VALUES).mul(pair(xp[xi + m])));
            s1 = s1.add(v1.and(LOW).selectFrom(VALUES).mul(pair(xp[xi + 4 + m])));
            s0 = s0.add(v2.and(LOW).selectFrom(VALUES).mul(pair(xp[xi + 8 + m])));
            s1 = s1.add(v3.and(LOW).selectFrom(VALUES).mul(pair(xp[xi + 12 + m])));
            v0 = v0.lanewise(VectorOperators.LSHR, 4);
            v1 = v1.lanewise(VectorOperators.LSHR, 4);
            v2 = v2.lanewise(VectorOperators.LSHR, 4);
            v3 = v3.lanewise(VectorOperators.LSHR, 4);
        }
        IntVector iv = s0.add(s1).reinterpretAsInts();
        return iv.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(iv.lanewise(VectorOperators.ASHR, 16));
    }

    /** One token with row group g, read in address order, block ends in registers (as Q4_0's): its sums at s[at ..]. */
    @Override
    void dot1(int g, Int8Activations act, int t, MemorySegment s, long at) {
        MemorySegment data = this.data;
        int[] xp = act.pairs;
        float[] dxs = act.scales;
        int po = t * (n / 2);
        int bo = t * (n / 32);
        FloatVector acc = FloatVector.zero(FR);
        long p = g * groupBytes;
        for (int b = 0; b < n / 32; b++, p += BYTES) {
            FloatVector sum = (FloatVector) blockSums(data, p + V, xp, po + 16 * b).convert(VectorOperators.I2F, 0);
            acc = sum.fma(floats(data, p).mul(dxs[bo + b]), acc);
        }
        acc.intoMemorySegment(s, at, ByteOrder.LITTLE_ENDIAN);
    }
}
