package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 80);
            float dmin = -Blocks.f16(w, block + 82);
            // Each qs vector serves all four shifts j, two at a time (sub-blocks i and i + 2).
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    ByteVector qs = Blocks.bytes(w, block + 16 + 32 * h + l);
                    int xs = xOffset + e + 128 * h + l;
                    for (int j = 0; j < 4; j += 2) {
                        int i = 8 * h + 2 * j + l / 16;
                        int s1 = Blocks.u8(w, block + i);
                        int s2 = Blocks.u8(w, block + i + 2);
                        FloatVector scale1 = FloatVector.broadcast(F, d * (s1 & 15));
                        FloatVector min1 = FloatVector.broadcast(F, dmin * (s1 >> 4));
                        FloatVector scale2 = FloatVector.broadcast(F, d * (s2 & 15));
                        FloatVector min2 = FloatVector.broadcast(F, dmin * (s2 >> 4));
                        ByteVector q1 = Blocks.shiftRight(qs, 2 * j, 3);
                        ByteVector q2 = Blocks.shiftRight(qs, 2 * j + 2, 3);
                        int xp = xs + 32 * j;
                        acc1 = Blocks.floats(q1).fma(scale1, min1).fma(Blocks.x(x, xp), acc1);
                        acc2 = Blocks.floats(q2).fma(scale2, min2).fma(Blocks.x(x, xp + 32), acc2);
                    }
                }
            }
        }
        return acc1.add(acc2).reduceLanes(VectorOperators.ADD);
    }
}
