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
 * Q5_K: 256 weights in 176 bytes; Q4_K plus a 5th bit per weight.
 * <pre>
 * bytes 0..1     d           f16 super-scale of the sub-block scales
 * bytes 2..3     dmin        f16 super-scale of the sub-block mins
 * bytes 4..15    scales[12]  sc[s], mn[s] for s = 0..7, 6 bits each (see {@link Blocks#scaleK4})
 * bytes 16..47   qh[32]      5th bits: weight 64c + l has bit 2c of qh[l], weight 64c + 32 + l bit 2c+1
 * bytes 48..175  qs[128]     four chunks c of 32 bytes: weights 64c..64c+31 (sub-block 2c) in the low
 *                            nibbles, weights 64c+32..64c+63 (sub-block 2c+1) in the high nibbles
 * weight = d·sc[s] · (nibble + 16·bit) − dmin·mn[s]
 * </pre>
 */
public final class Q5_K implements QuantFormat {
    private static final int BLOCK = 256;
    private static final int BYTES = 176;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block);
            float dmin = Blocks.f16(w, block + 2);
            for (int c = 0; c < 4; c++) {
                float d1 = d * Blocks.scaleK4(w, block + 4, 2 * c);
                float m1 = dmin * Blocks.minK4(w, block + 4, 2 * c);
                float d2 = d * Blocks.scaleK4(w, block + 4, 2 * c + 1);
                float m2 = dmin * Blocks.minK4(w, block + 4, 2 * c + 1);
                int o = outOffset + e + 64 * c;
                for (int l = 0; l < 32; l++) {
                    int q = Blocks.u8(w, block + 48 + 32 * c + l);
                    int h = Blocks.u8(w, block + 16 + l) >> (2 * c);
                    out[o + l] = d1 * ((q & 15) | (h & 1) << 4) - m1;
                    out[o + l + 32] = d2 * ((q >> 4) | (h & 2) << 3) - m2;
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector accLo = FloatVector.zero(F);
        FloatVector accHi = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block);
            float dmin = Blocks.f16(w, block + 2);
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * Blocks.scaleK4(w, block + 4, 2 * c));
                FloatVector m1 = FloatVector.broadcast(F, -dmin * Blocks.minK4(w, block + 4, 2 * c));
                FloatVector d2 = FloatVector.broadcast(F, d * Blocks.scaleK4(w, block + 4, 2 * c + 1));
                FloatVector m2 = FloatVector.broadcast(F, -dmin * Blocks.minK4(w, block + 4, 2 * c + 1));
                for (int k = 0; k < 32; k += BL) {
                    ByteVector v = Blocks.bytes(w, block + 48 + 32 * c + k);
                    // Move bits 2c and 2c+1 of qh to bit 4 (value 16) of each weight.
                    ByteVector h = Blocks.bytes(w, block + 16 + k).lanewise(VectorOperators.LSHR, 2 * c);
                    ByteVector lo = Blocks.low(v).or(h.and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ByteVector hi = Blocks.high(v).or(h.and((byte) 2).lanewise(VectorOperators.LSHL, 3));
                    int xi = xOffset + e + 64 * c + k;
                    for (int p = 0; p < PARTS; p++) {
                        accLo = Blocks.floats(lo, p).fma(d1, m1).fma(Blocks.x(x, xi + p * L), accLo);
                        accHi = Blocks.floats(hi, p).fma(d2, m2).fma(Blocks.x(x, xi + 32 + p * L), accHi);
                    }
                }
            }
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD);
    }
}
