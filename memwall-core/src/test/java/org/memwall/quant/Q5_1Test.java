package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q5_1Test {
    private static final QuantFormat FORMAT = new Q5_1();

    /** Table: d, m, qh[4] (u32 LE), qs[16]; d·q + m with q as Q5_0 before its −16. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 24 * 32];
        for (int b = 0; b < data.length / 24; b++) {
            int at = 24 * b;
            float d = f16(data, at);
            float m = f16(data, at + 2);
            long qh = u8(data, at + 4) | u8(data, at + 5) << 8 | u8(data, at + 6) << 16 | (long) u8(data, at + 7) << 24;
            for (int j = 0; j < 32; j++) {
                int nibble = j < 16 ? u8(data, at + 8 + j) & 15 : u8(data, at + 8 + j - 16) >> 4;
                int q = nibble + 16 * (int) ((qh >> j) & 1);
                out[32 * b + j] = d * q + m;
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q5_1, count, seed, (data, at, random) -> {
            putScale(data, at, random);
            putScale(data, at + 2, random);
        });
    }

    @Test
    void q5_1DequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(70, 1), Q5_1Test::decode);
    }

    @Test
    void q5_1DotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(70, 2), Q5_1Test::decode);
    }
}
