package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 interleaved, multiplied in integers: per row group (R = ROWS rows), per block of 32 weights, nine vectors of
 * V = 4R bytes.
 * <pre>
 * bytes 0 .. V          d of each row, f32 (the file's f16 widened), row i in lane i
 * then 16 chunks of 2R  chunk u (at V + 2R·u) holds at byte 2i + p weight 2u + p of row i, the file's int8 q
 * weight = d · q
 * </pre>
 * A chunk widens in one sign-extending load to 16-bit lanes, lanes 2i and 2i + 1 holding row i's weights 2u and
 * 2u + 1, which a broadcast pair of activations ({@link Int8Activations}) multiplies: |q·xq| ≤ 128·127, so each
 * product and the sum of a lane pair fit 16 bits, and one shift and one add give that pair sum in 32 bits.
 *
 * <p>One token walks one row group at a time, its 64-byte lines in address order: a single stream that the
 * hardware prefetches well (about 25 GB/s from DRAM on one Zen 5 core, where four groups read side by side, four
 * streams, reached about 15). The float activations of the earlier copy needed its weights in that order too, but
 * then a sequential dot forced one group per accumulator chain; integer sums are exact in any order.
 *
 * <p><b>The canonical dot</b> per row and token: acc = 0, then for each block b in order
 * acc = fma((float) Σ_k q_k·xq_k, d · dx_b, acc) ({@link #referenceDot}), as llama.cpp multiplies Q8_0 on the CPU.
 */
final class InterleavedQ8_0 extends IntegerInterleaved {
    private static final int FILE_BYTES = 34;
    private static final int BYTES = 9 * V;

    InterleavedQ8_0(int rows, int n) {
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
            for (int k = 0; k < 32; k++) {
                group[dst + V + 2 * ROWS * (k >> 1) + 2 * i + (k & 1)] = row[src + 2 + k];
            }
        }
    }

    /** The canonical dot of row {@code row} of a Q8_0 matrix in its file layout with {@code x[xOffset ..]}. */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset) {
        Int8Activations a = Int8Activations.of(java.util.Arrays.copyOfRange(x, xOffset, xOffset + n), 1, n);
        float acc = 0;
        long base = (long) row * (n / 32) * FILE_BYTES;
        for (int b = 0; b < n / 32; b++) {
            long blk = base + (long) b * FILE_BYTES;
            float d = Float.float16ToFloat(file.get(ValueLayout.JAVA_SHORT_UNALIGNED, blk));
            int sum = 0;
            for (int k = 0; k < 32; k++) {
                int pair = a.pairs[(32 * b + k) >> 1];
                sum += file.get(ValueLayout.JAVA_BYTE, blk + 2 + k) * ((k & 1) == 0 ? (short) pair : pair >> 16);
            }
            acc = Math.fma((float) sum, d * a.scales[b], acc);
        }
        return acc;
    }

    // --- the kernels ---

    /** Four row groups from g, one after the other (see the class comment): their sums at s[0 .. 4V). */
    @Override
    void dot4(int g, Int8Activations act, int t, MemorySegment s) {
        for (int j = 0; j < 4; j++) {
            dot1(g + j, act, t, s, (long) V * j);
        }
    }

    @Override
    void dot1(int g, Int8Activations act, int t, MemorySegment s, long at) {
        MemorySegment data = this.data;
        int[] xp = act.pairs;
        float[] dx = act.scales;
        int po = t * (n / 2);
        int bo = t * (n / 32);
        FloatVector acc = FloatVector.zero(FR);
        long p = g * groupBytes;
        for (int b = 0; b < n / 32; b++, p += BYTES) {
            IntVector i0 = IntVector.zero(IR), i1 = i0;
            int k = po + 16 * b;
            for (int u = 0; u < 16; u += 2) {
                IntVector p0 = widened(data, p + V + 2L * ROWS * u).mul(pair(xp[k + u])).reinterpretAsInts();
                IntVector p1 = widened(data, p + V + 2L * ROWS * (u + 1)).mul(pair(xp[k + u + 1])).reinterpretAsInts();
                // the high half of p + (p << 16) is the lane pair's sum (no carry comes from the low half, which adds 0)
                i0 = i0.add(p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
                i1 = i1.add(p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
            }
            acc = ((FloatVector) i0.add(i1).convert(VectorOperators.I2F, 0)).fma(floats(data, p).mul(dx[bo + b]), acc);
        }
        acc.intoMemorySegment(s, at, ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    void decodePiece(int g, int k0, int len, MemorySegment d, long at) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            decodePairs(blk + V, 16, d, at + (long) V * e);
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
}
