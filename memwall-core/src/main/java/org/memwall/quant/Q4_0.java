package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/**
 * Q4_0: 32 weights in 18 bytes.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..17  qs[16]  weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble
 * weight = d · (nibble − 8)
 * </pre>
 */
public final class Q4_0 implements QuantFormat {
    private static final int BLOCK = 32;
    private static final int BYTES = 18;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block);
            int o = outOffset + e;
            for (int j = 0; j < 16; j++) {
                int q = Blocks.u8(w, block + 2 + j);
                out[o + j] = ((q & 15) - 8) * d;
                out[o + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector sum = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                ByteVector v = Blocks.bytes(w, block + 2 + k);
                ByteVector lo = Blocks.low(v).sub((byte) 8);
                ByteVector hi = Blocks.high(v).sub((byte) 8);
                int xi = xOffset + e + k;
                sum = Blocks.floats(lo).fma(Blocks.x(x, xi), sum);
                sum = Blocks.floats(hi).fma(Blocks.x(x, xi + 16), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, Blocks.f16(w, block)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
