package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one definition of a weight-row dot product, and the kernels that compute it.
 *
 * <p><b>The canonical dot</b> of a stored row w with activations x is: w dequantized exactly as
 * {@link QuantFormat#dequantize} writes it; one vector accumulator of {@link Blocks#L} lanes that
 * takes {@code fma(w[c..c+L), x[c..c+L), acc)} for the chunks c in element order; the lanes summed
 * as a fixed tree (lane i with lane i + L/2, then i + L/4, ...); any tail of fewer than L elements
 * added one fused multiply-add at a time ({@link BlockScaled} formats sum per block first). Every
 * kernel computes exactly that, whether a format's fused kernel reads one row for one token (decode)
 * or a tile of four rows by four tokens reads rows dequantized once for many tokens (prefill, batched
 * decode). So a sequence's logits are bit-identical whether it runs alone or batched with others.
 */
public final class Kernels {
    /** Elements dequantized at a time by the one-token kernels: a few KiB per row, L1-resident. */
    private static final int PIECE = 512;

    /** The float species every kernel uses (at most 512 bits, at least 128). */
    public static final VectorSpecies<Float> SPECIES = F;

    private static final VectorShuffle<Float>[] TREE = tree();
    /** Dequantized pieces of the one-token kernels. */
    private static final ThreadBuffer SCRATCH = new ThreadBuffer();

    private Kernels() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] tree() {
        int levels = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] s = new VectorShuffle[levels];
        for (int k = 0, h = L / 2; k < levels; k++, h /= 2) {
            int half = h;
            s[k] = VectorShuffle.fromOp(F, i -> i ^ half);
        }
        return s;
    }

    /** The lanes of {@code v} summed as a fixed tree; lane 0 of the last level. */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : TREE) {
            v = v.add(v.rearrange(s));
        }
        return v.lane(0);
    }

    /**
     * The same tree as {@link #sum(FloatVector)} over {@code L} lanes stored at {@code lanes[offset ..]}:
     * the big kernels store their accumulators and sum them here, which keeps them small enough for the
     * JIT to compile every vector operation in registers.
     */
    static float sum(float[] lanes, int offset) {
        for (int h = L / 2; h > 0; h /= 2) {
            for (int i = 0; i < h; i++) {
                lanes[offset + i] += lanes[offset + i + h];
            }
        }
        return lanes[offset];
    }

    /** Elements per piece for a row of n: a multiple of every block size that divides n, or n itself. */
    private static int piece(int n) {
        return n % PIECE == 0 ? PIECE : n % 256 == 0 ? 256 : n;
    }

    /** The canonical dot of the row starting at element {@code first} with {@code x[xOffset .. xOffset + n)}. */
    public static float dot(QuantFormat f, MemorySegment w, long first, float[] x, int xOffset, int n) {
        int p = piece(n);
        float[] s = SCRATCH.get(p);
        int full = n - n % L;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += p) {
            f.dequantize(w, first + e, s, 0, p);
            int end = Math.min(p, full - e);
            for (int c = 0; c < end; c += L) {
                acc = FloatVector.fromArray(F, s, c).fma(FloatVector.fromArray(F, x, xOffset + e + c), acc);
            }
        }
        return tail(sum(acc), s, p - (n - full), x, xOffset + full, n - full);
    }

    private static float tail(float sum, float[] w, int wOffset, float[] x, int xOffset, int count) {
        for (int i = 0; i < count; i++) {
            sum = Math.fma(w[wOffset + i], x[xOffset + i], sum);
        }
        return sum;
    }

    /** Canonical dots of four dequantized rows {@code w[wOffset + r·n ..]} with one activation row: {@code out[outOffset + r]}. */
    public static void tile4x1(float[] w, int wOffset, float[] x, int xOffset, int n, float[] out, int outOffset) {
        int full = n - n % L;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int w1 = wOffset + n;
        int w2 = w1 + n;
        int w3 = w2 + n;
        for (int c = 0; c < full; c += L) {
            FloatVector t = FloatVector.fromArray(F, x, xOffset + c);
            a0 = FloatVector.fromArray(F, w, wOffset + c).fma(t, a0);
            a1 = FloatVector.fromArray(F, w, w1 + c).fma(t, a1);
            a2 = FloatVector.fromArray(F, w, w2 + c).fma(t, a2);
            a3 = FloatVector.fromArray(F, w, w3 + c).fma(t, a3);
        }
        int k = n - full;
        out[outOffset] = tail(sum(a0), w, wOffset + full, x, xOffset + full, k);
        out[outOffset + 1] = tail(sum(a1), w, w1 + full, x, xOffset + full, k);
        out[outOffset + 2] = tail(sum(a2), w, w2 + full, x, xOffset + full, k);
        out[outOffset + 3] = tail(sum(a3), w, w3 + full, x, xOffset + full, k);
    }

    /** The canonical dot of one dequantized row with one activation row. */
    public static float dot(float[] w, int wOffset, float[] x, int xOffset, int n) {
        int full = n - n % L;
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < full; c += L) {
            acc = FloatVector.fromArray(F, w, wOffset + c).fma(FloatVector.fromArray(F, x, xOffset + c), acc);
        }
        return tail(sum(acc), w, wOffset + full, x, xOffset + full, n - full);
    }

    // ---- Block-scaled formats (see BlockScaled): q·x summed per block of 32, then scaled. ----

    /** The canonical block-scaled dot of one row, decoded a piece at a time. */
    public static float scaledDot(BlockScaled f, MemorySegment w, long first, float[] x, int xOffset, int n) {
        int p = piece(n);
        float[] s = SCRATCH.get(p + p / BlockScaled.BLOCK);
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += p) {
            f.unscaled(w, first + e, s, 0, s, p, p);
            acc = scaledRow(s, 0, s, p, x, xOffset + e, p, acc);
        }
        return sum(acc);
    }

    private static FloatVector scaledRow(float[] q, int qOffset, float[] scales, int scaleOffset, float[] x, int xOffset, int n, FloatVector acc) {
        for (int c = 0, b = scaleOffset; c < n; c += BlockScaled.BLOCK, b++) {
            FloatVector s = FloatVector.fromArray(F, q, qOffset + c).mul(FloatVector.fromArray(F, x, xOffset + c));
            for (int k = L; k < BlockScaled.BLOCK; k += L) {
                s = FloatVector.fromArray(F, q, qOffset + c + k).fma(FloatVector.fromArray(F, x, xOffset + c + k), s);
            }
            acc = s.fma(FloatVector.broadcast(F, scales[b]), acc);
        }
        return acc;
    }

    /** One unscaled row ({@link BlockScaled#unscaled}) with one activation row: the canonical block-scaled dot. */
    public static float scaledDot(float[] q, int qOffset, float[] scales, int scaleOffset, float[] x, int xOffset, int n) {
        return sum(scaledRow(q, qOffset, scales, scaleOffset, x, xOffset, n, FloatVector.zero(F)));
    }

    /**
     * Canonical block-scaled dots of three unscaled rows ({@code q[qOffset + r·n ..]}, scales
     * {@code scales[scaleOffset + r·n/32 ..]}) with two activation rows {@code x[xOffset + t·n ..]}:
     * {@code out[outOffset + t·outStride + r]}. The prefill tile below 16 lanes: six accumulators, six
     * block sums, three row chunks and an activation chunk fit AVX2's sixteen vector registers, where a
     * 4×2 tile's twenty-one spilled. Model prefill side by side (Llama-3.2-1B Q8_0, pp128, 2 AVX2
     * threads): 14.3–15.7 tokens/s with the 4×2 tile, 17.8–18.1 with this one. From float arrays, not
     * the aligned buffers of {@link Tiles}: the same tile reading those ran slower in the model (11.6).
     */
    public static void scaledTile3x2(float[] q, int qOffset, float[] scales, int scaleOffset, float[] x, int xOffset, int n,
                                     float[] out, int outOffset, int outStride) {
        int nb = n / BlockScaled.BLOCK;
        FloatVector a00 = FloatVector.zero(F), a10 = a00, a20 = a00;
        FloatVector a01 = a00, a11 = a00, a21 = a00;
        int q1 = qOffset + n;
        int q2 = q1 + n;
        int x1 = xOffset + n;
        for (int c = 0, b = scaleOffset; c < n; c += BlockScaled.BLOCK, b++) {
            FloatVector r0 = FloatVector.fromArray(F, q, qOffset + c);
            FloatVector r1 = FloatVector.fromArray(F, q, q1 + c);
            FloatVector r2 = FloatVector.fromArray(F, q, q2 + c);
            FloatVector t = FloatVector.fromArray(F, x, xOffset + c);
            FloatVector s00 = r0.mul(t), s10 = r1.mul(t), s20 = r2.mul(t);
            t = FloatVector.fromArray(F, x, x1 + c);
            FloatVector s01 = r0.mul(t), s11 = r1.mul(t), s21 = r2.mul(t);
            for (int k = L; k < BlockScaled.BLOCK; k += L) {
                r0 = FloatVector.fromArray(F, q, qOffset + c + k);
                r1 = FloatVector.fromArray(F, q, q1 + c + k);
                r2 = FloatVector.fromArray(F, q, q2 + c + k);
                t = FloatVector.fromArray(F, x, xOffset + c + k);
                s00 = r0.fma(t, s00);
                s10 = r1.fma(t, s10);
                s20 = r2.fma(t, s20);
                t = FloatVector.fromArray(F, x, x1 + c + k);
                s01 = r0.fma(t, s01);
                s11 = r1.fma(t, s11);
                s21 = r2.fma(t, s21);
            }
            FloatVector d0 = FloatVector.broadcast(F, scales[b]);
            FloatVector d1 = FloatVector.broadcast(F, scales[b + nb]);
            FloatVector d2 = FloatVector.broadcast(F, scales[b + 2 * nb]);
            a00 = s00.fma(d0, a00);
            a10 = s10.fma(d1, a10);
            a20 = s20.fma(d2, a20);
            a01 = s01.fma(d0, a01);
            a11 = s11.fma(d1, a11);
            a21 = s21.fma(d2, a21);
        }
        out[outOffset] = sum(a00);
        out[outOffset + 1] = sum(a10);
        out[outOffset + 2] = sum(a20);
        out[outOffset + outStride] = sum(a01);
        out[outOffset + outStride + 1] = sum(a11);
        out[outOffset + outStride + 2] = sum(a21);
    }
}
