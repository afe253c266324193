package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q6_KTest {
    private static final QuantFormat FORMAT = new Q6_K();

    /** Table: ql[128], qh[64], scales[16] i8, d; halves of 128, four outputs per l with 2 bits of qh[l] each. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 210 * 256];
        for (int b = 0; b < data.length / 210; b++) {
            int at = 210 * b;
            float d = f16(data, at + 208);
            for (int h = 0; h < 2; h++) {
                int ql = at + 64 * h;
                int qh = at + 128 + 32 * h;
                int sc = at + 192 + 8 * h;
                int o = 256 * b + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int q1 = (u8(data, ql + l) & 15) | ((u8(data, qh + l) & 3) << 4);
                    int q2 = (u8(data, ql + l + 32) & 15) | (((u8(data, qh + l) >> 2) & 3) << 4);
                    int q3 = (u8(data, ql + l) >> 4) | (((u8(data, qh + l) >> 4) & 3) << 4);
                    int q4 = (u8(data, ql + l + 32) >> 4) | (((u8(data, qh + l) >> 6) & 3) << 4);
                    out[o + l] = d * data[sc + l / 16] * (q1 - 32);
                    out[o + l + 32] = d * data[sc + l / 16 + 2] * (q2 - 32);
                    out[o + l + 64] = d * data[sc + l / 16 + 4] * (q3 - 32);
                    out[o + l + 96] = d * data[sc + l / 16 + 6] * (q4 - 32);
                }
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q6_K, count, seed, (data, at, random) -> {
            putScale(data, at + 208, random);
        });
    }

    @Test
    void q6_KDequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(20, 1), Q6_KTest::decode);
    }

    @Test
    void q6_KDotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(20, 2), Q6_KTest::decode);
    }
}
