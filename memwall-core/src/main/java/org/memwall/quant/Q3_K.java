package org.memwall.quant;


import java.lang.foreign.MemorySegment;
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
}
