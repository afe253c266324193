package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ShortVector;

/**
 * MXFP4 interleaved, multiplied in integers, in {@link Block32Interleaved}'s layout: the scale is 2^(e − 128) of the
 * block's E8M0 exponent e, the codes are E2M1, weight = scale · F[code] with F the doubled E2M1 values (integers
 * −12..12, {@link MXFP4}). A 16-bit lane looks its code up in F (a permutation of one vector of lanes), multiplies it
 * by its activation and adds the product to the block's sum: 16 products per lane stay within 16 bits
 * (12 · 127 · 16 &lt; 32768).
 *
 * <p><b>The canonical dot</b> per row and token: acc = 0, then for each block b in order
 * acc = fma((float) Σ F[code_k]·xq_k, scale · dx_b, acc) ({@link #referenceDot}).
 */
final class InterleavedMXFP4 extends Block32Interleaved {
    private static final int FILE_BYTES = 17;
    /** The doubled E2M1 values by code, in lanes 0..15 (and again in 16..31 where there are). */
    private static final ShortVector VALUES = ShortVector.fromArray(SR, values(), 0);
    private static final ShortVector NO_OFFSET = ShortVector.zero(SR);

    private static short[] values() {
        short[] v = new short[SR.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = MXFP4.E2M1X2[i & 15];
        }
        return v;
    }

    InterleavedMXFP4(int rows, int n, MemorySegment data) {
        super(rows, n, FILE_BYTES, 1, data);
    }

    @Override
    float scale(byte[] row, int src) {
        return MXFP4.scale(row[src] & 0xFF);
    }

    /** Its look-up costs the one-token kernel more: 4 tokens 3.8 → 3.3 ms (8192 × 2880), 8 tokens 4.8 with the tiles, 6.2 without. */
    @Override
    int tiledFrom() {
        return 6;
    }

    /** The canonical dot of row {@code row} of an MXFP4 matrix in its file layout with {@code x[xOffset ..]}. */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset) {
        return referenceDot(file, row, n, x, xOffset, FILE_BYTES, 1, (f, blk) -> MXFP4.scale(f.get(ValueLayout.JAVA_BYTE, blk) & 0xFF),
                code -> MXFP4.E2M1X2[code], 0);
    }

    // --- the kernels ---

    @Override
    ShortVector codeValues() {
        return VALUES;
    }

    @Override
    ShortVector codeOffset() {
        return NO_OFFSET;
    }

    @Override
    void decodePiece(int g, int k0, int len, MemorySegment d, long at) {
        decodeUnscaled(g, k0, len, d, at, VALUES, 0f);
    }

    @Override
    void dot1(int g, Int8Activations act, int t, MemorySegment s, long at) {
        dot1(g, act, t, s, at, VALUES, 0);
    }

    @Override
    boolean twoTokens(int g, int quad, Int8Activations act, int t, MemorySegment s) {
        return twoTokens(g, quad, act, t, s, VALUES, 0);
    }
}
