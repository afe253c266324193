package org.memwall.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.memwall.quant.KeyPlanes;

class VectorMathTest {
    /** Distance in units in the last place between two positive floats. */
    private static int ulps(float a, float b) {
        return Math.abs(Float.floatToIntBits(a) - Float.floatToIntBits(b));
    }

    @Test
    void expIsWithinTwoUlpsOfTheCorrectlyRoundedValue() {
        int worst = 0;
        for (float x = -87f; x <= 88f; x += 0.0037f) {
            float want = (float) Math.exp(x);
            worst = Math.max(worst, ulps(VectorMath.exp(x), want));
        }
        assertThat(worst).isLessThanOrEqualTo(2);
        assertThat(VectorMath.exp(0f)).isEqualTo(1f);
        assertThat(VectorMath.exp(-1000f)).isLessThan(1.2e-38f).isGreaterThanOrEqualTo(0f);
        assertThat(VectorMath.exp(Float.NEGATIVE_INFINITY)).isLessThan(1.2e-38f);
        assertThat(VectorMath.exp(1000f)).isGreaterThan(1e38f).isFinite();
    }

    /**
     * The vector lanes and the scalar tail compute the same function, so a value's exponential does not depend on
     * where the range starts or ends (its lane or the tail), and the sum adds in a fixed order.
     */
    @Test
    void expShiftedGivesEachValueTheSameBitsWhateverItsPositionInTheRange() {
        Random r = new Random(5);
        float[] values = new float[1000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (r.nextGaussian() * 6);
        }
        float shift = 7.5f;
        for (int from : new int[] {0, 1, 5, 17, 300}) {
            for (int to : new int[] {from + 1, from + 3, from + 16, from + 33, values.length}) {
                float[] s = values.clone();
                float sum = VectorMath.expShifted(s, from, to, shift);
                double want = 0;
                for (int i = 0; i < values.length; i++) {
                    if (i >= from && i < to) {
                        assertThat(s[i]).as("from %d to %d at %d", from, to, i).isEqualTo(VectorMath.exp(values[i] - shift));
                        want += s[i];
                    } else {
                        assertThat(s[i]).isEqualTo(values[i]);
                    }
                }
                assertThat((double) sum).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6 * want));
                float[] again = values.clone();
                assertThat(VectorMath.expShifted(again, from, to, shift)).isEqualTo(sum);
            }
        }
    }

    @Test
    void aWeightedSumOfRowsIsOneFusedMultiplyAddPerElementAndRowInRowOrder() {
        // Widths that take the four-vector blocks, single vectors and the scalar tail (at 16 lanes and, in the 256-bit
        // pass, at 8), offsets inside larger arrays: every element the same bits as the scalar loop.
        Random r = new Random(13);
        for (int n : new int[] {64, 80, 72, 7, 128, 200}) {
            int m = 37;
            float[] x = new float[m * n];
            float[] w = new float[m + 5];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = r.nextFloat();
            }
            float[] y = new float[n + 9];
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) r.nextGaussian();
            }
            float[] expected = y.clone();
            float scale = 0.37f;
            for (int row = 0; row < m; row++) {
                for (int i = 0; i < n; i++) {
                    expected[3 + i] = Math.fma(x[row * n + i], w[5 + row] * scale, expected[3 + i]);
                }
            }
            VectorMath.addWeightedRows(x, m, n, w, 5, scale, y, 3);
            assertThat(y).as("width %d", n).isEqualTo(expected);
        }
    }

    @Test
    void twoHeadsWeightedSumsAreEachTheSameBitsAsAlone() {
        Random r = new Random(17);
        for (int n : new int[] {64, 80, 72, 7, 128}) {
            int m = 29;
            float[] x = new float[m * n];
            float[] w = new float[2 * m + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = r.nextFloat();
            }
            float[] y = new float[2 * n + 4];
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) r.nextGaussian();
            }
            float[] alone = y.clone();
            VectorMath.addWeightedRows(x, m, n, w, 1, 0.5f, alone, 2);
            VectorMath.addWeightedRows(x, m, n, w, 2 + m, 0.25f, alone, 2 + n);
            VectorMath.addWeightedRows2(x, m, n, w, 1, 0.5f, 2 + m, 0.25f, y, 2, 2 + n);
            assertThat(y).as("width %d", n).isEqualTo(alone);
        }
    }

    @Test
    void scoresAreEachPositionsFusedMultiplyAddsInDimensionOrderForOneHeadOrTwo() {
        // keys by dimension, KeyPlanes.RUN positions: every score the scalar chain's bits, whichever kernel computes it
        int run = KeyPlanes.RUN;
        Random r = new Random(19);
        for (int dims : new int[] {64, 80, 1}) {
            float[] k = new float[dims * run];
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) r.nextGaussian();
            }
            float[] q = new float[2 * dims + 3];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) r.nextGaussian();
            }
            float scale = 0.125f;
            float[] expected = new float[2 * run];
            for (int h = 0; h < 2; h++) {
                for (int c = 0; c < run; c++) {
                    float sum = 0;
                    for (int d = 0; d < dims; d++) {
                        sum = Math.fma(k[d * run + c], q[3 + h * dims + d], sum);
                    }
                    expected[h * run + c] = sum * scale;
                }
            }
            float[] two = new float[2 * run + 5];
            VectorMath.scores2(k, dims, q, 3, 3 + dims, scale, two, 5, 5 + run);
            float[] one = new float[run];
            VectorMath.scores1(k, dims, q, 3 + dims, scale, one, 0);
            assertThat(Arrays.copyOfRange(two, 5, 5 + 2 * run)).as("%d dimensions, two heads", dims).isEqualTo(expected);
            assertThat(one).as("%d dimensions, one head", dims).isEqualTo(Arrays.copyOfRange(expected, run, 2 * run));
            assertThat(VectorMath.max(expected, 3, 2 * run - 1)).isEqualTo(maxOf(expected, 3, 2 * run - 1));
        }
    }

    private static float maxOf(float[] s, int from, int to) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            m = Math.max(m, s[i]);
        }
        return m;
    }

    @Test
    void siluTimesMatchesTheScalarFormulaInEveryLaneAndTheTail() {
        Random r = new Random(9);
        int n = 77;
        float[] gate = new float[n];
        float[] up = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (float) (r.nextGaussian() * 10);
            up[i] = (float) r.nextGaussian();
        }
        float[] out = gate.clone();
        VectorMath.siluTimes(out, up, 0, n);
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            assertThat(out[i]).as("element %d", i).isEqualTo(g / (VectorMath.exp(-g) + 1f) * up[i]);
            double exact = g / (1 + Math.exp(-g)) * up[i];
            assertThat((double) out[i]).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-6 * Math.abs(exact) + 1e-30));
        }
    }
}
