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
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long b = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += BYTES) {
            FloatVector s = q(w, b, 0).mul(Blocks.x(x, xOffset + e));
            for (int k = L; k < BLOCK; k += L) {
                s = q(w, b, k).fma(Blocks.x(x, xOffset + e + k), s);
            }
            acc = s.fma(FloatVector.broadcast(F, Blocks.f16(w, b)), acc);
        }
        return Kernels.sum(acc);
    }
}
