package org.memwall.quant;

import static org.memwall.quant.Interleaved.FR;
import static org.memwall.quant.Interleaved.V;
import static org.memwall.quant.Interleaved.floats;
import static org.memwall.quant.Interleaved.x;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * The register tiles of {@link Interleaved}: decoded weights of one row group (its rows in the lanes,
 * weight k of the group at float ROWS·k) times broadcast activations, one fused multiply-add per weight
 * vector and token, k in order. Every tile adds the same terms to a lane in the same order.
 */
final class InterleavedTiles {
    private InterleavedTiles() {
    }

    /** One token by four decoded row groups ({@code q} bytes apart) over k in [0, len); accumulators at {@code s[acc ..]}, four vectors. */
    static void tile4x1(MemorySegment s, long q, int len, float[] x, int xo, long acc) {
        FloatVector a0 = floats(s, acc), a1 = floats(s, acc + V), a2 = floats(s, acc + 2 * V), a3 = floats(s, acc + 3 * V);
        for (int k = 0; k < len; k++) {
            FloatVector xb = x(x, xo + k);
            long at = (long) V * k;
            a0 = floats(s, at).fma(xb, a0);
            a1 = floats(s, at + q).fma(xb, a1);
            a2 = floats(s, at + 2 * q).fma(xb, a2);
            a3 = floats(s, at + 3 * q).fma(xb, a3);
        }
        intoSegment(a0, s, acc);
        intoSegment(a1, s, acc + V);
        intoSegment(a2, s, acc + 2 * V);
        intoSegment(a3, s, acc + 3 * V);
    }

    /** {@link #tile4x1} for one row group at {@code s[at ..]}. */
    static void tile1x1(MemorySegment s, long at, int len, float[] x, int xo, long acc) {
        FloatVector a = floats(s, acc);
        for (int k = 0; k < len; k++) {
            a = floats(s, at + (long) V * k).fma(x(x, xo + k), a);
        }
        intoSegment(a, s, acc);
    }

    private static void intoSegment(FloatVector v, MemorySegment s, long offset) {
        v.intoMemorySegment(s, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Four tokens (activations at x[xo + t·n]) by two decoded row groups ({@code s[0 ..]} and {@code s[second ..]}),
     * over k in [0, len); accumulators at {@code s[acc ..]}, token t and group j at acc + V·(2t + j) (V: bytes per vector).
     */
    static void tile2x4(MemorySegment s, long second, int len, float[] x, int xo, int n, long acc) {
        FloatVector a00 = floats(s, acc), a01 = floats(s, acc + V), a10 = floats(s, acc + 2 * V), a11 = floats(s, acc + 3 * V);
        FloatVector a20 = floats(s, acc + 4 * V), a21 = floats(s, acc + 5 * V), a30 = floats(s, acc + 6 * V), a31 = floats(s, acc + 7 * V);
        for (int k = 0; k < len; k++) {
            FloatVector w0 = floats(s, (long) V * k);
            FloatVector w1 = floats(s, second + (long) V * k);
            int i = xo + k;
            FloatVector x0 = x(x, i);
            a00 = w0.fma(x0, a00);
            a01 = w1.fma(x0, a01);
            FloatVector x1 = x(x, i + n);
            a10 = w0.fma(x1, a10);
            a11 = w1.fma(x1, a11);
            FloatVector x2 = x(x, i + 2 * n);
            a20 = w0.fma(x2, a20);
            a21 = w1.fma(x2, a21);
            FloatVector x3 = x(x, i + 3 * n);
            a30 = w0.fma(x3, a30);
            a31 = w1.fma(x3, a31);
        }
        intoSegment(a00, s, acc);
        intoSegment(a01, s, acc + V);
        intoSegment(a10, s, acc + 2 * V);
        intoSegment(a11, s, acc + 3 * V);
        intoSegment(a20, s, acc + 4 * V);
        intoSegment(a21, s, acc + 5 * V);
        intoSegment(a30, s, acc + 6 * V);
        intoSegment(a31, s, acc + 7 * V);
    }

    // Every vector operation written out (no helper calls): with twelve accumulators the JIT's inlining budget ran
    // out on the small helpers, and the vectors passed to them were boxed (5.9 MB per 64-token product).
    static void tile2x6(MemorySegment s, long second, int len, float[] x, int xo, int n, long acc) {
        FloatVector a00 = FloatVector.fromMemorySegment(FR, s, acc, ByteOrder.LITTLE_ENDIAN), a01 = FloatVector.fromMemorySegment(FR, s, acc + V, ByteOrder.LITTLE_ENDIAN), a10 = FloatVector.fromMemorySegment(FR, s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN), a11 = FloatVector.fromMemorySegment(FR, s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a20 = FloatVector.fromMemorySegment(FR, s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN), a21 = FloatVector.fromMemorySegment(FR, s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN), a30 = FloatVector.fromMemorySegment(FR, s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN), a31 = FloatVector.fromMemorySegment(FR, s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
        FloatVector a40 = FloatVector.fromMemorySegment(FR, s, acc + 8 * V, ByteOrder.LITTLE_ENDIAN), a41 = FloatVector.fromMemorySegment(FR, s, acc + 9 * V, ByteOrder.LITTLE_ENDIAN), a50 = FloatVector.fromMemorySegment(FR, s, acc + 10 * V, ByteOrder.LITTLE_ENDIAN), a51 = FloatVector.fromMemorySegment(FR, s, acc + 11 * V, ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < len; k++) {
            FloatVector w0 = FloatVector.fromMemorySegment(FR, s, (long) V * k, ByteOrder.LITTLE_ENDIAN);
            FloatVector w1 = FloatVector.fromMemorySegment(FR, s, second + (long) V * k, ByteOrder.LITTLE_ENDIAN);
            int i = xo + k;
            FloatVector x0 = FloatVector.broadcast(FR, x[i]);
            a00 = w0.fma(x0, a00);
            a01 = w1.fma(x0, a01);
            FloatVector x1 = FloatVector.broadcast(FR, x[i + n]);
            a10 = w0.fma(x1, a10);
            a11 = w1.fma(x1, a11);
            FloatVector x2 = FloatVector.broadcast(FR, x[i + 2 * n]);
            a20 = w0.fma(x2, a20);
            a21 = w1.fma(x2, a21);
            FloatVector x3 = FloatVector.broadcast(FR, x[i + 3 * n]);
            a30 = w0.fma(x3, a30);
            a31 = w1.fma(x3, a31);
            FloatVector x4 = FloatVector.broadcast(FR, x[i + 4 * n]);
            a40 = w0.fma(x4, a40);
            a41 = w1.fma(x4, a41);
            FloatVector x5 = FloatVector.broadcast(FR, x[i + 5 * n]);
            a50 = w0.fma(x5, a50);
            a51 = w1.fma(x5, a51);
        }
        a00.intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
        a01.intoMemorySegment(s, acc + V, ByteOrder.LITTLE_ENDIAN);
        a10.intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
        a11.intoMemorySegment(s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
        a20.intoMemorySegment(s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
        a21.intoMemorySegment(s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN);
        a30.intoMemorySegment(s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
        a31.intoMemorySegment(s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
        a40.intoMemorySegment(s, acc + 8 * V, ByteOrder.LITTLE_ENDIAN);
        a41.intoMemorySegment(s, acc + 9 * V, ByteOrder.LITTLE_ENDIAN);
        a50.intoMemorySegment(s, acc + 10 * V, ByteOrder.LITTLE_ENDIAN);
        a51.intoMemorySegment(s, acc + 11 * V, ByteOrder.LITTLE_ENDIAN);
    }

    /** {@link #tile2x4} for one row group: the accumulators of token t at acc + 2V·t. */
    static void tile1x4(MemorySegment s, int len, float[] x, int xo, int n, long acc) {
        FloatVector a0 = floats(s, acc), a1 = floats(s, acc + 2 * V), a2 = floats(s, acc + 4 * V), a3 = floats(s, acc + 6 * V);
        for (int k = 0; k < len; k++) {
            FloatVector w = floats(s, (long) V * k);
            int i = xo + k;
            a0 = w.fma(x(x, i), a0);
            a1 = w.fma(x(x, i + n), a1);
            a2 = w.fma(x(x, i + 2 * n), a2);
            a3 = w.fma(x(x, i + 3 * n), a3);
        }
        intoSegment(a0, s, acc);
        intoSegment(a1, s, acc + 2 * V);
        intoSegment(a2, s, acc + 4 * V);
        intoSegment(a3, s, acc + 6 * V);
    }
}
