package org.memwall.quant;

import static org.memwall.quant.Blocks.BL;
import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;
import static org.memwall.quant.Blocks.PARTS;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/**
 * Q3_K: 256 weights in 110 bytes, sixteen sub-blocks of 16 with a 6-bit scale each.
 * <pre>
 * bytes 0..31    hmask[32]   3rd bit of each weight (set = q, clear = q − 4)
 * bytes 32..95   qs[64]      low 2 bits, four weights per byte
 * bytes 96..107  scales[12]  sixteen 6-bit scales (see {@link #scale})
 * bytes 108..109 d           f16 super-scale
 * Two halves h = 0, 1 of 128 weights use qs[32h..32h+31]; shift j = 0..3 takes bits 2j..2j+1:
 *   weight 128h + 32j + l (l = 0..31) = bits 2j..2j+1 of qs[32h + l], minus 4 unless bit 4h + j of
 *   hmask[l] is set; sub-block i = 8h + 2j + l/16
 * weight = d · (scale[i] − 32) · q
 * </pre>
 */
public final class Q3_K implements QuantFormat {
    private static final int BLOCK = 256;
    private static final int BYTES = 110;

    @Override
    public GgmlType type() {
        return GgmlType.Q3_K;
    }

    /**
     * Sub-block scale {@code i} (0..15) minus 32, from scales[12] at {@code offset}: its low 4 bits
     * are the low nibble of byte i (i &lt; 8) or the high nibble of byte i − 8; its high 2 bits are bits
     * 2·(i/4)..2·(i/4)+1 of byte 8 + i % 4.
     */
    static int scale(MemorySegment w, long offset, int i) {
        int low = i < 8 ? Blocks.u8(w, offset + i) & 15 : Blocks.u8(w, offset + i - 8) >> 4;
        int high = (Blocks.u8(w, offset + 8 + (i & 3)) >> (2 * (i >> 2))) & 3;
        return (low | high << 4) - 32;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 108);
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 4; j++) {
                    int bit = 1 << (4 * h + j);
                    for (int half = 0; half < 2; half++) {
                        float dl = d * scale(w, block + 96, 8 * h + 2 * j + half);
                        int o = outOffset + e + 128 * h + 32 * j + 16 * half;
                        for (int l = 0; l < 16; l++) {
                            int q = (Blocks.u8(w, block + 32 + 32 * h + 16 * half + l) >> (2 * j)) & 3;
                            int m = Blocks.u8(w, block + 16 * half + l) & bit;
                            out[o + l] = dl * (q - (m != 0 ? 0 : 4));
                        }
                    }
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 108);
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += BL) {
                    ByteVector qs = Blocks.bytes(w, block + 32 + 32 * h + l);
                    // hmask shifted so that bit j (j = 0..3) is the 3rd bit for shift j of this half.
                    ByteVector hm = Blocks.bytes(w, block + l).lanewise(VectorOperators.LSHR, 4 * h);
                    int i = 8 * h + l / 16;
                    int xi = xOffset + e + 128 * h + l;
                    for (int j = 0; j < 4; j += 2) {
                        FloatVector d1 = FloatVector.broadcast(F, d * scale(w, block + 96, i + 2 * j));
                        FloatVector d2 = FloatVector.broadcast(F, d * scale(w, block + 96, i + 2 * j + 2));
                        ByteVector q1 = qs.lanewise(VectorOperators.LSHR, 2 * j).and((byte) 3)
                                .sub((byte) 4, hm.and((byte) (1 << j)).compare(VectorOperators.EQ, 0));
                        ByteVector q2 = qs.lanewise(VectorOperators.LSHR, 2 * j + 2).and((byte) 3)
                                .sub((byte) 4, hm.and((byte) (2 << j)).compare(VectorOperators.EQ, 0));
                        for (int p = 0; p < PARTS; p++) {
                            int xp = xi + 32 * j + p * L;
                            acc1 = Blocks.floats(q1, p).mul(d1).fma(Blocks.x(x, xp), acc1);
                            acc2 = Blocks.floats(q2, p).mul(d2).fma(Blocks.x(x, xp + 32), acc2);
                        }
                    }
                }
            }
        }
        return acc1.add(acc2).reduceLanes(VectorOperators.ADD);
    }
}
