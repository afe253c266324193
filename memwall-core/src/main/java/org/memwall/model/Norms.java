package org.memwall.model;

/** RMSNorm: y = x / sqrt(mean(x²) + eps) · w, with the sum of squares accumulated in double. */
final class Norms {
    private Norms() {
    }

    static void rmsNorm(float[] x, int xOffset, float[] weight, float[] out, int outOffset, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOffset + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = x[xOffset + i] * scale * weight[i];
        }
    }

    /** Normalises {@code rows} consecutive rows of width {@code n}; {@code out} may be {@code x}. */
    static void rmsNormRows(float[] x, float[] weight, float[] out, int rows, int n, float eps) {
        for (int r = 0; r < rows; r++) {
            rmsNorm(x, r * n, weight, out, r * n, n, eps);
        }
    }
}
