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
 * weight = d·sc[s] · nibble − dmin·mn[s]   (weights 32s..32s+31 form sub-block s)
 * </pre>
 */
public final class Q4_K implements QuantFormat {
    private static final int BLOCK = 256;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        dequantize(w, first, out, outOffset, n, false);
    }

    /*
     * Shared with Q5_K, which is this layout with qh[32] (the 5th bits) inserted before qs: 176 bytes,
     * qh at 16, qs at 48. Sub-block s (0..7) holds weights 32s..32s+31: nibble s % 2 of
     * qs[32·(s / 2) + l] and, in Q5_K, bit s of qh[l] as the value 16.
     */

    static void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n, boolean fifthBit) {
        int bytes = fifthBit ? 176 : 144;
        long block = first / BLOCK * bytes;
        for (int e = 0; e < n; e += BLOCK, block += bytes) {
            for (int s = 0; s < 8; s++) {
                FloatVector scale = scale(w, block, s);
                FloatVector min = min(w, block, s);
                for (int l = 0; l < 32; l += L) {
                    chunk(w, block, s, l, scale, min, fifthBit).intoArray(out, outOffset + e + 32 * s + l);
                }
            }
        }
    }

    /** d·sc[s] of the block. */
    private static FloatVector scale(MemorySegment w, long block, int s) {
        int a0 = w.get(Blocks.INT_LE, block + 4);
        int a2 = w.get(Blocks.INT_LE, block + 12);
        return FloatVector.broadcast(F, Blocks.f16(w, block) * Blocks.byteOf(Blocks.scalesK4(a0, a2, s >= 4), s & 3));
    }

    /** dmin·mn[s] of the block. */
    private static FloatVector min(MemorySegment w, long block, int s) {
        int a1 = w.get(Blocks.INT_LE, block + 8);
        int a2 = w.get(Blocks.INT_LE, block + 12);
        return FloatVector.broadcast(F, Blocks.f16(w, block + 2) * Blocks.byteOf(Blocks.minsK4(a1, a2, s >= 4), s & 3));
    }

    /** Weights 32s + l .. 32s + l + L − 1 of the block, exactly as {@link #dequantize} writes them. */
    private static FloatVector chunk(MemorySegment w, long block, int s, int l, FloatVector scale, FloatVector min, boolean fifthBit) {
        long qs = block + (fifthBit ? 48 : 16) + 32 * (s >> 1);
        ByteVector q = Blocks.shiftRight(Blocks.bytes(w, qs + l), 4 * (s & 1), 0x0F);
        if (fifthBit) {
            q = q.or(Blocks.moveBits(Blocks.bytes(w, block + 16 + l), s, 4, 1));
        }
        return Blocks.floats(q).mul(scale).sub(min);
    }
}
