package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q5_0Test {
    private static final QuantFormat FORMAT = new Q5_0();

    /** Table: d, qh[4] (u32 LE), qs[16]; low nibble as Q4_0, 5th bit of element j = bit j of qh; d·(q−16). */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 22 * 32];
        for (int b = 0; b < data.length / 22; b++) {
            int at = 22 * b;
            float d = f16(data, at);
            long qh = u8(data, at + 2) | u8(data, at + 3) << 8 | u8(data, at + 4) << 16 | (long) u8(data, at + 5) << 24;
            for (int j = 0; j < 32; j++) {
                int nibble = j < 16 ? u8(data, at + 6 + j) & 15 : u8(data, at + 6 + j - 16) >> 4;
                int q = nibble + 16 * (int) ((qh >> j) & 1);
                out[32 * b + j] = d * (q - 16);
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q5_0, count, seed, (data, at, random) -> {
            putScale(data, at, random);
        });
    }

    @Test
    void q5_0DequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(70, 1), Q5_0Test::decode);
    }

    @Test
    void q5_0DotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(70, 2), Q5_0Test::decode);
    }
}
