package org.memwall.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.memwall.quant.BlockTesting.assertDequantizeMatches;
import static org.memwall.quant.BlockTesting.assertDotMatches;
import static org.memwall.quant.BlockTesting.half;
import static org.memwall.quant.BlockTesting.putF16;
import static org.memwall.quant.BlockTesting.segment;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class F16Test {
    private static final QuantFormat FORMAT = new F16();

    static float[] decode(byte[] data) {
        float[] out = new float[data.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = BlockTesting.f16(data, 2 * i);
        }
        return out;
    }

    /** Every one of the 65536 bit patterns, in order. */
    private static byte[] allHalves() {
        byte[] data = new byte[2 << 16];
        for (int h = 0; h < 1 << 16; h++) {
            data[2 * h] = (byte) h;
            data[2 * h + 1] = (byte) (h >> 8);
        }
        return data;
    }

    @Test
    void blockScalesReadEveryHalfAsTheSameFloatBitsAsTheJdkConversion() {
        MemorySegment all = segment(allHalves());
        for (int h = 0; h < 1 << 16; h++) {
            int expected = Float.floatToRawIntBits(Float.float16ToFloat((short) h));
            assertThat(Float.floatToRawIntBits(Blocks.f16(all, 2L * h))).as("half 0x%04x", h).isEqualTo(expected);
        }
    }

    @Test
    void f16DequantizeMatchesFieldDecodingForEveryBitPattern() {
        assertDequantizeMatches(FORMAT, allHalves(), F16Test::decode);
    }

    @Test
    void f16DotDecodesEveryBitPatternExactly() {
        // Each half sits alone among zeros and is picked out by a one-hot x at every lane position.
        MemorySegment w = segment(allHalves());
        int n = 37;
        float[] x = new float[n];
        for (int h = 0; h < 1 << 16; h++) {
            int lane = h % n;
            long first = h - lane;
            if (first + n > 1 << 16) {
                continue;
            }
            boolean othersFinite = true;
            for (int i = 0; i < n; i++) {
                othersFinite &= i == lane || Float.isFinite(half((int) first + i));
            }
            if (!othersFinite) {
                continue;
            }
            java.util.Arrays.fill(x, 0f);
            x[lane] = 1f;
            float dot = FORMAT.dot(w, first, x, 0, n);
            float expected = half(h);
            if (Float.isNaN(expected)) {
                assertThat(dot).as("half 0x%04x", h).isNaN();
            } else {
                assertThat(dot).as("half 0x%04x", h).isEqualTo(expected);
            }
        }
    }

    @Test
    void f16DotMatchesDoubleSumIncludingSubnormals() {
        Random random = new Random(3);
        byte[] data = new byte[2 * 3000];
        for (int i = 0; i < 3000; i++) {
            float v = random.nextInt(10) == 0 ? random.nextFloat() * 1e-5f : random.nextFloat() * 8 - 4;
            putF16(data, 2 * i, v);
        }
        assertDotMatches(FORMAT, data, F16Test::decode);
    }
}
