package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ShortVector;

/**
 * Q4_0 interleaved, multiplied in integers, in {@link Block32Interleaved}'s layout: the scale is the file's f16 d
 * widened, the codes are the unsigned nibbles q, weight = d · (q − 8). The activations come quantized to int8 per block
 * ({@link Int8Activations}): a 16-bit lane multiplies its nibble by the activation of its k (a broadcast pair of
 * activations serves the even and the odd lanes) and adds the product to its block sum; a block's 16 products per lane
 * stay within 16 bits (|q·xq| ≤ 15·127, 16 · 1905 &lt; 32768). At the end of a block the lane pairs are added in 32
 * bits, which gives row i's exact Σ q·xq, and 8·Σxq is subtracted.
 *
 * <p><b>The canonical dot</b> of this format, per row and token: acc = 0, then for each block b in order
 * acc = fma((float) (Σ_k q_k·xq_k − 8·Σ_k xq_k), d · dx_b, acc) ({@link #referenceDot}). The integer sums are
 * exact in any order, so every tile shape gives the same bits.
 */
final class InterleavedQ4_0 extends Block32Interleaved {
    private static final int FILE_BYTES = 18;

    InterleavedQ4_0(int rows, int n, MemorySegment data) {
        super(rows, n, FILE_BYTES, 2, data);
    }

    @Override
    float scale(byte[] row, int src) {
        return getHalf(row, src);
    }

    /**
     * Measured (a product of 8192 × 2048 from memory, one core): 4 tokens 2.9 → 1.4 ms, 8 4.3 → 2.5, 16 5.7 → 4.6. With the
     * 16-bit tiles decoding in registers ({@link #fusedTiles}), two threads, GMAC/s per core tiles / token pairs: 8 tokens
     * 59.4 / 69.1, 12 80.1 / 61.3, 16 80.5 / 72.5.
     */
    @Override
    int tiledFrom() {
        return 12;
    }

    /** The canonical dot of row {@code row} of a Q4_0 matrix in its file layout with {@code x[xOffset ..]}. */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset) {
        return referenceDot(file, row, n, x, xOffset, FILE_BYTES, 2,
                (f, blk) -> Float.float16ToFloat(f.get(ValueLayout.JAVA_SHORT_UNALIGNED, blk)), q -> q, 8);
    }

    // --- the kernels ---

    private static final ShortVector EIGHT = ShortVector.broadcast(SR, (short) 8);

    @Override
    ShortVector codeValues() {
        return null;
    }

    @Override
    ShortVector codeOffset() {
        return EIGHT;
    }

    @Override
    void decodePiece(int g, int k0, int len, MemorySegment d, long at) {
        decodeUnscaled(g, k0, len, d, at, null, 8f);
    }

    /**
     * One token with row group g: its sums at s[at ..]. Read in address order, one block at a time, each block's end in
     * registers: one stream per core with nothing in memory but the weights (four groups side by side, block ends in
     * memory, streamed 14–18 GB/s per core from DRAM; this 15–24).
     */
    @Override
    void dot1(int g, Int8Activations act, int t, MemorySegment s, long at) {
        dot1(g, act, t, s, at, null, 8);
    }

    @Override
    boolean twoTokens(int g, int quad, Int8Activations act, int t, MemorySegment s) {
        return twoTokens(g, quad, act, t, s, null, 8);
    }
}
