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
 * bytes 192..1215  32 vectors of 32 bytes: vector 4s + w holds, in lane i, weights 32s + 8w .. + 7 of row i
 *                  as nibbles (weight 32s + 8w + j in bits 4j..4j+3); in the file, weight 32s + l is
 *                  nibble s % 2 (low, high) of qs[32·(s / 2) + l]
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
                        int sub = v >> 2;
                        long bytes = file.get(Blocks.LONG_LE, src + 16 + 32 * (sub >> 1) + 8 * (v & 3));
                        data.set(INT, dst + 3L * i + 192 + 32 * v, nibbles(bytes, 4 * (sub & 1)));
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
                for (int w = 0; w < 4; w++) {
                    IntVector v = ints(data, blk + 192 + 128 * sub + 32 * w);
                    for (int j = 0; j < 8; j++) {
                        unsignedNibble(v, 28 - 4 * j).fma(scale, negMin).intoMemorySegment(s, o + 32L * (8 * w + j), ByteOrder.LITTLE_ENDIAN);
                    }
                }
            }
        }
    }

    /**
     * The one-token tile fused: four row groups from g, weights decoded in registers, k in order. Each
     * super-block's scales and mins (d·sc, −dmin·mn) for the four groups are computed first into
     * {@code s[acc + 128 ..]} and read back per sub-block: with them in the loop the method outgrew what
     * the JIT compiles, and its vectors were boxed (344 MB per 4096² product).
     */
    @Override
    void dot4(int g, float[] x, int xo, MemorySegment s, long acc) {
        long gb = groupBytes;
        long sm = acc + 128;
        FloatVector a0 = FloatVector.zero(F8), a1 = a0, a2 = a0, a3 = a0;
        long p = g * gb;
        for (int e = 0; e < n; e += 256, p += BYTES) {
            scalesAndMins(p, s, sm);
            for (int sub = 0; sub < 8; sub++) {
                long at = sm + 256L * sub;
                for (int w = 0; w < 4; w++) {
                    long q = p + 192 + 128 * sub + 32 * w;
                    IntVector v0 = ints(data, q), v1 = ints(data, q + gb), v2 = ints(data, q + 2 * gb), v3 = ints(data, q + 3 * gb);
                    for (int j = 0; j < 8; j++) {
                        FloatVector xv = x(x, xo + e + 32 * sub + 8 * w + j);
                        int shl = 28 - 4 * j;
                        a0 = unsignedNibble(v0, shl).fma(floats(s, at), floats(s, at + 32)).fma(xv, a0);
                        a1 = unsignedNibble(v1, shl).fma(floats(s, at + 64), floats(s, at + 96)).fma(xv, a1);
                        a2 = unsignedNibble(v2, shl).fma(floats(s, at + 128), floats(s, at + 160)).fma(xv, a2);
                        a3 = unsignedNibble(v3, shl).fma(floats(s, at + 192), floats(s, at + 224)).fma(xv, a3);
                    }
                }
            }
        }
        storeAll(s, acc, a0, a1, a2, a3);
    }

    /** d·sc[sub] and −dmin·mn[sub] of groups j = 0..3 of the super-block at p, at {@code s[at + 256·sub + 64j ..]}. */
    private void scalesAndMins(long p, MemorySegment s, long at) {
        for (int j = 0; j < 4; j++) {
            long b = p + j * groupBytes;
            FloatVector d = floats(data, b);
            FloatVector negDmin = floats(data, b + 32);
            for (int sub = 0; sub < 8; sub++) {
                long o = at + 256L * sub + 64L * j;
                d.mul(signedBytes(data, b + 64 + 8 * sub)).intoMemorySegment(s, o, ByteOrder.LITTLE_ENDIAN);
                negDmin.mul(signedBytes(data, b + 128 + 8 * sub)).intoMemorySegment(s, o + 32, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
