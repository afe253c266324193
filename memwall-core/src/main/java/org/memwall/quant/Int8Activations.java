package org.memwall.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A batch's activations quantized to 8-bit integers for the integer kernels, as GGUF's Q8_0 does it: per
 * block of 32 values, scale dx = max|x| / 127 and xq = x / dx rounded to the nearest integer, in [−127, 127]
 * (with a float scale here). The kernels multiply 4-bit weights by these in 16-bit lanes, where the products of a block cannot
 * overflow, and scale each block's exact integer sum once: llama.cpp quantizes activations the same way
 * for its Q4_0 products.
 *
 * <p>Quantized once per product by the calling thread and then read by every compute thread, reused
 * across products (one per calling thread).
 */
public final class Int8Activations {
    public static final int BLOCK = 32;
    private static final ThreadLocal<Int8Activations> REUSED = ThreadLocal.withInitial(Int8Activations::new);

    /** Values 2j and 2j + 1 of each token as one int: 2j in the low 16 bits, 2j + 1 in the high; token t at t·n/2. */
    int[] pairs = new int[0];
    /** The same xq as floats (exact), token t's at t·n: for the float tiles, whose block sums of such products are exact too. */
    float[] values = new float[0];
    /** dx of each block; token t's at t·n/32. */
    float[] scales = new float[0];
    /** The sum of each block's xq. */
    int[] sums = new int[0];
    int n;

    private Int8Activations() {
    }

    /** {@code tokens} rows of n values from x, quantized into this thread's reused buffers (valid until its next call). */
    public static Int8Activations of(float[] x, int tokens, int n) {
        return of(x, tokens, n, null);
    }

    /**
     * As {@link #of(float[], int, int)}, the blocks split over {@code pool} when there are many (a prompt's
     * activations; one token's are quantized by the calling thread).
     */
    public static Int8Activations of(float[] x, int tokens, int n, org.memwall.tensor.Parallel pool) {
        if (n % BLOCK != 0) {
            throw new IllegalArgumentException("a row of " + n + " values is not whole blocks of " + BLOCK);
        }
        Int8Activations a = REUSED.get();
        a.n = n;
        int values = tokens * n;
        if (a.pairs.length < values / 2) {
            a.pairs = new int[values / 2];
            a.values = new float[values];
            a.scales = new float[values / BLOCK];
            a.sums = new int[values / BLOCK];
        }
        int blocks = values / BLOCK;
        if (pool != null && tokens > 1 && pool.threads() > 1) {
            pool.forRange(blocks, (from, to, thread) -> {
                int[] q = QUANTS.get();
                for (int b = from; b < to; b++) {
                    a.quantizeBlock(x, b, q);
                }
            });
        } else {
            int[] q = QUANTS.get();
            for (int b = 0; b < blocks; b++) {
                a.quantizeBlock(x, b, q);
            }
        }
        return a;
    }

    /** Eight floats a vector: a block of 32 is four, on every machine with 256-bit vectors or wider. */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    /** 1.5 · 2^23: adding and subtracting it rounds a float below 2^22 in magnitude to the nearest integer (ties to even). */
    private static final float ROUND = 12582912f;

    /**
     * Block b: dx = max|x| / 127, xq = x / dx rounded to the nearest integer (ties to even), which the scale keeps in
     * [−127, 127]. Vectorised; every machine gets the same values (lane-wise operations and an exact maximum). {@code q}
     * is the calling thread's scratch, looked up once per range of blocks (per block, the thread-local look-up took 8%
     * of a 256-token product).
     */
    private void quantizeBlock(float[] x, int b, int[] q) {
        int o = b * BLOCK;
        // four vectors of eight, written out: loops over the vectors (a phi of a vector) were now and then compiled with
        // every vector boxed, with 256-bit vectors (hundreds of MB a second in a model's decode)
        FloatVector v0 = FloatVector.fromArray(F8, x, o);
        FloatVector v1 = FloatVector.fromArray(F8, x, o + 8);
        FloatVector v2 = FloatVector.fromArray(F8, x, o + 16);
        FloatVector v3 = FloatVector.fromArray(F8, x, o + 24);
        float d = v0.abs().max(v1.abs()).max(v2.abs().max(v3.abs())).reduceLanes(VectorOperators.MAX) / 127f;
        float id = d != 0 ? 1f / d : 0f;
        IntVector q0 = (IntVector) v0.mul(id).add(ROUND).sub(ROUND).max(-127f).min(127f).convert(VectorOperators.F2I, 0);
        IntVector q1 = (IntVector) v1.mul(id).add(ROUND).sub(ROUND).max(-127f).min(127f).convert(VectorOperators.F2I, 0);
        IntVector q2 = (IntVector) v2.mul(id).add(ROUND).sub(ROUND).max(-127f).min(127f).convert(VectorOperators.F2I, 0);
        IntVector q3 = (IntVector) v3.mul(id).add(ROUND).sub(ROUND).max(-127f).min(127f).convert(VectorOperators.F2I, 0);
        q0.intoArray(q, 0);
        q1.intoArray(q, 8);
        q2.intoArray(q, 16);
        q3.intoArray(q, 24);
        for (int k = 0; k < BLOCK; k += 2) {
            pairs[(o + k) >> 1] = (q[k] & 0xFFFF) | q[k + 1] << 16;
            values[o + k] = q[k];
            values[o + k + 1] = q[k + 1];
        }
        scales[b] = d;
        sums[b] = q0.add(q1).add(q2.add(q3)).reduceLanes(VectorOperators.ADD);
    }

    private static final ThreadLocal<int[]> QUANTS = ThreadLocal.withInitial(() -> new int[BLOCK]);

    /** Value k of token t's row as the kernels see it: xq · dx. */
    public float dequantized(int t, int k) {
        int pair = pairs[(t * n + k) >> 1];
        int q = (k & 1) == 0 ? (short) pair : pair >> 16;
        return q * scales[(t * n + k) / BLOCK];
    }
}
