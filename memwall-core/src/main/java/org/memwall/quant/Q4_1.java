package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/**
 * Q4_1: 32 weights in 20 bytes.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..3   m       f16 offset (the block minimum)
 * bytes 4..19  qs[16]  weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble
 * weight = d · nibble + m
 * </pre>
 */
public final class Q4_1 implements QuantFormat {
    private static final int BLOCK = 32;
    private static final int BYTES = 20;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block);
            float m = Blocks.f16(w, block + 2);
            int o = outOffset + e;
            for (int j = 0; j < 16; j++) {
                int q = Blocks.u8(w, block + 4 + j);
                out[o + j] = (q & 15) * d + m;
                out[o + j + 16] = (q >> 4) * d + m;
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, block));
            FloatVector m = FloatVector.broadcast(F, Blocks.f16(w, block + 2));
            for (int k = 0; k < 16; k += L) {
                ByteVector v = Blocks.bytes(w, block + 4 + k);
                ByteVector lo = Blocks.low(v);
                ByteVector hi = Blocks.high(v);
                int xi = xOffset + e + k;
                acc = Blocks.floats(lo).fma(d, m).fma(Blocks.x(x, xi), acc);
                acc = Blocks.floats(hi).fma(d, m).fma(Blocks.x(x, xi + 16), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
