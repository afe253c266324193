package org.memwall.quant;

import java.lang.foreign.MemorySegment;

/**
 * A format whose weights are small integers q times one scale per block of 32 (Q8_0, Q4_0): its
 * canonical dot sums q·x over each block before scaling, as the fused kernels do, instead of
 * multiplying every weight by its scale first. Per row and activation row:
 * <pre>
 * acc = 0 (L lanes)
 * for each block b:  s = q[chunk 0]·x[chunk 0]; s = fma(q[chunk k], x[chunk k], s) for the block's
 *                    further chunks in order; acc = fma(s, scale[b], acc)
 * dot = the lanes of acc summed as a fixed tree
 * </pre>
 * Batched kernels read q and the scales from {@link #unscaled}; the fused kernels decode the same
 * values in registers, so the results are the same to the bit.
 */
public interface BlockScaled extends QuantFormat {
    /** Elements per scale. */
    int BLOCK = 32;

    /**
     * Writes the integer grid values of elements {@code [first, first + n)} as floats to
     * {@code q[qOffset ..]} and each block's scale to {@code scales[scaleOffset ..]}.
     */
    void unscaled(MemorySegment weights, long first, float[] q, int qOffset, float[] scales, int scaleOffset, int n);

    @Override
    default float dot(MemorySegment weights, long first, float[] x, int xOffset, int n) {
        return Kernels.scaledDot(this, weights, first, x, xOffset, n);
    }
}
