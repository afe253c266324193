package org.memwall.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgmlType;

class KeyPlanesTest {
    private static final int WIDTH = 64;
    private static final int HEADS = 2;

    /** Row r of head h: Gaussian values, with halves' edge cases (subnormal, past the largest half, zeros) sprinkled in. */
    private static float[] row(Random random) {
        float[] x = new float[WIDTH];
        for (int d = 0; d < WIDTH; d++) {
            x[d] = (float) random.nextGaussian();
        }
        x[random.nextInt(WIDTH)] = 3e-6f * (random.nextBoolean() ? 1 : -1);
        x[random.nextInt(WIDTH)] = -0f;
        x[random.nextInt(WIDTH)] = random.nextInt(4) == 0 ? 1e6f : 70000f * (float) random.nextGaussian();
        return x;
    }

    @Test
    void everyRunDecodesEachPositionAsItsRowDecodesAndCopiesKeepThem() {
        // a block of 200 positions (a cache's short last block), runs from every multiple of RUN up to its end, so the
        // last run reads past the block's positions into the padding
        Random random = new Random(5);
        int rows = 200;
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0}) {
            QuantFormat format = QuantFormat.of(type);
            long headBytes = type.bytesFor((long) rows * WIDTH);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment block = arena.allocate(HEADS * headBytes + KeyPlanes.PAD, 64);
                MemorySegment copy = arena.allocate(HEADS * type.bytesFor(256L * WIDTH) + KeyPlanes.PAD, 64);
                ByteBuffer scratch = ByteBuffer.allocate((int) type.bytesFor(WIDTH));
                float[][][] expected = new float[HEADS][rows][WIDTH];
                for (int h = 0; h < HEADS; h++) {
                    for (int r = 0; r < rows; r++) {
                        float[] x = row(random);
                        KeyPlanes.put(type, block, h * headBytes, rows, r, x, 0, WIDTH, scratch);
                        ByteBuffer one = ByteBuffer.allocate((int) type.bytesFor(WIDTH));
                        Quantizer.quantize(type, x, 0, WIDTH, one);
                        format.dequantize(MemorySegment.ofArray(one.array()), 0, expected[h][r], 0, WIDTH);
                    }
                    // positions 10..149 of this head to positions 100..239 of a full 256-position block
                    KeyPlanes.copy(type, block, h * headBytes, rows, 10, copy, h * type.bytesFor(256L * WIDTH), 256, 100, 140, WIDTH);
                }
                float[] run = new float[KeyPlanes.RUN * WIDTH];
                for (int h = 0; h < HEADS; h++) {
                    for (int r0 = 0; r0 < rows; r0 += KeyPlanes.RUN) {
                        KeyPlanes.decode(type, block, h * headBytes, rows, r0, WIDTH, run);
                        for (int c = 0; c < KeyPlanes.RUN && r0 + c < rows; c++) {
                            for (int d = 0; d < WIDTH; d++) {
                                assertThat(run[d * KeyPlanes.RUN + c]).as("%s head %d position %d dimension %d", type, h, r0 + c, d)
                                        .isEqualTo(expected[h][r0 + c][d]);
                            }
                        }
                    }
                    for (int r0 = 96; r0 < 256; r0 += KeyPlanes.RUN) {
                        KeyPlanes.decode(type, copy, h * type.bytesFor(256L * WIDTH), 256, r0, WIDTH, run);
                        for (int c = 0; c < KeyPlanes.RUN; c++) {
                            int p = r0 + c;
                            if (p >= 100 && p < 240) {
                                for (int d = 0; d < WIDTH; d++) {
                                    assertThat(run[d * KeyPlanes.RUN + c]).as("%s copied head %d position %d", type, h, p)
                                            .isEqualTo(expected[h][p - 90][d]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
