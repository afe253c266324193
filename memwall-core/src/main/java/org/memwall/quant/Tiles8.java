package org.memwall.quant;

import static org.memwall.quant.Interleaved.F8;
import static org.memwall.quant.Interleaved.floats;
import static org.memwall.quant.Interleaved.store;
import static org.memwall.quant.Interleaved.x;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The register tiles of {@link Interleaved}: decoded weights of one row group (eight rows in the lanes,
 * weight k of the group at float 8k) times broadcast activations, one fused multiply-add per weight
 * vector and token, k in order. Every tile adds the same terms to a lane in the same order.
 */
final class Tiles8 {
    private Tiles8() {
    }

    /** acc + Σ_k w[k]·x[xo + k] for k in [0, len), weights from float 8k of {@code s[at ..]} (byte offset). */
    static FloatVector row(MemorySegment s, long at, int len, float[] x, int xo, FloatVector acc) {
        for (int k = 0; k < len; k++) {
            acc = floats(s, at + 32L * k).fma(x(x, xo + k), acc);
        }
        return acc;
    }

    /** Eight tokens (activations at x[xo + t·n]) by one decoded row group of n weights, lanes [from, to) stored at out[o + t·stride + lane]. */
    static void tile1x8(MemorySegment s, int n, float[] x, int xo, float[] out, int o, int stride, int from, int to) {
        FloatVector a0 = FloatVector.zero(F8), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < n; k++) {
            FloatVector w = floats(s, 32L * k);
            int i = xo + k;
            a0 = w.fma(x(x, i), a0);
            a1 = w.fma(x(x, i + n), a1);
            a2 = w.fma(x(x, i + 2 * n), a2);
            a3 = w.fma(x(x, i + 3 * n), a3);
            a4 = w.fma(x(x, i + 4 * n), a4);
            a5 = w.fma(x(x, i + 5 * n), a5);
            a6 = w.fma(x(x, i + 6 * n), a6);
            a7 = w.fma(x(x, i + 7 * n), a7);
        }
        store(a0, out, o, from, to);
        store(a1, out, o + stride, from, to);
        store(a2, out, o + 2 * stride, from, to);
        store(a3, out, o + 3 * stride, from, to);
        store(a4, out, o + 4 * stride, from, to);
        store(a5, out, o + 5 * stride, from, to);
        store(a6, out, o + 6 * stride, from, to);
        store(a7, out, o + 7 * stride, from, to);
    }
}
