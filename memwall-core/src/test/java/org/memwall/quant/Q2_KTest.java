package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q2_KTest {
    private static final QuantFormat FORMAT = new Q2_K();

    /** Table: scales[16], qs[64], d, dmin; per 128 and shift 0,2,4,6: 16 with qs[l], then 16 with qs[l+16], next scale byte each. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 84 * 256];
        for (int b = 0; b < data.length / 84; b++) {
            int at = 84 * b;
            float d = f16(data, at + 80);
            float dmin = f16(data, at + 82);
            int y = 256 * b;
            int is = 0;
            for (int half = 0; half < 2; half++) {
                int qs = at + 16 + 32 * half;
                for (int shift = 0; shift < 8; shift += 2) {
                    for (int group = 0; group < 2; group++) {
                        int s = u8(data, at + is++);
                        for (int l = 0; l < 16; l++) {
                            int q = (u8(data, qs + 16 * group + l) >> shift) & 3;
                            out[y++] = d * (s & 15) * q - dmin * (s >> 4);
                        }
                    }
                }
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q2_K, count, seed, (data, at, random) -> {
            putScale(data, at + 80, random);
            putScale(data, at + 82, random);
        });
    }

    @Test
    void q2_KDequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(20, 1), Q2_KTest::decode);
    }

    @Test
    void q2_KDotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(20, 2), Q2_KTest::decode);
    }
}
