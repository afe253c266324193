package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;

/**
 * The kernels of one ggml block format, reading blocks straight from a (memory-mapped) segment.
 * Element indices count from the start of the segment; {@code first} and {@code n} are multiples of
 * the format's block size. Implementations are stateless and thread-safe.
 */
public interface QuantFormat {

    GgmlType type();

    /** Writes elements {@code [first, first + n)} of {@code weights} as floats to {@code out[outOffset..]}. */
    void dequantize(MemorySegment weights, long first, float[] out, int outOffset, int n);

    /** Returns Σ weights[first + i] · x[xOffset + i] for i in [0, n): the canonical dot of {@link Kernels}. */
    default float dot(MemorySegment weights, long first, float[] x, int xOffset, int n) {
        return Kernels.dot(this, weights, first, x, xOffset, n);
    }

    /** The kernels for {@code type}, or an error naming the type when memwall has none. */
    static QuantFormat of(GgmlType type) {
        QuantFormat f = Formats.forType(type);
        if (f == null) {
            throw new MemwallException("tensor type " + type + " is not supported by memwall yet (supported: " + Formats.supportedNames() + ")");
        }
        return f;
    }
}
