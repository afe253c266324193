package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import org.memwall.gguf.GgmlType;

/**
 * Q4_0: 32 weights in 18 bytes.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..17  qs[16]  weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble
 * weight = d · (nibble − 8)
 * </pre>
 */
public final class Q4_0 implements BlockScaled {
    private static final int BYTES = 18;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, block));
            for (int k = 0; k < BLOCK; k += L) {
                q(w, block, k).mul(d).intoArray(out, outOffset + e + k);
            }
        }
    }

    @Override
    public void unscaled(MemorySegment w, long first, float[] q, int qOffset, float[] scales, int scaleOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0, b = scaleOffset; e < n; e += BLOCK, block += BYTES, b++) {
            scales[b] = Blocks.f16(w, block);
            for (int k = 0; k < BLOCK; k += L) {
                q(w, block, k).intoArray(q, qOffset + e + k);
            }
        }
    }

    /** Weights k .. k + L − 1 of the block unscaled (k &lt; 16: low nibbles of qs[k ..], else high nibbles of qs[k − 16 ..]), minus 8, as floats. */
    private static FloatVector q(MemorySegment w, long block, int k) {
        ByteVector v = Blocks.bytes(w, block + 2 + (k & 15));
        ByteVector nibbles = k < 16 ? Blocks.low(v) : Blocks.high(v);
        return Blocks.floats(nibbles.sub((byte) 8));
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        if (L != 16) {
            return Kernels.scaledDot(this, w, first, x, xOffset, n);
        }
        long b0 = first / BLOCK * BYTES;
        FloatVector a0 = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b0 += BYTES) {
            ByteVector v0 = Blocks.bytes(w, b0 + 2);
            FloatVector s0 = Blocks.floats(Blocks.low(v0).sub((byte) 8)).mul(Blocks.x(x, xOffset + e));
            s0 = Blocks.floats(Blocks.high(v0).sub((byte) 8)).fma(Blocks.x(x, xOffset + e + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, Blocks.f16(w, b0)), a0);
        }
        return Kernels.sum(a0);
    }
}
