package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

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
 * bytes 96..107  scales[12]  sixteen 6-bit scales (see {@link #scaleWord})
 * bytes 108..109 d           f16 super-scale
 * Sub-block i = 8h + 2j + g (h = 0, 1; j = 0..3; g = 0, 1) holds weights 16i..16i+15, for l = 0..15:
 *   q = bits 2j..2j+1 of qs[32h + 16g + l], minus 4 unless bit 4h + j of hmask[16g + l] is set
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
     * The 6-bit scales of sub-blocks 4k..4k+3, one per byte, from scales[12] read as little-endian
     * words a0, a1, a2: scale i has its low 4 bits in the low nibble of byte i (i &lt; 8) or the high
     * nibble of byte i − 8, and its high 2 bits in bits 2·(i / 4), 2·(i / 4) + 1 of byte 8 + i % 4.
     */
    static int scaleWord(int a0, int a1, int a2, int k) {
        int low = (((k & 1) == 0 ? a0 : a1) >>> (4 * (k >> 1))) & 0x0F0F0F0F;
        int high = ((a2 >>> (2 * k)) & 0x03030303) << 4;
        return low | high;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 108);
            int a0 = w.get(Blocks.INT_LE, block + 96);
            int a1 = w.get(Blocks.INT_LE, block + 100);
            int a2 = w.get(Blocks.INT_LE, block + 104);
            for (int i = 0; i < 16; i++) {
                int h = i >> 3;
                int j = (i >> 1) & 3;
                int g = i & 1;
                float dl = d * (Blocks.byteOf(scaleWord(a0, a1, a2, i >> 2), i & 3) - 32);
                int bit = 1 << (4 * h + j);
                int o = outOffset + e + 16 * i;
                for (int l = 0; l < 16; l++) {
                    int q = (Blocks.u8(w, block + 32 + 32 * h + 16 * g + l) >> (2 * j)) & 3;
                    int m = Blocks.u8(w, block + 16 * g + l) & bit;
                    out[o + l] = dl * (q - (m != 0 ? 0 : 4));
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
            int a0 = w.get(Blocks.INT_LE, block + 96);
            int a1 = w.get(Blocks.INT_LE, block + 100);
            int a2 = w.get(Blocks.INT_LE, block + 104);
            // Each qs and hmask vector serves all four shifts j, two at a time (sub-blocks i and i + 2).
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    ByteVector qs = Blocks.bytes(w, block + 32 + 32 * h + l);
                    ByteVector hm = Blocks.bytes(w, block + l);
                    int xs = xOffset + e + 128 * h + l;
                    for (int j = 0; j < 4; j += 2) {
                        // sub-blocks 8h + 2j + g and 8h + 2j + 2 + g: bytes g and 2 + g of scale word 2h + j / 2
                        int scales = scaleWord(a0, a1, a2, 2 * h + j / 2);
                        int g = l / 16;
                        FloatVector scale1 = FloatVector.broadcast(F, d * (Blocks.byteOf(scales, g) - 32));
                        FloatVector scale2 = FloatVector.broadcast(F, d * (Blocks.byteOf(scales, 2 + g) - 32));
                        // minus 4 where the hmask bit of this half and shift is clear
                        ByteVector q1 = Blocks.shiftRight(qs, 2 * j, 3)
                                .sub((byte) 4, hm.and((byte) (1 << (4 * h + j))).compare(VectorOperators.EQ, 0));
                        ByteVector q2 = Blocks.shiftRight(qs, 2 * j + 2, 3)
                                .sub((byte) 4, hm.and((byte) (2 << (4 * h + j))).compare(VectorOperators.EQ, 0));
                        int xp = xs + 32 * j;
                        acc1 = Blocks.floats(q1).mul(scale1).fma(Blocks.x(x, xp), acc1);
                        acc2 = Blocks.floats(q2).mul(scale2).fma(Blocks.x(x, xp + 32), acc2);
                    }
                }
            }
        }
        return acc1.add(acc2).reduceLanes(VectorOperators.ADD);
    }
}
