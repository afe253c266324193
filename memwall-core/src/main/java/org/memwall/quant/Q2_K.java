package org.memwall.quant;


import java.lang.foreign.MemorySegment;
import org.memwall.gguf.GgmlType;

/**
 * Q2_K: 256 weights in 84 bytes, sixteen sub-blocks of 16 with a 4-bit scale and a 4-bit min.
 * <pre>
 * bytes 0..15   scales[16]  sub-block i: low nibble = scale, high nibble = min
 * bytes 16..79  qs[64]      2-bit weights, four per byte
 * bytes 80..81  d           f16 super-scale of the scales
 * bytes 82..83  dmin        f16 super-scale of the mins
 * Sub-block i = 8h + 2j + g (h = 0, 1; j = 0..3; g = 0, 1) holds weights 16i..16i+15, for l = 0..15:
 *   q = bits 2j..2j+1 of qs[32h + 16g + l]
 * weight = d·(scales[i] &amp; 15) · q − dmin·(scales[i] &gt;&gt; 4)
 * </pre>
 */
public final class Q2_K implements QuantFormat {
    private static final int BLOCK = 256;
    private static final int BYTES = 84;

    @Override
    public GgmlType type() {
        return GgmlType.Q2_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 80);
            float dmin = Blocks.f16(w, block + 82);
            for (int i = 0; i < 16; i++) {
                int sc = Blocks.u8(w, block + i);
                float dl = d * (sc & 15);
                float ml = dmin * (sc >> 4);
                long qs = block + 16 + 32 * (i >> 3) + 16 * (i & 1);
                int shift = 2 * ((i >> 1) & 3);
                int o = outOffset + e + 16 * i;
                for (int l = 0; l < 16; l++) {
                    out[o + l] = dl * ((Blocks.u8(w, qs + l) >> shift) & 3) - ml;
                }
            }
        }
    }
}
