package org.memwall.quant;

import static org.memwall.quant.FloatInterleaved.BLOCK;
import static org.memwall.quant.Interleaved.FR;
import static org.memwall.quant.Interleaved.V;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * The register tiles of {@link FloatInterleaved}: a piece of decoded quants of one or two row groups (their rows in the
 * lanes, weight k of a group at float ROWS·k) times broadcast activations, one fused multiply-add per weight vector and
 * token into a sum per block of {@link FloatInterleaved#BLOCK} (from zero), each sum then scaled into its accumulator in
 * memory: {@code acc = fma(sum, d, acc)}, the blocks' scales one vector per block at {@code s[scales ..]}. Every tile
 * adds the same terms to a lane in the same order as {@link FloatInterleaved#dot1}.
 *
 * <p>Every vector operation is written out (no helper calls): with twelve sums the JIT's inlining budget ran out on
 * small helpers, and the vectors passed to them were boxed (5.9 MB per 64-token product). The shapes differ only in
 * their counts of groups and tokens.
 */
final class InterleavedTiles {
    private InterleavedTiles() {
    }


    /**
     * Six tokens (activations at x[xo + t·n]) by two row groups ({@code s[0 ..]} and {@code s[second ..]}, scales at
     * {@code scales} and {@code scales + scalesSecond}) over k in [0, len); accumulators at {@code s[acc ..]}, token t
     * and group j at acc + V·(2t + j) (V: bytes per vector).
     */
    static void tile2x6(MemorySegment s, long second, long scales, long scalesSecond, int len, float[] x, int xo, int n, long acc) {
        for (int e = 0; e < len; e += BLOCK) {
            FloatVector s00 = FloatVector.zero(FR), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
            for (int k = e; k < e + BLOCK; k++) {
                FloatVector w0 = FloatVector.fromMemorySegment(FR, s, (long) V * k, ByteOrder.LITTLE_ENDIAN);
                FloatVector w1 = FloatVector.fromMemorySegment(FR, s, second + (long) V * k, ByteOrder.LITTLE_ENDIAN);
                int i = xo + k;
                FloatVector x0 = FloatVector.broadcast(FR, x[i]);
                s00 = w0.fma(x0, s00);
                s01 = w1.fma(x0, s01);
                FloatVector x1 = FloatVector.broadcast(FR, x[i + n]);
                s10 = w0.fma(x1, s10);
                s11 = w1.fma(x1, s11);
                FloatVector x2 = FloatVector.broadcast(FR, x[i + 2 * n]);
                s20 = w0.fma(x2, s20);
                s21 = w1.fma(x2, s21);
                FloatVector x3 = FloatVector.broadcast(FR, x[i + 3 * n]);
                s30 = w0.fma(x3, s30);
                s31 = w1.fma(x3, s31);
                FloatVector x4 = FloatVector.broadcast(FR, x[i + 4 * n]);
                s40 = w0.fma(x4, s40);
                s41 = w1.fma(x4, s41);
                FloatVector x5 = FloatVector.broadcast(FR, x[i + 5 * n]);
                s50 = w0.fma(x5, s50);
                s51 = w1.fma(x5, s51);
            }
            long b = scales + (long) V * (e / BLOCK);
            FloatVector d0 = FloatVector.fromMemorySegment(FR, s, b, ByteOrder.LITTLE_ENDIAN);
            FloatVector d1 = FloatVector.fromMemorySegment(FR, s, b + scalesSecond, ByteOrder.LITTLE_ENDIAN);
            s00.fma(d0, FloatVector.fromMemorySegment(FR, s, acc, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
            s01.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + V, ByteOrder.LITTLE_ENDIAN);
            s10.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
            s11.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
            s20.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
            s21.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN);
            s30.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
            s31.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
            s40.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 8 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 8 * V, ByteOrder.LITTLE_ENDIAN);
            s41.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 9 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 9 * V, ByteOrder.LITTLE_ENDIAN);
            s50.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 10 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 10 * V, ByteOrder.LITTLE_ENDIAN);
            s51.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 11 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 11 * V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** {@link #tile2x6} for four tokens. */
    static void tile2x4(MemorySegment s, long second, long scales, long scalesSecond, int len, float[] x, int xo, int n, long acc) {
        for (int e = 0; e < len; e += BLOCK) {
            FloatVector s00 = FloatVector.zero(FR), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int k = e; k < e + BLOCK; k++) {
                FloatVector w0 = FloatVector.fromMemorySegment(FR, s, (long) V * k, ByteOrder.LITTLE_ENDIAN);
                FloatVector w1 = FloatVector.fromMemorySegment(FR, s, second + (long) V * k, ByteOrder.LITTLE_ENDIAN);
                int i = xo + k;
                FloatVector x0 = FloatVector.broadcast(FR, x[i]);
                s00 = w0.fma(x0, s00);
                s01 = w1.fma(x0, s01);
                FloatVector x1 = FloatVector.broadcast(FR, x[i + n]);
                s10 = w0.fma(x1, s10);
                s11 = w1.fma(x1, s11);
                FloatVector x2 = FloatVector.broadcast(FR, x[i + 2 * n]);
                s20 = w0.fma(x2, s20);
                s21 = w1.fma(x2, s21);
                FloatVector x3 = FloatVector.broadcast(FR, x[i + 3 * n]);
                s30 = w0.fma(x3, s30);
                s31 = w1.fma(x3, s31);
            }
            long b = scales + (long) V * (e / BLOCK);
            FloatVector d0 = FloatVector.fromMemorySegment(FR, s, b, ByteOrder.LITTLE_ENDIAN);
            FloatVector d1 = FloatVector.fromMemorySegment(FR, s, b + scalesSecond, ByteOrder.LITTLE_ENDIAN);
            s00.fma(d0, FloatVector.fromMemorySegment(FR, s, acc, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
            s01.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + V, ByteOrder.LITTLE_ENDIAN);
            s10.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
            s11.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 3 * V, ByteOrder.LITTLE_ENDIAN);
            s20.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
            s21.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 5 * V, ByteOrder.LITTLE_ENDIAN);
            s30.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
            s31.fma(d1, FloatVector.fromMemorySegment(FR, s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 7 * V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** {@link #tile2x4} for one row group: the accumulators of token t at acc + 2V·t. */
    static void tile1x4(MemorySegment s, long scales, int len, float[] x, int xo, int n, long acc) {
        for (int e = 0; e < len; e += BLOCK) {
            FloatVector s00 = FloatVector.zero(FR), s10 = s00, s20 = s00, s30 = s00;
            for (int k = e; k < e + BLOCK; k++) {
                FloatVector w0 = FloatVector.fromMemorySegment(FR, s, (long) V * k, ByteOrder.LITTLE_ENDIAN);
                int i = xo + k;
                FloatVector x0 = FloatVector.broadcast(FR, x[i]);
                s00 = w0.fma(x0, s00);
                FloatVector x1 = FloatVector.broadcast(FR, x[i + n]);
                s10 = w0.fma(x1, s10);
                FloatVector x2 = FloatVector.broadcast(FR, x[i + 2 * n]);
                s20 = w0.fma(x2, s20);
                FloatVector x3 = FloatVector.broadcast(FR, x[i + 3 * n]);
                s30 = w0.fma(x3, s30);
            }
            long b = scales + (long) V * (e / BLOCK);
            FloatVector d0 = FloatVector.fromMemorySegment(FR, s, b, ByteOrder.LITTLE_ENDIAN);
            s00.fma(d0, FloatVector.fromMemorySegment(FR, s, acc, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
            s10.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 2 * V, ByteOrder.LITTLE_ENDIAN);
            s20.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 4 * V, ByteOrder.LITTLE_ENDIAN);
            s30.fma(d0, FloatVector.fromMemorySegment(FR, s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc + 6 * V, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** One token by one row group, its quants at {@code s[at ..]}. */
    static void tile1x1(MemorySegment s, long at, long scales, int len, float[] x, int xo, long acc) {
        for (int e = 0; e < len; e += BLOCK) {
            FloatVector s00 = FloatVector.zero(FR);
            for (int k = e; k < e + BLOCK; k++) {
                FloatVector w0 = FloatVector.fromMemorySegment(FR, s, at + (long) V * k, ByteOrder.LITTLE_ENDIAN);
                int i = xo + k;
                FloatVector x0 = FloatVector.broadcast(FR, x[i]);
                s00 = w0.fma(x0, s00);
            }
            long b = scales + (long) V * (e / BLOCK);
            FloatVector d0 = FloatVector.fromMemorySegment(FR, s, b, ByteOrder.LITTLE_ENDIAN);
            s00.fma(d0, FloatVector.fromMemorySegment(FR, s, acc, ByteOrder.LITTLE_ENDIAN)).intoMemorySegment(s, acc, ByteOrder.LITTLE_ENDIAN);
        }
    }
}
