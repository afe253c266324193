package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/**
 * MXFP4 (OCP microscaling FP4): 32 weights in 17 bytes.
 * <pre>
 * byte  0      e       u8, E8M0 shared exponent
 * bytes 1..16  qs[16]  E2M1 codes: weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble
 * weight = F[nibble] · 2^(e − 128)
 * </pre>
 * F holds the E2M1 values doubled so they are integers, which is why the scale is 2^(e − 128) and
 * not E8M0's 2^(e − 127).
 */
public final class MXFP4 implements QuantFormat {
    private static final int BLOCK = 32;
    private static final int BYTES = 17;
    /** E2M1 (sign, 2-bit exponent, 1-bit mantissa) × 2, by code. */
    private static final byte[] E2M1X2 = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    /** 2^(e − 128) for every e; e = 0 and 1 give the subnormals 2^−128 and 2^−127. */
    private static final float[] SCALE = new float[256];

    static {
        for (int e = 0; e < 256; e++) {
            SCALE[e] = Math.scalb(1.0f, e - 128);
        }
    }

    @Override
    public GgmlType type() {
        return GgmlType.MXFP4;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = SCALE[Blocks.u8(w, block)];
            int o = outOffset + e;
            for (int j = 0; j < 16; j++) {
                int q = Blocks.u8(w, block + 1 + j);
                out[o + j] = E2M1X2[q & 15] * d;
                out[o + j + 16] = E2M1X2[q >> 4] * d;
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
                ByteVector v = Blocks.bytes(w, block + 1 + k);
                ByteVector lo = Blocks.lookup16(Blocks.low(v), E2M1X2);
                ByteVector hi = Blocks.lookup16(Blocks.high(v), E2M1X2);
                int xi = xOffset + e + k;
                sum = Blocks.floats(lo).fma(Blocks.x(x, xi), sum);
                sum = Blocks.floats(hi).fma(Blocks.x(x, xi + 16), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, SCALE[Blocks.u8(w, block)]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
