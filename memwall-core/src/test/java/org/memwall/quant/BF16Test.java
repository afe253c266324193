package org.memwall.quant;

import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.u8;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BF16Test {
    private static final QuantFormat FORMAT = new BF16();

    /** The 16 bits are the sign, exponent and top 7 mantissa bits of a float32. */
    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 2];
        for (int i = 0; i < out.length; i++) {
            int bits = u8(data, 2 * i) | u8(data, 2 * i + 1) << 8;
            out[i] = Float.intBitsToFloat(bits << 16);
        }
        return out;
    }

    private static byte[] values(int count, long seed) {
        Random random = new Random(seed);
        byte[] data = new byte[2 * count];
        for (int i = 0; i < count; i++) {
            int bits = Float.floatToIntBits(random.nextFloat() * 8 - 4) >>> 16;
            data[2 * i] = (byte) bits;
            data[2 * i + 1] = (byte) (bits >> 8);
        }
        return data;
    }

    @Test
    void bf16DequantizeMatchesTopHalfOfFloat32ForEveryBitPattern() {
        byte[] data = new byte[2 << 16];
        for (int h = 0; h < 1 << 16; h++) {
            data[2 * h] = (byte) h;
            data[2 * h + 1] = (byte) (h >> 8);
        }
        assertDequantizeMatches(FORMAT, data, BF16Test::decode);
    }

    @Test
    void bf16DotMatchesDoubleSumOfDequantizedWeights() {
        assertDotMatches(FORMAT, values(3001, 2), BF16Test::decode);
    }
}
