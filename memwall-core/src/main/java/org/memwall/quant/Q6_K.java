package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import org.memwall.gguf.GgmlType;

/**
 * Q6_K: 256 weights in 210 bytes, sixteen sub-blocks of 16 with an 8-bit scale each.
 * <pre>
 * bytes 0..127    ql[128]     low 4 bits
 * bytes 128..191  qh[64]      high 2 bits, four weights per byte
 * bytes 192..207  scales[16]  int8 sub-block scales
 * bytes 208..209  d           f16 super-scale
 * Two halves h = 0, 1 of 128 weights use ql[64h..], qh[32h..], scales[8h..]; for l = 0..31:
 *   weight l      : ql[l] low nibble    | (qh[l] bits 0-1) &lt;&lt; 4, scale sc[l/16]
 *   weight l + 32 : ql[l+32] low nibble | (qh[l] bits 2-3) &lt;&lt; 4, scale sc[l/16 + 2]
 *   weight l + 64 : ql[l] high nibble   | (qh[l] bits 4-5) &lt;&lt; 4, scale sc[l/16 + 4]
 *   weight l + 96 : ql[l+32] high nibble| (qh[l] bits 6-7) &lt;&lt; 4, scale sc[l/16 + 6]
 * weight = d · sc · (q − 32)
 * </pre>
 */
public final class Q6_K implements QuantFormat {
    private static final int BLOCK = 256;
    private static final int BYTES = 210;

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 208);
            for (int c = 0; c < BLOCK; c += L) {
                chunk(w, block, c, d).intoArray(out, outOffset + e + c);
            }
        }
    }

    /**
     * Weights c..c+L−1 of the block, as {@link #dequantize} writes them. Half h = c / 128, quarter
     * t = c / 32 % 4 and l = c % 32: nibble t / 2 of ql[64h + l + 32·(t % 2)], bits 2t..2t+1 of
     * qh[32h + l], scale sc[8h + l / 16 + 2t].
     */
    private static FloatVector chunk(MemorySegment w, long block, int c, float d) {
        int h = c >> 7;
        int t = (c >> 5) & 3;
        int l = c & 31;
        ByteVector low4 = Blocks.shiftRight(Blocks.bytes(w, block + 64 * h + l + 32 * (t & 1)), 4 * (t >> 1), 0x0F);
        ByteVector q = low4.or(Blocks.moveBits(Blocks.bytes(w, block + 128 + 32 * h + l), 2 * t, 4, 2)).sub((byte) 32);
        FloatVector scale = FloatVector.broadcast(F, d * w.get(Blocks.U8, block + 192 + 8 * h + l / 16 + 2 * t));
        return Blocks.floats(q).mul(scale);
    }
}
