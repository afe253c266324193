package org.memwall.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.memwall.quant.Kernels;

/**
 * Vector loops over float arrays for the parts of a forward pass that are not weight products
 * (attention's weighted sum of values). Each computes the same result however it is called, so a
 * token's attention does not depend on the batch it is in.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> F = Kernels.SPECIES;
    private static final int L = F.length();

    private VectorMath() {
    }

    /** {@code y[yOffset + i] += a · x[xOffset + i]} for i in [0, n). */
    public static void axpy(float a, float[] x, int xOffset, float[] y, int yOffset, int n) {
        int full = n - n % L;
        FloatVector va = FloatVector.broadcast(F, a);
        for (int i = 0; i < full; i += L) {
            FloatVector.fromArray(F, x, xOffset + i).fma(va, FloatVector.fromArray(F, y, yOffset + i)).intoArray(y, yOffset + i);
        }
        for (int i = full; i < n; i++) {
            y[yOffset + i] = Math.fma(x[xOffset + i], a, y[yOffset + i]);
        }
    }
}
