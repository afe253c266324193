package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.memwall.gguf.GgmlType;

/** bfloat16, little-endian, 2 bytes per element: the top 16 bits of a float32. */
public final class BF16 implements QuantFormat {
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long base = first * 2;
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.intBitsToFloat(w.get(Blocks.SHORT_LE, base + 2L * i) << 16);
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long base = first * 2;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int upper = F.loopBound(n);
        for (; i < upper; i += L) {
            ShortVector h = ShortVector.fromMemorySegment(S, w, base + 2L * i, ByteOrder.LITTLE_ENDIAN);
            // S2I sign-extends into bits 16..31; the shift by 16 pushes those out again.
            FloatVector wv = (FloatVector) h.convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = wv.fma(Blocks.x(x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Float.intBitsToFloat(w.get(Blocks.SHORT_LE, base + 2L * i) << 16) * x[xOffset + i];
        }
        return sum;
    }
}
