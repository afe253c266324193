package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * The kernels of the 4-bit codebook formats (IQ4_NL, MXFP4): blocks of 32 weights holding one scale
 * followed by qs[16], weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble,
 * weight = scale · table[nibble]. Only the scale differs: an f16 (2 bytes) or an E8M0 exponent
 * (1 byte, scale 2^(e − 128)).
 */
final class Codebook4 {
    private static final int BLOCK = 32;
    /** 2^(e − 128) for every E8M0 exponent e; e = 0 and 1 give the subnormals 2^−128 and 2^−127. */
    private static final float[] E8M0_HALF = new float[256];

    static {
        for (int e = 0; e < 256; e++) {
            E8M0_HALF[e] = MXFP4.scale(e);
        }
    }

    private Codebook4() {
    }

    private static float scale(MemorySegment w, long block, boolean e8m0) {
        return e8m0 ? E8M0_HALF[Blocks.u8(w, block)] : Blocks.f16(w, block);
    }

    static void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n, byte[] table, boolean e8m0) {
        int qsAt = e8m0 ? 1 : 2;
        int bytes = qsAt + 16;
        long block = first / BLOCK * bytes;
        for (int e = 0; e < n; e += BLOCK, block += bytes) {
            FloatVector d = FloatVector.broadcast(F, scale(w, block, e8m0));
            for (int j = 0; j < BLOCK; j += L) {
                values(w, block + qsAt, j, table).mul(d).intoArray(out, outOffset + e + j);
            }
        }
    }

    /**
     * The canonical dot, fused: each chunk of L weights decoded exactly as {@link #dequantize} writes it
     * (codebook lookup, widening, scale) and added to the accumulator in element order, never stored.
     */
    static float dot(MemorySegment w, long first, float[] x, int xOffset, int n, byte[] table, boolean e8m0) {
        int qsAt = e8m0 ? 1 : 2;
        int bytes = qsAt + 16;
        long block = first / BLOCK * bytes;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += bytes) {
            FloatVector d = FloatVector.broadcast(F, scale(w, block, e8m0));
            for (int j = 0; j < BLOCK; j += L) {
                acc = values(w, block + qsAt, j, table).mul(d).fma(Blocks.x(x, xOffset + e + j), acc);
            }
        }
        return Kernels.sum(acc);
    }

    /** The codebook values of weights j .. j + L − 1 of the block whose qs start at {@code qs}, as floats. */
    private static FloatVector values(MemorySegment w, long qs, int j, byte[] table) {
        ByteVector v = Blocks.bytes(w, qs + (j & 15));
        return Blocks.floats(Blocks.lookup16(j < 16 ? Blocks.low(v) : Blocks.high(v), table));
    }
}
