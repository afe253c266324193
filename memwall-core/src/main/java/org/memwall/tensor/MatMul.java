package org.memwall.tensor;

/**
 * Matrix products of a weight tensor with a batch of activation rows, split by output rows over the
 * compute pool. Each weight row is read once per call and reused for every token of the batch
 * while it sits in cache.
 */
public final class MatMul {
    private MatMul() {
    }

    /**
     * {@code out[t·rows + r] = W[rowOffset + r] · x[t·n ..]} for tokens t in [0, tokens) and rows r in
     * [0, rows), where n = {@code w.rowLength()}.
     */
    public static void matmul(Parallel pool, Tensor w, int rowOffset, int rows, float[] x, int tokens, float[] out) {
        int n = w.rowLength();
        pool.forRange(rows, (from, to, thread) -> {
            for (int r = from; r < to; r++) {
                for (int t = 0; t < tokens; t++) {
                    out[t * rows + r] = w.dotRow(rowOffset + r, x, t * n);
                }
            }
        });
    }

    /** All rows of {@code w}: {@code out[t·rowCount + r] = W[r] · x[t]}. */
    public static void matmul(Parallel pool, Tensor w, float[] x, int tokens, float[] out) {
        matmul(pool, w, 0, w.rowCount(), x, tokens, out);
    }
}
