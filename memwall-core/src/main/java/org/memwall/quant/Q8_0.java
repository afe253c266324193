package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/**
 * Q8_0: 32 weights in 34 bytes.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..33  qs[32]  int8
 * weight j = d · qs[j]
 * </pre>
 */
public final class Q8_0 implements QuantFormat {
    private static final int BLOCK = 32;
    private static final int BYTES = 34;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block);
            for (int j = 0; j < BLOCK; j++) {
                out[outOffset + e + j] = w.get(Blocks.U8, block + 2 + j) * d;
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector sum = FloatVector.zero(F);
            for (int k = 0; k < BLOCK; k += L) {
                ByteVector q = Blocks.bytes(w, block + 2 + k);
                sum = Blocks.floats(q).fma(Blocks.x(x, xOffset + e + k), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, Blocks.f16(w, block)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
