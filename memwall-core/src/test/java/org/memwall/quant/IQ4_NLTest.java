package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class IQ4_NLTest {
    private static final QuantFormat FORMAT = new IQ4_NL();

    private static final int[] K = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** Table: d, qs[16]; d·K[nibble], nibbles as Q4_0. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 18 * 32];
        for (int b = 0; b < data.length / 18; b++) {
            int at = 18 * b;
            float d = f16(data, at);
            for (int j = 0; j < 32; j++) {
                int q = j < 16 ? u8(data, at + 2 + j) & 15 : u8(data, at + 2 + j - 16) >> 4;
                out[32 * b + j] = d * K[q];
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.IQ4_NL, count, seed, (data, at, random) -> {
            putScale(data, at, random);
        });
    }

    @Test
    void iq4_nlDequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(70, 1), IQ4_NLTest::decode);
    }

    @Test
    void iq4_nlDotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(70, 2), IQ4_NLTest::decode);
    }
}
