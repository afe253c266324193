package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q4_0Test {
    private static final QuantFormat FORMAT = new Q4_0();

    /** Table: d, qs[16]; j<16: d·((qs[j]&15)−8); j≥16: d·((qs[j−16]>>4)−8). */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 18 * 32];
        for (int b = 0; b < data.length / 18; b++) {
            int at = 18 * b;
            float d = f16(data, at);
            for (int j = 0; j < 32; j++) {
                int q = j < 16 ? u8(data, at + 2 + j) & 15 : u8(data, at + 2 + j - 16) >> 4;
                out[32 * b + j] = d * (q - 8);
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q4_0, count, seed, (data, at, random) -> {
            putScale(data, at, random);
        });
    }

    @Test
    void q4_0DequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(70, 1), Q4_0Test::decode);
    }

    @Test
    void q4_0DotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(70, 2), Q4_0Test::decode);
    }
}
