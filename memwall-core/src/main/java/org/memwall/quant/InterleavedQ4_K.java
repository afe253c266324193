package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q4_K interleaved: per row group, per super-block of 256 weights, 1216 bytes.
 * <pre>
 * bytes 0..31      d of rows 0..7, f32
 * bytes 32..63     −dmin of rows 0..7, f32
 * bytes 64..127    sc[s] of row i at 64 + 8s + i (6-bit sub-block scales, one byte each)
 * bytes 128..191   mn[s] of row i at 128 + 8s + i (6-bit sub-block mins)
 * bytes 192..1215  32 vectors of 32 bytes: vector 8c + w holds, in lane i, bytes 4w..4w+3 of row i's
 *                  qs chunk c (file bytes 16 + 32c + 4w ..): low nibbles are sub-block 2c, high 2c + 1
 * weight 32s + j = fma(nibble, d·sc[s], −dmin·mn[s]), as {@link Q4_K} computes it
 * </pre>
 */
final class InterleavedQ4_K extends Interleaved {
    private static final int FILE_BYTES = 144;
    private static final int BYTES = 1216;

    InterleavedQ4_K(int rows, int n) {
        super(rows, n, (long) n / 256 * BYTES);
    }

    @Override
    int piece() {
        return 256;
    }

    @Override
    public void pack(MemorySegment file, int from, int to) {
        int nb = n / 256;
        for (int g = from; g < to; g++) {
            for (int i = 0; i < ROWS && ROWS * g + i < rows; i++) {
                long src = (long) (ROWS * g + i) * nb * FILE_BYTES;
                long dst = g * groupBytes + i;
                for (int b = 0; b < nb; b++, src += FILE_BYTES, dst += BYTES) {
                    data.set(FLOAT, dst + 3L * i, Blocks.f16(file, src));
                    data.set(FLOAT, dst + 3L * i + 32, -Blocks.f16(file, src + 2));
                    int a0 = file.get(Blocks.INT_LE, src + 4);
                    int a1 = file.get(Blocks.INT_LE, src + 8);
                    int a2 = file.get(Blocks.INT_LE, src + 12);
                    for (int half = 0; half < 2; half++) {
                        int sc = Blocks.scalesK4(a0, a2, half == 1);
                        int mn = Blocks.minsK4(a1, a2, half == 1);
                        for (int k = 0; k < 4; k++) {
                            data.set(ValueLayout.JAVA_BYTE, dst + 64 + 8 * (4 * half + k), (byte) Blocks.byteOf(sc, k));
                            data.set(ValueLayout.JAVA_BYTE, dst + 128 + 8 * (4 * half + k), (byte) Blocks.byteOf(mn, k));
                        }
                    }
                    for (int v = 0; v < 32; v++) {
                        data.set(INT, dst + 3L * i + 192 + 32 * v, file.get(Blocks.INT_LE, src + 16 + 4 * v));
                    }
                }
            }
        }
    }

    @Override
    void decode(int g, int k0, int len, MemorySegment s, long offset) {
        long blk = g * groupBytes + (long) k0 / 256 * BYTES;
        for (int e = 0; e < len; e += 256, blk += BYTES) {
            FloatVector d = floats(data, blk);
            FloatVector negDmin = floats(data, blk + 32);
            for (int sub = 0; sub < 8; sub++) {
                FloatVector scale = d.mul(signedBytes(data, blk + 64 + 8 * sub));
                FloatVector negMin = negDmin.mul(signedBytes(data, blk + 128 + 8 * sub));
                long o = offset + 4L * ROWS * (e + 32 * sub);
                int shift = 4 * (sub & 1);
                for (int w = 0; w < 8; w++) {
                    IntVector v = ints(data, blk + 192 + 256 * (sub >> 1) + 32 * w);
                    for (int i = 0; i < 4; i++) {
                        field(v, 28 - 8 * i - shift, 4, false).fma(scale, negMin).intoMemorySegment(s, o + 32L * (4 * w + i), ByteOrder.LITTLE_ENDIAN);
                    }
                }
            }
        }
    }
}
