package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.f16;
import static org.memwall.quant.BlockTesting.putScale;
import static org.memwall.quant.BlockTesting.randomBlocks;
import static org.memwall.quant.BlockTesting.u8;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class Q3_KTest {
    private static final QuantFormat FORMAT = new Q3_K();

    /** The 16 scales of the Q3_K table: three u32 words and kmask1/kmask2, each byte read as int8. */
    static int[] scales(byte[] data, int at) {
        int a0 = word(data, at);
        int a1 = word(data, at + 4);
        int a2 = word(data, at + 8);
        int kmask1 = 0x03030303;
        int kmask2 = 0x0f0f0f0f;
        int[] words = {
            (a0 & kmask2) | ((a2 & kmask1) << 4),
            (a1 & kmask2) | (((a2 >> 2) & kmask1) << 4),
            ((a0 >> 4) & kmask2) | (((a2 >> 4) & kmask1) << 4),
            ((a1 >> 4) & kmask2) | (((a2 >> 6) & kmask1) << 4)};
        int[] s = new int[16];
        for (int i = 0; i < 16; i++) {
            s[i] = (byte) (words[i / 4] >> (8 * (i % 4)));
        }
        return s;
    }

    private static int word(byte[] data, int at) {
        return u8(data, at) | u8(data, at + 1) << 8 | u8(data, at + 2) << 16 | u8(data, at + 3) << 24;
    }

    /** Table: hmask[32], qs[64], scales[12], d; per 128 and shift, hmask bit m advancing per shift across both halves. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 110 * 256];
        for (int b = 0; b < data.length / 110; b++) {
            int at = 110 * b;
            float d = f16(data, at + 108);
            int[] scale = scales(data, at + 96);
            int y = 256 * b;
            int is = 0;
            int m = 1;
            for (int half = 0; half < 2; half++) {
                int qs = at + 32 + 32 * half;
                for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                    for (int group = 0; group < 2; group++) {
                        float dl = d * (scale[is++] - 32);
                        for (int l = 16 * group; l < 16 * group + 16; l++) {
                            int q = ((u8(data, qs + l) >> shift) & 3) - ((u8(data, at + l) & m) != 0 ? 0 : 4);
                            out[y++] = dl * q;
                        }
                    }
                }
            }
        }
        return out;
    }

    private static byte[] blocks(int count, long seed) {
        return randomBlocks(GgmlType.Q3_K, count, seed, (data, at, random) -> {
            putScale(data, at + 108, random);
        });
    }

    @Test
    void q3_KDequantizeMatchesScalarReferenceOnRandomBlocks() {
        assertDequantizeMatches(FORMAT, blocks(20, 1), Q3_KTest::decode);
    }

    @Test
    void q3_KDotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, blocks(20, 2), Q3_KTest::decode);
    }
}
