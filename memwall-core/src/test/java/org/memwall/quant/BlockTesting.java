package org.memwall.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.memwall.gguf.GgmlType;

/**
 * Checks every format against a scalar decoder written in its test from the layout table: random
 * blocks, exact dequantization, and dot products against a double-precision sum.
 */
final class BlockTesting {
    /** Allowed |dot − exact| relative to Σ|w·x|: float accumulation over a few thousand products. */
    static final double DOT_TOLERANCE = 1e-5;

    /** Decodes every block of {@code data} in element order. */
    interface Decoder {
        float[] decode(byte[] data);
    }

    /** Makes one block valid after it was filled with random bytes (e.g. finite f16 scales). */
    interface BlockFix {
        void fix(byte[] data, int blockStart, Random random);
    }

    private BlockTesting() {
    }

    /** {@code blocks} random blocks of {@code type}, each passed through {@code fix}. */
    static byte[] randomBlocks(GgmlType type, int blocks, long seed, BlockFix fix) {
        Random random = new Random(seed);
        byte[] data = new byte[blocks * type.blockBytes];
        random.nextBytes(data);
        for (int b = 0; b < blocks; b++) {
            fix.fix(data, b * type.blockBytes, random);
        }
        return data;
    }

    /** Writes an f16 in [−2, 2] at {@code offset}. */
    static void putScale(byte[] data, int offset, Random random) {
        putF16(data, offset, random.nextFloat() * 4 - 2);
    }

    static void putF16(byte[] data, int offset, float value) {
        short h = Float.floatToFloat16(value);
        data[offset] = (byte) h;
        data[offset + 1] = (byte) (h >> 8);
    }

    /** The f16 at {@code offset}, decoded from its fields (independent of the JDK's conversion). */
    static float f16(byte[] data, int offset) {
        return half((data[offset] & 0xFF) | (data[offset + 1] & 0xFF) << 8);
    }

    /** IEEE binary16 bits → float: (−1)^s · 2^(e−15) · (1 + m/1024), subnormal 2^−14 · m/1024. */
    static float half(int bits) {
        int sign = bits >> 15 & 1;
        int exponent = bits >> 10 & 31;
        int mantissa = bits & 1023;
        float magnitude;
        if (exponent == 31) {
            magnitude = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else if (exponent == 0) {
            magnitude = (float) Math.scalb((double) mantissa, -24);
        } else {
            magnitude = (float) Math.scalb(1.0 + mantissa / 1024.0, exponent - 15);
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    static int u8(byte[] data, int offset) {
        return data[offset] & 0xFF;
    }

    /** A read-only native copy of {@code data}, like a tensor in a mapped file. */
    static MemorySegment segment(byte[] data) {
        MemorySegment s = Arena.ofAuto().allocate(data.length, 1);
        MemorySegment.copy(data, 0, s, ValueLayout.JAVA_BYTE, 0, data.length);
        return s.asReadOnly();
    }

    /** Dequantizes all of {@code data}, and sub-ranges at nonzero offsets, exactly as {@code reference} does. */
    static void assertDequantizeMatches(QuantFormat format, byte[] data, Decoder reference) {
        GgmlType type = format.type();
        int blocks = data.length / type.blockBytes;
        int n = blocks * type.blockSize;
        float[] expected = reference.decode(data);
        assertThat(expected).hasSize(n);
        MemorySegment w = segment(data);

        float[] all = new float[n];
        format.dequantize(w, 0, all, 0, n);
        assertThat(all).containsExactly(expected);

        int first = blocks / 3 * type.blockSize;
        int count = (blocks / 2) * type.blockSize;
        float[] part = new float[count + 5];
        format.dequantize(w, first, part, 5, count);
        assertThat(Arrays.copyOfRange(part, 5, count + 5)).containsExactly(Arrays.copyOfRange(expected, first, first + count));
        assertThat(Arrays.copyOfRange(part, 0, 5)).containsOnly(0f);
    }

    /**
     * dot over one block, all blocks, odd block counts and nonzero first blocks and x offsets equals
     * Σ reference(w)·x in double within {@link #DOT_TOLERANCE} of Σ|w·x|.
     */
    static void assertDotMatches(QuantFormat format, byte[] data, Decoder reference) {
        GgmlType type = format.type();
        int blocks = data.length / type.blockBytes;
        float[] weights = reference.decode(data);
        MemorySegment w = segment(data);
        Random random = new Random(42);
        int[][] cases = {{0, 1}, {0, blocks}, {1, 1}, {blocks - 1, 1}, {3, 7}, {1, blocks - 2}, {blocks / 2, blocks / 2 - 1}};
        for (int[] c : cases) {
            int firstBlock = c[0];
            int count = c[1];
            for (int xOffset : new int[] {0, 3}) {
                int n = count * type.blockSize;
                int first = firstBlock * type.blockSize;
                float[] x = new float[xOffset + n + 2];
                for (int i = 0; i < x.length; i++) {
                    x[i] = random.nextFloat() * 2 - 1;
                }
                double exact = 0;
                double magnitude = 0;
                for (int i = 0; i < n; i++) {
                    double p = (double) weights[first + i] * x[xOffset + i];
                    exact += p;
                    magnitude += Math.abs(p);
                }
                float dot = format.dot(w, first, x, xOffset, n);
                assertThat((double) dot)
                        .as("%s dot of blocks %d..%d, x offset %d", type, firstBlock, firstBlock + count - 1, xOffset)
                        .isCloseTo(exact, Offset.offset(DOT_TOLERANCE * magnitude + 1e-30));
            }
        }
        assertHotDotMatches(format, w, weights);
    }

    /** The same over all blocks after thousands of calls, so that the JIT-compiled vector code is checked too. */
    private static void assertHotDotMatches(QuantFormat format, MemorySegment w, float[] weights) {
        int n = weights.length;
        float[] x = new float[n];
        Random random = new Random(43);
        double exact = 0;
        double magnitude = 0;
        for (int i = 0; i < n; i++) {
            x[i] = random.nextFloat() * 2 - 1;
            exact += (double) weights[i] * x[i];
            magnitude += Math.abs((double) weights[i] * x[i]);
        }
        float dot = 0;
        for (int repeat = 0; repeat < 5000; repeat++) {
            dot = format.dot(w, 0, x, 0, n);
        }
        assertThat((double) dot).as("%s dot after warm-up", format.type())
                .isCloseTo(exact, Offset.offset(DOT_TOLERANCE * magnitude + 1e-30));
    }
}
