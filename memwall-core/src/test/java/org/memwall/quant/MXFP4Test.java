package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class MXFP4Test {
    private static final QuantFormat FORMAT = new MXFP4();
    private static final int[] F = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    /** Table: e (u8, E8M0), qs[16]; F[nibble]·2^(e−128), nibbles as Q4_0. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 17 * 32];
        for (int b = 0; b < data.length / 17; b++) {
            int at = 17 * b;
            float scale = (float) Math.pow(2, u8(data, at) - 128);
            for (int j = 0; j < 32; j++) {
                int q = j < 16 ? u8(data, at + 1 + j) & 15 : u8(data, at + 1 + j - 16) >> 4;
                out[32 * b + j] = F[q] * scale;
            }
        }
        return out;
    }

    @Test
    void mxfp4DequantizeMatchesScalarReferenceOnRandomBlocksWithEveryExponent() {
        // Random e over 0..255: subnormal scales (e = 0, 1) and overflow to infinity (12·2^127) included.
        byte[] data = randomBlocks(GgmlType.MXFP4, 300, 1, (d, at, random) -> { });
        data[0] = 0;
        data[17] = 1;
        data[34] = (byte) 255;
        assertDequantizeMatches(FORMAT, data, MXFP4Test::decode);
    }

    @Test
    void mxfp4DotMatchesDoubleSumOfDequantizedWeights() {
        byte[] data = randomBlocks(GgmlType.MXFP4, 70, 2, (d, at, random) -> d[at] = (byte) (118 + random.nextInt(20)));
        assertDotMatches(FORMAT, data, MXFP4Test::decode);
    }
}
