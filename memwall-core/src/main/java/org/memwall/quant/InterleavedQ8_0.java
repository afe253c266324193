package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q8_0 interleaved: per row group, per block of 32 weights, 288 bytes.
 * <pre>
 * bytes 0..31     d of rows 0..7, f32 (the file's f16 widened)
 * bytes 32..287   eight 32-byte vectors v; v[w] holds, in lane i, int8 weights 4w..4w+3 of row i
 * weight = d · q
 * </pre>
 */
final class InterleavedQ8_0 extends Interleaved {
    private static final int FILE_BYTES = 34;
    private static final int BYTES = 288;

    InterleavedQ8_0(int rows, int n) {
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
                    for (int w = 0; w < 8; w++) {
                        data.set(INT, dst + 32 + 32 * w, file.get(Blocks.INT_LE, src + 2 + 4 * w));
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
            for (int w = 0; w < 8; w++) {
                IntVector v = ints(data, blk + 32 + 32 * w);
                for (int i = 0; i < 4; i++) {
                    field(v, 24 - 8 * i, 8, true).mul(d).intoMemorySegment(s, o + 32L * (4 * w + i), ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
    }
}
