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

/** IEEE binary16, little-endian, 2 bytes per element: sign (1), exponent (5, bias 15), mantissa (10). */
public final class F16 implements QuantFormat {
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** 2^(127 − 15): rebiases a half's exponent once its bits sit in a float's exponent field. */
    private static final float REBIAS = 0x1.0p112f;

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long base = first * 2;
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.float16ToFloat(w.get(Blocks.SHORT_LE, base + 2L * i));
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
            acc = toFloat((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).fma(Blocks.x(x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Float.float16ToFloat(w.get(Blocks.SHORT_LE, base + 2L * i)) * x[xOffset + i];
        }
        return sum;
    }

    /**
     * Exact half → float on the low 16 bits of each lane: exponent and mantissa shifted into a float's
     * fields and multiplied by 2^112 give every finite value, subnormals included; exponent 31
     * (infinity, NaN) gets all exponent bits; then the sign.
     */
    private static FloatVector toFloat(IntVector h) {
        IntVector magnitude = h.and(0x7FFF);
        IntVector bits = ((FloatVector) magnitude.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats())
                .mul(REBIAS).reinterpretAsInts();
        bits = bits.lanewise(VectorOperators.OR, 0x7F80_0000, magnitude.compare(VectorOperators.GE, 0x7C00));
        return (FloatVector) bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }
}
