package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import org.memwall.gguf.GgmlType;

/**
 * IQ4_NL: 32 weights in 18 bytes, 4-bit indexes into a fixed non-linear codebook.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..17  qs[16]  weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble
 * weight = d · K[nibble]
 * </pre>
 */
public final class IQ4_NL implements QuantFormat {
    /** ggml's kvalues_iq4nl codebook. */
    private static final byte[] K = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    @Override
    public GgmlType type() {
        return GgmlType.IQ4_NL;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        Codebook4.dequantize(w, first, out, outOffset, n, K, false);
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        return Codebook4.dot(w, first, x, xOffset, n, K, false);
    }
}
