package org.memwall.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.memwall.quant.Kernels;
import org.memwall.quant.KeyPlanes;

/**
 * Vector loops over float arrays for the parts of a forward pass that are not weight products
 * (attention's softmax and weighted sum of values, the feed-forward's gate). Each computes the same result
 * however it is called, so a token's attention does not depend on the batch it is in.
 *
 * <p>{@link #exp} is our own: range reduction by ln 2 in two parts and a degree-7 polynomial (Cephes' expf
 * coefficients), 2^n built from its exponent bits; about 1 ulp. It uses only operations that IEEE 754 defines
 * exactly (fused multiply-add, add, min, max, conversions of exact integers), so a lane computes the same bits
 * as the scalar {@link #exp(float)} and compiled code the same as interpreted: the Vector API's own EXP did
 * not (its last bits differed between the JIT's intrinsic and the Java fallback), and Math.exp one element
 * at a time cost 10 ms per token at 4096 positions of context.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> F = Kernels.SPECIES;
    private static final int L = F.length();

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 in two parts: C1 exact in few bits, so n·C1 is exact for the n that occur. */
    private static final float C1 = 0.693359375f;
    private static final float C2 = -2.12194440e-4f;
    /** 1.5·2^23: added and subtracted, rounds a float below 2^22 in magnitude to an integer (ties to even). */
    private static final float ROUND = 12582912f;
    /** Arguments are clamped to [LOW, HIGH]: exp(LOW) is the smallest normal float, exp(HIGH) below the largest. */
    private static final float LOW = -87.33654f;
    private static final float HIGH = 88.0f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private VectorMath() {
    }

    /** e^x, the same bits as each lane of the vector form. */
    public static float exp(float x) {
        x = Math.min(Math.max(x, LOW), HIGH);
        float n = Math.fma(x, LOG2E, ROUND) - ROUND;
        float r = Math.fma(n, -C1, x);
        r = Math.fma(n, -C2, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** e^x lane by lane, as {@link #exp(float)}. */
    private static FloatVector exp(FloatVector x) {
        x = x.max(LOW).min(HIGH);
        FloatVector n = x.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -C1), x);
        r = n.fma(FloatVector.broadcast(F, -C2), r);
        FloatVector p = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1)).fma(r, FloatVector.broadcast(F, P2))
                .fma(r, FloatVector.broadcast(F, P3)).fma(r, FloatVector.broadcast(F, P4)).fma(r, FloatVector.broadcast(F, P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return y.mul(bits.reinterpretAsFloats());
    }

    /**
     * {@code s[i] = exp(s[i] − shift)} for i in [from, to), returning their sum: lane j of the vectors sums the
     * values at from + j, from + j + L, ... in order, and the lanes' sums and the tail are then added one by one in
     * a fixed order (a vector reduction's order is unspecified).
     */
    public static float expShifted(float[] s, int from, int to, float shift) {
        int full = from + (to - from) / L * L;
        FloatVector sum = FloatVector.zero(F);
        for (int i = from; i < full; i += L) {
            FloatVector e = exp(FloatVector.fromArray(F, s, i).sub(shift));
            e.intoArray(s, i);
            sum = sum.add(e);
        }
        float[] lanes = LANES.get();
        sum.intoArray(lanes, 0);
        float total = 0;
        for (int j = 0; j < L; j++) {
            total += lanes[j];
        }
        for (int i = full; i < to; i++) {
            float e = exp(s[i] - shift);
            s[i] = e;
            total += e;
        }
        return total;
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    /** {@code gate[i] = silu(gate[i]) · up[i]} for i in [from, to), silu(g) = g / (1 + e^−g). */
    public static void siluTimes(float[] gate, float[] up, int from, int to) {
        int full = from + (to - from) / L * L;
        for (int i = from; i < full; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            g.div(exp(g.neg()).add(1f)).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (int i = full; i < to; i++) {
            float g = gate[i];
            gate[i] = g / (exp(-g) + 1f) * up[i];
        }
    }

    /**
     * Attention scores of two query heads, q[q0 ..] and q[q1 ..], against the keys of {@link KeyPlanes#RUN} positions
     * decoded by dimension ({@code k[d·RUN + c]}, {@link KeyPlanes#decode}): s[s0 + c] = (Σ_d k[d·RUN + c] · q[q0 + d]) ·
     * scale, and s[s1 + c] alike. Each position's sum takes one fused multiply-add per dimension in order from d = 0, in
     * its own lane, so its score has the same bits whichever heads or positions are scored beside it; the key vectors
     * are loaded once for both heads and no sum runs across lanes (one dot at a time, summed across lanes, took 2.7×
     * as long with 16 lanes).
     */
    public static void scores2(float[] k, int dims, float[] q, int q0, int q1, float scale, float[] s, int s0, int s1) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int d = 0, o = 0; d < dims; d++, o += 4 * L) {
            FloatVector k0 = FloatVector.fromArray(F, k, o), k1 = FloatVector.fromArray(F, k, o + L);
            FloatVector k2 = FloatVector.fromArray(F, k, o + 2 * L), k3 = FloatVector.fromArray(F, k, o + 3 * L);
            FloatVector x = FloatVector.broadcast(F, q[q0 + d]);
            a0 = k0.fma(x, a0);
            a1 = k1.fma(x, a1);
            a2 = k2.fma(x, a2);
            a3 = k3.fma(x, a3);
            FloatVector y = FloatVector.broadcast(F, q[q1 + d]);
            b0 = k0.fma(y, b0);
            b1 = k1.fma(y, b1);
            b2 = k2.fma(y, b2);
            b3 = k3.fma(y, b3);
        }
        a0.mul(scale).intoArray(s, s0);
        a1.mul(scale).intoArray(s, s0 + L);
        a2.mul(scale).intoArray(s, s0 + 2 * L);
        a3.mul(scale).intoArray(s, s0 + 3 * L);
        b0.mul(scale).intoArray(s, s1);
        b1.mul(scale).intoArray(s, s1 + L);
        b2.mul(scale).intoArray(s, s1 + 2 * L);
        b3.mul(scale).intoArray(s, s1 + 3 * L);
    }

    /** {@link #scores2} for one head: the same operations per position, so the same bits. */
    public static void scores1(float[] k, int dims, float[] q, int q0, float scale, float[] s, int s0) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0, o = 0; d < dims; d++, o += 4 * L) {
            FloatVector x = FloatVector.broadcast(F, q[q0 + d]);
            a0 = FloatVector.fromArray(F, k, o).fma(x, a0);
            a1 = FloatVector.fromArray(F, k, o + L).fma(x, a1);
            a2 = FloatVector.fromArray(F, k, o + 2 * L).fma(x, a2);
            a3 = FloatVector.fromArray(F, k, o + 3 * L).fma(x, a3);
        }
        a0.mul(scale).intoArray(s, s0);
        a1.mul(scale).intoArray(s, s0 + L);
        a2.mul(scale).intoArray(s, s0 + 2 * L);
        a3.mul(scale).intoArray(s, s0 + 3 * L);
    }

    /** The largest of s[from .. to) as {@link Math#max} takes it (a NaN gives NaN), −∞ when empty. */
    public static float max(float[] s, int from, int to) {
        int full = from + (to - from) / L * L;
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = from; i < full; i += L) {
            m = m.max(FloatVector.fromArray(F, s, i));
        }
        float best = m.reduceLanes(VectorOperators.MAX);
        for (int i = full; i < to; i++) {
            best = Math.max(best, s[i]);
        }
        return best;
    }

    /**
     * {@code y[yOffset + i] += (w[wOffset + r] · scale) · x[r·n + i]} for rows r = 0 .. m − 1 in order and i in [0, n):
     * each element takes one fused multiply-add per row, rows in order, whatever the vector width (the scalar tail the
     * same). y's elements stay in registers across the rows, four vectors at a time: a weighted sum of 64 value rows for
     * four heads measured 7.3–7.8 ns per row against 22.7–24.0 loading and storing y for every row.
     */
    public static void addWeightedRows(float[] x, int m, int n, float[] w, int wOffset, float scale, float[] y, int yOffset) {
        addWeightedRows(x, m, n, 0, w, wOffset, scale, y, yOffset);
    }

    /**
     * {@link #addWeightedRows} for two heads' weights over the same rows, w[w0 ..]·scale0 into y[y0 ..] and w[w1 ..]·scale1
     * into y[y1 ..]: each row's vectors are loaded once for both, and the eight sums in flight keep both fused
     * multiply-add units busy (four wait on each one's latency). Every element gets the same operations as alone.
     */
    public static void addWeightedRows2(float[] x, int m, int n, float[] w, int w0, float scale0, int w1, float scale1,
                                        float[] y, int y0, int y1) {
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, y, y0 + i), a1 = FloatVector.fromArray(F, y, y0 + i + L);
            FloatVector a2 = FloatVector.fromArray(F, y, y0 + i + 2 * L), a3 = FloatVector.fromArray(F, y, y0 + i + 3 * L);
            FloatVector b0 = FloatVector.fromArray(F, y, y1 + i), b1 = FloatVector.fromArray(F, y, y1 + i + L);
            FloatVector b2 = FloatVector.fromArray(F, y, y1 + i + 2 * L), b3 = FloatVector.fromArray(F, y, y1 + i + 3 * L);
            for (int r = 0; r < m; r++) {
                FloatVector a = FloatVector.broadcast(F, w[w0 + r] * scale0);
                FloatVector b = FloatVector.broadcast(F, w[w1 + r] * scale1);
                int at = r * n + i;
                FloatVector x0 = FloatVector.fromArray(F, x, at), x1 = FloatVector.fromArray(F, x, at + L);
                FloatVector x2 = FloatVector.fromArray(F, x, at + 2 * L), x3 = FloatVector.fromArray(F, x, at + 3 * L);
                a0 = x0.fma(a, a0);
                a1 = x1.fma(a, a1);
                a2 = x2.fma(a, a2);
                a3 = x3.fma(a, a3);
                b0 = x0.fma(b, b0);
                b1 = x1.fma(b, b1);
                b2 = x2.fma(b, b2);
                b3 = x3.fma(b, b3);
            }
            a0.intoArray(y, y0 + i);
            a1.intoArray(y, y0 + i + L);
            a2.intoArray(y, y0 + i + 2 * L);
            a3.intoArray(y, y0 + i + 3 * L);
            b0.intoArray(y, y1 + i);
            b1.intoArray(y, y1 + i + L);
            b2.intoArray(y, y1 + i + 2 * L);
            b3.intoArray(y, y1 + i + 3 * L);
        }
        if (i < n) {
            addWeightedRows(x, m, n, i, w, w0, scale0, y, y0);
            addWeightedRows(x, m, n, i, w, w1, scale1, y, y1);
        }
    }

    /** {@link #addWeightedRows} for the elements [from, n) of each row. */
    private static void addWeightedRows(float[] x, int m, int n, int from, float[] w, int wOffset, float scale, float[] y, int yOffset) {
        int i = from;
        for (; i + 4 * L <= n; i += 4 * L) {
            int o = yOffset + i;
            FloatVector a0 = FloatVector.fromArray(F, y, o), a1 = FloatVector.fromArray(F, y, o + L);
            FloatVector a2 = FloatVector.fromArray(F, y, o + 2 * L), a3 = FloatVector.fromArray(F, y, o + 3 * L);
            for (int r = 0; r < m; r++) {
                FloatVector a = FloatVector.broadcast(F, w[wOffset + r] * scale);
                int at = r * n + i;
                a0 = FloatVector.fromArray(F, x, at).fma(a, a0);
                a1 = FloatVector.fromArray(F, x, at + L).fma(a, a1);
                a2 = FloatVector.fromArray(F, x, at + 2 * L).fma(a, a2);
                a3 = FloatVector.fromArray(F, x, at + 3 * L).fma(a, a3);
            }
            a0.intoArray(y, o);
            a1.intoArray(y, o + L);
            a2.intoArray(y, o + 2 * L);
            a3.intoArray(y, o + 3 * L);
        }
        for (; i + L <= n; i += L) {
            FloatVector acc = FloatVector.fromArray(F, y, yOffset + i);
            for (int r = 0; r < m; r++) {
                acc = FloatVector.fromArray(F, x, r * n + i).fma(FloatVector.broadcast(F, w[wOffset + r] * scale), acc);
            }
            acc.intoArray(y, yOffset + i);
        }
        for (; i < n; i++) {
            float acc = y[yOffset + i];
            for (int r = 0; r < m; r++) {
                acc = Math.fma(x[r * n + i], w[wOffset + r] * scale, acc);
            }
            y[yOffset + i] = acc;
        }
    }
}
