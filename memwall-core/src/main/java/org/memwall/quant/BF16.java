package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/** bfloat16, little-endian, 2 bytes per element: the top 16 bits of a float32. */
public final class BF16 implements QuantFormat {

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long base = first * 2;
        int i = 0;
        for (int upper = F.loopBound(n); i < upper; i += L) {
            // The sign extension into bits 16..31 is shifted out again.
            ((FloatVector) Blocks.shorts(w, base + 2L * i).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats())
                    .intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = Float.intBitsToFloat(w.get(Blocks.SHORT_LE, base + 2L * i) << 16);
        }
    }
}
