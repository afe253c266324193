package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q8_0Test {
    private static final QuantFormat FORMAT = new Q8_0();

    /** Table: d, qs[32] i8; d·qs[j]. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 34 * 32];
        for (int b = 0; b < data.length / 34; b++) {
            int at = 34 * b;
            float d = f16(data, at);
            for (int j = 0; j < 32; j++) {
                out[32 * b + j] = d * data[at + 2 + j];
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q8_0, count, seed, (data, at, random) -> {
            putScale(data, at, random);
        });
    }

    @Test
    void q8_0DequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(70, 1), Q8_0Test::decode);
    }

    @Test
    void q8_0DotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(70, 2), Q8_0Test::decode);
    }
}
