package org.memwall.quant;

import java.lang.foreign.MemorySegment;
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
    /** E2M1 (sign, 2-bit exponent, 1-bit mantissa) × 2, by code. */
    static final byte[] E2M1X2 = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    /** 2^(e − 128): the scale of an E8M0 exponent e over the doubled values. */
    static float scale(int e) {
        return Math.scalb(1.0f, e - 128);
    }

    @Override
    public GgmlType type() {
        return GgmlType.MXFP4;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        Codebook4.dequantize(w, first, out, outOffset, n, E2M1X2, true);
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        return Codebook4.dot(w, first, x, xOffset, n, E2M1X2, true);
    }
}
