package org.memwall.quant;

import static org.memwall.quant.Blocks.B;
import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import org.memwall.gguf.GgmlType;

/**
 * Q5_0: 32 weights in 22 bytes.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..5   qh      u32 little-endian: bit j is the 5th (value 16) bit of weight j
 * bytes 6..21  qs[16]  low 4 bits: weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble
 * weight = d · (q − 16), q = nibble | (bit j of qh) &lt;&lt; 4
 * </pre>
 */
public final class Q5_0 implements QuantFormat {
    private static final int BLOCK = 32;
    private static final int BYTES = 22;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, block));
            int clear = ~w.get(Blocks.INT_LE, block + 2);
            for (int j = 0; j < BLOCK; j += L) {
                grid(w, block, clear, j).mul(d).intoArray(out, outOffset + e + j);
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
            int clear = ~w.get(Blocks.INT_LE, block + 2);
            for (int j = 0; j < BLOCK; j += L) {
                acc = grid(w, block, clear, j).mul(d).fma(Blocks.x(x, xOffset + e + j), acc);
            }
        }
        return Kernels.sum(acc);
    }

    /**
     * q − 16 of weights j .. j + L − 1 of the block, as floats: the nibble where the 5th bit is set, the
     * nibble − 16 where it is clear ({@code clear} = ~qh).
     */
    private static FloatVector grid(MemorySegment w, long block, int clear, int j) {
        ByteVector v = Blocks.bytes(w, block + 6 + (j & 15));
        return Blocks.floats((j < 16 ? Blocks.low(v) : Blocks.high(v)).sub((byte) 16, VectorMask.fromLong(B, clear >>> j)));
    }
}
