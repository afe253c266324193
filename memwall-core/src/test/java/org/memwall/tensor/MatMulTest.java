package org.memwall.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.memwall.gguf.GgmlType;
import org.memwall.MemwallException;
import org.memwall.quant.Int8Activations;
import org.memwall.quant.Interleaved;
import org.memwall.quant.QuantFormat;

/**
 * The serving guarantee: a token's outputs are the same to the bit whether it is multiplied alone
 * (decode kernels), in a batch (tiled kernels, every tile shape and tail), or row by row through
 * {@code QuantFormat.dot}; and they agree with a double-precision product of the dequantized rows.
 */
class MatMulTest {
    private static Parallel pool;

    @BeforeAll
    static void start() {
        pool = new Parallel(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** A weight format, read from its file layout or from the row-interleaved copy. */
    record Layout(GgmlType type, boolean interleaved) {
        Tensor tensor(int n, int rows, long seed) {
            Tensor w = randomTensor(type, n, rows, seed);
            if (interleaved) {
                assertThat(w.interleave(pool)).as("%s has an interleaved form", type).isPositive();
            }
            return w;
        }

        @Override
        public String toString() {
            return type + (interleaved ? " interleaved" : "");
        }
    }

    static List<Layout> types() {
        List<Layout> types = new ArrayList<>();
        for (GgmlType t : GgmlType.values()) {
            try {
                QuantFormat.of(t);
                types.add(new Layout(t, false));
                if (Interleaved.allocate(t, 8, 256) != null) {
                    types.add(new Layout(t, true));
                }
            } catch (MemwallException unsupported) {
                // not a weight format memwall reads
            }
        }
        return types;
    }

    @ParameterizedTest
    @MethodSource("types")
    void everyTokenGetsTheSameBitsAloneOrBatched(Layout layout) {
        // 10 rows: two 4-row tiles and a tail of 2 (one 2-row decode pair each), or a group of 8 and a partial group;
        // 5 and 7 tokens: 4 + 1 and 4 + 2 + 1, or (interleaved) one token at a time, each row group read once (MXFP4: 7
        // in tiles); 35 tokens: the interleaved formats' tiles of four or six and a tail that takes the one-token kernel.
        GgmlType type = layout.type();
        // 200 is not a multiple of the vector width: exercises the scalar tail; 608 ends in a part of a piece and of four blocks
        int n = type.blockSize == 1 ? 200 : type.blockSize == 32 ? 608 : 512;
        int rows = 10;
        Tensor w = layout.tensor(n, rows, 17);
        for (int tokens : new int[] {5, 7, 35}) {
            float[] x = gaussian(tokens * n, 3);
            float[] batched = new float[tokens * rows];
            MatMul.matmul(pool, w, x, tokens, batched);
            float[] row = new float[n];
            for (int t = 0; t < tokens; t++) {
                float[] alone = alone(w, x, t);
                for (int r = 0; r < rows; r++) {
                    float viaDot = layout.interleaved()
                            ? Interleaved.referenceDot(w.format(), w.data(), r, n, x, t * n)
                            : w.format().dot(w.data(), (long) r * n, x, t * n, n);
                    assertThat(batched[t * rows + r]).as("%s token %d row %d: batched vs alone", type, t, r).isEqualTo(alone[r]);
                    assertThat(viaDot).as("%s token %d row %d: dot vs alone", type, t, r).isEqualTo(alone[r]);
                    w.dequantizeRow(r, row, 0);
                    // A format with integer kernels multiplies the activations as quantized to int8: exact against those,
                    // and within the int8 rounding (a relative 1/254 per value at most) of the float activations.
                    float[] xs = Arrays.copyOfRange(x, t * n, t * n + n);
                    boolean int8 = layout.interleaved() && Interleaved.allocate(type, 8, 256).int8Activations();
                    Int8Activations q = int8 ? Int8Activations.of(xs, 1, n) : null;
                    double exact = 0;
                    double magnitude = 0;
                    double unquantized = 0;
                    for (int i = 0; i < n; i++) {
                        double xi = int8 ? q.dequantized(0, i) : xs[i];
                        exact += row[i] * xi;
                        magnitude += Math.abs(row[i] * xi);
                        unquantized += (double) row[i] * xs[i];
                    }
                    assertThat((double) alone[r]).as("%s token %d row %d vs double", type, t, r).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-30));
                    assertThat((double) alone[r]).as("%s token %d row %d vs float activations", type, t, r)
                            .isCloseTo(unquantized, org.assertj.core.data.Offset.offset(int8 ? magnitude / 254 : 1e-5 * magnitude + 1e-30));
                }
            }
        }
    }

    /**
     * Products of the same activations in one dispatch (a layer's Q, K and V; gate and up) give each product's own
     * bits: integer and float formats mixed (one quantization of x serves the integer ones), row counts that end
     * inside a group, one token and several; and with a weight kept in its file layout they run one by one.
     */
    @org.junit.jupiter.api.Test
    void productsOfTheSameActivationsInOneDispatchGiveEachProductsOwnBits() {
        int n = 512;
        for (boolean allInterleaved : new boolean[] {true, false}) {
            Tensor[] ws = {
                new Layout(GgmlType.Q4_0, true).tensor(n, 3 * Interleaved.ROWS + 5, 31),
                new Layout(GgmlType.Q8_0, true).tensor(n, 2 * Interleaved.ROWS, 32),
                new Layout(GgmlType.Q6_K, allInterleaved).tensor(n, Interleaved.ROWS - 3, 33),
                new Layout(GgmlType.Q4_K, true).tensor(n, 7 * Interleaved.ROWS, 34),
            };
            for (int tokens : new int[] {1, 6, 9}) {
                float[] x = gaussian(tokens * n, 35 + tokens);
                float[][] together = new float[ws.length][];
                for (int i = 0; i < ws.length; i++) {
                    together[i] = new float[tokens * ws[i].rowCount()];
                }
                MatMul.matmulAll(pool, ws, x, tokens, together);
                for (int i = 0; i < ws.length; i++) {
                    float[] alone = new float[tokens * ws[i].rowCount()];
                    MatMul.matmul(pool, ws[i], x, tokens, alone);
                    assertThat(together[i]).as("%s, %d tokens, all interleaved %s", ws[i].format().type(), tokens, allInterleaved)
                            .isEqualTo(alone);
                }
            }
        }
    }

    /**
     * A batch longer than one token block (64): 70 tokens are two blocks, 17 full groups of four tokens and a
     * tail of two (interleaved: 8 tiles of eight tokens and 6 alone); rows of 1280 are 80 vector chunks;
     * 9 rows are two 4-row groups and one row alone; interleaved, four row groups (the one-token tile of
     * four groups) and a group of five rows.
     */
    @ParameterizedTest
    @MethodSource("types")
    void longBatchesGetTheSameBitsAsOneTokenAtATime(Layout layout) {
        GgmlType type = layout.type();
        int n = type.blockSize == 1 ? 1000 : 1280; // 1000: not a multiple of any vector width
        int rows = layout.interleaved() ? 4 * Interleaved.ROWS + 5 : 9;
        int tokens = 70;
        Tensor w = layout.tensor(n, rows, 23);
        float[] x = gaussian(tokens * n, 4);
        float[] batched = new float[tokens * rows];
        MatMul.matmul(pool, w, x, tokens, batched);
        for (int t = 0; t < tokens; t++) {
            float[] alone = alone(w, x, t);
            for (int r = 0; r < rows; r++) {
                assertThat(batched[t * rows + r]).as("%s token %d row %d: batched vs alone", type, t, r).isEqualTo(alone[r]);
            }
        }
    }

    /**
     * A server's step: batches of 13 to 31 tokens with two full row groups and a partial third, which take the
     * interleaved formats' token pairs, their tiles of six and four tokens (Q4_0 and MXFP4 decoding their codes in
     * registers below 32 tokens) and a tail alone.
     */
    @ParameterizedTest
    @MethodSource("types")
    void smallBatchesGetTheSameBitsAsOneTokenAtATime(Layout layout) {
        GgmlType type = layout.type();
        int n = type.blockSize == 1 ? 200 : 512;
        int rows = layout.interleaved() ? 2 * Interleaved.ROWS + 3 : 9;
        Tensor w = layout.tensor(n, rows, 29);
        for (int tokens : new int[] {13, 16, 23, 31}) {
            float[] x = gaussian(tokens * n, 5 + tokens);
            float[] batched = new float[tokens * rows];
            MatMul.matmul(pool, w, x, tokens, batched);
            for (int t = 0; t < tokens; t++) {
                float[] alone = alone(w, x, t);
                for (int r = 0; r < rows; r++) {
                    assertThat(batched[t * rows + r]).as("%s, %d tokens: token %d row %d batched vs alone", type, tokens, t, r)
                            .isEqualTo(alone[r]);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("types")
    void rowOffsetsSelectTheSameRows(Layout layout) {
        GgmlType type = layout.type();
        int n = type.blockSize == 1 ? 64 : 256;
        Tensor w = layout.tensor(n, 12, 5);
        float[] x = new float[3 * n];
        new Random(9).ints(x.length, -3, 4).forEach(new java.util.function.IntConsumer() {
            int i;

            @Override
            public void accept(int v) {
                x[i++] = v * 0.25f;
            }
        });
        float[] all = new float[3 * 12];
        MatMul.matmul(pool, w, x, 3, all);
        // offset 6: from inside a group of eight into the next; offset 8: the second group, four of its rows
        for (int[] slice : new int[][] {{6, 5}, {8, 4}}) {
            int offset = slice[0];
            int count = slice[1];
            float[] part = new float[3 * count];
            MatMul.matmul(pool, w, offset, count, x, 3, part);
            for (int t = 0; t < 3; t++) {
                for (int r = 0; r < count; r++) {
                    assertThat(part[t * count + r]).as("%s rows from %d, token %d row %d", layout, offset, t, r).isEqualTo(all[t * 12 + offset + r]);
                }
            }
        }
    }

    /** Token t of the activation rows x multiplied alone (the one-token kernels). */
    private static float[] alone(Tensor w, float[] x, int t) {
        int n = w.rowLength();
        float[] out = new float[w.rowCount()];
        MatMul.matmul(pool, w, 0, w.rowCount(), Arrays.copyOfRange(x, t * n, (t + 1) * n), 1, out);
        return out;
    }

    private static float[] gaussian(int count, long seed) {
        Random random = new Random(seed);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /** Random blocks whose scales are finite: every 16-bit word with an all-ones f16 exponent is tamed. */
    static Tensor randomTensor(GgmlType type, int n, int rows, long seed) {
        long bytes = type.bytesFor((long) n * rows);
        MemorySegment data = Arena.ofAuto().allocate(bytes, 64);
        Random random = new Random(seed);
        for (long i = 0; i < bytes; i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        }
        if (type == GgmlType.F32) {
            for (long i = 0; i < bytes; i += 4) {
                data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) random.nextGaussian());
            }
        } else if (type == GgmlType.MXFP4) {
            for (long b = 0; b < bytes; b += type.blockBytes) {
                data.set(ValueLayout.JAVA_BYTE, b, (byte) (120 + random.nextInt(10))); // e8m0 scale near 1
            }
        } else {
            for (long i = 0; i + 1 < bytes; i += 2) {
                short h = data.get(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                if ((h & 0x7c00) >= 0x6000) {
                    data.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (h & ~0x4000));
                }
            }
        }
        return new Tensor("w", type, new long[] {n, rows}, data);
    }
}
