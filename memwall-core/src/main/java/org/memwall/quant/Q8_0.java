package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import org.memwall.gguf.GgmlType;

/**
 * Q8_0: 32 weights in 34 bytes.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..33  qs[32]  int8
 * weight j = d · qs[j]
 * </pre>
 */
public final class Q8_0 implements BlockScaled {
    private static final int BYTES = 34;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
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

    /** qs[k .. k + L) of the block as floats. */
    private static FloatVector q(MemorySegment w, long block, int k) {
        return Blocks.floats(Blocks.bytes(w, block + 2 + k));
    }

    @Override
    public void dot2(MemorySegment w, long first, float[] x, int xOffset, int n, float[] out, int outOffset) {
        long b0 = first / BLOCK * BYTES;
        long b1 = b0 + (long) n / BLOCK * BYTES;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (int e = 0; e < n; e += BLOCK, b0 += BYTES, b1 += BYTES) {
            FloatVector xv = Blocks.x(x, xOffset + e);
            FloatVector s0 = q(w, b0, 0).mul(xv);
            FloatVector s1 = q(w, b1, 0).mul(xv);
            for (int k = L; k < BLOCK; k += L) {
                xv = Blocks.x(x, xOffset + e + k);
                s0 = q(w, b0, k).fma(xv, s0);
                s1 = q(w, b1, k).fma(xv, s1);
            }
            a0 = s0.fma(FloatVector.broadcast(F, Blocks.f16(w, b0)), a0);
            a1 = s1.fma(FloatVector.broadcast(F, Blocks.f16(w, b1)), a1);
        }
        out[outOffset] = Kernels.sum(a0);
        out[outOffset + 1] = Kernels.sum(a1);
    }
}
