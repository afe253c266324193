package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q4_0 interleaved: per row group, per block of 32 weights, 160 bytes.
 * <pre>
 * bytes 0..31     d of rows 0..7, f32 (the file's f16 widened)
 * bytes 32..159   four 32-byte vectors v; v[w] holds, in lane i, bytes 4w..4w+3 of row i's qs XOR 0x88
 * weight j &lt; 16 of row i: low nibble of qs[j], j ≥ 16: high nibble of qs[j − 16] — as in the file —
 * read as a signed 4-bit value: (nibble ^ 8) sign-extended = nibble − 8
 * weight = d · (nibble − 8)
 * </pre>
 */
final class InterleavedQ4_0 extends Interleaved {
    private static final int FILE_BYTES = 18;
    private static final int BYTES = 160;

    InterleavedQ4_0(int rows, int n) {
        super(rows, n, (long) n / 32 * BYTES);
    }

    @Override
    int piece() {
        return 128;
    }

    @Override
    public void pack(MemorySegment file, int from, int to) {
        int nb = n / 32;
        for (int g = from; g < to; g++) {
            for (int i = 0; i < ROWS && ROWS * g + i < rows; i++) {
                long src = (long) (ROWS * g + i) * nb * FILE_BYTES;
                long dst = g * groupBytes + 4L * i;
                for (int b = 0; b < nb; b++, src += FILE_BYTES, dst += BYTES) {
                    data.set(FLOAT, dst, Blocks.f16(file, src));
                    for (int w = 0; w < 4; w++) {
                        data.set(INT, dst + 32 + 32 * w, file.get(Blocks.INT_LE, src + 2 + 4 * w) ^ 0x88888888);
                    }
                }
            }
        }
    }

    @Override
    void decode(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            FloatVector d = floats(data, blk);
            long o = offset + 4L * ROWS * e;
            for (int w = 0; w < 4; w++) {
                IntVector v = ints(data, blk + 32 + 32 * w);
                for (int i = 0; i < 4; i++) {
                    // byte 4w + i: its low nibble is weight 4w + i, its high nibble weight 16 + 4w + i
                    field(v, 28 - 8 * i, 4, true).mul(d).intoMemorySegment(s, o + 32L * (4 * w + i), java.nio.ByteOrder.LITTLE_ENDIAN);
                    field(v, 24 - 8 * i, 4, true).mul(d).intoMemorySegment(s, o + 32L * (16 + 4 * w + i), java.nio.ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
    }
}
