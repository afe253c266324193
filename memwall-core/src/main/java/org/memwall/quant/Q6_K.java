package org.memwall.quant;

import static org.memwall.quant.Blocks.BL;
import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;
import static org.memwall.quant.Blocks.PARTS;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.memwall.gguf.GgmlType;

/**
 * Q6_K: 256 weights in 210 bytes, sixteen sub-blocks of 16 with an 8-bit scale each.
 * <pre>
 * bytes 0..127    ql[128]     low 4 bits
 * bytes 128..191  qh[64]      high 2 bits, four weights per byte
 * bytes 192..207  scales[16]  int8 sub-block scales
 * bytes 208..209  d           f16 super-scale
 * Two halves h = 0, 1 of 128 weights use ql[64h..], qh[32h..], scales[8h..]; for l = 0..31:
 *   weight l      : ql[l] low nibble    | (qh[l] bits 0-1) &lt;&lt; 4, scale sc[l/16]
 *   weight l + 32 : ql[l+32] low nibble | (qh[l] bits 2-3) &lt;&lt; 4, scale sc[l/16 + 2]
 *   weight l + 64 : ql[l] high nibble   | (qh[l] bits 4-5) &lt;&lt; 4, scale sc[l/16 + 4]
 *   weight l + 96 : ql[l+32] high nibble| (qh[l] bits 6-7) &lt;&lt; 4, scale sc[l/16 + 6]
 * weight = d · sc · (q − 32)
 * </pre>
 */
public final class Q6_K implements QuantFormat {
    private static final int BLOCK = 256;
    private static final int BYTES = 210;

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 208);
            for (int h = 0; h < 2; h++) {
                long ql = block + 64 * h;
                long qh = block + 128 + 32 * h;
                long sc = block + 192 + 8 * h;
                int o = outOffset + e + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int a = Blocks.u8(w, ql + l);
                    int b = Blocks.u8(w, ql + l + 32);
                    int hb = Blocks.u8(w, qh + l);
                    int s = l / 16;
                    out[o + l] = d * w.get(Blocks.U8, sc + s) * (((a & 15) | (hb & 3) << 4) - 32);
                    out[o + l + 32] = d * w.get(Blocks.U8, sc + s + 2) * (((b & 15) | (hb >> 2 & 3) << 4) - 32);
                    out[o + l + 64] = d * w.get(Blocks.U8, sc + s + 4) * (((a >> 4) | (hb >> 4 & 3) << 4) - 32);
                    out[o + l + 96] = d * w.get(Blocks.U8, sc + s + 6) * (((b >> 4) | (hb >> 6) << 4) - 32);
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long block = first / BLOCK * BYTES;
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 208);
            for (int h = 0; h < 2; h++) {
                long ql = block + 64 * h;
                long qh = block + 128 + 32 * h;
                long sc = block + 192 + 8 * h;
                for (int l = 0; l < 32; l += BL) {
                    ByteVector a = Blocks.bytes(w, ql + l);
                    ByteVector b = Blocks.bytes(w, ql + l + 32);
                    ByteVector hb = Blocks.bytes(w, qh + l);
                    // Each 2-bit field of qh lands on bits 4-5 (value 16, 32); then centre on 0.
                    ByteVector q1 = Blocks.low(a).or(hb.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q2 = Blocks.low(b).or(hb.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q3 = Blocks.high(a).or(hb.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = Blocks.high(b).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    int s = l / 16;
                    FloatVector s1 = FloatVector.broadcast(F, d * w.get(Blocks.U8, sc + s));
                    FloatVector s2 = FloatVector.broadcast(F, d * w.get(Blocks.U8, sc + s + 2));
                    FloatVector s3 = FloatVector.broadcast(F, d * w.get(Blocks.U8, sc + s + 4));
                    FloatVector s4 = FloatVector.broadcast(F, d * w.get(Blocks.U8, sc + s + 6));
                    int xi = xOffset + e + 128 * h + l;
                    for (int p = 0; p < PARTS; p++) {
                        int xp = xi + p * L;
                        acc1 = Blocks.floats(q1, p).mul(s1).fma(Blocks.x(x, xp), acc1);
                        acc2 = Blocks.floats(q2, p).mul(s2).fma(Blocks.x(x, xp + 32), acc2);
                        acc1 = Blocks.floats(q3, p).mul(s3).fma(Blocks.x(x, xp + 64), acc1);
                        acc2 = Blocks.floats(q4, p).mul(s4).fma(Blocks.x(x, xp + 96), acc2);
                    }
                }
            }
        }
        return acc1.add(acc2).reduceLanes(VectorOperators.ADD);
    }
}
