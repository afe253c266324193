package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q4_1Test {
    private static final QuantFormat FORMAT = new Q4_1();

    /** Table: d, m, qs[16]; d·nibble + m, nibbles as Q4_0. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 20 * 32];
        for (int b = 0; b < data.length / 20; b++) {
            int at = 20 * b;
            float d = f16(data, at);
            float m = f16(data, at + 2);
            for (int j = 0; j < 32; j++) {
                int q = j < 16 ? u8(data, at + 4 + j) & 15 : u8(data, at + 4 + j - 16) >> 4;
                out[32 * b + j] = d * q + m;
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q4_1, count, seed, (data, at, random) -> {
            putScale(data, at, random);
            putScale(data, at + 2, random);
        });
    }

    @Test
    void q4_1DequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(70, 1), Q4_1Test::decode);
    }

    @Test
    void q4_1DotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(70, 2), Q4_1Test::decode);
    }
}
