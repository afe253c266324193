package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q5_KTest {
    private static final QuantFormat FORMAT = new Q5_K();

    /** Table: d, dmin, scales[12], qh[32], qs[128]; as Q4_K plus 16 when bit 2c (low half) or 2c+1 (high half) of qh[l] is set. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 176 * 256];
        for (int b = 0; b < data.length / 176; b++) {
            int at = 176 * b;
            float d = f16(data, at);
            float dmin = f16(data, at + 2);
            for (int c = 0; c < 4; c++) {
                int[] lo = Q4_KTest.scaleMin(data, at + 4, 2 * c);
                int[] hi = Q4_KTest.scaleMin(data, at + 4, 2 * c + 1);
                for (int l = 0; l < 32; l++) {
                    int q = u8(data, at + 48 + 32 * c + l);
                    int qh = u8(data, at + 16 + l);
                    int q1 = (q & 15) + ((qh >> (2 * c) & 1) == 1 ? 16 : 0);
                    int q2 = (q >> 4) + ((qh >> (2 * c + 1) & 1) == 1 ? 16 : 0);
                    out[256 * b + 64 * c + l] = Math.fma(d * lo[0], q1, -(dmin * lo[1]));
                    out[256 * b + 64 * c + 32 + l] = Math.fma(d * hi[0], q2, -(dmin * hi[1]));
                }
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q5_K, count, seed, (data, at, random) -> {
            putScale(data, at, random);
            putScale(data, at + 2, random);
        });
    }

    @Test
    void q5_KDequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(20, 1), Q5_KTest::decode);
    }

    @Test
    void q5_KDotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(20, 2), Q5_KTest::decode);
    }
}
