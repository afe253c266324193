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
            for (int j = 0; j < BLOCK; j += L) {
                nibbles(w, block, j).mul(d).add(m).intoArray(out, outOffset + e + j);
            }
        }
    }

    /**
     * The canonical dot, fused: each chunk computed exactly as {@link #dequantize} writes it, added in
     * element order, never stored.
     */
    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, block));
            FloatVector m = FloatVector.broadcast(F, Blocks.f16(w, block + 2));
            for (int j = 0; j < BLOCK; j += L) {
                acc = nibbles(w, block, j).mul(d).add(m).fma(Blocks.x(x, xOffset + e + j), acc);
            }
        }
        return Kernels.sum(acc);
    }

    /** Nibbles of weights j .. j + L − 1 of the block (j &lt; 16: low nibbles of qs[j ..], else high nibbles of qs[j − 16 ..]), as floats. */
    private static FloatVector nibbles(MemorySegment w, long block, int j) {
        ByteVector v = Blocks.bytes(w, block + 4 + (j & 15));
        return Blocks.floats(j < 16 ? Blocks.low(v) : Blocks.high(v));
    }
}
