package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q4_KTest {
    private static final QuantFormat FORMAT = new Q4_K();

    /** scales[12] → (sc, mn) of sub-block s, per the Q4_K table. */
    static int[] scaleMin(byte[] data, int scales, int s) {
        if (s < 4) {
            return new int[] {u8(data, scales + s) & 63, u8(data, scales + s + 4) & 63};
        }
        int sc = (u8(data, scales + s + 4) & 15) | ((u8(data, scales + s - 4) >> 6) << 4);
        int mn = (u8(data, scales + s + 4) >> 4) | ((u8(data, scales + s) >> 6) << 4);
        return new int[] {sc, mn};
    }

    /** Table: d, dmin, scales[12], qs[128]; chunk c: 32 × d·sc[2c]·(q&15) − dmin·mn[2c] (one fused multiply-add, as llama.cpp builds for x86 contract it), then 32 × (q>>4) with 2c+1. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 144 * 256];
        for (int b = 0; b < data.length / 144; b++) {
            int at = 144 * b;
            float d = f16(data, at);
            float dmin = f16(data, at + 2);
            for (int c = 0; c < 4; c++) {
                int[] lo = scaleMin(data, at + 4, 2 * c);
                int[] hi = scaleMin(data, at + 4, 2 * c + 1);
                for (int l = 0; l < 32; l++) {
                    int q = u8(data, at + 16 + 32 * c + l);
                    out[256 * b + 64 * c + l] = Math.fma(d * lo[0], q & 15, -(dmin * lo[1]));
                    out[256 * b + 64 * c + 32 + l] = Math.fma(d * hi[0], q >> 4, -(dmin * hi[1]));
                }
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q4_K, count, seed, (data, at, random) -> {
            putScale(data, at, random);
            putScale(data, at + 2, random);
        });
    }

    @Test
    void q4_KDequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(20, 1), Q4_KTest::decode);
    }

    @Test
    void q4_KDotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(20, 2), Q4_KTest::decode);
    }
}
