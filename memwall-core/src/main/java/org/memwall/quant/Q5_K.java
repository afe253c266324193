package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/**
 * Q5_K: 256 weights in 176 bytes; Q4_K plus a 5th bit per weight.
 * <pre>
 * bytes 0..1     d           f16 super-scale of the sub-block scales
 * bytes 2..3     dmin        f16 super-scale of the sub-block mins
 * bytes 4..15    scales[12]  sc[s], mn[s] for s = 0..7, 6 bits each (see {@link Blocks#scalesK4})
 * bytes 16..47   qh[32]      5th bits: weight 64c + l has bit 2c of qh[l], weight 64c + 32 + l bit 2c+1
 * bytes 48..175  qs[128]     four chunks c of 32 bytes: weights 64c..64c+31 (sub-block 2c) in the low
 *                            nibbles, weights 64c+32..64c+63 (sub-block 2c+1) in the high nibbles
 * weight = d·sc[s] · (nibble + 16·bit) − dmin·mn[s]
 * </pre>
 */
public final class Q5_K implements QuantFormat {
    private static final int BLOCK = 256;
    private static final int BYTES = 176;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block);
            float dmin = Blocks.f16(w, block + 2);
            int a0 = w.get(Blocks.INT_LE, block + 4);
            int a1 = w.get(Blocks.INT_LE, block + 8);
            int a2 = w.get(Blocks.INT_LE, block + 12);
            for (int c = 0; c < 4; c++) {
                // Sub-blocks 2c and 2c+1 are bytes 2·(c % 2) and 2·(c % 2) + 1 of the c / 2-th scale word.
                int sc = Blocks.scalesK4(a0, a2, c >= 2);
                int mn = Blocks.minsK4(a1, a2, c >= 2);
                int k = 2 * (c & 1);
                float d1 = d * Blocks.byteOf(sc, k);
                float m1 = dmin * Blocks.byteOf(mn, k);
                float d2 = d * Blocks.byteOf(sc, k + 1);
                float m2 = dmin * Blocks.byteOf(mn, k + 1);
                int o = outOffset + e + 64 * c;
                for (int l = 0; l < 32; l++) {
                    int q = Blocks.u8(w, block + 48 + 32 * c + l);
                    int h = Blocks.u8(w, block + 16 + l) >> (2 * c);
                    out[o + l] = d1 * ((q & 15) | (h & 1) << 4) - m1;
                    out[o + l + 32] = d2 * ((q >> 4) | (h & 2) << 3) - m2;
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block);
            float dmin = -Blocks.f16(w, block + 2);
            int a0 = w.get(Blocks.INT_LE, block + 4);
            int a1 = w.get(Blocks.INT_LE, block + 8);
            int a2 = w.get(Blocks.INT_LE, block + 12);
            int scLow = Blocks.scalesK4(a0, a2, false);
            int scHigh = Blocks.scalesK4(a0, a2, true);
            int mnLow = Blocks.minsK4(a1, a2, false);
            int mnHigh = Blocks.minsK4(a1, a2, true);
            // Sub-block s: weights 32s..32s+31, nibble s % 2 of qs[32·(s / 2) ..], 5th bit = bit s of qh[0..31].
            for (int s = 0; s < 8; s++) {
                FloatVector scale = FloatVector.broadcast(F, d * Blocks.byteOf(s < 4 ? scLow : scHigh, s & 3));
                FloatVector min = FloatVector.broadcast(F, dmin * Blocks.byteOf(s < 4 ? mnLow : mnHigh, s & 3));
                long qs = block + 48 + 32 * (s >> 1);
                int xs = xOffset + e + 32 * s;
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = Blocks.shiftRight(Blocks.bytes(w, qs + l), 4 * (s & 1), 0x0F)
                            .or(Blocks.moveBits(Blocks.bytes(w, block + 16 + l), s, 4, 1));
                    acc = Blocks.floats(q).fma(scale, min).fma(Blocks.x(x, xs + l), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
