package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/** IEEE binary16, little-endian, 2 bytes per element: sign (1), exponent (5, bias 15), mantissa (10). */
public final class F16 implements QuantFormat {
    /** 2^(127 − 15): rebiases a half's exponent once its bits sit in a float's exponent field. */
    private static final float REBIAS = 0x1.0p112f;

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    /**
     * {@link Float#float16ToFloat} one element at a time: the JIT compiles this loop to the CPU's own conversion
     * ({@code vcvtph2ps}, 16 halves per instruction), 1.6–1.8× the rate of {@link #toFloat} on rows of 1,024 or more
     * (0.022–0.029 against 0.040–0.046 ns per value); on 64 values it is the slower (0.19 against 0.10).
     */
    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long base = first * 2;
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.float16ToFloat(w.get(Blocks.SHORT_LE, base + 2L * i));
        }
    }

    /**
     * Exact half → float of sign-extended halves, L at a time (short runs: {@link KeyPlanes}), the value
     * {@link Float#float16ToFloat} gives: exponent and mantissa shifted into a float's fields and multiplied by 2^112
     * give every finite value, subnormals included; exponent 31 (infinity, NaN) gets all exponent bits; the sign
     * extension left the sign in bit 31.
     */
    static FloatVector toFloat(IntVector h) {
        IntVector magnitude = h.and(0x7FFF);
        IntVector bits = ((FloatVector) magnitude.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats())
                .mul(REBIAS).reinterpretAsInts();
        bits = bits.lanewise(VectorOperators.OR, 0x7F80_0000, magnitude.compare(VectorOperators.GE, 0x7C00));
        return (FloatVector) bits.or(h.and(0x8000_0000)).reinterpretAsFloats();
    }
}
