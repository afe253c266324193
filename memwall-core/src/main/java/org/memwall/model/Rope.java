package org.memwall.model;

/**
 * Rotary position embedding over the first {@code ropeDim} dimensions of each head, in the
 * NORM (adjacent pairs) or NEOX (halves) layout, with optional per-pair frequency factors
 * ({@code rope_freqs}) and linear or YaRN context scaling.
 */
public final class Rope {
    private final RopeStyle style;
    private final int ropeDim;
    /** Unscaled angle per unit position for each pair: base^(-2i/ropeDim) / freqs[i]. */
    private final double[] invFreq;
    /** YaRN: weight of the extrapolated (unscaled) angle per pair; 1 everywhere when not YaRN. */
    private final double[] ramp;
    private final double scale;
    private final float magnitude;

    public Rope(ModelConfig c, float[] freqFactors) {
        this.style = c.architecture().rope();
        this.ropeDim = c.ropeDim();
        int pairs = ropeDim / 2;
        invFreq = new double[pairs];
        ramp = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            double f = Math.pow(c.ropeBase(), -2.0 * i / ropeDim);
            invFreq[i] = freqFactors == null ? f : f / freqFactors[i];
            ramp[i] = 1;
        }
        ModelConfig.RopeScaling s = c.ropeScaling();
        switch (s.type()) {
            case "linear" -> {
                scale = 1.0 / s.factor();
                java.util.Arrays.fill(ramp, 0);
                magnitude = 1f;
            }
            case "yarn" -> {
                scale = 1.0 / s.factor();
                double low = Math.max(0, Math.floor(correctionDim(s.betaFast(), s.originalContext(), c.ropeBase())));
                double high = Math.min(ropeDim - 1, Math.ceil(correctionDim(s.betaSlow(), s.originalContext(), c.ropeBase())));
                for (int i = 0; i < pairs; i++) {
                    double y = (i - low) / Math.max(0.001, high - low);
                    ramp[i] = 1 - Math.min(1, Math.max(0, y));
                }
                magnitude = (float) (1 + 0.1 * Math.log(s.factor()));
            }
            default -> {
                scale = 1;
                magnitude = 1f;
            }
        }
    }

    /** Whether pairs are (i, i + ropeDim/2) (NEOX) rather than adjacent (2i, 2i + 1). */
    public boolean neox() {
        return style == RopeStyle.NEOX;
    }

    /** Per pair: the unscaled angle per unit position (the frequency factors applied). */
    public double[] inverseFrequencies() {
        return invFreq.clone();
    }

    /** Per pair: the weight of the unscaled angle (YaRN's ramp; 1 without scaling, 0 for linear). */
    public double[] ramp() {
        return ramp.clone();
    }

    /** The position scale applied to the interpolated part of each angle. */
    public double scale() {
        return scale;
    }

    /** The factor on cos and sin (YaRN's attention magnitude; 1 otherwise). */
    public float magnitude() {
        return magnitude;
    }

    /** The pair index whose wavelength spans {@code beta} turns over the original context. */
    private double correctionDim(double beta, int originalContext, double base) {
        return ropeDim * Math.log(originalContext / (beta * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** Rotates {@code heads} heads of size {@code headDim} stored at {@code v[offset..]} for {@code position}. */
    void apply(float[] v, int offset, int heads, int headDim, int position) {
        int pairs = ropeDim / 2;
        for (int i = 0; i < pairs; i++) {
            double theta = position * invFreq[i];
            double angle = scale * theta * (1 - ramp[i]) + theta * ramp[i];
            float cos = (float) Math.cos(angle) * magnitude;
            float sin = (float) Math.sin(angle) * magnitude;
            int a = style == RopeStyle.NORM ? 2 * i : i;
            int b = style == RopeStyle.NORM ? 2 * i + 1 : i + pairs;
            for (int h = 0; h < heads; h++) {
                int base = offset + h * headDim;
                float x0 = v[base + a];
                float x1 = v[base + b];
                v[base + a] = x0 * cos - x1 * sin;
                v[base + b] = x0 * sin + x1 * cos;
            }
        }
    }
}
