package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, block));
            FloatVector m = FloatVector.broadcast(F, Blocks.f16(w, block + 2));
            int o = outOffset + e;
            for (int k = 0; k < 16; k += L) {
                ByteVector v = Blocks.bytes(w, block + 4 + k);
                Blocks.floats(Blocks.low(v)).mul(d).add(m).intoArray(out, o + k);
                Blocks.floats(Blocks.high(v)).mul(d).add(m).intoArray(out, o + 16 + k);
            }
        }
    }

    /**
     * The canonical dot, fused: each chunk computed exactly as {@link #dequantize} writes it, added in
     * element order (the block's low nibbles, weights 0..15, before its high nibbles), never stored.
     */
    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, block));
            FloatVector m = FloatVector.broadcast(F, Blocks.f16(w, block + 2));
            int xs = xOffset + e;
            for (int k = 0; k < 16; k += L) {
                acc = Blocks.floats(Blocks.low(Blocks.bytes(w, block + 4 + k))).mul(d).add(m).fma(Blocks.x(x, xs + k), acc);
            }
            for (int k = 0; k < 16; k += L) {
                acc = Blocks.floats(Blocks.high(Blocks.bytes(w, block + 4 + k))).mul(d).add(m).fma(Blocks.x(x, xs + 16 + k), acc);
            }
        }
        return Kernels.sum(acc);
    }
}
