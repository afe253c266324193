package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import org.memwall.gguf.GgmlType;

/**
 * Q5_K: 256 weights in 176 bytes; Q4_K plus a 5th bit per weight.
 * <pre>
 * bytes 0..1     d           f16 super-scale of the sub-block scales
 * bytes 2..3     dmin        f16 super-scale of the sub-block mins
 * bytes 4..15    scales[12]  sc[s], mn[s] for s = 0..7, 6 bits each (see {@link Blocks#scalesK4})
 * bytes 16..47   qh[32]      5th bits: weight 64c + l has bit 2c of qh[l], weight 64c + 32 + l bit 2c+1
 * bytes 48..175  qs[128]     four chunks c of 32 bytes: weights 64c..64c+31 (sub-block 2c) in the low
 *                            nibbles, weights 64c+32..64c+63 (sub-block 2c+1) in the high nibbles
 * weight = d·sc[s] · (nibble + 16·bit) − dmin·mn[s]
 * </pre>
 * The kernels are Q4_K's, reading the extra bit plane (the fused dot: {@link Q4_K#dotFifthBit}).
 */
public final class Q5_K implements QuantFormat {

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        Q4_K.dequantize(w, first, out, outOffset, n, true);
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        return Q4_K.dotFifthBit(w, first, x, xOffset, n);
    }
}
