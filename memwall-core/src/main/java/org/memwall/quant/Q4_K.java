package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import org.memwall.gguf.GgmlType;

/**
 * Q4_K: 256 weights in 144 bytes, eight sub-blocks of 32 with their own 6-bit scale and min.
 * <pre>
 * bytes 0..1     d           f16 super-scale of the sub-block scales
 * bytes 2..3     dmin        f16 super-scale of the sub-block mins
 * bytes 4..15    scales[12]  sc[s], mn[s] for s = 0..7, 6 bits each (see {@link Blocks#scalesK4})
 * bytes 16..143  qs[128]     four chunks c of 32 bytes: weights 64c..64c+31 (sub-block 2c) in the low
 *                            nibbles, weights 64c+32..64c+63 (sub-block 2c+1) in the high nibbles
 * weight = d·sc[s] · nibble − dmin·mn[s]   (weights 32s..32s+31 form sub-block s), computed as one
 *          fused multiply-add, as llama.cpp's x86 builds compute it
 * </pre>
 */
public final class Q4_K implements QuantFormat {
    private static final int BLOCK = 256;
    /** Per-thread room for a block's scales and mins: the kernels run once per row, allocating nothing. */
    private static final ThreadBuffer SCALES = new ThreadBuffer();

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        dequantize(w, first, out, outOffset, n, false);
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        return L == 16 ? fusedDot(w, first, x, xOffset, n) : Kernels.dot(this, w, first, x, xOffset, n);
    }

    /*
     * Shared with Q5_K, which is this layout with qh[32] (the 5th bits) inserted before qs: 176 bytes,
     * qh at 16, qs at 48. Sub-block s (0..7) holds weights 32s..32s+31: nibble s % 2 of
     * qs[32·(s / 2) + l] and, in Q5_K, bit s of qh[l] as the value 16.
     */

    static void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n, boolean fifthBit) {
        int bytes = fifthBit ? 176 : 144;
        long block = first / BLOCK * bytes;
        float[] sm = SCALES.get(16);
        for (int e = 0; e < n; e += BLOCK, block += bytes) {
            scalesAndMins(w, block, sm);
            for (int s = 0; s < 8; s++) {
                FloatVector scale = FloatVector.broadcast(F, sm[s]);
                FloatVector negMin = FloatVector.broadcast(F, -sm[8 + s]);
                for (int l = 0; l < 32; l += L) {
                    q(w, block, s, l, fifthBit).fma(scale, negMin).intoArray(out, outOffset + e + 32 * s + l);
                }
            }
        }
    }

    /**
     * The canonical dot, fused. Sub-blocks 2c and 2c + 1 share their bytes; with 16 lanes both of
     * their chunks come from the same two loads, decoded with constant shifts, in element order.
     */
    private static float fusedDot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long b = first / BLOCK * 144;
        float[] sm = SCALES.get(16);
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += 144) {
            scalesAndMins(w, b, sm);
            for (int c = 0; c < 4; c++) {
                long qs = b + 16 + 32 * c;
                int xs = xOffset + e + 64 * c;
                ByteVector v0 = Blocks.bytes(w, qs);
                ByteVector v1 = Blocks.bytes(w, qs + 16);
                FloatVector scale = FloatVector.broadcast(F, sm[2 * c]);
                FloatVector negMin = FloatVector.broadcast(F, -sm[8 + 2 * c]);
                acc = Blocks.floats(Blocks.low(v0)).fma(scale, negMin).fma(Blocks.x(x, xs), acc);
                acc = Blocks.floats(Blocks.low(v1)).fma(scale, negMin).fma(Blocks.x(x, xs + 16), acc);
                scale = FloatVector.broadcast(F, sm[2 * c + 1]);
                negMin = FloatVector.broadcast(F, -sm[9 + 2 * c]);
                acc = Blocks.floats(Blocks.high(v0)).fma(scale, negMin).fma(Blocks.x(x, xs + 32), acc);
                acc = Blocks.floats(Blocks.high(v1)).fma(scale, negMin).fma(Blocks.x(x, xs + 48), acc);
            }
        }
        return Kernels.sum(acc);
    }

    /** The block's eight d·sc[s] into {@code sm[0..8)} and eight dmin·mn[s] into {@code sm[8..16)}. */
    private static void scalesAndMins(MemorySegment w, long block, float[] sm) {
        float d = Blocks.f16(w, block);
        float dmin = Blocks.f16(w, block + 2);
        int a0 = w.get(Blocks.INT_LE, block + 4);
        int a1 = w.get(Blocks.INT_LE, block + 8);
        int a2 = w.get(Blocks.INT_LE, block + 12);
        for (int half = 0; half < 2; half++) {
            int sc = Blocks.scalesK4(a0, a2, half == 1);
            int mn = Blocks.minsK4(a1, a2, half == 1);
            for (int k = 0; k < 4; k++) {
                sm[4 * half + k] = d * Blocks.byteOf(sc, k);
                sm[8 + 4 * half + k] = dmin * Blocks.byteOf(mn, k);
            }
        }
    }

    /** The grid values (0..15, Q5_K 0..31) of weights 32s + l .. 32s + l + L − 1 of the block, as floats. */
    private static FloatVector q(MemorySegment w, long block, int s, int l, boolean fifthBit) {
        long qs = block + (fifthBit ? 48 : 16) + 32 * (s >> 1);
        ByteVector q = Blocks.shiftRight(Blocks.bytes(w, qs + l), 4 * (s & 1), 0x0F);
        if (fifthBit) {
            q = q.or(Blocks.moveBits(Blocks.bytes(w, block + 16 + l), s, 4, 1));
        }
        return Blocks.floats(q);
    }
}
